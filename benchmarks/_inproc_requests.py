"""A ``requests`` transport adapter that answers from an in-process emulator.

The anchors' embedding classes use ``requests`` (module-level ``requests.post`` or their own
``Session``), which httpx transports cannot reach. This adapter does for ``requests`` what
``cf_core.local.EmulatorTransport`` does for httpx, so every library's per-call time is measured
the same way: without sockets, with the same emulator doing the same work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from cf_core.local import Emulator
from cf_core.local.wire import EmuRequest


class EmulatorAdapter(BaseAdapter):
    def __init__(self, emulator: Emulator) -> None:
        super().__init__()
        self.emulator = emulator

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        url = urlsplit(request.url or "")
        raw = request.body or b""
        body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)  # type: ignore[arg-type]
        headers = {str(k): v if isinstance(v, str) else v.decode("latin-1") for k, v in request.headers.items()}
        emu_req = EmuRequest.build(request.method or "GET", unquote(url.path), url.query, headers, body)
        answer = self.emulator.respond(emu_req, None)
        content = answer.body if isinstance(answer.body, bytes | bytearray) else b"".join(answer.body)
        resp = requests.Response()
        resp.status_code = answer.status
        resp.headers = CaseInsensitiveDict(answer.headers)
        resp._content = bytes(content)
        resp.url = request.url or ""
        resp.request = request
        resp.encoding = "utf-8"
        resp.reason = "OK" if answer.status < 400 else "Error"
        return resp

    def close(self) -> None:
        pass


@contextmanager
def route_requests(emulator: Emulator, origin: str) -> Iterator[EmulatorAdapter]:
    """Send every ``requests`` call to ``origin`` (any session, including ``requests.post``) to ``emulator``."""
    adapter = EmulatorAdapter(emulator)
    original = requests.Session.get_adapter

    def get_adapter(self: requests.Session, url: str) -> BaseAdapter:
        if url.startswith(origin):
            return adapter
        return original(self, url)

    requests.Session.get_adapter = get_adapter  # type: ignore[method-assign]
    try:
        yield adapter
    finally:
        requests.Session.get_adapter = original  # type: ignore[method-assign]
