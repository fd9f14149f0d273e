"""create_index whose first answer was lost: the retry's 409 is recognised as the call's own work.

A transport wrapper stands in for the network: it delivers the first create to the emulator (so the
index exists) and then raises a read timeout instead of handing back the answer, as a connection
lost mid-answer would. Everything else goes through untouched.
"""

from __future__ import annotations

import httpx
import pytest

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.errors import ConflictError
from cf_core.http.retry import RetryPolicy
from cf_core.local import (
    LOCAL_ACCOUNT_ID,
    LOCAL_API_TOKEN,
    LOCAL_BASE_URL,
    Emulator,
    EmulatorTransport,
)

FAST = RetryPolicy(max_retries=2, base_delay_s=0.001, max_delay_s=0.001, jitter=0.0)
CONN = {"account_id": LOCAL_ACCOUNT_ID, "api_token": LOCAL_API_TOKEN, "base_url": LOCAL_BASE_URL}


def _is_create(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/vectorize/v2/indexes")


class LoseFirstCreateAnswer(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """``deliver=True``: the first create reaches the emulator, its answer is lost. ``deliver=False``:
    the first create never arrives (times out before the server sees it)."""

    def __init__(self, emulator: Emulator, *, deliver: bool) -> None:
        self.inner = EmulatorTransport(emulator)
        self.deliver = deliver
        self.creates = 0

    def _lose(self, request: httpx.Request) -> bool:
        if not _is_create(request):
            return False
        self.creates += 1
        return self.creates == 1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._lose(request):
            if self.deliver:
                self.inner.handle_request(request).read()
            raise httpx.ReadTimeout("answer lost", request=request)
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._lose(request):
            if self.deliver:
                await (await self.inner.handle_async_request(request)).aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return await self.inner.handle_async_request(request)


def test_a_create_whose_answer_was_lost_returns_the_index_it_made() -> None:
    emu = Emulator()
    transport = LoseFirstCreateAnswer(emu, deliver=True)
    with CloudflareClient(transport=transport, retry_policy=FAST, **CONN) as client:
        info = client.vectorize.create_index("lost", dimensions=32, metric="euclidean", description="d")
        assert (info.name, info.dimensions, info.metric, info.description) == ("lost", 32, "euclidean", "d")
        assert transport.creates == 2  # the retry met the index its first attempt had made
        assert [i.name for i in client.vectorize.list_indexes()] == ["lost"]


async def test_the_async_twin_does_the_same() -> None:
    emu = Emulator()
    transport = LoseFirstCreateAnswer(emu, deliver=True)
    async with AsyncCloudflareClient(transport=transport, retry_policy=FAST, **CONN) as client:
        info = await client.vectorize.create_index("lost", preset="@cf/baai/bge-small-en-v1.5")
        assert (info.dimensions, info.metric) == (384, "cosine")


def test_an_index_that_was_there_before_is_still_a_conflict() -> None:
    emu = Emulator()
    with CloudflareClient(transport=EmulatorTransport(emu), retry_policy=FAST, **CONN) as client:
        client.vectorize.create_index("taken", dimensions=32)
        with pytest.raises(ConflictError) as info:
            client.vectorize.create_index("taken", dimensions=32)  # same config, but no attempt was lost
        assert info.value.earlier_attempts == ()


def test_after_a_timeout_an_index_of_another_shape_is_still_a_conflict() -> None:
    """The first attempt never arrived; someone else's index of another size holds the name."""
    emu = Emulator()
    transport = LoseFirstCreateAnswer(emu, deliver=False)
    with CloudflareClient(transport=EmulatorTransport(emu), **CONN) as other:
        other.vectorize.create_index("shared", dimensions=64)
    with CloudflareClient(transport=transport, retry_policy=FAST, **CONN) as client:
        with pytest.raises(ConflictError) as info:
            client.vectorize.create_index("shared", dimensions=32)
        assert len(info.value.earlier_attempts) == 1  # the timeout it retried
        with pytest.raises(ConflictError):  # same size, other description: not this call's work either
            transport.creates = 0
            client.vectorize.create_index("shared", dimensions=64, description="mine")
