"""One loopback emulator for the clients written against Cloudflare itself.

Those clients build their own HTTP stacks (``requests``, ``aiohttp``, ``httpx``), so an
in-process transport cannot reach them: the emulator is served by uvicorn on 127.0.0.1 for the
whole module. Proxy variables are cleared and ``NO_PROXY`` covers loopback, so nothing a client
does here can leave the machine through a proxy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from cf_core.local import Emulator
from cf_core.local.server import RunningServer, start_server

TOKEN = "compat-token-0123456789"

_PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@dataclass(frozen=True)
class Loopback:
    """Where the clients are pointed: the values a user would put in their settings."""

    server: RunningServer
    token: str = TOKEN
    """The only token the emulator accepts here, so a client that drops it gets a 401."""

    @property
    def emulator(self) -> Emulator:
        return self.server.emulator

    @property
    def base_url(self) -> str:
        """``CLOUDFLARE_BASE_URL``: ``http://127.0.0.1:PORT/client/v4``."""
        return self.server.base_url

    @property
    def accounts_url(self) -> str:
        """langchain-cloudflare's ``api_base_url`` (``.../client/v4/accounts``)."""
        return f"{self.server.base_url}/accounts"

    @property
    def gateway_base_url(self) -> str:
        """``CLOUDFLARE_AI_GATEWAY_BASE_URL``: ``http://127.0.0.1:PORT/v1``."""
        return self.server.gateway_base_url


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    saved = {name: os.environ.pop(name) for name in _PROXY_VARS if name in os.environ}
    saved_no_proxy = {name: os.environ.get(name) for name in ("NO_PROXY", "no_proxy")}
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    emulator = Emulator(tokens={TOKEN})
    server = start_server(emulator, host="127.0.0.1", port=0)
    try:
        yield Loopback(server)
    finally:
        server.stop()
        emulator.close()
        os.environ.update(saved)
        for name, value in saved_no_proxy.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
