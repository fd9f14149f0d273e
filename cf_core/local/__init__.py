"""A local emulator of Cloudflare's Workers AI, Vectorize, Workers KV and AI Gateway HTTP APIs.

Its models are deterministic stand-ins: they exercise the wire, not model quality.

    from cf_core.local import Emulator, EmulatorTransport
    emulator = Emulator()
    httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator.local/client/v4")
"""

from .emulator import Emulator, EmulatorConfig
from .faults import FaultConfig
from .transport import AsyncEmulatorTransport, EmulatorTransport

STAND_IN_LABEL = "[stand-in model: cf_core.local emulator, not Cloudflare]"
LOCAL_BASE_URL = "http://emulator.local/client/v4"
LOCAL_GATEWAY_BASE_URL = "http://emulator.local/v1"

__all__ = [
    "LOCAL_BASE_URL",
    "LOCAL_GATEWAY_BASE_URL",
    "STAND_IN_LABEL",
    "AsyncEmulatorTransport",
    "Emulator",
    "EmulatorConfig",
    "EmulatorTransport",
    "FaultConfig",
]
