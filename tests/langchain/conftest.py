"""Shared fixtures for the LangChain adapter tests: an in-process emulator and core clients on it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.local import (
    LOCAL_ACCOUNT_ID,
    LOCAL_API_TOKEN,
    LOCAL_BASE_URL,
    LOCAL_GATEWAY_BASE_URL,
    AsyncEmulatorTransport,
    Emulator,
    EmulatorTransport,
    local_async_client,
    local_client,
)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    yield emu
    emu.close()


@pytest.fixture
def client(emulator: Emulator) -> Iterator[CloudflareClient]:
    with local_client(emulator) as c:
        yield c


@pytest.fixture
async def aclient(emulator: Emulator) -> AsyncIterator[AsyncCloudflareClient]:
    async with local_async_client(emulator) as c:
        yield c


# -- wire recording (chat-side tests: what was actually sent) ------------------------------------


@dataclass
class Wire:
    """Core clients on the emulator whose requests are recorded, to assert what went on the wire."""

    client: CloudflareClient
    aclient: AsyncCloudflareClient
    requests: list[httpx.Request] = field(default_factory=list)

    def bodies(self, path_part: str = "/ai/run/") -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests if path_part in r.url.path and r.content]

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def clear(self) -> None:
        self.requests.clear()


class _Recording(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, log: list[httpx.Request]) -> None:
        self.inner, self.log = inner, log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.log.append(request)
        return self.inner.handle_request(request)


class _AsyncRecording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, log: list[httpx.Request]) -> None:
        self.inner, self.log = inner, log

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.log.append(request)
        return await self.inner.handle_async_request(request)


_LOCAL = {"account_id": LOCAL_ACCOUNT_ID, "api_token": LOCAL_API_TOKEN, "base_url": LOCAL_BASE_URL,
          "gateway_base_url": LOCAL_GATEWAY_BASE_URL}


@pytest.fixture
def wire(emulator: Emulator) -> Iterator[Wire]:
    log: list[httpx.Request] = []
    sync = CloudflareClient(transport=_Recording(EmulatorTransport(emulator), log), **_LOCAL)
    asyn = AsyncCloudflareClient(transport=_AsyncRecording(AsyncEmulatorTransport(emulator), log), **_LOCAL)
    yield Wire(sync, asyn, log)
    sync.close()
