"""Shared fixtures for the core's tests (the emulator and the plain ``client``/``aclient`` come from
cf_core.local's pytest plugin): recording clients that keep every HTTP request the client sent
(method, URL, headers, body), and one test body for both clients."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.local import Emulator, SentRequest, local_async_client, local_client


@dataclass
class Recorder:
    """The requests sent by the recording clients (``rclient``, ``raclient``) on ``emulator``."""

    emulator: Emulator
    sent: list[SentRequest] = field(default_factory=list)

    @property
    def last(self) -> SentRequest:
        assert self.sent, "no request was sent"
        return self.sent[-1]


@pytest.fixture
def recorder(emulator: Emulator) -> Recorder:
    return Recorder(emulator)


@pytest.fixture
def rclient(recorder: Recorder) -> Iterator[CloudflareClient]:
    """A sync client whose requests land in ``recorder.sent``."""
    with local_client(recorder.emulator, record=recorder.sent) as c:
        yield c


@pytest.fixture
async def raclient(recorder: Recorder) -> AsyncIterator[AsyncCloudflareClient]:
    """An async client whose requests land in ``recorder.sent``."""
    async with local_async_client(recorder.emulator, record=recorder.sent) as c:
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
