"""Every Vectorize operation over the wire against the in-process emulator, with the sync and the async client."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from cf_core.errors import BadRequestError, ConflictError, InvalidInputError, NotFoundError
from cf_core.local import local_client
from cf_core.vectorize import IndexInfo, Vector, higher_is_better, relevance_from_score

Dual = Any  # tests/core/conftest.py's Dual: a sync or async client, every method awaited


def unit(values: list[float]) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


async def make_index(dual: Dual, name: str = "idx", dims: int = 3, metric: str = "cosine") -> IndexInfo:
    info: IndexInfo = await dual.vectorize.create_index(name, dimensions=dims, metric=metric)
    return info


# -- indexes ----------------------------------------------------------------------------------


async def test_index_lifecycle(dual: Dual) -> None:
    created = await dual.vectorize.create_index("docs", dimensions=8, metric="euclidean", description="my docs")
    assert (created.name, created.dimensions, created.metric, created.description) == ("docs", 8, "euclidean",
                                                                                        "my docs")
    assert created.created_on is not None
    preset = await dual.vectorize.create_index("bge", preset="@cf/baai/bge-small-en-v1.5")
    assert (preset.dimensions, preset.metric) == (384, "cosine")
    assert await dual.vectorize.get_index("docs") == created
    assert sorted(i.name for i in await dual.vectorize.list_indexes()) == ["bge", "docs"]
    stats = await dual.vectorize.index_info("docs")
    assert (stats.dimensions, stats.vector_count, stats.processed_up_to_mutation) == (8, 0, None)
    with pytest.raises(ConflictError):
        await dual.vectorize.create_index("docs", dimensions=8)
    await dual.vectorize.delete_index("docs")
    with pytest.raises(NotFoundError) as err:
        await dual.vectorize.get_index("docs")
    assert err.value.code == 3000
    assert [i.name for i in await dual.vectorize.list_indexes()] == ["bge"]
    # a deleted index's name can be reused
    assert (await dual.vectorize.create_index("docs", dimensions=2)).dimensions == 2


# -- writes and reads -------------------------------------------------------------------------


async def test_upsert_query_get_delete(dual: Dual) -> None:
    await make_index(dual)
    data = [
        Vector(id="a", values=[1.0, 0.0, 0.0], metadata={"genre": "sci-fi"}, namespace="n1"),
        {"id": "b", "values": [0.0, 1.0, 0.0], "metadata": {"genre": "drama"}},
        {"id": "c", "values": [0.7, 0.7, 0.0]},
    ]
    result = await dual.vectorize.upsert("idx", data, wait=True)
    assert result.ids == ["a", "b", "c"] and len(result.mutation_ids) == 1
    assert (await dual.vectorize.index_info("idx")).vector_count == 3

    found = await dual.vectorize.query("idx", [1.0, 0.1, 0.0], top_k=2, return_metadata="all", return_values=True)
    assert found.count == 2 and [m.id for m in found.matches] == ["a", "c"]
    assert found.matches[0].metadata == {"genre": "sci-fi"} and found.matches[0].namespace == "n1"
    assert found.matches[0].values == pytest.approx([1.0, 0.0, 0.0])
    plain = await dual.vectorize.query("idx", [1.0, 0.1, 0.0], top_k=3)
    assert all(m.values is None and not m.metadata for m in plain.matches)

    by_id = await dual.vectorize.query("idx", vector_id="b", top_k=1)
    assert by_id.matches[0].id == "b" and by_id.matches[0].score == pytest.approx(1.0)
    in_ns = await dual.vectorize.query("idx", [0.0, 1.0, 0.0], namespace="n1", top_k=5)
    assert [m.id for m in in_ns.matches] == ["a"]

    got = await dual.vectorize.get_by_ids("idx", ["c", "missing", "a"])
    assert [v.id for v in got] == ["c", "a"]
    assert got[1].metadata == {"genre": "sci-fi"} and got[1].namespace == "n1"
    assert got[0].values == pytest.approx([0.7, 0.7, 0.0])

    deleted = await dual.vectorize.delete_by_ids("idx", ["a", "nope"], wait=True)
    assert deleted.ids == ["a", "nope"] and len(deleted.mutation_ids) == 1
    assert [v.id for v in await dual.vectorize.get_by_ids("idx", ["a", "b"])] == ["b"]
    assert (await dual.vectorize.index_info("idx")).vector_count == 2


async def test_insert_keeps_upsert_replaces(dual: Dual) -> None:
    await make_index(dual)
    first = {"id": "x", "values": [1.0, 0.0, 0.0], "metadata": {"v": 1}, "namespace": "ns"}
    await dual.vectorize.insert("idx", [first], wait=True)
    await dual.vectorize.insert("idx", [{"id": "x", "values": [0.0, 1.0, 0.0], "metadata": {"v": 2}}], wait=True)
    kept = (await dual.vectorize.get_by_ids("idx", ["x"]))[0]
    assert kept.values == pytest.approx([1.0, 0.0, 0.0]) and kept.metadata == {"v": 1} and kept.namespace == "ns"
    await dual.vectorize.upsert("idx", [{"id": "x", "values": [0.0, 0.0, 1.0], "metadata": {"w": 3}}], wait=True)
    replaced = (await dual.vectorize.get_by_ids("idx", ["x"]))[0]
    # the whole vector is replaced: no merged metadata, and the namespace is gone
    assert replaced.values == pytest.approx([0.0, 0.0, 1.0]) and replaced.metadata == {"w": 3}
    assert replaced.namespace is None
    assert (await dual.vectorize.index_info("idx")).vector_count == 1


async def test_batches_and_concurrency(dual: Dual) -> None:
    await make_index(dual, dims=4)
    data = [{"id": f"v{i:04d}", "values": [float(i), 1.0, 0.5, -1.0]} for i in range(23)]
    before = dual.sent
    result = await dual.vectorize.upsert("idx", data, batch_size=5, concurrency=3, wait=True)
    assert result.ids == [d["id"] for d in data] and len(result.mutation_ids) == 5
    assert dual.sent - before >= 6  # 5 batches + at least one info poll
    assert (await dual.vectorize.index_info("idx")).vector_count == 23


async def test_list_and_all_vector_ids_follow_cursors(dual: Dual) -> None:
    await make_index(dual, dims=2)
    ids = [f"id-{i:03d}" for i in range(25)]
    await dual.vectorize.upsert("idx", [{"id": i, "values": [1.0, 2.0]} for i in ids], wait=True)
    first = await dual.vectorize.list_vector_ids("idx", count=10)
    assert first.count == 10 and first.total_count == 25 and first.is_truncated and first.next_cursor
    second = await dual.vectorize.list_vector_ids("idx", count=10, cursor=first.next_cursor)
    assert set(first.ids).isdisjoint(second.ids)
    before = dual.sent
    assert sorted(await dual.vectorize.all_vector_ids("idx", page_size=10)) == ids
    assert dual.sent - before == 3
    assert sorted(await dual.vectorize.all_vector_ids("idx")) == ids


async def test_metadata_indexes(dual: Dual) -> None:
    await make_index(dual)
    mid = await dual.vectorize.create_metadata_index("idx", "genre", "string", wait=True)
    assert isinstance(mid, str) and mid
    await dual.vectorize.create_metadata_index("idx", "year", "number", wait=True)
    listed = await dual.vectorize.list_metadata_indexes("idx")
    assert {(m.property_name, m.index_type) for m in listed} == {("genre", "string"), ("year", "number")}
    await dual.vectorize.delete_metadata_index("idx", "year", wait=True)
    assert [m.property_name for m in await dual.vectorize.list_metadata_indexes("idx")] == ["genre"]


FILTER_DATA = [
    ("a", {"genre": "drama", "year": 1990, "hot": True}),
    ("b", {"genre": "sci-fi", "year": 1999, "hot": False}),
    ("c", {"genre": "fantasy", "year": 2005, "hot": True}),
    ("d", {"genre": "sci-fi", "year": 2010}),
]


@pytest.mark.parametrize("flt,expected", [
    ({"genre": "sci-fi"}, {"b", "d"}),
    ({"genre": {"$eq": "drama"}}, {"a"}),
    ({"genre": {"$ne": "sci-fi"}}, {"a", "c"}),
    ({"genre": {"$in": ["drama", "fantasy"]}}, {"a", "c"}),
    ({"genre": {"$nin": ["drama", "fantasy"]}}, {"b", "d"}),
    ({"year": {"$lt": 1999}}, {"a"}),
    ({"year": {"$lte": 1999}}, {"a", "b"}),
    ({"year": {"$gt": 2005}}, {"d"}),
    ({"year": {"$gte": 2005}}, {"c", "d"}),
    ({"year": {"$gte": 1995, "$lt": 2010}}, {"b", "c"}),
    ({"genre": {"$gte": "s", "$lt": "t"}}, {"b", "d"}),
    ({"hot": True, "year": {"$gt": 1995}}, {"c"}),
])
async def test_each_filter_operator_goes_through(dual: Dual, flt: dict[str, Any], expected: set[str]) -> None:
    await make_index(dual)
    for prop, kind in (("genre", "string"), ("year", "number"), ("hot", "boolean")):
        await dual.vectorize.create_metadata_index("idx", prop, kind, wait=True)
    rng = random.Random(7)
    await dual.vectorize.upsert("idx", [{"id": i, "values": [rng.random() + 0.1 for _ in range(3)], "metadata": m}
                                        for i, m in FILTER_DATA], wait=True)
    found = await dual.vectorize.query("idx", [0.3, 0.3, 0.3], top_k=10, filter=flt)
    assert {m.id for m in found.matches} == expected


# -- scores of all three metrics --------------------------------------------------------------


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
async def test_score_helpers_match_real_results(dual: Dual, metric: str) -> None:
    await make_index(dual, name=f"m-{metric}", dims=4, metric=metric)
    rng = random.Random(3)
    stored = {f"v{i}": unit([rng.uniform(-1, 1) for _ in range(4)]) for i in range(12)}
    await dual.vectorize.upsert(f"m-{metric}", [{"id": k, "values": v} for k, v in stored.items()], wait=True)
    query = stored["v5"]
    found = await dual.vectorize.query(f"m-{metric}", query, top_k=12)
    scores = [m.score for m in found.matches]
    assert found.matches[0].id == "v5"  # the vector itself ranks first under every metric
    assert scores == sorted(scores, reverse=higher_is_better(metric))
    relevances = [relevance_from_score(metric, s) for s in scores]
    assert relevances == sorted(relevances, reverse=True) and all(0.0 <= r <= 1.0 for r in relevances)
    assert relevances[0] == pytest.approx(1.0, abs=1e-5)
    dots = {k: sum(a * b for a, b in zip(v, query, strict=True)) for k, v in stored.items()}
    for m in found.matches:  # the documented meaning of each score
        expected = {"cosine": dots[m.id], "dot-product": -dots[m.id],
                    "euclidean": math.dist(stored[m.id], query)}[metric]
        assert m.score == pytest.approx(expected, abs=1e-4)


# -- errors -----------------------------------------------------------------------------------


async def test_service_errors_are_typed(dual: Dual) -> None:
    await make_index(dual)
    with pytest.raises(BadRequestError) as err:
        await dual.vectorize.query("idx", [1.0, 2.0])
    assert err.value.code == 40006
    with pytest.raises(BadRequestError) as err:
        await dual.vectorize.upsert("idx", [{"id": "a", "values": [1.0, 2.0]}])
    assert err.value.code == 40012
    with pytest.raises(NotFoundError):
        await dual.vectorize.query("missing", [1.0, 2.0, 3.0])


@pytest.mark.parametrize("call", [
    lambda v: v.upsert("idx", [{"id": "ok", "values": [1.0, 2.0, 3.0]}, {"id": "x" * 65, "values": [1.0, 2.0, 3.0]}]),
    lambda v: v.insert("idx", [{"id": "a", "values": [1.0, 2.0, 3.0], "metadata": {"a.b": 1}}]),
    lambda v: v.upsert("idx", [{"id": "a", "values": [1.0, math.nan, 3.0]}]),
    lambda v: v.upsert("idx", [{"id": "a", "values": [1.0, 2.0]}], dimensions=3),
    lambda v: v.query("idx", [1.0, 2.0, 3.0], top_k=51, return_values=True),
    lambda v: v.query("idx", [1.0, 2.0, 3.0], filter={"genre": {"$regex": "x"}}),
    lambda v: v.query("idx", [1.0, 2.0, 3.0], return_metadata=True),
    lambda v: v.delete_by_ids("idx", [""]),
    lambda v: v.get_by_ids("idx", ["x" * 65]),
    lambda v: v.list_vector_ids("idx", count=1001),
    lambda v: v.create_index("bad/name", dimensions=3),
    lambda v: v.wait_for_mutation("idx", ""),
])
async def test_local_validation_sends_nothing_and_changes_nothing(dual: Dual, call: Any) -> None:
    await make_index(dual)
    await dual.vectorize.upsert("idx", [{"id": "keep", "values": [0.5, 0.5, 0.5], "metadata": {"k": 1}}], wait=True)
    sent, served = dual.sent, dual.served
    with pytest.raises(InvalidInputError):
        await call(dual.vectorize)
    assert (dual.sent, dual.served) == (sent, served)
    stored = await dual.vectorize.get_by_ids("idx", ["keep", "ok", "a"])
    assert [(v.id, v.metadata) for v in stored] == [("keep", {"k": 1})]
    assert (await dual.vectorize.index_info("idx")).vector_count == 1


def test_vectorize_requests_use_the_vectorize_token(recorder: Any) -> None:
    with local_client(recorder.emulator, record=recorder.sent, vectorize_api_token="vectorize-only-token") as c:
        c.vectorize.create_index("idx", dimensions=2)
        c.vectorize.upsert("idx", [{"id": "a", "values": [1.0, 2.0]}])
    assert [s.headers["authorization"] for s in recorder.sent] == ["Bearer vectorize-only-token"] * 2
    upsert = recorder.sent[-1]
    assert upsert.url.path.endswith("/vectorize/v2/indexes/idx/upsert")
    assert upsert.headers["content-type"] == "application/x-ndjson"
    assert upsert.body == b'{"id":"a","values":[1.0,2.0]}\n'
