"""In-process httpx transports: any httpx client talks to the emulator with no socket.

They honour the client's read timeout for injected slowness (httpx only enforces timeouts in its
network backends, which an in-process transport bypasses).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from .emulator import Emulator
from .faults import FaultPlan
from .wire import DropConnection, EmuRequest, EmuResponse


def _to_emu(request: httpx.Request, body: bytes) -> EmuRequest:
    return EmuRequest.build(request.method, request.url.path, request.url.query.decode("ascii", "replace"),
                            dict(request.headers), body)


def _read_timeout(request: httpx.Request) -> float | None:
    timeout: dict[str, Any] = request.extensions.get("timeout") or {}
    value = timeout.get("read")
    return float(value) if value is not None else None


def _dropped(request: httpx.Request) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError("Server disconnected without sending a complete response.", request=request)


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes], request: httpx.Request) -> None:
        self._chunks, self._request = chunks, request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        except DropConnection:
            raise _dropped(self._request) from None


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, chunks: Iterator[bytes], request: httpx.Request) -> None:
        self._chunks, self._request = chunks, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            for chunk in self._chunks:
                yield chunk
        except DropConnection:
            raise _dropped(self._request) from None


def _build(resp: EmuResponse, request: httpx.Request, asynchronous: bool) -> httpx.Response:
    if isinstance(resp.body, bytes | bytearray):
        return httpx.Response(resp.status, headers=resp.headers, content=bytes(resp.body), request=request)
    stream: Any = _AsyncBody(resp.body, request) if asynchronous else _SyncBody(resp.body, request)
    return httpx.Response(resp.status, headers=resp.headers, stream=stream, request=request)


def _check_slow(plan: FaultPlan, request: httpx.Request) -> float:
    """Seconds to sleep; raises after sleeping the timeout when the delay outlasts it."""
    timeout = _read_timeout(request)
    if timeout is not None and plan.delay_s > timeout:
        return -timeout
    return plan.delay_s


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """In-process transport for both kinds of httpx client:
    ``httpx.Client(transport=EmulatorTransport(emu))`` or ``httpx.AsyncClient(transport=...)``.

    One object serves both, so a sync core client can hand its transport to its async twin.
    """

    def __init__(self, emulator: Emulator | None = None) -> None:
        self.emulator = emulator or Emulator()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        emu_req = _to_emu(request, request.read())
        plan = self.emulator.plan(emu_req)
        delay = _check_slow(plan, request)
        if delay < 0:
            time.sleep(-delay)
            raise httpx.ReadTimeout("The emulator's injected delay outlasted the read timeout.", request=request)
        if delay:
            time.sleep(delay)
        try:
            resp = self.emulator.respond(emu_req, plan)
        except DropConnection:
            raise _dropped(request) from None
        return _build(resp, request, asynchronous=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        emu_req = _to_emu(request, await request.aread())
        plan = self.emulator.plan(emu_req)
        delay = _check_slow(plan, request)
        if delay < 0:
            await asyncio.sleep(-delay)
            raise httpx.ReadTimeout("The emulator's injected delay outlasted the read timeout.", request=request)
        if delay:
            await asyncio.sleep(delay)
        try:
            # Handlers block (gateway retries and upstream delays sleep); keep the event loop free,
            # as the ASGI front end does.
            resp = await asyncio.to_thread(self.emulator.respond, emu_req, plan)
        except DropConnection:
            raise _dropped(request) from None
        return _build(resp, request, asynchronous=True)


AsyncEmulatorTransport = EmulatorTransport
"""The same class: kept so ``AsyncEmulatorTransport(emu)`` reads naturally next to an AsyncClient."""
