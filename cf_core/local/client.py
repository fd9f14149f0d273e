"""Core clients wired to an in-process emulator: the embedded default for demos and tests."""

from __future__ import annotations

from typing import Any

from ..client import AsyncCloudflareClient, CloudflareClient
from .emulator import Emulator
from .recording import RecordingTransport, SentRequest
from .transport import EmulatorTransport

LOCAL_ACCOUNT_ID = "local-account"
LOCAL_API_TOKEN = "local-emulator-token"
LOCAL_BASE_URL = "http://emulator.local/client/v4"
LOCAL_GATEWAY_BASE_URL = "http://emulator.local/v1"


def _kwargs(overrides: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"account_id": LOCAL_ACCOUNT_ID, "api_token": LOCAL_API_TOKEN,
                              "base_url": LOCAL_BASE_URL, "gateway_base_url": LOCAL_GATEWAY_BASE_URL}
    kwargs.update(overrides)
    return kwargs


def _transport(emulator: Emulator | None,
               record: list[SentRequest] | None) -> EmulatorTransport | RecordingTransport:
    # Both classes serve sync and async clients.
    transport = EmulatorTransport(emulator or Emulator())
    return transport if record is None else RecordingTransport(transport, record)


def local_client(emulator: Emulator | None = None, *, record: list[SentRequest] | None = None,
                 **overrides: Any) -> CloudflareClient:
    """A :class:`CloudflareClient` talking to ``emulator`` (a fresh one by default) with no socket.
    With ``record``, every request it sends is appended to that list (see :mod:`.recording`)."""
    return CloudflareClient(transport=_transport(emulator, record), **_kwargs(overrides))


def local_async_client(emulator: Emulator | None = None, *, record: list[SentRequest] | None = None,
                       **overrides: Any) -> AsyncCloudflareClient:
    """The async twin of :func:`local_client`."""
    return AsyncCloudflareClient(transport=_transport(emulator, record), **_kwargs(overrides))
