"""Shared fixtures for the core's tests: an emulator, sync and async clients wired to it in process,
and recording variants that keep every HTTP request the client sent (method, URL, headers, body)."""

from __future__ import annotations

import inspect
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


@dataclass
class Sent:
    method: str
    url: httpx.URL
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    """Wraps the emulator's transports and records each request before passing it on."""

    emulator: Emulator
    sent: list[Sent] = field(default_factory=list)

    def note(self, request: httpx.Request) -> None:
        self.sent.append(Sent(request.method, request.url, request.headers, request.content))

    @property
    def last(self) -> Sent:
        assert self.sent, "no request was sent"
        return self.sent[-1]

    def sync_transport(self) -> httpx.BaseTransport:
        inner, note = EmulatorTransport(self.emulator), self.note

        class _Recording(httpx.BaseTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                request.read()
                note(request)
                return inner.handle_request(request)

        return _Recording()

    def async_transport(self) -> httpx.AsyncBaseTransport:
        inner, note = AsyncEmulatorTransport(self.emulator), self.note

        class _Recording(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                await request.aread()
                note(request)
                return await inner.handle_async_request(request)

        return _Recording()


LOCAL = {"account_id": LOCAL_ACCOUNT_ID, "api_token": LOCAL_API_TOKEN, "base_url": LOCAL_BASE_URL,
         "gateway_base_url": LOCAL_GATEWAY_BASE_URL}


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


@pytest.fixture
def recorder(emulator: Emulator) -> Recorder:
    return Recorder(emulator)


@pytest.fixture
def rclient(recorder: Recorder) -> Iterator[CloudflareClient]:
    """A sync client whose requests land in ``recorder.sent``."""
    with CloudflareClient(transport=recorder.sync_transport(), **LOCAL) as c:
        yield c


@pytest.fixture
async def raclient(recorder: Recorder) -> AsyncIterator[AsyncCloudflareClient]:
    """An async client whose requests land in ``recorder.sent``."""
    async with AsyncCloudflareClient(transport=recorder.async_transport(), **LOCAL) as c:
        yield c


# -- one test body for both clients (Vectorize / KV / AI Gateway tests) ---------------------------


class _Awaitable:
    """Wraps a sync or async resource so every method is awaited the same way."""

    def __init__(self, resource: Any) -> None:
        self._resource = resource

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._resource, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        return call


@dataclass
class Dual:
    """A sync or an async client (``is_async``) whose resources are all called as ``await dual.kv.get(...)``."""

    client: CloudflareClient | AsyncCloudflareClient
    emulator: Emulator
    is_async: bool

    @property
    def vectorize(self) -> Any:
        return _Awaitable(self.client.vectorize)

    @property
    def kv(self) -> Any:
        return _Awaitable(self.client.kv)

    @property
    def ai_gateway(self) -> Any:
        return _Awaitable(self.client.ai_gateway)

    @property
    def sent(self) -> int:
        """Requests the client has sent so far."""
        return int(self.client.stats["requests"])

    @property
    def served(self) -> int:
        """Requests the emulator has handled so far."""
        return sum(self.emulator.requests.values())


@pytest.fixture
def client_options() -> dict[str, Any]:
    """Extra client arguments for :func:`dual` (override in a test module, e.g. ``max_retries=0``)."""
    return {}


@pytest.fixture(params=["sync", "async"])
async def dual(request: pytest.FixtureRequest, emulator: Emulator,
               client_options: dict[str, Any]) -> AsyncIterator[Dual]:
    if request.param == "sync":
        with local_client(emulator, **client_options) as c:
            yield Dual(c, emulator, is_async=False)
    else:
        async with local_async_client(emulator, **client_options) as ac:
            yield Dual(ac, emulator, is_async=True)
