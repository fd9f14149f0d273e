"""Workers AI, emulated: ``/ai/run/{model}``, ``/ai/v1/...``, ``/ai/models/...``.

``install(emulator)`` registers the routes on ``emulator.api`` and keeps its state (engines, rate
limiter, licence agreements) in ``emulator.components["workers_ai"]``. See cf_core/local/README.md,
section "Workers AI", for what the stand-in engines can and cannot tell you.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import model_search, openai_routes, routes
from .state import WorkersAIState

if TYPE_CHECKING:
    from ..emulator import Emulator

__all__ = ["WorkersAIState", "install"]


def install(emulator: Emulator) -> WorkersAIState:
    state = WorkersAIState(emulator.config)
    emulator.components["workers_ai"] = state
    routes.register(emulator.api, state)
    openai_routes.register(emulator.api, state)
    model_search.register(emulator.api)
    return state
