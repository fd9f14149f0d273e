"""Vectorize v2 for the local emulator: SQLite persistence, exact numpy search, metadata filters.

Behaviour and every choice the reference could not confirm are documented in
``cf_core/local/README.md`` (section "Vectorize").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .routes import install_routes
from .state import VectorizeState

if TYPE_CHECKING:
    from ..emulator import Emulator

__all__ = ["VectorizeState", "install"]


def install(emulator: Emulator) -> None:
    state = VectorizeState(emulator.config)
    emulator.components["vectorize"] = state
    install_routes(emulator.api, state)
