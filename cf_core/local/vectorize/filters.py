"""Vectorize's metadata filter language: parsing and validation.

``{"genre": {"$in": ["a", "b"]}, "year": {"$gte": 1990, "$lt": 2000}, "pandas.nice": 42}``: each key
is a dotted path into the metadata, each value an operator object or a bare value (``$eq``), and
all keys must hold (implicit AND). Evaluation lives in :mod:`.columns`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .limits import MAX_FILTER_BYTES, MAX_FILTER_KEY_CHARS, compact_json, is_finite_number

Scalar = str | int | float | bool | None

EQUALITY_OPS = ("$eq", "$ne")
SET_OPS = ("$in", "$nin")
LOWER_OPS = ("$gt", "$gte")
UPPER_OPS = ("$lt", "$lte")
ALL_OPS = EQUALITY_OPS + SET_OPS + LOWER_OPS + UPPER_OPS


class FilterError(ValueError):
    """An invalid filter; the message names the key and the rule."""


@dataclass(frozen=True)
class Condition:
    path: str
    op: str
    value: Any
    """A scalar, or a tuple of scalars for ``$in``/``$nin``."""


@dataclass(frozen=True)
class Filter:
    conditions: tuple[Condition, ...]

    @property
    def paths(self) -> set[str]:
        return {c.path for c in self.conditions}


def _describe(value: Any) -> str:
    try:
        return json.dumps(value)[:80]
    except (TypeError, ValueError):
        return repr(value)[:80]


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or is_finite_number(value)


def _check_key(key: str) -> None:
    if key == "":
        raise FilterError("filter keys must not be empty")
    if '"' in key:
        raise FilterError(f"filter key {key!r} must not contain '\"'")
    if key.startswith("$"):
        raise FilterError(f"filter key {key!r} must not start with \"$\" (operators go inside the key's object)")
    if len(key) > MAX_FILTER_KEY_CHARS:
        raise FilterError(f"filter key {key[:40]!r}... is {len(key)} characters; the limit is {MAX_FILTER_KEY_CHARS}")


def _check_operand(key: str, op: str, value: Any) -> Any:
    if op in EQUALITY_OPS:
        if not _is_scalar(value):
            raise FilterError(f"{key}: {op} takes a string, number, boolean or null, got {_describe(value)}")
        return value
    if op in SET_OPS:
        if not isinstance(value, list) or not all(_is_scalar(v) for v in value):
            raise FilterError(f"{key}: {op} takes an array of strings, numbers, booleans or nulls, "
                              f"got {_describe(value)}")
        return tuple(value)
    if not (isinstance(value, str) or is_finite_number(value)):
        raise FilterError(f"{key}: {op} takes a string or a number, got {_describe(value)}")
    return value


def _parse_key(key: str, spec: Any) -> list[Condition]:
    _check_key(key)
    if not isinstance(spec, dict):
        if not _is_scalar(spec):
            raise FilterError(f"{key}: a bare value must be a string, number, boolean or null "
                              f"(it means $eq), got {_describe(spec)}")
        return [Condition(key, "$eq", spec)]
    if not spec:
        raise FilterError(f"{key}: the operator object is empty")
    unknown = [op for op in spec if op not in ALL_OPS]
    if unknown:
        raise FilterError(f"{key}: unknown operator {unknown[0]!r}; supported: {', '.join(ALL_OPS)}")
    conditions = [Condition(key, op, _check_operand(key, op, value)) for op, value in spec.items()]
    if len(conditions) > 1:
        lowers = [c for c in conditions if c.op in LOWER_OPS]
        uppers = [c for c in conditions if c.op in UPPER_OPS]
        if len(conditions) != 2 or len(lowers) != 1 or len(uppers) != 1:
            raise FilterError(f"{key}: operators {', '.join(spec)} cannot be combined; only one lower bound "
                              "($gt or $gte) with one upper bound ($lt or $lte) may share a key")
        if isinstance(lowers[0].value, str) != isinstance(uppers[0].value, str):
            raise FilterError(f"{key}: a range must compare strings with strings or numbers with numbers")
    return conditions


def parse_filter(raw: Any) -> Filter:
    if not isinstance(raw, dict) or not raw:
        raise FilterError("filter must be a non-empty object")
    try:
        size = len(compact_json(raw).encode("utf-8"))
    except (ValueError, UnicodeEncodeError):
        raise FilterError("filter is not valid JSON text (NaN, Infinity or a lone surrogate)") from None
    if size >= MAX_FILTER_BYTES:
        raise FilterError(f"filter is {size} bytes as compact JSON; it must be less than {MAX_FILTER_BYTES} bytes")
    conditions: list[Condition] = []
    for key, spec in raw.items():
        conditions.extend(_parse_key(key, spec))
    return Filter(tuple(conditions))
