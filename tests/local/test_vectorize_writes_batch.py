"""The batch validation of a write (``parse_vectors``) against the per-vector reference (``parse_vector``).

The batch path converts every vector at once and falls back to ``parse_vector`` when anything is
off; these tests pin that both give the same records and the same first error.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from cf_core.local.vectorize.limits import parse_vector, parse_vectors
from cf_core.local.wire import ApiError

DIMS = 8


def _vectors(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        values: list[Any] = [round(rng.uniform(-1, 1), 7) for _ in range(DIMS)]
        obj: dict[str, Any] = {"id": f"v{i}", "values": values}
        if i % 3 == 0:
            obj["metadata"] = {"k": i, "s": "é", "nested": {"b": True}}
        if i % 4 == 0:
            obj["namespace"] = f"ns{i % 2}"
        out.append(obj)
    return out


def _reference(objs: list[Any]) -> list[Any] | tuple[int, str]:
    try:
        return [parse_vector(o, DIMS, n) for n, o in enumerate(objs, start=1)]
    except ApiError as exc:
        return exc.code, exc.message


def _batch(objs: list[Any]) -> list[Any] | tuple[int, str]:
    try:
        return parse_vectors(objs, DIMS, list(range(1, len(objs) + 1)))
    except ApiError as exc:
        return exc.code, exc.message


def test_valid_batch_gives_the_same_records() -> None:
    objs = _vectors(50)
    objs[5]["values"] = [0, 1, 0.0, 1.0, -0.0, 2**40, -3, 0.5]  # ints and exact 0/1 take the checked route
    got = _batch(objs)
    assert isinstance(got, list) and len(got) == 50
    assert got == _reference(objs)


@pytest.mark.parametrize("row, bad", [
    (7, True),  # a boolean converts to 1.0: must still be refused as a non-number
    (7, False),
    (7, "0.5"),
    (7, None),
    (7, [1.0]),
    (7, 1e39),  # beyond float32
    (7, float("nan")),
    (7, 10**400),  # beyond float64
])
def test_bad_value_gives_the_per_vector_error(row: int, bad: Any) -> None:
    objs = _vectors(20)
    objs[row]["values"][3] = bad
    objs[12]["values"] = objs[12]["values"][:-1]  # a later error must not win over the first one
    expected = _reference(objs)
    assert isinstance(expected, tuple) and 'id="v7"' in expected[1]
    assert _batch(objs) == expected


@pytest.mark.parametrize("field, bad", [
    ("id", ""), ("id", "x" * 65), ("namespace", ""), ("namespace", 3),
    ("metadata", []), ("metadata", {"a.b": 1}), ("metadata", {"x": "y" * 11000}), ("values", "no"),
])
def test_bad_field_gives_the_per_vector_error(field: str, bad: Any) -> None:
    objs = _vectors(10)
    objs[4][field] = bad
    expected = _reference(objs)
    assert isinstance(expected, tuple)
    assert _batch(objs) == expected


def test_non_object_line_gives_the_per_vector_error() -> None:
    objs: list[Any] = [*_vectors(3), ["not", "an", "object"]]
    expected = _reference(objs)
    assert isinstance(expected, tuple) and "line 4" in expected[1]
    assert _batch(objs) == expected
