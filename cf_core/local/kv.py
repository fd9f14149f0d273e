"""Workers KV for the local emulator: namespaces and key-value pairs with metadata and expiry.

Paths (relative to ``/client/v4``) follow ``/accounts/{account}/storage/kv/namespaces/...``. Values
persist in SQLite (``<data_dir>/kv.sqlite3``, or memory). Expired keys read as missing and are
removed when touched. Every choice the reference could not confirm (error codes in particular) is
listed in cf_core/local/README.md, section "Workers KV".
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .router import Router
from .vectorize.bodies import MultipartError, parse_multipart
from .wire import ApiError, EmuRequest, EmuResponse, envelope

if TYPE_CHECKING:
    from .emulator import Emulator, EmulatorConfig

MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 25 * 1024 * 1024
MAX_METADATA_BYTES = 1024
MIN_TTL_S = 60
DEFAULT_PER_PAGE, MIN_PER_PAGE, MAX_PER_PAGE = 20, 5, 100
DEFAULT_KEY_LIMIT, MIN_KEY_LIMIT, MAX_KEY_LIMIT = 1000, 10, 1000

# 10009 (key not found) and 10014 (duplicate title) are recorded; the others are this emulator's choice.
KEY_NOT_FOUND = 10009
VALUE_TOO_LARGE = 10011
INVALID_METADATA = 10012
NAMESPACE_NOT_FOUND = 10013
DUPLICATE_TITLE = 10014
INVALID_KEY = 10016
INVALID_TITLE = 10019
INVALID_LIST_PARAMS = 10026
INVALID_EXPIRATION = 10032

_SCHEMA = """
CREATE TABLE IF NOT EXISTS namespaces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account TEXT NOT NULL,
    title TEXT NOT NULL,
    UNIQUE (account, title)
);
CREATE TABLE IF NOT EXISTS kv_values (
    namespace_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    metadata TEXT,
    expiration INTEGER,
    PRIMARY KEY (namespace_id, key)
);
"""


def _bad(code: int, message: str, status: int = 400) -> ApiError:
    return ApiError(status, code, message)


def _namespace_json(ns_id: str, title: str) -> dict[str, Any]:
    return {"id": ns_id, "title": title, "supports_url_encoding": True}


def validate_key(key: str) -> str:
    size = len(key.encode("utf-8", "surrogatepass"))
    if not key or size > MAX_KEY_BYTES:
        raise _bad(INVALID_KEY, f"key names must be 1 to {MAX_KEY_BYTES} bytes, got {size} bytes")
    if key in (".", ".."):
        raise _bad(INVALID_KEY, f'the key name "{key}" is not allowed')
    return key


MAX_EXPIRATION_S = 2**40


def _number(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _bad(INVALID_EXPIRATION, f"{name} must be a number of seconds, got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _bad(INVALID_EXPIRATION, f"{name} must be a finite number of seconds, got {raw!r}")
    if abs(value) > MAX_EXPIRATION_S:  # beyond any real date, and past SQLite's 64-bit integers
        raise _bad(INVALID_EXPIRATION, f"{name} of {raw} is out of range (at most {MAX_EXPIRATION_S} seconds)")
    return value


def expiration_from(query: dict[str, str], now: float) -> int | None:
    """Absolute expiry (epoch seconds) from ``expiration_ttl`` (wins) or ``expiration``."""
    ttl, absolute = query.get("expiration_ttl", ""), query.get("expiration", "")
    if ttl:
        seconds = _number(ttl, "expiration_ttl")
        if seconds < MIN_TTL_S:
            raise _bad(INVALID_EXPIRATION, f"Invalid expiration_ttl of {ttl}. Expiration TTL must be at least "
                                           f"{MIN_TTL_S} seconds.")
        return int(now + seconds)
    if absolute:
        at = _number(absolute, "expiration")
        if at < now + MIN_TTL_S:
            raise _bad(INVALID_EXPIRATION, f"Invalid expiration of {absolute}. Expiration times must be at least "
                                           f"{MIN_TTL_S} seconds in the future.")
        return int(at)
    return None


def _metadata_json(raw: bytes) -> str:
    try:
        value = json.loads(raw)
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _bad(INVALID_METADATA, f"metadata must be valid JSON ({exc})") from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_METADATA_BYTES:
        raise _bad(INVALID_METADATA, f"metadata must be at most {MAX_METADATA_BYTES} bytes as JSON")
    return text


class KVState:
    """Thread-safe store of namespaces and values (one lock around one SQLite connection)."""

    def __init__(self, config: EmulatorConfig) -> None:
        target = ":memory:"
        if config.data_dir is not None:
            data_dir = Path(config.data_dir)
            data_dir.mkdir(parents=True, exist_ok=True)
            target = str(data_dir / "kv.sqlite3")
        self.conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        if target != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self.lock = threading.RLock()
        self.clock: Callable[[], float] = time.time
        """Seconds since the epoch; tests may replace it to pass expiry times."""
        self._closed = False

    def close(self) -> None:
        with self.lock:
            if not self._closed:
                self.conn.close()
                self._closed = True

    # -- namespaces ---------------------------------------------------------------------------

    def create_namespace(self, account: str, title: str) -> dict[str, Any]:
        with self.lock:
            ns_id = uuid.uuid4().hex
            try:
                self.conn.execute("INSERT INTO namespaces (id, account, title) VALUES (?, ?, ?)",
                                  (ns_id, account, title))
            except sqlite3.IntegrityError:
                raise _bad(DUPLICATE_TITLE, "a namespace with this account ID and title already exists") from None
            return _namespace_json(ns_id, title)

    def list_namespaces(self, account: str, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
        with self.lock:
            total = self.conn.execute("SELECT COUNT(*) FROM namespaces WHERE account = ?", (account,)).fetchone()[0]
            rows = self.conn.execute("SELECT id, title FROM namespaces WHERE account = ? ORDER BY seq LIMIT ? OFFSET ?",
                                     (account, per_page, (page - 1) * per_page)).fetchall()
        return [_namespace_json(*r) for r in rows], int(total)

    def namespace(self, account: str, ns_id: str) -> dict[str, Any]:
        with self.lock:
            row = self.conn.execute("SELECT id, title FROM namespaces WHERE account = ? AND id = ?",
                                    (account, ns_id)).fetchone()
        if row is None:
            raise _bad(NAMESPACE_NOT_FOUND, "namespace not found", 404)
        return _namespace_json(*row)

    def delete_namespace(self, account: str, ns_id: str) -> None:
        with self.lock:
            self.namespace(account, ns_id)
            self.conn.execute("BEGIN")
            try:
                self.conn.execute("DELETE FROM kv_values WHERE namespace_id = ?", (ns_id,))
                self.conn.execute("DELETE FROM namespaces WHERE id = ?", (ns_id,))
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    # -- values -------------------------------------------------------------------------------

    def put(self, account: str, ns_id: str, key: str, value: bytes, metadata: str | None,
            expiration: int | None) -> None:
        with self.lock:
            self.namespace(account, ns_id)
            self.conn.execute(
                "INSERT INTO kv_values (namespace_id, key, value, metadata, expiration) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (namespace_id, key) DO UPDATE SET value = excluded.value,"
                " metadata = excluded.metadata, expiration = excluded.expiration",
                (ns_id, key, value, metadata, expiration))

    def get(self, account: str, ns_id: str, key: str) -> tuple[bytes, str | None, int | None]:
        """``(value, metadata JSON, expiration)``; 404 when missing or expired."""
        with self.lock:
            self.namespace(account, ns_id)
            row = self.conn.execute("SELECT value, metadata, expiration FROM kv_values"
                                    " WHERE namespace_id = ? AND key = ?", (ns_id, key)).fetchone()
            if row is not None and row[2] is not None and row[2] <= self.clock():
                self.conn.execute("DELETE FROM kv_values WHERE namespace_id = ? AND key = ?", (ns_id, key))
                row = None
        if row is None:
            raise _bad(KEY_NOT_FOUND, "get: 'key not found'", 404)
        return bytes(row[0]), row[1], row[2]

    def delete(self, account: str, ns_id: str, key: str) -> None:
        with self.lock:
            self.namespace(account, ns_id)
            self.conn.execute("DELETE FROM kv_values WHERE namespace_id = ? AND key = ?", (ns_id, key))

    def list_keys(self, account: str, ns_id: str, prefix: str, limit: int,
                  after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            self.namespace(account, ns_id)
            now = self.clock()
            self.conn.execute("DELETE FROM kv_values WHERE namespace_id = ? AND expiration IS NOT NULL"
                              " AND expiration <= ?", (ns_id, now))
            rows = self.conn.execute(
                "SELECT key, metadata, expiration FROM kv_values WHERE namespace_id = ? AND key > ?"
                " AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
                (ns_id, after or "", len(prefix), prefix, limit + 1)).fetchall()
        keys = []
        for name, meta, exp in rows[:limit]:
            item: dict[str, Any] = {"name": name}
            if exp is not None:
                item["expiration"] = exp
            if meta is not None:
                item["metadata"] = json.loads(meta)
            keys.append(item)
        more = len(rows) > limit
        return keys, _encode_cursor(keys[-1]["name"]) if more else None


def _encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode("utf-8", "surrogatepass")).decode("ascii")


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeError):
        raise _bad(INVALID_LIST_PARAMS, "the cursor is not valid") from None


def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value.is_integer() or not low <= value <= high:
        raise _bad(INVALID_LIST_PARAMS, f"{name} must be an integer from {low} to {high}, got {raw!r}")
    return int(value)


BASE = "/accounts/{account}/storage/kv/namespaces"
NAMESPACE = BASE + "/{namespace_id}"


def install_routes(api: Router, state: KVState) -> None:
    def create_namespace(req: EmuRequest) -> EmuResponse:
        try:
            body = json.loads(req.body) if req.body.strip() else None
        except (ValueError, UnicodeDecodeError):
            body = None
        title = body.get("title") if isinstance(body, dict) else None
        if not isinstance(title, str) or not title.strip():
            raise _bad(INVALID_TITLE, 'the body must be {"title": "<non-empty string>"}')
        return envelope(state.create_namespace(req.params["account"], title))

    def list_namespaces(req: EmuRequest) -> EmuResponse:
        page = _int_param(req.query, "page", 1, 1, 1 << 31)
        per_page = _int_param(req.query, "per_page", DEFAULT_PER_PAGE, MIN_PER_PAGE, MAX_PER_PAGE)
        items, total = state.list_namespaces(req.params["account"], page, per_page)
        info = {"page": page, "per_page": per_page, "count": len(items), "total_count": total,
                "total_pages": (total + per_page - 1) // per_page}
        return envelope(items, result_info=info)

    def get_namespace(req: EmuRequest) -> EmuResponse:
        return envelope(state.namespace(req.params["account"], req.params["namespace_id"]))

    def delete_namespace(req: EmuRequest) -> EmuResponse:
        state.delete_namespace(req.params["account"], req.params["namespace_id"])
        return envelope({})

    def put_value(req: EmuRequest) -> EmuResponse:
        key = validate_key(req.params["key"])
        expiration = expiration_from(req.query, state.clock())
        value, metadata = req.body, None
        if req.content_type == "multipart/form-data":
            try:
                parts = {p.name: p for p in parse_multipart(req.body, req.headers.get("content-type", ""))}
            except MultipartError as exc:
                raise _bad(INVALID_METADATA, f"invalid multipart body: {exc}") from None
            if "value" not in parts:
                raise _bad(INVALID_METADATA, 'the multipart body has no part named "value"')
            value = parts["value"].data
            if "metadata" in parts:
                metadata = _metadata_json(parts["metadata"].data)
        if len(value) > MAX_VALUE_BYTES:
            raise _bad(VALUE_TOO_LARGE, f"the value is {len(value)} bytes; the limit is {MAX_VALUE_BYTES} bytes", 413)
        state.put(req.params["account"], req.params["namespace_id"], key, value, metadata, expiration)
        return envelope({})

    def get_value(req: EmuRequest) -> EmuResponse:
        value, _meta, expiration = state.get(req.params["account"], req.params["namespace_id"],
                                             validate_key(req.params["key"]))
        headers = {"content-type": "application/octet-stream"}
        if expiration is not None:
            headers["expiration"] = str(expiration)
        return EmuResponse(200, headers, value)

    def delete_value(req: EmuRequest) -> EmuResponse:
        state.delete(req.params["account"], req.params["namespace_id"], validate_key(req.params["key"]))
        return envelope({})

    def get_metadata(req: EmuRequest) -> EmuResponse:
        _value, meta, _exp = state.get(req.params["account"], req.params["namespace_id"],
                                       validate_key(req.params["key"]))
        return envelope(json.loads(meta) if meta is not None else None)

    def list_keys(req: EmuRequest) -> EmuResponse:
        limit = _int_param(req.query, "limit", DEFAULT_KEY_LIMIT, MIN_KEY_LIMIT, MAX_KEY_LIMIT)
        cursor = req.query.get("cursor") or None
        keys, next_cursor = state.list_keys(req.params["account"], req.params["namespace_id"],
                                            req.query.get("prefix", ""), limit,
                                            _decode_cursor(cursor) if cursor else None)
        return envelope(keys, result_info={"count": len(keys), "cursor": next_cursor or ""})

    api.add("GET", BASE, list_namespaces)
    api.add("POST", BASE, create_namespace)
    api.add("GET", NAMESPACE, get_namespace)
    api.add("DELETE", NAMESPACE, delete_namespace)
    api.add("GET", NAMESPACE + "/keys", list_keys)
    api.add("PUT", NAMESPACE + "/values/{key:path}", put_value)
    api.add("GET", NAMESPACE + "/values/{key:path}", get_value)
    api.add("DELETE", NAMESPACE + "/values/{key:path}", delete_value)
    api.add("GET", NAMESPACE + "/metadata/{key:path}", get_metadata)


def install(emulator: Emulator) -> None:
    state = KVState(emulator.config)
    emulator.components["kv"] = state
    install_routes(emulator.api, state)
