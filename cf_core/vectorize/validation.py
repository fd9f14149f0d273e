"""Local validation of everything sent to Vectorize, so bad input fails before any request.

Every failure is an :class:`InvalidInputError` whose message names the item (its position in the
batch and its id), the field and the limit; ``.field``, ``.limit`` and ``.item`` carry the same.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import to_json

from ..errors import InvalidInputError
from .types import PRESET_CONFIGS, Vector

MAX_ID_BYTES = 64
MAX_NAMESPACE_BYTES = 64
MAX_INDEX_NAME_BYTES = 64
MAX_METADATA_BYTES = 10 * 1024
MAX_DIMENSIONS = 1536
MAX_BATCH_SIZE = 5000
"""Vectors per HTTP insert/upsert request."""
MAX_TOP_K = 100
MAX_TOP_K_WITH_VALUES = 50
"""topK cap with ``returnValues`` or ``returnMetadata="all"``. Cloudflare's docs say 20, but the live
service has been observed answering "max top K is 50" (code 40025); we enforce what the service
enforces so that valid queries are not refused locally."""
MAX_LIST_COUNT = 1000
MAX_PROPERTY_NAME_CHARS = 512
FLOAT32_MAX = 3.4028234663852886e38

METRICS = ("cosine", "euclidean", "dot-product")
RETURN_METADATA = ("none", "indexed", "all")
METADATA_INDEX_TYPES = ("string", "number", "boolean")
PRESETS = {name: dims for name, (dims, _metric) in PRESET_CONFIGS.items()}
VECTOR_FIELDS = frozenset({"id", "values", "metadata", "namespace"})


def _fail(message: str, field: str, limit: Any = None, item: Any = None) -> InvalidInputError:
    return InvalidInputError(message, field=field, limit=limit, item=item)


def utf8_size(text: str) -> int | None:
    """UTF-8 length in bytes, or ``None`` for text that cannot be encoded (lone surrogates)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


# json.dumps with these options would build an encoder on every call (once per item of an ingest)
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compact_json(value: Any) -> str:
    return _COMPACT.encode(value)


def _where(index: int | None, vid: Any = None) -> str:
    if index is None:
        return ""
    return f"vectors[{index}]" + (f" (id {vid!r})" if isinstance(vid, str) else "") + ": "


def check_index_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise _fail(f"index name must be a non-empty string, got {name!r}", "index", MAX_INDEX_NAME_BYTES)
    size = utf8_size(name)
    if size is None or size > MAX_INDEX_NAME_BYTES:
        raise _fail(f"index name {name[:80]!r} is {size} bytes in UTF-8; the limit is {MAX_INDEX_NAME_BYTES} "
                    "bytes", "index", MAX_INDEX_NAME_BYTES, name)
    if "/" in name or name in (".", ".."):
        raise _fail(f"index name {name!r} must not contain '/' or be '.' / '..'", "index", item=name)
    return name


def check_id(vid: Any, *, field: str = "id", index: int | None = None) -> str:
    # An ASCII id's UTF-8 size is its length (the common case, without encoding or message building).
    if type(vid) is str and 0 < len(vid) <= MAX_ID_BYTES and vid.isascii():
        return vid
    where = _where(index)
    if not isinstance(vid, str) or not vid:
        raise _fail(f"{where}{field} must be a non-empty string, got {vid!r}", field, MAX_ID_BYTES, index)
    size = utf8_size(vid)
    if size is None:
        raise _fail(f"{where}{field} {vid[:80]!r} is not valid Unicode text (lone surrogate)", field,
                    MAX_ID_BYTES, index if index is not None else vid)
    if size > MAX_ID_BYTES:
        raise _fail(f"{where}{field} {vid[:80]!r} is {size} bytes in UTF-8; the limit is {MAX_ID_BYTES} bytes",
                    field, MAX_ID_BYTES, index if index is not None else vid)
    return vid


def check_namespace(namespace: Any, *, index: int | None = None, vid: Any = None) -> str | None:
    if namespace is None:
        return None
    where = _where(index, vid)
    item = index if index is not None else namespace
    if not isinstance(namespace, str) or not namespace:
        raise _fail(f"{where}namespace must be a non-empty string of at most {MAX_NAMESPACE_BYTES} bytes, "
                    f"got {namespace!r}", "namespace", MAX_NAMESPACE_BYTES, item)
    size = utf8_size(namespace)
    if size is None or size > MAX_NAMESPACE_BYTES:
        raise _fail(f"{where}namespace {namespace[:80]!r} is {size} bytes in UTF-8; the limit is "
                    f"{MAX_NAMESPACE_BYTES} bytes", "namespace", MAX_NAMESPACE_BYTES, item)
    return namespace


def _key_problem(key: Any) -> str | None:
    if not isinstance(key, str):
        return f"must be a string, got {type(key).__name__}"
    if key == "":
        return "must not be empty"
    if "." in key:
        return 'must not contain "." (a dot addresses nested fields in filters)'
    if '"' in key:
        return "must not contain '\"'"
    if key.startswith("$"):
        return 'must not start with "$"'
    return None


_LEAF_TYPES = frozenset({str, int, float, bool, type(None)})
_SIZE_MARGIN = 512
"""pydantic's compact JSON can differ from ``json``'s by a byte or two per number (``1e-7`` vs ``1e-07``)
or escape. Far from the limit that cannot change the verdict; within this margin the exact encoder
measures."""


def _plain_key(key: Any) -> bool:
    """The common good key, decided without building a message (else ``_key_problem`` explains)."""
    return type(key) is str and key != "" and "." not in key and '"' not in key and key[0] != "$"


def _walk(value: Any, path: str, index: int | None, vid: Any) -> bool:
    """Raise for a bad key anywhere in ``value``; return whether it holds only plain JSON values
    (dicts, lists, tuples, str, int, bool, None and finite floats), which pydantic encodes as ``json`` does."""
    kind = type(value)
    if kind is float:
        return math.isfinite(value)
    if kind in _LEAF_TYPES:
        return True
    if isinstance(value, Mapping):
        plain = kind is dict
        for key, inner in value.items():
            if not _plain_key(key):
                problem = _key_problem(key)
                if problem:
                    raise _fail(f"{_where(index, vid)}metadata key {path}{key!r} {problem}", "metadata", item=index)
            inner_kind = type(inner)
            if inner_kind is float:
                plain = plain and math.isfinite(inner)
            elif inner_kind not in _LEAF_TYPES:
                plain = _walk(inner, f"{path}{key}.", index, vid) and plain
        return plain
    if isinstance(value, list | tuple):
        plain = kind is list or kind is tuple
        for inner in value:
            plain = _walk(inner, path, index, vid) and plain
        return plain
    return False


def _plain_json(metadata: Any) -> bytes | None:
    """Compact JSON by pydantic's encoder, or ``None`` when it refuses the value."""
    try:
        return to_json(metadata)
    except Exception:  # e.g. a lone surrogate; the exact path gives the error
        return None


def metadata_json(metadata: Any, *, index: int | None = None, vid: Any = None) -> bytes:
    """``metadata`` checked as :func:`check_metadata` does, as the compact JSON that measured it
    (what a write can carry as it is)."""
    item = index
    if not isinstance(metadata, Mapping):
        raise _fail(f"{_where(index, vid)}metadata must be an object (a mapping), got {type(metadata).__name__}",
                    "metadata", item=item)
    if _walk(metadata, "", index, vid):
        # Plain values: the Rust encoder measures several times faster than json's; only a size near
        # the limit needs the exact count below.
        plain = _plain_json(metadata)
        if plain is not None and len(plain) <= MAX_METADATA_BYTES - _SIZE_MARGIN:
            return plain
    where = _where(index, vid)
    try:
        encoded = compact_json(metadata)
    except (TypeError, ValueError) as exc:
        raise _fail(f"{where}metadata is not JSON-encodable with finite numbers: {exc}", "metadata",
                    item=item) from None
    try:
        raw = encoded.encode("utf-8")
    except UnicodeEncodeError:
        raise _fail(f"{where}metadata contains text that is not valid Unicode (lone surrogate)", "metadata",
                    item=item) from None
    if len(raw) > MAX_METADATA_BYTES:
        raise _fail(f"{where}metadata is {len(raw)} bytes as compact JSON; the limit is {MAX_METADATA_BYTES} "
                    "bytes (10 KiB)", "metadata", MAX_METADATA_BYTES, item)
    return raw


def check_metadata(metadata: Any, *, index: int | None = None, vid: Any = None) -> dict[str, Any] | None:
    """Key rules (nested too), JSON-encodable with finite numbers, at most 10 KiB as compact JSON."""
    if metadata is None:
        return None
    metadata_json(metadata, index=index, vid=vid)
    return dict(metadata)


def _bad_value(values: Sequence[Any]) -> tuple[int, Any] | None:
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            return i, v
        try:
            f = float(v)
        except OverflowError:
            return i, v
        if not math.isfinite(f) or abs(f) > FLOAT32_MAX:
            return i, v
    return None


_PLAIN_NUMBERS = frozenset({float, int})
_FAST_BOUND = FLOAT32_MAX * (1 - 2.0**-30)
"""Just below the float32 limit, by far more than ``math.hypot``'s rounding error (a few ulps), so a
norm under it proves every value is under the limit; vectors closer to it take the exact check."""


def _plain_floats(values: Sequence[Any]) -> list[float] | None:
    """``values`` as floats when two C-level passes prove the per-value check accepts them all, else
    ``None`` (then the exact check decides, with its error message).

    Only exact floats and ints qualify (no bools, no subclasses that could override ``__float__``).
    Their Euclidean norm is at least the largest magnitude, infinite if any value is infinite and
    NaN if any is NaN (with none infinite), so ``norm <= _FAST_BOUND`` holds only when every value is
    finite and within float32 range.
    """
    kinds = set(map(type, values))
    if not kinds <= _PLAIN_NUMBERS:
        return None
    try:
        norm = math.hypot(*values)  # ints convert as float(v) does; one too large for a float: OverflowError
    except OverflowError:
        return None
    if not norm <= _FAST_BOUND:  # also true for NaN
        return None
    return list(values) if int not in kinds else [float(v) for v in values]


def check_values(values: Any, *, field: str = "values", index: int | None = None, vid: Any = None) -> list[float]:
    """A non-empty list of finite numbers within float32 range, as Python floats."""
    where = _where(index, vid)
    if hasattr(values, "tolist") and not isinstance(values, list):  # numpy arrays
        values = values.tolist()
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise _fail(f"{where}{field} must be a list of numbers, got {type(values).__name__}", field, item=index)
    if not values:
        raise _fail(f"{where}{field} must not be empty", field, item=index)
    plain = _plain_floats(values)
    if plain is not None:
        return plain
    bad = _bad_value(values)
    if bad is not None:
        pos, value = bad
        raise _fail(f"{where}{field}[{pos}] is {value!r}; values must be finite numbers within float32 range "
                    f"(|v| <= {FLOAT32_MAX:.7g}, no NaN or infinity, no booleans)", field, FLOAT32_MAX, index)
    return [float(v) for v in values]


def check_dimensions(dimensions: Any, field: str = "dimensions") -> int:
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 1 <= dimensions <= MAX_DIMENSIONS:
        raise _fail(f"{field} must be an integer from 1 to {MAX_DIMENSIONS}, got {dimensions!r}", field,
                    MAX_DIMENSIONS)
    return dimensions


def coerce_vector(raw: Any, index: int) -> Vector:
    if isinstance(raw, Vector):
        vid, values, metadata, namespace = raw.id, raw.values, raw.metadata, raw.namespace
    elif isinstance(raw, Mapping):
        unknown = set(raw) - VECTOR_FIELDS
        if unknown:
            raise _fail(f"vectors[{index}]: unknown field(s) {sorted(map(str, unknown))}; a vector has "
                        f"{sorted(VECTOR_FIELDS)}", "vectors", item=index)
        if "id" not in raw or "values" not in raw:
            raise _fail(f"vectors[{index}]: a vector needs 'id' and 'values'", "vectors", item=index)
        vid, values, metadata, namespace = raw["id"], raw["values"], raw.get("metadata"), raw.get("namespace")
    else:
        raise _fail(f"vectors[{index}] must be a Vector or a mapping, got {type(raw).__name__}", "vectors",
                    item=index)
    vid = check_id(vid, index=index)
    return Vector.model_construct(
        id=vid, values=check_values(values, index=index, vid=vid),
        metadata=check_metadata(metadata, index=index, vid=vid),
        namespace=check_namespace(namespace, index=index, vid=vid))


def coerce_vectors(vectors: Any, *, dimensions: int | None = None) -> list[Vector]:
    """Validate a whole write: each vector, equal lengths (= ``dimensions`` when given), unique ids."""
    if isinstance(vectors, str | bytes | Mapping) or not isinstance(vectors, Sequence):
        raise _fail(f"vectors must be a sequence of Vector or mappings, got {type(vectors).__name__}", "vectors")
    if dimensions is not None:
        check_dimensions(dimensions)
    out: list[Vector] = []
    seen: dict[str, int] = {}
    expected = dimensions
    for i, raw in enumerate(vectors):
        vec = coerce_vector(raw, i)
        if expected is None:
            expected = len(vec.values)
        elif len(vec.values) != expected:
            source = "dimensions" if dimensions is not None else "the first vector's length"
            raise _fail(f"vectors[{i}] (id {vec.id!r}): values has {len(vec.values)} dimensions; expected "
                        f"{expected} ({source})", "values", expected, i)
        first = seen.setdefault(vec.id, i)
        if first != i:
            raise _fail(f"vectors[{i}] (id {vec.id!r}): the id also appears at vectors[{first}]; ids must be "
                        "unique within one write", "id", item=i)
        out.append(vec)
    return out


def check_ids(ids: Any, field: str = "ids") -> list[str]:
    if isinstance(ids, str) or not isinstance(ids, Sequence):
        raise _fail(f"{field} must be a sequence of id strings, got {type(ids).__name__}", field)
    out = []
    for i, vid in enumerate(ids):
        if not isinstance(vid, str) or not vid:
            raise _fail(f"{field}[{i}] must be a non-empty string, got {vid!r}", field, MAX_ID_BYTES, i)
        size = utf8_size(vid)
        if size is None or size > MAX_ID_BYTES:
            raise _fail(f"{field}[{i}] {vid[:80]!r} is {size} bytes in UTF-8; the limit is {MAX_ID_BYTES} bytes",
                        field, MAX_ID_BYTES, i)
        out.append(vid)
    return out


def check_top_k(top_k: Any, return_values: bool, return_metadata: str) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise _fail(f"top_k must be an integer from 1 to {MAX_TOP_K}, got {top_k!r}", "top_k", MAX_TOP_K)
    if (return_values or return_metadata == "all") and top_k > MAX_TOP_K_WITH_VALUES:
        raise _fail(f"top_k is {top_k}; with return_values=True or return_metadata='all' the limit is "
                    f"{MAX_TOP_K_WITH_VALUES}", "top_k", MAX_TOP_K_WITH_VALUES)
    return top_k


def check_return_metadata(value: Any) -> str:
    if value not in RETURN_METADATA:
        raise _fail(f"return_metadata must be one of {', '.join(RETURN_METADATA)}, got {value!r} "
                    "(booleans are the v1 form and are rejected by the v2 API)", "return_metadata",
                    RETURN_METADATA)
    return str(value)


def check_batch(batch_size: Any, concurrency: Any) -> None:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise _fail(f"batch_size must be an integer from 1 to {MAX_BATCH_SIZE}, got {batch_size!r}",
                    "batch_size", MAX_BATCH_SIZE)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise _fail(f"concurrency must be a positive integer, got {concurrency!r}", "concurrency")


def check_timeout(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise _fail(f"{field} must be a non-negative number of seconds, got {value!r}", field)
    return float(value)


def check_list_count(count: Any) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_LIST_COUNT:
        raise _fail(f"count must be an integer from 1 to {MAX_LIST_COUNT}, got {count!r}", "count", MAX_LIST_COUNT)
    return count


def check_property_name(name: Any) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_PROPERTY_NAME_CHARS:
        raise _fail(f"property_name must be a string of 1 to {MAX_PROPERTY_NAME_CHARS} characters, got {name!r}",
                    "property_name", MAX_PROPERTY_NAME_CHARS)
    for segment in name.split("."):
        if not segment or '"' in segment or segment.startswith("$"):
            raise _fail(f"property_name {name!r}: each dot-separated part must be non-empty, without '\"' "
                        "and not starting with '$'", "property_name", item=name)
    return name


def check_index_type(index_type: Any) -> str:
    if index_type not in METADATA_INDEX_TYPES:
        raise _fail(f"index_type must be one of {', '.join(METADATA_INDEX_TYPES)}, got {index_type!r}",
                    "index_type", METADATA_INDEX_TYPES)
    return str(index_type)
