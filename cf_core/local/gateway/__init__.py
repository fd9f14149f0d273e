"""The AI Gateway emulator: gateway-host routes, management and logs API, caching, rate limits.

The emulator imports this package and calls :func:`install`. State lives in
``emulator.components["gateway"]`` (a :class:`GatewayState`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .management import ManagementRoutes
from .routes import GatewayRoutes
from .state import GatewayState

if TYPE_CHECKING:
    from ..emulator import Emulator

__all__ = ["GatewayState", "install"]


def install(emulator: Emulator) -> None:
    state = GatewayState(emulator)
    emulator.components["gateway"] = state
    GatewayRoutes(state).install()
    ManagementRoutes(state).install()
