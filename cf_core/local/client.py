"""Core clients wired to an in-process emulator: the embedded default for demos and tests."""

from __future__ import annotations

from typing import Any

from ..client import AsyncCloudflareClient, CloudflareClient
from .emulator import Emulator
from .transport import AsyncEmulatorTransport, EmulatorTransport

LOCAL_ACCOUNT_ID = "local-account"
LOCAL_API_TOKEN = "local-emulator-token"
LOCAL_BASE_URL = "http://emulator.local/client/v4"
LOCAL_GATEWAY_BASE_URL = "http://emulator.local/v1"


def _kwargs(overrides: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"account_id": LOCAL_ACCOUNT_ID, "api_token": LOCAL_API_TOKEN,
                              "base_url": LOCAL_BASE_URL, "gateway_base_url": LOCAL_GATEWAY_BASE_URL}
    kwargs.update(overrides)
    return kwargs


def local_client(emulator: Emulator | None = None, **overrides: Any) -> CloudflareClient:
    """A :class:`CloudflareClient` talking to ``emulator`` (a fresh one by default) with no socket."""
    return CloudflareClient(transport=EmulatorTransport(emulator or Emulator()), **_kwargs(overrides))


def local_async_client(emulator: Emulator | None = None, **overrides: Any) -> AsyncCloudflareClient:
    """The async twin of :func:`local_client`."""
    return AsyncCloudflareClient(transport=AsyncEmulatorTransport(emulator or Emulator()), **_kwargs(overrides))
