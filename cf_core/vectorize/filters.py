"""Vectorize's metadata filter language, checked locally before a query is sent.

A filter is a non-empty object; each key is a (dotted) metadata path and each value either a bare
value (meaning ``$eq``) or an object of operators. Several keys are an implicit AND.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidInputError
from .validation import compact_json

EQUALITY_OPS = ("$eq", "$ne")
SET_OPS = ("$in", "$nin")
LOWER_BOUNDS = ("$gt", "$gte")
UPPER_BOUNDS = ("$lt", "$lte")
OPERATORS = EQUALITY_OPS + SET_OPS + LOWER_BOUNDS + UPPER_BOUNDS
MAX_FILTER_BYTES = 2048
"""The compact JSON of a filter must be *less than* this many bytes."""
MAX_KEY_CHARS = 512


def _fail(message: str, field: str = "filter", limit: Any = None, item: Any = None) -> InvalidInputError:
    return InvalidInputError(f"invalid Vectorize filter: {message}", field=field, limit=limit, item=item)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or _is_number(value)


def _check_key(key: Any) -> str:
    if not isinstance(key, str):
        raise _fail(f"keys must be strings, got {key!r}", item=key)
    if not key:
        raise _fail("keys must not be empty", item=key)
    if '"' in key:
        raise _fail(f"key {key!r} must not contain '\"'", item=key)
    if key.startswith("$"):
        raise _fail(f"key {key!r} must not start with '$' (operators go inside a key's object, and there is "
                    "no $and / $or)", item=key)
    if len(key) > MAX_KEY_CHARS:
        raise _fail(f"key {key[:40]!r}... is {len(key)} characters; the limit is {MAX_KEY_CHARS}",
                    limit=MAX_KEY_CHARS, item=key)
    return key


def _operand(key: str, op: str, value: Any) -> Any:
    if op in EQUALITY_OPS:
        if not _is_scalar(value):
            raise _fail(f"{key}.{op} takes a string, a finite number, a boolean or null, got {value!r}", item=key)
        return value
    if op in SET_OPS:
        if not isinstance(value, list | tuple) or not all(_is_scalar(v) for v in value):
            raise _fail(f"{key}.{op} takes a list of strings, finite numbers, booleans or nulls, got {value!r}",
                        item=key)
        return list(value)
    if not (isinstance(value, str) or _is_number(value)):
        raise _fail(f"{key}.{op} takes a string or a finite number, got {value!r}", item=key)
    return value


def _operators(key: str, spec: Mapping[Any, Any]) -> dict[str, Any]:
    if not spec:
        raise _fail(f"{key}: the operator object is empty", item=key)
    out: dict[str, Any] = {}
    for op, value in spec.items():
        if op not in OPERATORS:
            raise _fail(f"{key}: unknown operator {op!r}; the operators are {', '.join(OPERATORS)}", item=key)
        out[op] = _operand(key, op, value)
    if len(out) > 1:
        lower = [op for op in out if op in LOWER_BOUNDS]
        upper = [op for op in out if op in UPPER_BOUNDS]
        if len(out) != 2 or len(lower) != 1 or len(upper) != 1:
            raise _fail(f"{key}: operators {', '.join(out)} cannot be combined; a key takes one operator, or "
                        "one lower bound ($gt/$gte) with one upper bound ($lt/$lte)", item=key)
        if isinstance(out[lower[0]], str) != isinstance(out[upper[0]], str):
            raise _fail(f"{key}: a range compares strings with strings or numbers with numbers", item=key)
    return out


def validate_filter(filter: Any) -> dict[str, Any]:
    """Check a metadata filter against Vectorize's rules; return it as plain JSON-ready dicts and lists.

    Raises :class:`InvalidInputError` naming the key and the rule it breaks.
    """
    if not isinstance(filter, Mapping) or not filter:
        raise _fail(f"a filter must be a non-empty object, got {filter!r}")
    out: dict[str, Any] = {}
    for key, spec in filter.items():
        key = _check_key(key)
        if isinstance(spec, Mapping):
            out[key] = _operators(key, spec)
        elif _is_scalar(spec):
            out[key] = spec
        else:
            raise _fail(f"{key}: a bare value means $eq and must be a string, a finite number, a boolean or "
                        f"null, got {spec!r}", item=key)
    try:
        size = len(compact_json(out).encode("utf-8"))
    except (ValueError, UnicodeEncodeError):
        raise _fail("the filter contains text that is not valid Unicode (lone surrogate)") from None
    if size >= MAX_FILTER_BYTES:
        raise _fail(f"the filter is {size} bytes as compact JSON; it must be less than {MAX_FILTER_BYTES} bytes",
                    limit=MAX_FILTER_BYTES)
    return out
