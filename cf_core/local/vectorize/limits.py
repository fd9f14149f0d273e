"""Vectorize v2 limits and the validation of everything a client writes."""

from __future__ import annotations

import json
import math
import re
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np

from ..wire import ApiError
from . import errors as E

MAX_DIMENSIONS = 1536
MAX_INDEX_NAME_BYTES = 64
MAX_ID_BYTES = 64
MAX_NAMESPACE_BYTES = 64
MAX_METADATA_BYTES = 10 * 1024
MAX_VECTORS_PER_REQUEST = 5000
MAX_TOP_K = 100
DEFAULT_TOP_K = 5
MAX_LIST_COUNT = 1000
DEFAULT_LIST_COUNT = 100
MAX_METADATA_INDEXES = 10
INDEXED_STRING_BYTES = 64
MAX_FILTER_BYTES = 2048
MAX_FILTER_KEY_CHARS = 512

METRICS = ("cosine", "euclidean", "dot-product")
METADATA_INDEX_TYPES = ("string", "number", "boolean")
PRESETS: dict[str, tuple[int, str]] = {
    "@cf/baai/bge-small-en-v1.5": (384, "cosine"),
    "@cf/baai/bge-base-en-v1.5": (768, "cosine"),
    "@cf/baai/bge-large-en-v1.5": (1024, "cosine"),
    "openai/text-embedding-ada-002": (1536, "cosine"),
    "cohere/embed-multilingual-v2.0": (768, "cosine"),
}
# Cloudflare's own character rule for index names is not recorded; this keeps names safe in a URL path.
_INDEX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def utf8_len(text: str) -> int | None:
    """Byte length in UTF-8, or ``None`` for text that is not valid Unicode (lone surrogates)."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def truncate_utf8(text: str, limit: int = INDEXED_STRING_BYTES) -> str:
    """The longest well-formed UTF-8 prefix of ``text`` within ``limit`` bytes."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


# json.dumps with these options would build an encoder on every call
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compact_json(value: Any) -> str:
    return _COMPACT.encode(value)


@dataclass(frozen=True)
class IndexConfig:
    name: str
    description: str
    dimensions: int
    metric: str
    preset: str | None


def _config_error(detail: str) -> Exception:
    return E.index_error(E.INDEX_INVALID_CONFIG, "index.invalid_config", detail)


def validate_index_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise E.index_error(E.INDEX_INVALID_NAME, "index.invalid_name", "name must be a non-empty string")
    size = utf8_len(name)
    if size is None or size > MAX_INDEX_NAME_BYTES:
        raise E.index_error(E.INDEX_INVALID_NAME, "index.invalid_name",
                            f"name must be at most {MAX_INDEX_NAME_BYTES} bytes, got {size} bytes")
    if not _INDEX_NAME.match(name):
        raise E.index_error(E.INDEX_INVALID_NAME, "index.invalid_name",
                            f'name "{name}" may only contain letters, digits, "-" and "_", starting with a letter or digit')
    return name


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer())


def validate_index_create(body: dict[str, Any]) -> IndexConfig:
    name = validate_index_name(body.get("name"))
    description = body.get("description")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise _config_error("description must be a string")
    config = body.get("config")
    if not isinstance(config, dict):
        raise _config_error('config must be an object with "dimensions" and "metric", or "preset"')
    preset = config.get("preset")
    dims: Any = config.get("dimensions")
    metric: Any = config.get("metric")
    if preset is not None:
        if preset not in PRESETS:
            raise _config_error(f"unknown preset {preset!r}; known presets: {', '.join(PRESETS)}")
        p_dims, p_metric = PRESETS[preset]
        if (dims is not None and dims != p_dims) or (metric is not None and metric != p_metric):
            raise _config_error(f"preset {preset} means dimensions={p_dims} and metric={p_metric}; "
                                "do not combine it with other values")
        dims, metric = p_dims, p_metric
    if not _is_int(dims) or not 1 <= int(dims) <= MAX_DIMENSIONS:
        raise _config_error(f"config.dimensions must be an integer from 1 to {MAX_DIMENSIONS}, got {dims!r}")
    if metric not in METRICS:
        raise _config_error(f"config.metric must be one of {', '.join(METRICS)}, got {metric!r}")
    return IndexConfig(name, description, int(dims), str(metric), preset)


@dataclass(frozen=True)
class VectorRecord:
    id: str
    values: bytes
    """float32, native byte order, exactly ``dimensions`` long."""
    namespace: str | None
    metadata: str | None
    """Compact JSON of the metadata object."""


def check_metadata_keys(obj: dict[str, Any], where: str = "metadata") -> None:
    for key, value in obj.items():
        problem = None
        if key == "":
            problem = "must not be empty"
        elif "." in key:
            problem = 'must not contain "." (it addresses nesting in filters)'
        elif '"' in key:
            problem = 'must not contain \'"\''
        elif key.startswith("$"):
            problem = 'must not start with "$"'
        if problem:
            raise E.insert_error(E.INSERT_INVALID_METADATA, f"{where} key {key!r} {problem}")
        if isinstance(value, dict):
            check_metadata_keys(value, f"{where}.{key}")


def parse_vector(obj: Any, dimensions: int, line: int) -> VectorRecord:
    """Validate one decoded NDJSON line against the index and the documented limits."""
    if not isinstance(obj, dict):
        raise E.insert_error(E.INSERT_INVALID_VECTOR, f"line {line}: a vector must be a JSON object")
    vid = obj.get("id")
    if not isinstance(vid, str) or not vid:
        raise E.insert_error(E.INSERT_INVALID_ID, f"line {line}: id must be a non-empty string")
    size = utf8_len(vid)
    if size is None or size > MAX_ID_BYTES:
        raise E.insert_error(E.INSERT_INVALID_ID,
                             f'id "{vid[:80]}" is {size} bytes; the limit is {MAX_ID_BYTES} bytes')
    values = obj.get("values")
    if not is_number_list(values):
        raise E.insert_error(E.INSERT_INVALID_VECTOR, f'invalid vector for id="{vid}", values must be a list of numbers')
    if len(values) != dimensions:
        raise E.insert_error(E.INSERT_DIMENSIONS, f'invalid vector for id="{vid}", expected {dimensions} '
                                                  f"dimensions, and got {len(values)} dimensions")
    try:
        with np.errstate(over="ignore"):
            arr = np.asarray(values, dtype=np.float32)
        finite = bool(np.isfinite(arr).all())
    except OverflowError:  # an integer beyond float64
        finite = False
    if not finite:
        raise E.insert_error(E.INSERT_NON_FINITE, f'invalid vector for id="{vid}", values must be finite float32 '
                                                  "numbers (no NaN, Infinity or values beyond float32 range)")
    namespace = obj.get("namespace")
    if namespace is not None:
        ns_size = utf8_len(namespace) if isinstance(namespace, str) else None
        if ns_size is None or ns_size == 0 or ns_size > MAX_NAMESPACE_BYTES:
            raise E.insert_error(E.INSERT_INVALID_NAMESPACE,
                                 f'invalid namespace for id="{vid}": must be a string of 1 to '
                                 f"{MAX_NAMESPACE_BYTES} bytes")
    metadata = obj.get("metadata")
    meta_json = None
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise E.insert_error(E.INSERT_INVALID_METADATA, f'invalid metadata for id="{vid}": must be an object')
        check_metadata_keys(metadata)
        try:
            meta_json = compact_json(metadata)
            meta_size = len(meta_json.encode("utf-8"))
        except (ValueError, UnicodeEncodeError):
            raise E.insert_error(E.INSERT_INVALID_METADATA,
                                 f'invalid metadata for id="{vid}": not valid JSON text (NaN or a lone surrogate)') from None
        if meta_size > MAX_METADATA_BYTES:
            raise E.insert_error(E.INSERT_METADATA_TOO_LARGE, f'metadata for id="{vid}" is {meta_size} bytes; '
                                                              f"the limit is {MAX_METADATA_BYTES} bytes")
    return VectorRecord(vid, arr.tobytes(), namespace, meta_json)


def parse_vectors(objs: Sequence[Any], dimensions: int, lines: Sequence[int]) -> list[VectorRecord]:
    """Validate a whole batch of decoded NDJSON lines; the same records and errors as ``parse_vector``.

    The values of all vectors are type-checked and converted to float32 in one pass each, instead
    of 5,000 small conversions. Anything unusual (a bad field, a non-number, a non-finite value)
    sends the batch to the per-vector path, which raises the exact error of the first bad vector.
    """
    fast = _parse_batch(objs, dimensions)
    if fast is not None:
        return fast
    return [parse_vector(obj, dimensions, line) for obj, line in zip(objs, lines, strict=True)]


def _parse_batch(objs: Sequence[Any], dimensions: int) -> list[VectorRecord] | None:
    """The batch fast path: ``None`` whenever any vector might not pass ``parse_vector`` unchanged."""
    fields: list[tuple[str, str | None, str | None]] = []
    all_values: list[Any] = []
    for obj in objs:
        if not isinstance(obj, dict):
            return None
        values = obj.get("values")
        if type(values) is not list or len(values) != dimensions:
            return None
        checked = _fields_or_none(obj)
        if checked is None:
            return None
        fields.append(checked)
        all_values.append(values)
    try:
        # array("f") converts as numpy's float32 cast does and refuses strings, null, lists and objects
        packed = b"".join([array("f", values) for values in all_values])
    except (TypeError, OverflowError):  # OverflowError: an integer beyond float64
        return None
    matrix = np.frombuffer(packed, dtype=np.float32).reshape(len(all_values), dimensions)
    if not bool(np.isfinite(matrix).all()):
        return None
    # array("f") also takes booleans (as 1.0 and 0.0): only rows holding those values need the type check
    for row in np.flatnonzero(((matrix == 0) | (matrix == 1)).any(axis=1)).tolist():
        if not set(map(type, all_values[row])) <= _NUMBER_TYPES:
            return None
    return _records(fields, packed, dimensions)


def parse_float32_rows(objs: Sequence[dict[str, Any]], matrix: np.ndarray) -> list[VectorRecord] | None:
    """Records from objects whose values arrived apart, already cast to float32 (row ``i`` of
    ``matrix`` for ``objs[i]``, see ``fastbody``); ``None`` whenever ``parse_vector`` might not
    accept every vector unchanged.

    The rows hold numbers only (never booleans) of the right count, so finiteness is all that is
    left of the values' checks.
    """
    fields: list[tuple[str, str | None, str | None]] = []
    for obj in objs:
        checked = _fields_or_none(obj)
        if checked is None:
            return None
        fields.append(checked)
    if matrix.shape[0] != len(fields) or not bool(np.isfinite(matrix).all()):
        return None
    return _records(fields, matrix.tobytes(), matrix.shape[1])


def _fields_or_none(obj: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    """Id, namespace and metadata JSON of a vector ``parse_vector`` accepts, else ``None``."""
    vid = obj.get("id")
    if not isinstance(vid, str) or not vid or not 0 < (utf8_len(vid) or 0) <= MAX_ID_BYTES:
        return None
    namespace = obj.get("namespace")
    if namespace is not None and not (isinstance(namespace, str)
                                      and 0 < (utf8_len(namespace) or 0) <= MAX_NAMESPACE_BYTES):
        return None
    metadata = obj.get("metadata")
    meta_json = None
    if metadata is not None:
        meta_json = _metadata_json_or_none(metadata)
        if meta_json is None:
            return None
    return vid, namespace, meta_json


def _records(fields: Sequence[tuple[str, str | None, str | None]], packed: bytes,
             dimensions: int) -> list[VectorRecord]:
    size = dimensions * 4
    return [VectorRecord(vid, packed[i * size:(i + 1) * size], ns, meta)
            for i, (vid, ns, meta) in enumerate(fields)]


def _metadata_json_or_none(metadata: Any) -> str | None:
    """Compact JSON of metadata that ``parse_vector`` accepts, else ``None``."""
    if not isinstance(metadata, dict):
        return None
    try:
        check_metadata_keys(metadata)
        meta_json = compact_json(metadata)
        if len(meta_json.encode("utf-8")) > MAX_METADATA_BYTES:
            return None
    except (ApiError, ValueError, UnicodeEncodeError):
        return None
    return meta_json


_NUMBER_TYPES = frozenset({int, float})


def is_number_list(value: Any) -> TypeGuard[list[int | float]]:
    """A JSON array of numbers only (booleans excluded); ``map(type)`` keeps 768-value checks cheap."""
    return isinstance(value, list) and set(map(type, value)) <= _NUMBER_TYPES


def is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
