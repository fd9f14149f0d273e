"""A local emulator of Cloudflare's Workers AI, Vectorize, Workers KV and AI Gateway HTTP APIs.

Its models are deterministic stand-ins: they exercise the wire, not model quality.

    from cf_core.local import Emulator, EmulatorTransport
    emulator = Emulator()
    httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator.local/client/v4")
"""

from .client import (
    LOCAL_ACCOUNT_ID,
    LOCAL_API_TOKEN,
    LOCAL_BASE_URL,
    LOCAL_GATEWAY_BASE_URL,
    local_async_client,
    local_client,
)
from .emulator import Emulator, EmulatorConfig
from .faults import FaultConfig
from .recording import RecordingTransport, SentRequest
from .transport import AsyncEmulatorTransport, EmulatorTransport

STAND_IN_LABEL = "[stand-in model: cf_core.local emulator, not Cloudflare]"

__all__ = [
    "LOCAL_ACCOUNT_ID",
    "LOCAL_API_TOKEN",
    "LOCAL_BASE_URL",
    "LOCAL_GATEWAY_BASE_URL",
    "STAND_IN_LABEL",
    "AsyncEmulatorTransport",
    "Emulator",
    "EmulatorConfig",
    "EmulatorTransport",
    "FaultConfig",
    "RecordingTransport",
    "SentRequest",
    "local_async_client",
    "local_client",
]
