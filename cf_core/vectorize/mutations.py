"""Waiting for Vectorize's asynchronous mutations to become visible.

A write answers with a ``mutationId`` at once; the change is applied later, in the order the
mutations were accepted, and ``/info`` reports the last one processed (``processedUpToMutation``)
with its ``processedUpToDatetime``. Mutation ids are opaque, so "a later one was processed" needs
outside knowledge. This module keeps a small process-wide ledger of the mutation ids this process
received, with the client-clock moments their request was sent and answered:

- the pointer equals our mutation: processed;
- the pointer is a mutation sent after ours was answered: it was accepted after ours, so ours is
  processed; one answered before ours was sent is earlier, so ours may not be;
- otherwise (a mutation from another process, or one that overlapped ours): the pointer's processed
  datetime at or after the moment ours was sent counts as later. With clocks in sync this can return
  early only while another writer's earlier mutation is still in flight.

Writes that wait send their last batch alone, after the others were answered, so that one
mutation id stands for the whole write (see :mod:`.vectors`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidInputError, MutationTimeoutError
from ..http import Call, Effect, Op, Sleep
from . import validation as V
from .indexes import index_info
from .types import IndexStats

LEDGER_CAPACITY = 10_000


@dataclass(frozen=True)
class Ack:
    sent: datetime
    """Just before the request was sent (a lower bound of the moment it was accepted)."""
    answered: datetime
    """Just after its answer arrived (an upper bound)."""


class MutationLedger:
    """Thread-safe, bounded memory of the mutation ids this process received."""

    def __init__(self, capacity: int = LEDGER_CAPACITY) -> None:
        self._acks: OrderedDict[str, Ack] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def record(self, mutation_id: str, sent: datetime, answered: datetime) -> None:
        with self._lock:
            self._acks[mutation_id] = Ack(sent, answered)
            self._acks.move_to_end(mutation_id)
            while len(self._acks) > self._capacity:
                self._acks.popitem(last=False)

    def get(self, mutation_id: str) -> Ack | None:
        with self._lock:
            return self._acks.get(mutation_id)


LEDGER = MutationLedger()


def utcnow() -> datetime:
    return datetime.now(UTC)


def recorded(call: Call[str]) -> Op[str]:
    """Send a call that answers with a mutation id, and note when it was sent and answered."""
    sent = utcnow()
    mutation_id: str = yield call
    LEDGER.record(mutation_id, sent, utcnow())
    return mutation_id


def is_processed(mutation_id: str, stats: IndexStats, *, waited_since: datetime,
                 ledger: MutationLedger = LEDGER) -> bool:
    """Whether ``stats`` shows ``mutation_id`` (or a mutation accepted after it) processed."""
    pointer = stats.processed_up_to_mutation
    if pointer is None:
        return False
    if pointer == mutation_id:
        return True
    ours, theirs = ledger.get(mutation_id), ledger.get(pointer)
    if ours is not None and theirs is not None:
        if theirs.sent >= ours.answered:
            return True
        if theirs.answered <= ours.sent:
            return False
    processed_at = stats.processed_up_to_datetime
    if processed_at is None:
        return False
    if processed_at.tzinfo is None:
        processed_at = processed_at.replace(tzinfo=UTC)
    return processed_at >= (ours.sent if ours is not None else waited_since)


def check_wait(mutation_id: Any, timeout: Any, poll_interval: Any) -> None:
    if not isinstance(mutation_id, str) or not mutation_id:
        raise InvalidInputError(f"mutation_id must be a non-empty string, got {mutation_id!r}", field="mutation_id")
    V.check_timeout(timeout, "timeout")
    if V.check_timeout(poll_interval, "poll_interval") <= 0:
        raise InvalidInputError("poll_interval must be positive", field="poll_interval")


def wait_op(index: str, mutation_id: str, timeout: float, poll_interval: float) -> Generator[Effect, Any, IndexStats]:
    """Poll ``/info`` (sleeping between polls) until the mutation is processed or ``timeout`` passes."""
    started, waited_since = time.monotonic(), utcnow()
    while True:
        stats: IndexStats = yield index_info(index)
        if is_processed(mutation_id, stats, waited_since=waited_since):
            return stats
        elapsed = time.monotonic() - started
        if elapsed >= timeout:
            raise MutationTimeoutError(
                f"Vectorize index {index!r}: mutation {mutation_id} was accepted but was not processed within "
                f"{timeout:g} s, so the change is not yet visible to queries (the index reports "
                f"processedUpToMutation={stats.processed_up_to_mutation!r}). Nothing was lost: wait again "
                "with wait_for_mutation() or a longer timeout.", mutation_id=mutation_id, waited_s=elapsed)
        yield Sleep(min(poll_interval, timeout - elapsed))


def wait_for_mutation(index: str, mutation_id: str, *, timeout: float = 60.0,
                      poll_interval: float = 0.2) -> Op[IndexStats]:
    """Wait until ``mutation_id`` (or a later mutation) is processed; return the index stats then.

    Raises :class:`MutationTimeoutError` (the write was accepted, just not yet visible) after ``timeout`` s.
    """
    V.check_index_name(index)
    check_wait(mutation_id, timeout, poll_interval)
    return wait_op(index, mutation_id, float(timeout), float(poll_interval))
