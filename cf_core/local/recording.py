"""Recording what a client sends: a transport that keeps each request, then lets the emulator answer it.

    sent: list[SentRequest] = []
    with local_client(emulator, record=sent) as client:
        client.kv.create_namespace("cache")
    assert sent[-1].method == "POST" and sent[-1].json() == {"title": "cache"}

Tests use it to check the wire (what was sent), not only what came back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from .transport import EmulatorTransport


@dataclass(frozen=True)
class SentRequest:
    """One request as it went out, body included."""

    method: str
    url: httpx.URL
    headers: httpx.Headers = field(repr=False)
    """As sent, credentials included: kept out of repr (httpx masks only ``authorization`` itself)."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RecordingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Appends each request to ``sent``, then hands it to ``inner``; serves sync and async clients,
    like the emulator's own transport, so a client's twin (``to_async``/``to_sync``) records too."""

    def __init__(self, inner: EmulatorTransport, sent: list[SentRequest]) -> None:
        self.inner, self.sent = inner, sent

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(_sent(request, request.read()))
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(_sent(request, await request.aread()))
        return await self.inner.handle_async_request(request)


def _sent(request: httpx.Request, body: bytes) -> SentRequest:
    return SentRequest(request.method, request.url, request.headers, body)
