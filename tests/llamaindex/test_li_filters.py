"""MetadataFilters -> Vectorize filter translation, refusals, and the local evaluator."""

from __future__ import annotations

import pytest
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from cf_core.errors import InvalidInputError
from cf_core.vectorize import validate_filter
from cf_llamaindex._filters import NoMatch, matches, to_vectorize_filter


def F(key: str, value: object, op: FilterOperator = FilterOperator.EQ) -> MetadataFilter:
    return MetadataFilter(key=key, value=value, operator=op)  # type: ignore[arg-type]


@pytest.mark.parametrize(("op", "value", "expected"), [
    (FilterOperator.EQ, "sci-fi", {"$eq": "sci-fi"}),
    (FilterOperator.NE, "sci-fi", {"$ne": "sci-fi"}),
    (FilterOperator.GT, 3, {"$gt": 3}),
    (FilterOperator.GTE, 3.5, {"$gte": 3.5}),
    (FilterOperator.LT, 3, {"$lt": 3}),
    (FilterOperator.LTE, 3, {"$lte": 3}),
    (FilterOperator.IN, ["a", "b"], {"$in": ["a", "b"]}),
    (FilterOperator.NIN, [1, 2], {"$nin": [1, 2]}),
])
def test_each_supported_operator(op: FilterOperator, value: object, expected: dict[str, object]) -> None:
    flt = to_vectorize_filter(MetadataFilters(filters=[F("k", value, op)]))
    assert flt == {"k": expected}
    assert validate_filter(flt) is not None  # the core accepts what we produce


def test_and_merges_keys_and_ranges_and_doc_ids() -> None:
    filters = MetadataFilters(filters=[F("genre", "sci-fi"), F("year", 1990, FilterOperator.GTE),
                                       F("year", 2000, FilterOperator.LT)])
    assert to_vectorize_filter(filters, doc_ids=["d1", "d2"]) == {
        "genre": {"$eq": "sci-fi"}, "year": {"$gte": 1990, "$lt": 2000}, "ref_doc_id": {"$in": ["d1", "d2"]}}


def test_nested_and_groups_flatten_and_doc_id_aliases() -> None:
    nested = MetadataFilters(filters=[F("a", 1), MetadataFilters(filters=[F("doc_id", "x")])])
    assert to_vectorize_filter(nested) == {"a": {"$eq": 1}, "ref_doc_id": {"$eq": "x"}}
    assert to_vectorize_filter(MetadataFilters(filters=[F("document_id", "y")])) == {"ref_doc_id": {"$eq": "y"}}


def test_single_filter_under_or_is_fine() -> None:
    only = MetadataFilters(filters=[F("a", 1)], condition=FilterCondition.OR)
    assert to_vectorize_filter(only) == {"a": {"$eq": 1}}


def test_empty_is_no_filter() -> None:
    assert to_vectorize_filter(None) is None
    assert to_vectorize_filter(MetadataFilters(filters=[])) is None


@pytest.mark.parametrize("op", [FilterOperator.CONTAINS, FilterOperator.TEXT_MATCH, FilterOperator.ANY,
                                FilterOperator.ALL, FilterOperator.TEXT_MATCH_INSENSITIVE, FilterOperator.IS_EMPTY])
def test_unsupported_operators_are_named(op: FilterOperator) -> None:
    value: object = ["x"] if op in (FilterOperator.ANY, FilterOperator.ALL) else "x"
    with pytest.raises(InvalidInputError) as err:
        to_vectorize_filter(MetadataFilters(filters=[F("tags", value, op)]))
    assert op.name in str(err.value) and "'tags'" in str(err.value)
    assert err.value.field == "filters" and err.value.item == op.value


def test_or_and_not_conditions_are_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"OR condition.*'a', 'b'"):
        to_vectorize_filter(MetadataFilters(filters=[F("a", 1), F("b", 2)], condition=FilterCondition.OR))
    with pytest.raises(InvalidInputError, match="NOT condition"):
        to_vectorize_filter(MetadataFilters(filters=[F("a", 1)], condition=FilterCondition.NOT))
    inner_or = MetadataFilters(filters=[F("a", 1), F("b", 2)], condition=FilterCondition.OR)
    with pytest.raises(InvalidInputError, match="OR"):
        to_vectorize_filter(MetadataFilters(filters=[F("c", 3), inner_or]))


def test_conditions_on_one_key_are_combined() -> None:
    def tr(*flts: MetadataFilter) -> object:
        return to_vectorize_filter(MetadataFilters(filters=list(flts)))

    assert tr(F("a", 1), F("a", [1, 2], FilterOperator.IN)) == {"a": {"$eq": 1}}
    assert tr(F("a", ["x", "y", "z"], FilterOperator.IN), F("a", "y", FilterOperator.NE)) == {"a": {"$in": ["x", "z"]}}
    assert tr(F("a", 1, FilterOperator.GT), F("a", 3, FilterOperator.GTE)) == {"a": {"$gte": 3}}
    assert tr(F("a", 3, FilterOperator.GTE), F("a", 3, FilterOperator.GT)) == {"a": {"$gt": 3}}
    assert tr(F("a", 9, FilterOperator.LT), F("a", 5, FilterOperator.LTE)) == {"a": {"$lte": 5}}
    assert tr(F("a", [1, 5, 9], FilterOperator.IN), F("a", 4, FilterOperator.GT)) == {"a": {"$in": [5, 9]}}
    assert tr(F("a", "x", FilterOperator.NE), F("a", "y", FilterOperator.NE)) == {"a": {"$nin": ["x", "y"]}}
    with pytest.raises(NoMatch):
        tr(F("a", 1), F("a", 2))
    with pytest.raises(NoMatch):
        tr(F("a", 5, FilterOperator.GT), F("a", 5, FilterOperator.LT))
    with pytest.raises(InvalidInputError, match="range on the same key"):
        tr(F("a", 5, FilterOperator.GT), F("a", 7, FilterOperator.NE))
    with pytest.raises(NoMatch):
        to_vectorize_filter(MetadataFilters(filters=[F("doc_id", "x")]), doc_ids=["y"])


def test_malformed_values() -> None:
    with pytest.raises(InvalidInputError, match="non-empty list"):
        to_vectorize_filter(MetadataFilters(filters=[F("a", "x", FilterOperator.IN)]))
    with pytest.raises(InvalidInputError, match="one value"):
        to_vectorize_filter(MetadataFilters(filters=[F("a", ["x"], FilterOperator.EQ)]))


def test_local_evaluator_follows_vectorize_semantics() -> None:
    meta = {"genre": "sci-fi", "year": 1995, "tags": ["a"], "nested": {"n": 2}}
    assert matches({"genre": {"$eq": "sci-fi"}, "year": {"$gte": 1990, "$lt": 2000}}, meta)
    assert not matches({"year": {"$gt": 1995}}, meta)
    assert matches({"genre": {"$in": ["x", "sci-fi"]}}, meta)
    assert matches({"genre": {"$nin": ["x"]}}, meta)
    assert matches({"nested.n": {"$eq": 2}}, meta)
    # an absent or non-scalar value matches no operator, not even $ne / $nin (as in Vectorize)
    assert not matches({"missing": {"$ne": "x"}}, meta)
    assert not matches({"tags": {"$nin": ["b"]}}, meta)
    assert not matches({"year": {"$eq": "1995"}}, meta)  # no type coercion
    assert not matches({"genre": {"$gt": 3}}, meta)
    assert matches(None, meta)
