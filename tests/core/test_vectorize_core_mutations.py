"""Waiting for asynchronous mutations against an emulator that applies them 0.3 s after accepting them.

Where an assertion depends on what is (not yet) due, the emulator's Vectorize clock is driven by the
test instead of the wall clock, so a slow machine cannot turn the test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from cf_core.errors import MutationTimeoutError
from cf_core.local import Emulator

DELAY_S = 0.3
Dual = Any  # tests/core/conftest.py's Dual


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(mutation_delay_s=DELAY_S)
    yield emu
    emu.close()


class Clock:
    """The emulator's Vectorize clock: frozen at a moment the test moves, or following real time."""

    def __init__(self, emulator: Emulator) -> None:
        self.now: float | None = time.time()
        emulator.components["vectorize"].clock = self

    def __call__(self) -> float:
        return time.time() if self.now is None else self.now

    def advance(self, seconds: float) -> None:
        assert self.now is not None
        self.now += seconds

    def release(self) -> None:
        self.now = None


@pytest.fixture
def clock(emulator: Emulator) -> Clock:
    return Clock(emulator)


def rows(prefix: str, n: int, dims: int = 2) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i}", "values": [1.0 + i, 1.0][:dims]} for i in range(n)]


async def test_write_is_invisible_until_processed(dual: Dual, clock: Clock) -> None:
    await dual.vectorize.create_index("idx", dimensions=2)
    result = await dual.vectorize.upsert("idx", rows("a", 3))
    assert (await dual.vectorize.index_info("idx")).vector_count == 0
    assert (await dual.vectorize.query("idx", [1.0, 1.0])).count == 0
    clock.release()  # due 0.3 s after the frozen moment, in real time
    started = time.monotonic()
    stats = await dual.vectorize.wait_for_mutation("idx", result.mutation_id, poll_interval=0.05)
    assert time.monotonic() - started < 2.0
    assert stats.processed_up_to_mutation == result.mutation_id and stats.vector_count == 3
    assert stats.processed_up_to_datetime is not None
    assert (await dual.vectorize.query("idx", [1.0, 1.0])).count == 3


async def test_too_short_timeout_raises_then_a_later_wait_succeeds(dual: Dual, clock: Clock) -> None:
    await dual.vectorize.create_index("idx", dimensions=2)
    result = await dual.vectorize.upsert("idx", rows("a", 2))
    sent = dual.sent
    with pytest.raises(MutationTimeoutError) as err:
        await dual.vectorize.wait_for_mutation("idx", result.mutation_id, timeout=0.1, poll_interval=0.02)
    e = err.value
    assert e.mutation_id == result.mutation_id and e.waited_s >= 0.1
    assert "was accepted" in str(e) and "not yet visible" in str(e)
    assert dual.sent - sent >= 3  # it polled, sleeping in between
    clock.advance(DELAY_S)
    stats = await dual.vectorize.wait_for_mutation("idx", result.mutation_id, timeout=5)
    assert stats.vector_count == 2


async def test_write_with_wait_times_out_with_the_same_error(dual: Dual, clock: Clock) -> None:
    await dual.vectorize.create_index("idx", dimensions=2)
    with pytest.raises(MutationTimeoutError):
        await dual.vectorize.upsert("idx", rows("a", 2), wait=True, wait_timeout=0.05)
    # the write was accepted all the same
    clock.release()
    await dual.vectorize.create_metadata_index("idx", "x", "string", wait=True)
    assert (await dual.vectorize.index_info("idx")).vector_count == 2


async def test_waiting_multi_batch_write_sees_every_batch(dual: Dual) -> None:
    await dual.vectorize.create_index("idx", dimensions=2)
    result = await dual.vectorize.upsert("idx", rows("v", 17), batch_size=4, concurrency=3, wait=True)
    assert len(result.mutation_ids) == 5
    stats = await dual.vectorize.index_info("idx")
    assert stats.vector_count == 17 and stats.processed_up_to_mutation == result.mutation_ids[-1]


async def test_a_later_processed_mutation_counts(dual: Dual, clock: Clock) -> None:
    """Waiting for A after B was written: the pointer shows B, which was sent after A was answered."""
    await dual.vectorize.create_index("idx", dimensions=2)
    first = await dual.vectorize.upsert("idx", rows("a", 1))
    clock.advance(0.01)
    second = await dual.vectorize.upsert("idx", rows("b", 1))
    clock.advance(DELAY_S + 0.05)  # both are due now; the next request applies both at once
    started = time.monotonic()
    stats = await dual.vectorize.wait_for_mutation("idx", first.mutation_id, timeout=3)
    assert time.monotonic() - started < 1.0
    assert stats.processed_up_to_mutation == second.mutation_id and stats.vector_count == 2


async def test_an_earlier_processed_mutation_does_not_count(dual: Dual, clock: Clock) -> None:
    """Waiting for B while only A is processed must keep waiting, however recent A's processed datetime."""
    await dual.vectorize.create_index("idx", dimensions=2)
    first = await dual.vectorize.upsert("idx", rows("a", 1))
    clock.advance(0.15)
    second = await dual.vectorize.upsert("idx", rows("b", 1))
    clock.advance(0.2)  # A is due, B is not
    stats = await dual.vectorize.index_info("idx")
    assert stats.processed_up_to_mutation == first.mutation_id
    with pytest.raises(MutationTimeoutError):
        await dual.vectorize.wait_for_mutation("idx", second.mutation_id, timeout=0.0)
    clock.advance(0.2)
    done = await dual.vectorize.wait_for_mutation("idx", second.mutation_id, timeout=3)
    assert done.processed_up_to_mutation == second.mutation_id and done.vector_count == 2


async def test_delete_and_metadata_index_waits(dual: Dual) -> None:
    await dual.vectorize.create_index("idx", dimensions=2)
    await dual.vectorize.create_metadata_index("idx", "k", "string", wait=True)
    assert [m.property_name for m in await dual.vectorize.list_metadata_indexes("idx")] == ["k"]
    await dual.vectorize.upsert("idx", [{"id": "x", "values": [1.0, 2.0], "metadata": {"k": "v"}}], wait=True)
    assert (await dual.vectorize.query("idx", [1.0, 2.0], filter={"k": "v"})).count == 1
    await dual.vectorize.delete_by_ids("idx", ["x"], wait=True)
    assert await dual.vectorize.get_by_ids("idx", ["x"]) == []
