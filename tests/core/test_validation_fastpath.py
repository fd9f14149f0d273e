"""The fast paths of Vectorize validation accept and refuse exactly what the per-value checks do.

``check_values`` first tries two C-level passes (exact types, then ``math.hypot``); anything they
cannot prove valid goes through the per-value check. These tests compare it with that per-value
check alone (``_bad_value``), on values chosen to sit on every edge: the float32 limit and the
floats next to it, NaN, infinities, ints too large for a float, bools, numeric subclasses.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from decimal import Decimal
from fractions import Fraction
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_core.errors import InvalidInputError
from cf_core.vectorize import validation as V

F = V.FLOAT32_MAX


class WeirdFloat(float):
    """A float whose float() is NaN: only the per-value check sees that."""

    def __float__(self) -> float:
        return math.nan


def reference(values: list[Any]) -> list[float] | tuple[int, str]:
    """What the per-value check alone decides: the floats, or the position of the first bad value."""
    bad = V._bad_value(values)
    if bad is not None:
        return (bad[0], repr(bad[1]))
    return [float(v) for v in values]


def outcome(values: list[Any]) -> list[float] | tuple[int, str]:
    try:
        return V.check_values(values)
    except InvalidInputError as err:
        assert err.field == "values" and err.limit == F
        position = int(str(err).split("[", 1)[1].split("]", 1)[0])
        return (position, str(err).split(" is ", 1)[1].split("; values must", 1)[0])


def same(a: list[float] | tuple[int, str], b: list[float] | tuple[int, str]) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple):
        return a == b
    return len(a) == len(b) and all(type(x) is float and x == y for x, y in zip(a, b, strict=True))


EDGE_FLOATS = [
    0.0, -0.0, 1.0, -1.0, 5e-324, F, -F, math.nextafter(F, math.inf), -math.nextafter(F, math.inf),
    math.nextafter(F, 0.0), V._FAST_BOUND, math.nextafter(V._FAST_BOUND, math.inf), 1e38, 1e39, 1e300,
    -1e308, 1.7976931348623157e308, math.inf, -math.inf, math.nan,
]
EDGE_INTS = [0, 1, -7, 2**53 + 1, int(F), int(F) + 1, 2**128, -(2**128), 10**308, 2**1024, -(2**2000)]

values_strategy = st.lists(
    st.one_of(
        st.floats(width=32, allow_nan=False, allow_infinity=False),
        st.floats(),
        st.sampled_from(EDGE_FLOATS),
        st.integers(min_value=-(2**60), max_value=2**60),
        st.sampled_from(EDGE_INTS),
        st.booleans(),
    ),
    min_size=1, max_size=40)


@settings(max_examples=400, deadline=None)
@given(values_strategy)
def test_check_values_agrees_with_the_per_value_check(values: list[Any]) -> None:
    assert same(outcome(values), reference(values))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1, max_size=768),
       st.integers(min_value=0, max_value=767), st.sampled_from(EDGE_FLOATS + EDGE_INTS + [True]))
def test_one_bad_value_among_many_is_found(values: list[float], at: int, odd: Any) -> None:
    values.insert(min(at, len(values)), odd)
    assert same(outcome(values), reference(values))


@pytest.mark.parametrize("odd", [
    True, False, np.float64(1.5), np.float32(2.0), np.int64(3), Fraction(1, 3), Decimal("1.5"), "1.0", None,
    WeirdFloat(1.0), np.float64(np.nan),
])
def test_other_types_take_the_exact_check(odd: Any) -> None:
    values = [0.25, odd, -0.5]
    assert same(outcome(values), reference(values))


def test_values_at_the_float32_limit() -> None:
    assert V.check_values([F, -F, 0.0]) == [F, -F, 0.0]  # the limit itself is allowed
    above = math.nextafter(F, math.inf)
    for values in ([above], [0.0] * 767 + [above], [1e-3] * 500 + [-above] + [1e-3] * 267):
        with pytest.raises(InvalidInputError, match=r"values\[\d+\] is -?3\.40282346638528[89]"):
            V.check_values(values)


def test_fast_path_returns_a_fresh_list_of_floats() -> None:
    given_values = [0.5, 1, -2]
    out = V.check_values(given_values)
    assert out == [0.5, 1.0, -2.0] and all(type(v) is float for v in out)
    floats = [0.5, 0.25]
    copied = V.check_values(floats)
    assert copied == floats and copied is not floats


@pytest.mark.parametrize("metadata", [
    {"a": 1, "b": "x", "c": None, "d": True, "e": 1.5},
    {"nested": {"ok": [1, {"deep": "y"}]}},
    {"nested": {"bad.key": 1}},
    {"list": [{"$bad": 1}]},
    {"tuple": ({"": 1},)},
    {1: "non-string key"},
])
def test_metadata_key_rules_unchanged(metadata: dict[Any, Any]) -> None:
    """The leaf shortcut in the key walk must not skip any nested mapping."""
    problems = []

    def walk(value: Any, path: str) -> None:  # the rule, written out independently
        if isinstance(value, dict):
            for key, inner in value.items():
                if not isinstance(key, str) or key == "" or "." in key or '"' in key or key.startswith("$"):
                    problems.append(key)
                    return
                walk(inner, path + key + ".")
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner, path)

    walk(metadata, "")
    if problems:
        with pytest.raises(InvalidInputError, match="metadata key"):
            V.check_metadata(metadata)
    else:
        assert V.check_metadata(metadata) == metadata


def _key_rule_broken(value: Any) -> bool:
    """The key rules, written out independently of the validator's walk."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, str) or key == "" or "." in key or '"' in key or key.startswith("$"):
                return True
            if _key_rule_broken(inner):
                return True
    elif isinstance(value, list | tuple):
        return any(_key_rule_broken(inner) for inner in value)
    return False


keys = st.one_of(st.sampled_from(["a", "b.c", "$x", "", 'q"', "ok_key", "ünï"]), st.text(max_size=4))
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                   st.text(max_size=5))
metadata_values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(keys, inner, max_size=3)), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, metadata_values, max_size=5))
def test_metadata_key_walk_agrees_with_the_rules(metadata: dict[str, Any]) -> None:
    if _key_rule_broken(metadata):
        with pytest.raises(InvalidInputError, match="metadata key"):
            V.check_metadata(metadata)
    else:
        assert V.check_metadata(metadata) == metadata


# -- metadata: the pydantic-measured fast path against json's exact count ---------------------------

def _verdict(metadata: Any, *, exact: bool) -> Any:
    with mock.patch.object(V, "_plain_json", lambda _: None) if exact else nullcontext():  # exact: json measures
        try:
            return ("ok", V.check_metadata(metadata, index=3, vid="v"))
        except InvalidInputError as err:
            return ("error", str(err), err.field, err.limit, err.item)


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                       st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
                       st.sampled_from(["\ud800", "é" * 3000, "x" * 9800, "\x00\x7f\u2028"]))
_json_tree = st.recursive(_json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner),
    st.dictionaries(st.sampled_from(["a", "b", "c.d", "", "$x", 'q"', "text"]), inner, max_size=4)), max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "text", "bad.key"]), _json_tree, max_size=5))
def test_metadata_fast_path_gives_the_exact_verdict(metadata: dict[str, Any]) -> None:
    assert _verdict(metadata, exact=False) == _verdict(metadata, exact=True)


@pytest.mark.parametrize("metadata", [
    {"text": "x" * (V.MAX_METADATA_BYTES - 11)},  # exactly at the limit with {"text":"..."}
    {"text": "x" * (V.MAX_METADATA_BYTES - 10)},  # one byte over
    {"n": 1e-7, "text": "x" * (V.MAX_METADATA_BYTES - 20)},  # json writes 1e-07: one byte over, pydantic at the limit
    {"when": Decimal("1.5")}, {"f": Fraction(1, 3)}, {"t": {1, 2}},  # not plain JSON: json decides
    {"nan": math.nan}, {"deep": [{"inf": -math.inf}]}, {"s": "\udfff"}, {1: "int key"},
])
def test_metadata_fast_path_edges(metadata: dict[Any, Any]) -> None:
    assert _verdict(metadata, exact=False) == _verdict(metadata, exact=True)


def test_plain_metadata_far_below_the_limit_takes_the_fast_path() -> None:
    """The fast path is really used (else the tests above compare the exact path with itself)."""
    with mock.patch.object(V, "compact_json", side_effect=AssertionError("json was used")):
        assert V.check_metadata({"a": [1, 2.5, None, True], "b": {"c": "é"}}) == {"a": [1, 2.5, None, True],
                                                                                   "b": {"c": "é"}}


def test_ndjson_lines_by_orjson_or_pydantic_hold_the_same_values() -> None:
    """The write body encoder (orjson when installed, pydantic-core otherwise, and pydantic-core for
    what orjson refuses) gives one newline-terminated JSON object per vector with the same content."""
    import json

    from cf_core.vectorize import vectors as vz

    objs: list[dict[str, Any]] = [{"id": "a", "values": [0.1, -2.5e-7, 3.0], "metadata": {"t": "é\u2028", "n": 1}},
                                  {"id": "b", "values": [1.0], "metadata": {"big": 10**30}}]  # orjson refuses
    fast = vz.encode_wire_ndjson(objs)
    with mock.patch.object(vz, "_fast_dumps", None):
        slow = vz.encode_wire_ndjson(objs)
    assert fast.endswith(b"\n") and fast.count(b"\n") == 2 and slow.count(b"\n") == 2
    assert [json.loads(line) for line in fast.splitlines()] == [json.loads(line) for line in slow.splitlines()] == objs
