"""Vectorised metadata filtering: one typed column per filtered property, evaluated with numpy.

A column holds, per vector, the kind of value at a property path (absent, string, number, boolean
or null), its number (booleans as 0/1) and, for strings, a code that preserves sort order, so
equality, sets and ranges on 100,000 vectors are a few array comparisons.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .filters import LOWER_OPS, Condition, Filter
from .limits import truncate_utf8

ABSENT, STR, NUM, BOOL, NULL = 0, 1, 2, 3, 4
MISSING: Any = object()


@dataclass(frozen=True)
class IndexedProperty:
    """A metadata index: only vectors written after ``created_seq`` are in it."""

    path: str
    index_type: str
    created_seq: int


@dataclass
class Column:
    kind: np.ndarray
    num: np.ndarray
    codes: np.ndarray
    strings: list[str]
    lookup: dict[str, int]


def extract(meta: dict[str, Any] | None, path: str) -> Any:
    """The value at a dotted ``path`` (``pandas.nice``), or :data:`MISSING`."""
    cur: Any = meta
    for segment in path.split("."):
        if not isinstance(cur, dict) or segment not in cur:
            return MISSING
        cur = cur[segment]
    return cur


def indexed_value(value: Any, index_type: str) -> Any:
    """What a metadata index of ``index_type`` stores for ``value`` (strings cut to 64 bytes)."""
    if index_type == "string" and isinstance(value, str):
        return truncate_utf8(value)
    if index_type == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if index_type == "boolean" and isinstance(value, bool):
        return value
    return MISSING


def build_column(values: Sequence[Any]) -> Column:
    n = len(values)
    kind = np.zeros(n, dtype=np.int8)
    num = np.zeros(n, dtype=np.float64)
    strings = sorted({v for v in values if isinstance(v, str)})
    lookup = {s: i for i, s in enumerate(strings)}
    codes = np.full(n, -1, dtype=np.int32)
    for i, v in enumerate(values):
        if v is MISSING:
            continue
        if isinstance(v, str):
            kind[i], codes[i] = STR, lookup[v]
        elif isinstance(v, bool):
            kind[i], num[i] = BOOL, float(v)
        elif isinstance(v, int | float):
            kind[i], num[i] = NUM, float(v)
        elif v is None:
            kind[i] = NULL
        # arrays and objects are not comparable by any operator: they stay ABSENT
    return Column(kind, num, codes, strings, lookup)


def strict_values(metas: Sequence[dict[str, Any] | None], written_seq: np.ndarray,
                  prop: IndexedProperty) -> list[Any]:
    out: list[Any] = []
    for meta, seq in zip(metas, written_seq.tolist(), strict=True):
        if seq <= prop.created_seq:
            out.append(MISSING)
        else:
            out.append(indexed_value(extract(meta, prop.path), prop.index_type))
    return out


def lenient_values(metas: Sequence[dict[str, Any] | None], path: str) -> list[Any]:
    return [extract(meta, path) for meta in metas]


def _equal(col: Column, value: Any, truncate: bool) -> np.ndarray:
    mask: np.ndarray
    if value is None:
        mask = col.kind == NULL
    elif isinstance(value, bool):
        mask = (col.kind == BOOL) & (col.num == float(value))
    elif isinstance(value, int | float):
        mask = (col.kind == NUM) & (col.num == float(value))
    else:
        code = col.lookup.get(truncate_utf8(value) if truncate else value)
        mask = np.zeros(col.kind.shape, dtype=bool) if code is None else col.codes == code
    return mask


def _range(col: Column, op: str, bound: Any, truncate: bool) -> np.ndarray:
    mask: np.ndarray
    if isinstance(bound, str):
        # string codes follow sort order, so a string bound becomes a code bound
        key = truncate_utf8(bound) if truncate else bound
        if op == "$gt":
            mask = col.codes >= bisect.bisect_right(col.strings, key)
        elif op == "$gte":
            mask = col.codes >= bisect.bisect_left(col.strings, key)
        elif op == "$lt":
            mask = col.codes < bisect.bisect_left(col.strings, key)
        else:
            mask = col.codes < bisect.bisect_right(col.strings, key)
        mask &= col.kind == STR
        return mask
    b = float(bound)
    if op == "$gt":
        mask = col.num > b
    elif op == "$gte":
        mask = col.num >= b
    elif op == "$lt":
        mask = col.num < b
    else:
        mask = col.num <= b
    mask &= col.kind == NUM
    return mask


def condition_mask(col: Column, cond: Condition, truncate: bool) -> np.ndarray:
    """Vectors satisfying ``cond``; a vector without a comparable value matches no operator."""
    mask: np.ndarray
    if cond.op == "$eq":
        mask = _equal(col, cond.value, truncate)
    elif cond.op == "$ne":
        mask = (col.kind != ABSENT) & ~_equal(col, cond.value, truncate)
    elif cond.op in ("$in", "$nin"):
        hit = np.zeros(col.kind.shape, dtype=bool)
        for v in cond.value:
            hit |= _equal(col, v, truncate)
        mask = hit if cond.op == "$in" else (col.kind != ABSENT) & ~hit
    else:
        assert cond.op in LOWER_OPS or cond.op in ("$lt", "$lte")
        mask = _range(col, cond.op, cond.value, truncate)
    return mask


def evaluate(flt: Filter, column: Callable[[str], Column | None], n: int, truncate: bool) -> np.ndarray:
    """Rows matching every condition; a path without a column (no metadata index) matches nothing."""
    mask = np.ones(n, dtype=bool)
    for cond in flt.conditions:
        col = column(cond.path)
        if col is None:
            return np.zeros(n, dtype=bool)
        mask &= condition_mask(col, cond, truncate)
    return mask


def indexed_metadata(meta: dict[str, Any] | None, written_seq: int,
                     props: Sequence[IndexedProperty]) -> dict[str, Any]:
    """The part of ``meta`` the metadata indexes hold for this vector, nested back by path."""
    out: dict[str, Any] = {}
    for prop in props:
        if written_seq <= prop.created_seq:
            continue
        value = indexed_value(extract(meta, prop.path), prop.index_type)
        if value is MISSING:
            continue
        node = out
        *parents, leaf = prop.path.split(".")
        for segment in parents:
            child = node.get(segment)
            if not isinstance(child, dict):
                child = node[segment] = {}
            node = child
        node[leaf] = value
    return out
