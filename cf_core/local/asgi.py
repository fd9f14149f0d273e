"""The emulator as an ASGI application, served on loopback by uvicorn."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from .emulator import Emulator
from .wire import DropConnection, EmuRequest, EmuResponse

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


_INCOMPLETE = "ASGI callable returned without completing response"


class _IntentionalDropFilter(logging.Filter):
    """uvicorn reports an unfinished response as an error; for this app it is always a drop fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_INCOMPLETE)


def quiet_intentional_drops() -> None:
    """Silence uvicorn's error line for the connections the emulator drops on purpose."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _IntentionalDropFilter) for f in logger.filters):
        logger.addFilter(_IntentionalDropFilter())


class EmulatorApp:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = bytearray()
        limit = self.emulator.config.max_body_bytes
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if len(body) > limit + 1:  # stop reading; handle() answers 413
                break
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        raw_path = scope.get("raw_path")
        # Split off any query before decoding, so an encoded "?" inside a KV key stays in the path.
        path = unquote(raw_path.decode("latin-1").split("?", 1)[0]) if raw_path else scope["path"]
        req = EmuRequest.build(scope["method"], path, scope.get("query_string", b"").decode("latin-1"),
                               headers, bytes(body))
        plan = self.emulator.plan(req)
        if plan.delay_s:
            await asyncio.sleep(plan.delay_s)
        try:
            resp = await asyncio.to_thread(self.emulator.respond, req, plan)
        except DropConnection:
            await _drop(send)
            return
        await _send(resp, send)


async def _drop(send: Send) -> None:
    # Promise a body and end without it: the server closes the connection and the client sees an
    # incomplete response, which is what a dropped connection looks like from the outside.
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")]})
    await send({"type": "http.response.body", "body": b"{", "more_body": True})


async def _send(resp: EmuResponse, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers.items()]
    if isinstance(resp.body, bytes | bytearray):
        headers.append((b"content-length", str(len(resp.body)).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(resp.body), "more_body": False})
        return
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    chunks = iter(resp.body)
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            break
        except DropConnection:
            # Headers are out; return without the terminating chunk and the server cuts the
            # connection (quietly, see quiet_intentional_drops).
            return
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
