"""Vectorize's filter language checked locally, and the metric score helpers (pure)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cf_core.errors import InvalidInputError
from cf_core.vectorize import higher_is_better, is_better, relevance_from_score, validate_filter
from cf_core.vectorize.filters import MAX_FILTER_BYTES, OPERATORS
from cf_core.vectorize.scores import best_first

# -- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [
    {"$eq": "a"}, {"$eq": None}, {"$ne": True}, {"$ne": 3}, {"$in": ["a", 1, None, False]}, {"$nin": []},
    {"$lt": 5}, {"$lte": "m"}, {"$gt": 1.5}, {"$gte": "net"}, {"$gte": 1, "$lt": 2}, {"$gt": "a", "$lte": "b"},
])
def test_valid_operator_objects(spec: dict[str, Any]) -> None:
    assert validate_filter({"k": spec}) == {"k": spec}


def test_eight_operators() -> None:
    assert set(OPERATORS) == {"$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte"}


def test_bare_values_and_dotted_keys() -> None:
    f = {"genre": "sci-fi", "pandas.nice": 42, "flag": False, "none": None}
    assert validate_filter(f) == f


def test_sets_are_normalised_to_lists() -> None:
    assert validate_filter({"k": {"$in": ("a", "b")}}) == {"k": {"$in": ["a", "b"]}}


@pytest.mark.parametrize("spec,needle", [
    ({"$in": "a"}, "takes a list"),
    ({"$in": [["a"]]}, "takes a list"),
    ({"$eq": ["a"]}, "takes a string"),
    ({"$eq": math.nan}, "finite"),
    ({"$gt": True}, "string or a finite number"),
    ({"$lt": None}, "string or a finite number"),
    ({"$gt": 1, "$gte": 2}, "cannot be combined"),
    ({"$lt": 1, "$lte": 2}, "cannot be combined"),
    ({"$eq": 1, "$gt": 0}, "cannot be combined"),
    ({"$gt": 1, "$lt": 5, "$ne": 3}, "cannot be combined"),
    ({"$gte": "a", "$lt": 5}, "strings with strings"),
    ({"$regex": "a"}, "unknown operator"),
    ({}, "operator object is empty"),
])
def test_invalid_operator_objects(spec: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        validate_filter({"year": spec})
    assert needle in str(err.value) and err.value.field == "filter" and err.value.item == "year"


@pytest.mark.parametrize("key,needle", [
    ("", "must not be empty"), ('a"b', "must not contain"), ("$and", "must not start with '$'"),
    ("k" * 513, "the limit is 512"),
])
def test_key_rules(key: str, needle: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        validate_filter({key: 1})
    assert needle in str(err.value)


def test_key_at_512_chars_is_fine() -> None:
    assert validate_filter({"k" * 512: 1})


@pytest.mark.parametrize("bad", [{}, None, [("a", 1)], "a"])
def test_filter_must_be_non_empty_object(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="non-empty object"):
        validate_filter(bad)


def test_bare_value_must_be_scalar() -> None:
    with pytest.raises(InvalidInputError, match="bare value means"):
        validate_filter({"tags": ["a"]})


def test_size_limit_is_strictly_below_2048_bytes() -> None:
    overhead = len('{"k":""}')
    assert validate_filter({"k": "x" * (MAX_FILTER_BYTES - 1 - overhead)})
    with pytest.raises(InvalidInputError) as err:
        validate_filter({"k": "x" * (MAX_FILTER_BYTES - overhead)})
    assert err.value.limit == MAX_FILTER_BYTES and "2048 bytes" in str(err.value)


def test_size_counts_utf8_bytes() -> None:
    overhead = len('{"k":""}')
    with pytest.raises(InvalidInputError):
        validate_filter({"k": "é" * ((MAX_FILTER_BYTES - overhead) // 2)})


# -- scores -----------------------------------------------------------------------------------


def test_direction_per_metric() -> None:
    assert higher_is_better("cosine") is True
    assert higher_is_better("euclidean") is False
    assert higher_is_better("dot-product") is False
    assert is_better("cosine", 0.9, 0.1) and not is_better("cosine", 0.1, 0.9)
    assert is_better("euclidean", 0.1, 0.9)
    assert is_better("dot-product", -1000, -500) and is_better("dot-product", 15, 50)
    assert best_first("dot-product", [50, -1000, 15, -500]) == [-1000, -500, 15, 50]


def test_unknown_metric() -> None:
    with pytest.raises(InvalidInputError, match="unknown Vectorize metric"):
        higher_is_better("manhattan")


@pytest.mark.parametrize("metric,scores", [
    ("cosine", [1.0, 0.7, 0.0, -0.3, -1.0]),
    ("euclidean", [0.0, 0.2, 1.0, 5.0, 100.0]),
    ("dot-product", [-1.0, -0.6, 0.0, 0.4, 1.0]),
])
def test_relevance_is_in_unit_range_and_follows_the_ranking(metric: str, scores: list[float]) -> None:
    rel = [relevance_from_score(metric, s) for s in scores]
    assert all(0.0 <= r <= 1.0 for r in rel)
    assert rel == sorted(rel, reverse=True)  # scores are listed best first
    assert rel[0] == 1.0 and len(set(rel)) == len(rel)


def test_relevance_anchors() -> None:
    assert relevance_from_score("cosine", 0.0) == 0.5
    assert relevance_from_score("cosine", -1.0) == 0.0
    assert relevance_from_score("euclidean", 1.0) == 0.5
    # for unit vectors the negative dot product is minus the cosine: same relevance
    for cos in (0.9, 0.2, -0.4):
        assert relevance_from_score("dot-product", -cos) == pytest.approx(relevance_from_score("cosine", cos))
    assert relevance_from_score("dot-product", -25.0) == 1.0 and relevance_from_score("dot-product", 25.0) == 0.0


def test_relevance_rejects_non_finite() -> None:
    with pytest.raises(InvalidInputError):
        relevance_from_score("cosine", math.nan)
