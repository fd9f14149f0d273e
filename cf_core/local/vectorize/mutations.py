"""Vectorize's asynchronous mutations: queued in order, applied once their deadline passes.

Every write answers with a ``mutationId`` at once; the change itself is applied ``delay`` seconds
later, strictly in arrival order. Application is lazy: each request first applies every queued
mutation whose deadline has passed, so no background thread exists and a test can drive time
through the owner's clock. ``processedUpToDatetime`` is the mutation's deadline, i.e. the moment
it became visible, whichever request happened to apply it.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .limits import VectorRecord
from .store import VectorStore

WRITE, DELETE, MDI_CREATE, MDI_DELETE = "write", "delete", "metadata_index_create", "metadata_index_delete"


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Mutation:
    uid: int
    kind: str
    due: float
    records: Sequence[VectorRecord] = ()
    replace: bool = False
    ids: Sequence[str] = ()
    prop: str = ""
    index_type: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


class MutationQueue:
    """Not thread-safe by itself: the owner calls it under its lock."""

    def __init__(self, store: VectorStore, on_applied: Callable[[int], None]) -> None:
        self.store = store
        self.on_applied = on_applied
        self.pending: deque[Mutation] = deque()

    def submit(self, mutation: Mutation, now: float) -> str:
        self.pending.append(mutation)
        self.settle(now)
        return mutation.id

    def settle(self, now: float, force: bool = False) -> None:
        """Apply, in order, every mutation due by ``now`` (all of them with ``force``)."""
        while self.pending and (force or self.pending[0].due <= now):
            self._apply(self.pending.popleft())

    def drop_index(self, uid: int) -> None:
        self.pending = deque(m for m in self.pending if m.uid != uid)

    def pending_for(self, uid: int) -> list[Mutation]:
        return [m for m in self.pending if m.uid == uid]

    def _apply(self, m: Mutation) -> None:
        row = self.store.index_by_uid(m.uid)
        if row is None:  # the index was deleted after the mutation was accepted
            return
        seq = row.applied_seq + 1
        with self.store.transaction():
            if m.kind == WRITE:
                self.store.apply_write(m.uid, m.records, seq, replace=m.replace)
            elif m.kind == DELETE:
                self.store.apply_delete(m.uid, m.ids)
            elif m.kind == MDI_CREATE:
                self.store.add_metadata_index(m.uid, m.prop, m.index_type, seq)
            elif m.kind == MDI_DELETE:
                self.store.drop_metadata_index(m.uid, m.prop)
            self.store.record_progress(m.uid, seq, m.id, iso(m.due))
        self.on_applied(m.uid)
