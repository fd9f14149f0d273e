"""SQLite persistence for Vectorize: indexes, vectors (float32 blobs) and metadata indexes.

One connection, used only under the owner's lock. Each index has an integer ``uid`` so a deleted
index's name can be reused without its old vectors. ``written_seq``/``created_seq`` are the
per-index sequence numbers of the mutations that wrote a vector or created a metadata index: a
vector is in a metadata index only if it was written after the index was created.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from .columns import IndexedProperty
from .limits import IndexConfig, VectorRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS indexes (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    metric TEXT NOT NULL,
    preset TEXT,
    created_on TEXT NOT NULL,
    modified_on TEXT NOT NULL,
    applied_seq INTEGER NOT NULL DEFAULT 0,
    processed_mutation TEXT,
    processed_datetime TEXT,
    UNIQUE (account, name)
);
CREATE TABLE IF NOT EXISTS vectors (
    index_uid INTEGER NOT NULL,
    id TEXT NOT NULL,
    namespace TEXT,
    vals BLOB NOT NULL,
    metadata TEXT,
    written_seq INTEGER NOT NULL,
    PRIMARY KEY (index_uid, id)
);
CREATE TABLE IF NOT EXISTS metadata_indexes (
    index_uid INTEGER NOT NULL,
    property TEXT NOT NULL,
    index_type TEXT NOT NULL,
    created_seq INTEGER NOT NULL,
    PRIMARY KEY (index_uid, property)
);
"""

_INDEX_COLUMNS = ("uid, account, name, description, dimensions, metric, preset, created_on, modified_on, "
                  "applied_seq, processed_mutation, processed_datetime")


@dataclass(frozen=True)
class IndexRow:
    uid: int
    account: str
    name: str
    description: str
    dimensions: int
    metric: str
    preset: str | None
    created_on: str
    modified_on: str
    applied_seq: int
    processed_mutation: str | None
    processed_datetime: str | None


@dataclass(frozen=True)
class StoredVector:
    id: str
    namespace: str | None
    vals: bytes
    metadata: str | None
    written_seq: int


class VectorStore:
    def __init__(self, path: Path | None) -> None:
        target = ":memory:" if path is None else str(path)
        self.conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if path is not None:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    # -- indexes ------------------------------------------------------------------------------

    def create_index(self, account: str, cfg: IndexConfig, now: str) -> IndexRow:
        self.conn.execute(
            "INSERT INTO indexes (account, name, description, dimensions, metric, preset, created_on, modified_on)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (account, cfg.name, cfg.description, cfg.dimensions, cfg.metric, cfg.preset, now, now))
        row = self.get_index(account, cfg.name)
        assert row is not None
        return row

    def get_index(self, account: str, name: str) -> IndexRow | None:
        cur = self.conn.execute(f"SELECT {_INDEX_COLUMNS} FROM indexes WHERE account = ? AND name = ?",
                                (account, name))
        found = cur.fetchone()
        return IndexRow(*found) if found else None

    def index_by_uid(self, uid: int) -> IndexRow | None:
        found = self.conn.execute(f"SELECT {_INDEX_COLUMNS} FROM indexes WHERE uid = ?", (uid,)).fetchone()
        return IndexRow(*found) if found else None

    def list_indexes(self, account: str) -> list[IndexRow]:
        cur = self.conn.execute(f"SELECT {_INDEX_COLUMNS} FROM indexes WHERE account = ? ORDER BY uid", (account,))
        return [IndexRow(*r) for r in cur.fetchall()]

    def delete_index(self, uid: int) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM vectors WHERE index_uid = ?", (uid,))
            self.conn.execute("DELETE FROM metadata_indexes WHERE index_uid = ?", (uid,))
            self.conn.execute("DELETE FROM indexes WHERE uid = ?", (uid,))

    # -- mutations (each runs in one transaction and records progress) ------------------------

    def apply_write(self, uid: int, records: Sequence[VectorRecord], seq: int, replace: bool) -> None:
        conflict = ("DO UPDATE SET namespace = excluded.namespace, vals = excluded.vals, "
                    "metadata = excluded.metadata, written_seq = excluded.written_seq") if replace else "DO NOTHING"
        self.conn.executemany(
            "INSERT INTO vectors (index_uid, id, namespace, vals, metadata, written_seq) VALUES (?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT (index_uid, id) {conflict}",
            ((uid, r.id, r.namespace, r.values, r.metadata, seq) for r in records))

    def apply_delete(self, uid: int, ids: Iterable[str]) -> None:
        self.conn.executemany("DELETE FROM vectors WHERE index_uid = ? AND id = ?", ((uid, i) for i in ids))

    def add_metadata_index(self, uid: int, prop: str, index_type: str, seq: int) -> None:
        self.conn.execute("INSERT OR REPLACE INTO metadata_indexes (index_uid, property, index_type, created_seq)"
                          " VALUES (?, ?, ?, ?)", (uid, prop, index_type, seq))

    def drop_metadata_index(self, uid: int, prop: str) -> None:
        self.conn.execute("DELETE FROM metadata_indexes WHERE index_uid = ? AND property = ?", (uid, prop))

    def record_progress(self, uid: int, seq: int, mutation_id: str, when: str) -> None:
        self.conn.execute("UPDATE indexes SET applied_seq = ?, processed_mutation = ?, processed_datetime = ?"
                          " WHERE uid = ?", (seq, mutation_id, when, uid))

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    # -- reads --------------------------------------------------------------------------------

    def metadata_indexes(self, uid: int) -> list[IndexedProperty]:
        cur = self.conn.execute("SELECT property, index_type, created_seq FROM metadata_indexes"
                                " WHERE index_uid = ? ORDER BY property", (uid,))
        return [IndexedProperty(*r) for r in cur.fetchall()]

    def count(self, uid: int) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM vectors WHERE index_uid = ?", (uid,)).fetchone()[0])

    def all_vectors(self, uid: int) -> list[StoredVector]:
        # rowid order = order of first write (an upsert updates in place), the tie-break of queries.
        # Sorted here: "ORDER BY rowid" would make SQLite sort whole rows, blobs included.
        cur = self.conn.execute("SELECT rowid, id, namespace, vals, metadata, written_seq FROM vectors"
                                " WHERE index_uid = ?", (uid,))
        rows = cur.fetchall()
        rows.sort(key=itemgetter(0))
        return [StoredVector(*r[1:]) for r in rows]

    def get_vectors(self, uid: int, ids: Sequence[str]) -> dict[str, StoredVector]:
        out: dict[str, StoredVector] = {}
        for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            cur = self.conn.execute(f"SELECT id, namespace, vals, metadata, written_seq FROM vectors"
                                    f" WHERE index_uid = ? AND id IN ({marks})", (uid, *chunk))
            for r in cur.fetchall():
                out[r[0]] = StoredVector(*r)
        return out

    def list_ids(self, uid: int) -> list[str]:
        cur = self.conn.execute("SELECT id FROM vectors WHERE index_uid = ? ORDER BY id", (uid,))
        return [r[0] for r in cur.fetchall()]


class _Transaction:
    """``BEGIN``/``COMMIT`` (``ROLLBACK`` on error) for a connection in autocommit mode."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
