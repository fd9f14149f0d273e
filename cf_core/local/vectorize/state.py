"""The Vectorize component: indexes, vectors, mutations, snapshots and list cursors.

All public methods are thread-safe (one re-entrant lock). Heavy query work runs outside the lock
on an immutable :class:`Snapshot`, so concurrent queries do not serialise on each other.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import errors as E
from .columns import IndexedProperty
from .limits import (
    MAX_METADATA_INDEXES,
    IndexConfig,
    VectorRecord,
)
from .mutations import DELETE, MDI_CREATE, MDI_DELETE, WRITE, Mutation, MutationQueue, iso
from .search import Snapshot
from .store import IndexRow, StoredVector, VectorStore

if TYPE_CHECKING:
    from ..emulator import EmulatorConfig

CURSOR_TTL_S = 3600.0
MAX_CURSORS = 10_000


@dataclass
class _Cursor:
    uid: int
    ids: Sequence[str]
    offset: int
    expires: float


@dataclass(frozen=True)
class QueryContext:
    index: IndexRow
    snapshot: Snapshot
    metadata_indexes: list[IndexedProperty]


class VectorizeState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        path = None
        if config.data_dir is not None:
            data_dir = Path(config.data_dir)
            data_dir.mkdir(parents=True, exist_ok=True)
            path = data_dir / "vectorize.sqlite3"
        self.store = VectorStore(path)
        self.lock = threading.RLock()
        self.clock: Callable[[], float] = time.time
        """Seconds since the epoch; tests may replace it to drive mutation deadlines."""
        self._snapshots: dict[int, Snapshot] = {}
        self._cursors: dict[str, _Cursor] = {}
        self.queue = MutationQueue(self.store, self._invalidate)
        self._closed = False

    # -- housekeeping -------------------------------------------------------------------------

    def _invalidate(self, uid: int) -> None:
        self._snapshots.pop(uid, None)

    def _settle(self) -> None:
        self.queue.settle(self.clock())

    def flush(self) -> None:
        """Apply every queued mutation now, due or not."""
        with self.lock:
            self.queue.settle(self.clock(), force=True)

    def close(self) -> None:
        """Apply what was accepted (a client was promised it), then close the database."""
        with self.lock:
            if self._closed:
                return
            self.queue.settle(self.clock(), force=True)
            self._snapshots.clear()
            self.store.close()
            self._closed = True

    def _require(self, account: str, name: str) -> IndexRow:
        row = self.store.get_index(account, name)
        if row is None:
            raise E.not_found(name)
        return row

    def _snapshot(self, index: IndexRow) -> Snapshot:
        snap = self._snapshots.get(index.uid)
        if snap is None:
            snap = Snapshot(index.dimensions, self.store.all_vectors(index.uid))
            self._snapshots[index.uid] = snap
        return snap

    # -- indexes ------------------------------------------------------------------------------

    def create_index(self, account: str, cfg: IndexConfig) -> IndexRow:
        with self.lock:
            if self.store.get_index(account, cfg.name) is not None:
                raise E.index_error(E.INDEX_DUPLICATE, "index.duplicate_name",
                                    f'Index name "{cfg.name}" already exists')
            try:
                return self.store.create_index(account, cfg, iso(self.clock()))
            except sqlite3.IntegrityError:  # another process sharing data_dir won the race
                raise E.index_error(E.INDEX_DUPLICATE, "index.duplicate_name",
                                    f'Index name "{cfg.name}" already exists') from None

    def get_index(self, account: str, name: str) -> IndexRow:
        with self.lock:
            return self._require(account, name)

    def list_indexes(self, account: str) -> list[IndexRow]:
        with self.lock:
            return self.store.list_indexes(account)

    def delete_index(self, account: str, name: str) -> None:
        with self.lock:
            row = self._require(account, name)
            self.queue.drop_index(row.uid)
            self.store.delete_index(row.uid)
            self._snapshots.pop(row.uid, None)
            for token in [t for t, c in self._cursors.items() if c.uid == row.uid]:
                del self._cursors[token]

    def info(self, account: str, name: str) -> dict[str, Any]:
        with self.lock:
            self._settle()
            row = self._require(account, name)
            out: dict[str, Any] = {"dimensions": row.dimensions, "vectorCount": self.store.count(row.uid)}
            # Like the live service, the progress fields appear once a mutation has been processed.
            if row.processed_mutation is not None:
                out["processedUpToDatetime"] = row.processed_datetime
                out["processedUpToMutation"] = row.processed_mutation
            return out

    # -- mutations ----------------------------------------------------------------------------

    def _submit(self, uid: int, **fields: Any) -> str:
        if self.store.index_by_uid(uid) is None:
            raise E.index_error(E.INDEX_NOT_FOUND, "index.not_found", "Index was deleted")
        now = self.clock()
        due = now + max(0.0, float(self.config.mutation_delay_s))
        return self.queue.submit(Mutation(uid=uid, due=due, **fields), now)

    def write(self, index: IndexRow, records: Sequence[VectorRecord], replace: bool) -> str:
        with self.lock:
            return self._submit(index.uid, kind=WRITE, records=list(records), replace=replace)

    def delete_ids(self, index: IndexRow, ids: Sequence[str]) -> str:
        with self.lock:
            return self._submit(index.uid, kind=DELETE, ids=list(ids))

    def _effective_metadata_indexes(self, uid: int) -> dict[str, str]:
        """Applied metadata indexes with the queued creations and deletions played on top."""
        props = {p.path: p.index_type for p in self.store.metadata_indexes(uid)}
        for m in self.queue.pending_for(uid):
            if m.kind == MDI_CREATE:
                props[m.prop] = m.index_type
            elif m.kind == MDI_DELETE:
                props.pop(m.prop, None)
        return props

    def create_metadata_index(self, account: str, name: str, prop: str, index_type: str) -> str:
        with self.lock:
            self._settle()
            row = self._require(account, name)
            existing = self._effective_metadata_indexes(row.uid)
            if prop in existing:
                raise E.index_error(E.METADATA_INDEX_DUPLICATE, "metadata_index.duplicate",
                                    f'a metadata index on property "{prop}" already exists')
            if len(existing) >= MAX_METADATA_INDEXES:
                raise E.index_error(E.METADATA_INDEX_LIMIT, "metadata_index.limit_exceeded",
                                    f"an index may have at most {MAX_METADATA_INDEXES} metadata indexes")
            return self._submit(row.uid, kind=MDI_CREATE, prop=prop, index_type=index_type)

    def delete_metadata_index(self, account: str, name: str, prop: str) -> str:
        with self.lock:
            self._settle()
            row = self._require(account, name)
            if prop not in self._effective_metadata_indexes(row.uid):
                raise E.index_error(E.METADATA_INDEX_NOT_FOUND, "metadata_index.not_found",
                                    f'no metadata index on property "{prop}"')
            return self._submit(row.uid, kind=MDI_DELETE, prop=prop)

    def metadata_indexes(self, account: str, name: str) -> list[IndexedProperty]:
        with self.lock:
            self._settle()
            return self.store.metadata_indexes(self._require(account, name).uid)

    # -- reads --------------------------------------------------------------------------------

    def index_for_write(self, account: str, name: str) -> IndexRow:
        with self.lock:
            self._settle()
            return self._require(account, name)

    def query_context(self, account: str, name: str) -> QueryContext:
        with self.lock:
            self._settle()
            row = self._require(account, name)
            return QueryContext(row, self._snapshot(row), self.store.metadata_indexes(row.uid))

    def get_vectors(self, account: str, name: str, ids: Sequence[str]) -> list[StoredVector]:
        with self.lock:
            self._settle()
            row = self._require(account, name)
            found = self.store.get_vectors(row.uid, list(dict.fromkeys(ids)))
        return [found[i] for i in dict.fromkeys(ids) if i in found]

    def list_vectors(self, account: str, name: str, count: int, cursor: str | None) -> dict[str, Any]:
        with self.lock:
            self._settle()
            row = self._require(account, name)
            now = self.clock()
            for token in [t for t, c in self._cursors.items() if c.expires <= now]:
                del self._cursors[token]
            if cursor:
                state = self._cursors.get(cursor)
                if state is None or state.uid != row.uid:
                    raise E.vector_error("LIST", E.LIST_INVALID_CURSOR,
                                         "the cursor is unknown or has expired; list again without a cursor")
                ids, offset, expires = state.ids, state.offset, state.expires
            else:
                ids, offset, expires = self.store.list_ids(row.uid), 0, now + CURSOR_TTL_S
            page = ids[offset:offset + count]
            truncated = offset + count < len(ids)
            next_cursor = None
            if truncated:
                next_cursor = secrets.token_urlsafe(18)
                if len(self._cursors) >= MAX_CURSORS:
                    del self._cursors[next(iter(self._cursors))]
                self._cursors[next_cursor] = _Cursor(row.uid, ids, offset + count, expires)
        return {
            "count": len(page),
            "totalCount": len(ids),
            "isTruncated": truncated,
            "nextCursor": next_cursor,
            "cursorExpirationTimestamp": iso(expires) if truncated else None,
            "vectors": [{"id": vid} for vid in page],
        }
