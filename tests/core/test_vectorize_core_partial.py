"""Partial-write bookkeeping against a fake Vectorize (an httpx.MockTransport that fails chosen batches),
sync and async, plus the mutation ledger's ordering rules."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.errors import PartialWriteError, ServerError
from cf_core.vectorize import IndexStats
from cf_core.vectorize.mutations import MutationLedger, is_processed

CREDS = {"account_id": "acc", "api_token": "tok", "base_url": "http://fake.local/client/v4", "max_retries": 0}


class FakeVectorize:
    """Answers insert/upsert with a mutation id, or 500 for batches whose first id is in ``fail_first``."""

    def __init__(self, fail_first: set[str]) -> None:
        self.fail_first = fail_first
        self.batches: list[list[str]] = []
        self.content_types: list[str] = []
        self.accepted: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        ids = [json.loads(line)["id"] for line in body.decode().splitlines() if line]
        with self._lock:
            self.batches.append(ids)
            self.content_types.append(request.headers.get("content-type", ""))
        if ids[0] in self.fail_first:
            return httpx.Response(500, json={"result": None, "success": False,
                                             "errors": [{"code": 10001, "message": "boom"}], "messages": []})
        mid = str(uuid.uuid4())
        with self._lock:
            self.accepted[mid] = ids
        return httpx.Response(200, json={"result": {"mutationId": mid}, "success": True, "errors": [],
                                         "messages": []})


def vectors(n: int) -> list[dict[str, Any]]:
    return [{"id": f"v{i:03d}", "values": [float(i), 1.0]} for i in range(n)]


async def write(fake: FakeVectorize, mode: str, kind: str, data: list[dict[str, Any]], **kwargs: Any) -> Any:
    transport = httpx.MockTransport(fake.handle)
    if mode == "sync":
        with CloudflareClient(transport=transport, **CREDS) as c:
            return getattr(c.vectorize, kind)("idx", data, **kwargs)
    async with AsyncCloudflareClient(transport=transport, **CREDS) as ac:
        return await getattr(ac.vectorize, kind)("idx", data, **kwargs)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", ["upsert", "insert"])
async def test_partial_failure_lists_exact_ids(mode: str, kind: str) -> None:
    data = vectors(10)
    fake = FakeVectorize(fail_first={"v003", "v009"})  # batches of 3: [0-2] ok, [3-5] fail, [6-8] ok, [9] fail
    with pytest.raises(PartialWriteError) as err:
        await write(fake, mode, kind, data, batch_size=3, concurrency=2)
    e = err.value
    assert sorted(e.written_ids) == [f"v{i:03d}" for i in (0, 1, 2, 6, 7, 8)]
    assert sorted(e.failed_ids) == [f"v{i:03d}" for i in (3, 4, 5, 9)]
    assert sorted(e.mutation_ids) == sorted(fake.accepted)
    assert sorted(i for ids in fake.accepted.values() for i in ids) == sorted(e.written_ids)
    assert isinstance(e.__cause__, ServerError)
    assert "6 vectors in 2 of 4 batches" in str(e) and "without duplicates" in str(e)
    assert all(ct == "application/x-ndjson" for ct in fake.content_types)
    assert len(fake.batches) == 4  # every batch was tried once (max_retries=0)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_everything_failing_raises_the_service_error(mode: str) -> None:
    fake = FakeVectorize(fail_first={"v000", "v002"})
    with pytest.raises(ServerError, match="boom"):
        await write(fake, mode, "upsert", vectors(4), batch_size=2)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_success_returns_ids_in_input_order(mode: str) -> None:
    fake = FakeVectorize(fail_first=set())
    data = vectors(7)
    result = await write(fake, mode, "upsert", data, batch_size=2, concurrency=3)
    assert result.ids == [d["id"] for d in data]
    assert len(result.mutation_ids) == 4 and set(result.mutation_ids) == set(fake.accepted)
    assert sorted(len(b) for b in fake.batches) == [1, 2, 2, 2]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_waiting_write_skips_its_last_batch_after_a_failure(mode: str) -> None:
    """With wait=True the last batch is sent alone after the others; if one of those failed it is not sent."""
    fake = FakeVectorize(fail_first={"v002"})
    with pytest.raises(PartialWriteError) as err:
        await write(fake, mode, "upsert", vectors(6), batch_size=2, wait=True)
    assert sorted(err.value.written_ids) == ["v000", "v001"]
    assert sorted(err.value.failed_ids) == ["v002", "v003", "v004", "v005"]
    assert sorted(map(tuple, fake.batches)) == [("v000", "v001"), ("v002", "v003")]


async def test_empty_write_sends_nothing() -> None:
    fake = FakeVectorize(fail_first=set())
    result = await write(fake, "sync", "upsert", [])
    assert result.ids == [] and result.mutation_ids == [] and fake.batches == []


# -- the mutation ledger ----------------------------------------------------------------------

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(ms: int) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def stats(pointer: str | None, when: datetime | None) -> IndexStats:
    return IndexStats(dimensions=2, vector_count=0, processed_up_to_mutation=pointer, processed_up_to_datetime=when)


def test_equal_pointer_is_processed() -> None:
    assert is_processed("m", stats("m", at(0)), waited_since=at(0), ledger=MutationLedger())


def test_no_pointer_is_not_processed() -> None:
    assert not is_processed("m", stats(None, None), waited_since=at(0), ledger=MutationLedger())


def test_ledger_orders_sequential_mutations() -> None:
    ledger = MutationLedger()
    ledger.record("a", at(0), at(10))
    ledger.record("b", at(20), at(30))
    # b was sent after a was answered: b is later, so a is processed when the pointer is b ...
    assert is_processed("a", stats("b", at(25)), waited_since=at(40), ledger=ledger)
    # ... and a is earlier than b, even if its processed datetime is recent
    assert not is_processed("b", stats("a", at(1000)), waited_since=at(40), ledger=ledger)


def test_overlapping_or_foreign_pointer_uses_the_processed_datetime() -> None:
    ledger = MutationLedger()
    ledger.record("ours", at(100), at(200))
    ledger.record("overlap", at(150), at(250))
    assert is_processed("ours", stats("overlap", at(120)), waited_since=at(300), ledger=ledger)
    assert not is_processed("ours", stats("overlap", at(90)), waited_since=at(300), ledger=ledger)
    assert is_processed("ours", stats("foreign", at(100)), waited_since=at(300), ledger=ledger)
    assert not is_processed("ours", stats("foreign", at(99)), waited_since=at(300), ledger=ledger)
    # a mutation this process never saw is compared with the moment the wait began
    assert is_processed("unknown", stats("foreign", at(300)), waited_since=at(300), ledger=ledger)
    assert not is_processed("unknown", stats("foreign", at(299)), waited_since=at(300), ledger=ledger)


def test_ledger_is_bounded() -> None:
    ledger = MutationLedger(capacity=3)
    for i in range(5):
        ledger.record(f"m{i}", at(i), at(i))
    assert ledger.get("m0") is None and ledger.get("m1") is None and ledger.get("m4") is not None
