"""Workers KV over the REST API: namespaces, and values with optional expiry and metadata.

Values are bytes on the wire (a GET answers the raw value, not an envelope); a missing key reads
as ``None``. Key rules, the minimum TTL and the size limits are checked before anything is sent.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Generator, Mapping
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from ._facade import AsyncResource, SyncResource, async_call, sync_call
from .errors import InvalidInputError, error_from_response
from .http import ApiRequest, Call, Effect, Op, RawResponse, unwrap

MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 25 * 1024 * 1024
MAX_METADATA_BYTES = 1024
"""KV's documented limit for a key's metadata (serialised JSON)."""
MIN_TTL_S = 60
NAMESPACES_PER_PAGE = 100
MAX_KEYS_PER_PAGE = 1000
MIN_KEYS_PER_PAGE = 10
KEY_NOT_FOUND = 10009
BASE = "/storage/kv/namespaces"


class KVNamespace(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    supports_url_encoding: bool | None = None


class KVKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    expiration: int | None = None
    """Epoch seconds, when the key expires."""
    metadata: Any = None


class KVKeyPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    keys: list[KVKey] = Field(default_factory=list)
    cursor: str | None = None
    """Pass back to :meth:`list_keys` for the next page; ``None`` on the last page."""


# -- validation ---------------------------------------------------------------------------------


def _fail(message: str, field: str, limit: Any = None, item: Any = None) -> InvalidInputError:
    return InvalidInputError(message, field=field, limit=limit, item=item)


def _check_namespace_id(namespace_id: Any) -> str:
    if not isinstance(namespace_id, str) or not namespace_id.strip() or "/" in namespace_id:
        raise _fail(f"namespace_id must be a non-empty id string without '/', got {namespace_id!r}",
                    "namespace_id")
    return namespace_id


def check_key(key: Any) -> str:
    """A KV key: 1 to 512 bytes of UTF-8, not ``.`` or ``..``."""
    if not isinstance(key, str) or not key:
        raise _fail(f"key must be a non-empty string, got {key!r}", "key", MAX_KEY_BYTES)
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise _fail(f"key {key[:60]!r} is not valid Unicode text (lone surrogate)", "key", item=key) from None
    if size > MAX_KEY_BYTES:
        raise _fail(f"key {key[:60]!r}... is {size} bytes in UTF-8; the limit is {MAX_KEY_BYTES} bytes", "key",
                    MAX_KEY_BYTES, key)
    if key in (".", ".."):
        raise _fail(f"the key {key!r} is not allowed ('.' and '..' cannot be addressed in a URL)", "key", item=key)
    return key


def _value_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    else:
        raise _fail(f"value must be bytes or str, got {type(value).__name__}", "value")
    if len(data) > MAX_VALUE_BYTES:
        raise _fail(f"value is {len(data)} bytes; the limit is {MAX_VALUE_BYTES} bytes (25 MiB)", "value",
                    MAX_VALUE_BYTES)
    return data


def _whole_seconds(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or value != int(value):
        raise _fail(f"{field} must be a whole number of seconds, got {value!r}", field)
    return int(value)


def _expiry_params(expiration_ttl: Any, expiration: Any, now: float) -> dict[str, int]:
    params: dict[str, int] = {}
    if expiration_ttl is not None:
        ttl = _whole_seconds(expiration_ttl, "expiration_ttl")
        if ttl < MIN_TTL_S:
            raise _fail(f"expiration_ttl is {ttl} s; KV's minimum is {MIN_TTL_S} s", "expiration_ttl", MIN_TTL_S)
        params["expiration_ttl"] = ttl
    if expiration is not None:
        at = _whole_seconds(expiration, "expiration")
        if at < now + MIN_TTL_S:
            raise _fail(f"expiration {at} (epoch seconds) is less than {MIN_TTL_S} s in the future", "expiration",
                        MIN_TTL_S)
        params["expiration"] = at
    return params


def _metadata_json(metadata: Any) -> bytes:
    try:
        text = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        data = text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise _fail(f"metadata must be JSON-encodable with finite numbers: {exc}", "metadata") from None
    if len(data) > MAX_METADATA_BYTES:
        raise _fail(f"metadata is {len(data)} bytes as JSON; the limit is {MAX_METADATA_BYTES} bytes", "metadata",
                    MAX_METADATA_BYTES)
    return data


def multipart_body(value: bytes, metadata: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with the ``value`` and ``metadata`` parts, and its content type."""
    boundary = f"cf-core-{uuid.uuid4().hex}"
    while boundary.encode() in value or boundary.encode() in metadata:
        boundary = f"cf-core-{uuid.uuid4().hex}"
    b = boundary.encode()
    body = b"".join([
        b"--", b, b"\r\nContent-Disposition: form-data; name=\"value\"\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n", value, b"\r\n",
        b"--", b, b"\r\nContent-Disposition: form-data; name=\"metadata\"\r\n"
        b"Content-Type: application/json\r\n\r\n", metadata, b"\r\n",
        b"--", b, b"--\r\n",
    ])
    return body, f"multipart/form-data; boundary={boundary}"


# -- requests -----------------------------------------------------------------------------------


def _request(method: str, path: str, **kwargs: Any) -> ApiRequest:
    return ApiRequest(method, path, product="kv", **kwargs)


def _key_path(namespace_id: str, key: str, kind: str = "values") -> str:
    return f"{BASE}/{quote(namespace_id, safe='')}/{kind}/{quote(key, safe='')}"


def _namespace(raw: RawResponse) -> KVNamespace:
    return KVNamespace.model_validate(unwrap(raw))


def _nothing(raw: RawResponse) -> None:
    unwrap(raw)


def _missing_or_raise(raw: RawResponse) -> None:
    """A 404 is a missing key (code 10009); any other 404 (no such namespace...) is an error."""
    err = error_from_response(raw.status, raw.headers, raw.content)
    if err.code not in (None, KEY_NOT_FOUND):
        raise err


def create_namespace(title: str) -> Call[KVNamespace]:
    """Create a namespace (titles are unique per account)."""
    if not isinstance(title, str) or not title.strip():
        raise _fail(f"title must be a non-empty string, got {title!r}", "title")
    return Call(_request("POST", BASE, json={"title": title}), _namespace)


def _namespace_page(raw: RawResponse) -> tuple[list[KVNamespace], int | None]:
    payload = raw.json()
    result = unwrap(raw) or []
    info = payload.get("result_info") if isinstance(payload, dict) else None
    total = info.get("total_pages") if isinstance(info, dict) else None
    return [KVNamespace.model_validate(item) for item in result], total if isinstance(total, int) else None


def _list_namespaces_gen() -> Generator[Effect, Any, list[KVNamespace]]:
    out: list[KVNamespace] = []
    page = 1
    while True:
        items, total_pages = yield Call(_request("GET", BASE, params={"page": page, "per_page": NAMESPACES_PER_PAGE}),
                                        _namespace_page)
        out.extend(items)
        done = page >= total_pages if total_pages is not None else len(items) < NAMESPACES_PER_PAGE
        if done or not items:
            return out
        page += 1


def list_namespaces() -> Op[list[KVNamespace]]:
    """Every namespace of the account (all pages)."""
    return _list_namespaces_gen()


def delete_namespace(namespace_id: str) -> Call[None]:
    """Delete a namespace and every key in it."""
    return Call(_request("DELETE", f"{BASE}/{quote(_check_namespace_id(namespace_id), safe='')}"), _nothing)


def _value(raw: RawResponse) -> bytes | None:
    if raw.status == 404:
        _missing_or_raise(raw)
        return None
    return raw.content


def get(namespace_id: str, key: str) -> Call[bytes | None]:
    """The raw value of ``key``, or ``None`` if it does not exist (or has expired)."""
    path = _key_path(_check_namespace_id(namespace_id), check_key(key))
    return Call(_request("GET", path), _value, ok_statuses=frozenset({404}))


def _metadata(raw: RawResponse) -> Any:
    if raw.status == 404:
        _missing_or_raise(raw)
        return None
    return unwrap(raw)


def get_metadata(namespace_id: str, key: str) -> Call[Any]:
    """The JSON metadata stored with ``key`` (``None`` if it has none or the key does not exist)."""
    path = _key_path(_check_namespace_id(namespace_id), check_key(key), "metadata")
    return Call(_request("GET", path), _metadata, ok_statuses=frozenset({404}))


def put(namespace_id: str, key: str, value: bytes | str, *, expiration_ttl: int | None = None,
        expiration: int | None = None, metadata: Mapping[str, Any] | None = None) -> Call[None]:
    """Write ``value`` (str is sent as UTF-8), replacing any value, expiry and metadata ``key`` had.

    ``expiration_ttl`` (seconds, >= 60) or ``expiration`` (epoch seconds, >= 60 s ahead) make the key
    expire; Cloudflare uses the TTL when both are given. ``metadata`` (JSON, <= 1024 bytes) is stored
    alongside and sent as a multipart body.
    """
    path = _key_path(_check_namespace_id(namespace_id), check_key(key))
    data = _value_bytes(value)
    params = _expiry_params(expiration_ttl, expiration, time.time())
    if metadata is None:
        req = _request("PUT", path, content=data, params=params or None,
                       headers={"content-type": "application/octet-stream"})
    else:
        body, content_type = multipart_body(data, _metadata_json(metadata))
        req = _request("PUT", path, content=body, params=params or None, headers={"content-type": content_type})
    return Call(req, _nothing)


def delete(namespace_id: str, key: str) -> Call[None]:
    """Delete ``key`` (deleting a missing key is not an error)."""
    return Call(_request("DELETE", _key_path(_check_namespace_id(namespace_id), check_key(key))), _nothing)


def _key_page(raw: RawResponse) -> KVKeyPage:
    payload = raw.json()
    keys = [KVKey.model_validate(item) for item in unwrap(raw) or []]
    info = payload.get("result_info") if isinstance(payload, dict) else None
    cursor = info.get("cursor") if isinstance(info, dict) else None
    return KVKeyPage(keys=keys, cursor=cursor or None)


def list_keys(namespace_id: str, *, prefix: str | None = None, limit: int = MAX_KEYS_PER_PAGE,
              cursor: str | None = None) -> Call[KVKeyPage]:
    """One page of keys (sorted by name), optionally only those starting with ``prefix``."""
    params: dict[str, Any] = {}
    if isinstance(limit, bool) or not isinstance(limit, int) or not MIN_KEYS_PER_PAGE <= limit <= MAX_KEYS_PER_PAGE:
        raise _fail(f"limit must be an integer from {MIN_KEYS_PER_PAGE} to {MAX_KEYS_PER_PAGE}, got {limit!r}",
                    "limit", MAX_KEYS_PER_PAGE)
    params["limit"] = limit
    if prefix:
        params["prefix"] = prefix
    if cursor:
        params["cursor"] = cursor
    return Call(_request("GET", f"{BASE}/{quote(_check_namespace_id(namespace_id), safe='')}/keys",
                         params=params), _key_page)


class KV(SyncResource):
    """Workers KV operations, sent synchronously."""

    create_namespace = sync_call(create_namespace)
    list_namespaces = sync_call(list_namespaces)
    delete_namespace = sync_call(delete_namespace)
    get = sync_call(get)
    get_metadata = sync_call(get_metadata)
    put = sync_call(put)
    delete = sync_call(delete)
    list_keys = sync_call(list_keys)


class AsyncKV(AsyncResource):
    """Workers KV operations, awaited."""

    create_namespace = async_call(create_namespace)
    list_namespaces = async_call(list_namespaces)
    delete_namespace = async_call(delete_namespace)
    get = async_call(get)
    get_metadata = async_call(get_metadata)
    put = async_call(put)
    delete = async_call(delete)
    list_keys = async_call(list_keys)
