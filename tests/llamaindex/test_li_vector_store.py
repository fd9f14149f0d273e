"""CloudflareVectorizeVectorStore on the emulator.

The first part ports the cases of llama-index-core's SimpleVectorStore tests (three 2-d nodes with
weight/rank metadata): same expected ids wherever Vectorize can express the query; where it cannot
(OR, NOT, CONTAINS, TEXT_MATCH, ANY, ALL, IS_EMPTY, filters on unindexed keys) the store must refuse
with an error naming the operator instead of answering something else.
"""

from __future__ import annotations

from typing import Any

import pytest
from li_support import Wire
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.errors import InvalidInputError
from cf_core.local import Emulator
from cf_llamaindex import CloudflareVectorizeVectorStore

W1_A = "AF3BE6C4-5F43-4D74-B075-6B0E07900DE8"
W2_C = "7D9CD555-846C-445C-A9DD-F8924A01411D"
W3_C = "452D24AB-F185-414C-A352-590B4B9EE51B"
INDEXES: dict[str, Any] = {"weight": "number", "rank": "string", "identifier": "string"}


def _nodes() -> list[TextNode]:
    rows = [(W1_A, [1.0, 0.0], 1.0, "a", ["medium", "high"], "6FTR78Yun", "test-0"),
            (W2_C, [0.0, 1.0], 2.0, "c", ["medium"], "6FTR78Ygl", "test-1"),
            (W3_C, [1.0, 1.0], 3.0, "c", ["low", "medium", "high"], "6FTR78Ztl", "test-2")]
    return [TextNode(text=f"lorem ipsum {rank}{weight}", id_=nid, embedding=emb,
                     relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc)},
                     metadata={"weight": weight, "rank": rank, "quality": quality, "identifier": ident})
            for nid, emb, weight, rank, quality, ident, doc in rows]


def _store(client: CloudflareClient, aclient: AsyncCloudflareClient | None = None, *, name: str = "simple",
           dimensions: int = 2, metric: str = "cosine", **kwargs: Any) -> CloudflareVectorizeVectorStore:
    store = CloudflareVectorizeVectorStore(index_name=name, client=client, async_client=aclient, **kwargs)
    store.create_index(dimensions=dimensions, metric=metric, metadata_indexes=INDEXES)
    return store


@pytest.fixture
def store(client: CloudflareClient, aclient: AsyncCloudflareClient) -> CloudflareVectorizeVectorStore:
    s = _store(client, aclient)
    assert s.add(_nodes()) == [W1_A, W2_C, W3_C]
    return s


def _q(filters: list[MetadataFilter] | None = None, top_k: int = 3, condition: FilterCondition = FilterCondition.AND,
       **kwargs: Any) -> VectorStoreQuery:
    return VectorStoreQuery(query_embedding=[1.0, 1.0], similarity_top_k=top_k,
                            filters=MetadataFilters(filters=filters, condition=condition) if filters else None,
                            **kwargs)


def F(key: str, value: Any, op: FilterOperator = FilterOperator.EQ) -> MetadataFilter:
    return MetadataFilter(key=key, value=value, operator=op)


# -- SimpleVectorStore's cases ------------------------------------------------------------------


def test_query_without_filters_returns_all_rows_sorted_by_similarity(store: CloudflareVectorizeVectorStore) -> None:
    result = store.query(_q())
    assert sorted(result.ids or []) == sorted([W1_A, W2_C, W3_C])
    assert result.ids and result.ids[0] == W3_C
    assert result.similarities and result.similarities[0] == pytest.approx(1.0, abs=1e-5)
    assert result.similarities == sorted(result.similarities, reverse=True)


def test_query_with_filters_returns_multiple_matches(store: CloudflareVectorizeVectorStore) -> None:
    assert store.query(_q([F("rank", "c")])).ids == [W3_C, W2_C]


def test_query_with_filter_applies_top_k(store: CloudflareVectorizeVectorStore) -> None:
    assert store.query(_q([F("rank", "c")], top_k=1)).ids == [W3_C]


def test_query_with_filter_applies_node_id_filter(store: CloudflareVectorizeVectorStore) -> None:
    assert store.query(_q([F("rank", "c")], node_ids=[W3_C])).ids == [W3_C]
    assert store.query(_q([F("rank", "a")], node_ids=[W3_C, W2_C])).ids == []
    ranked = store.query(_q(node_ids=[W1_A, W3_C]))
    assert ranked.ids == [W3_C, W1_A]
    assert ranked.similarities == pytest.approx([1.0, 0.70710678], abs=1e-5)


def test_query_with_exact_filters_returns_single_match(store: CloudflareVectorizeVectorStore) -> None:
    assert store.query(_q([F("rank", "c"), F("weight", 2.0)])).ids == [W2_C]


def test_query_with_contradictive_filter_returns_no_matches(store: CloudflareVectorizeVectorStore,
                                                            wire: Wire) -> None:
    before = len(wire)
    assert store.query(_q([F("weight", 2), F("weight", 3)])).ids == []
    assert len(wire) == before  # known to be empty: nothing sent


def test_query_with_filter_on_unknown_field(store: CloudflareVectorizeVectorStore,
                                            client: CloudflareClient) -> None:
    with pytest.raises(InvalidInputError, match=r"'unknown_field'.*create_metadata_indexes") as err:
        store.query(_q([F("unknown_field", "c")]))
    assert err.value.field == "filters"
    lenient = CloudflareVectorizeVectorStore(index_name="simple", client=client, check_metadata_indexes=False)
    assert lenient.query(_q([F("unknown_field", "c")])).ids == []  # what Vectorize itself answers


def test_delete_removes_document_from_query_results(store: CloudflareVectorizeVectorStore) -> None:
    store.delete("test-1")
    assert store.query(_q(top_k=2)).ids == [W3_C, W1_A]
    assert store.query(_q()).ids == [W3_C, W1_A]


@pytest.mark.parametrize(("condition", "what"), [(FilterCondition.OR, "OR condition"),
                                                 (FilterCondition.NOT, "NOT condition")])
def test_or_and_not_are_refused(store: CloudflareVectorizeVectorStore, condition: FilterCondition, what: str) -> None:
    with pytest.raises(InvalidInputError, match=what):
        store.query(_q([F("rank", "c"), F("weight", 1.0)], condition=condition))


def test_and_condition(store: CloudflareVectorizeVectorStore) -> None:
    assert store.query(_q([F("rank", "c"), F("weight", 1.0)])).ids == []


@pytest.mark.parametrize(("flt", "expected"), [
    (F("weight", 1.0), [W1_A]),
    (F("weight", 1.0, FilterOperator.NE), [W3_C, W2_C]),
    (F("weight", 1.5, FilterOperator.GT), [W3_C, W2_C]),
    (F("weight", 1.0, FilterOperator.GTE), [W3_C, W1_A, W2_C]),
    (F("weight", 1.1, FilterOperator.LT), [W1_A]),
    (F("weight", 1.0, FilterOperator.LTE), [W1_A]),
    (F("rank", ["a", "c"], FilterOperator.IN), [W3_C, W1_A, W2_C]),
    (F("rank", ["c"], FilterOperator.NIN), [W1_A]),
])
def test_supported_operators(store: CloudflareVectorizeVectorStore, flt: MetadataFilter,
                             expected: list[str]) -> None:
    ids = store.query(_q([flt])).ids or []
    assert sorted(ids) == sorted(expected)
    assert ids[0] == expected[0]


@pytest.mark.parametrize(("flt", "name"), [
    (F("quality", "high", FilterOperator.CONTAINS), "CONTAINS"),
    (F("identifier", "6FTR78Y", FilterOperator.TEXT_MATCH), "TEXT_MATCH"),
    (F("quality", ["high", "low"], FilterOperator.ANY), "ANY"),
    (F("quality", ["medium", "high"], FilterOperator.ALL), "ALL"),
    (F("not_existed_key", None, FilterOperator.IS_EMPTY), "IS_EMPTY"),
])
def test_unsupported_operators_are_refused_by_name(store: CloudflareVectorizeVectorStore, flt: MetadataFilter,
                                                   name: str, wire: Wire) -> None:
    before = len(wire)
    with pytest.raises(InvalidInputError, match=f"the {name} operator"):
        store.query(_q([flt]))
    assert len(wire) == before


def test_clear(store: CloudflareVectorizeVectorStore) -> None:
    store.clear()
    assert store.query(_q()).ids == []


def test_delete_nodes(store: CloudflareVectorizeVectorStore) -> None:
    store.delete_nodes([W1_A, W2_C])
    assert store.query(_q()).ids == [W3_C]


# -- beyond SimpleVectorStore: the rest of the contract ------------------------------------------


def test_delete_nodes_with_ids_and_filters_needs_both(store: CloudflareVectorizeVectorStore) -> None:
    store.delete_nodes([W1_A, W2_C], filters=MetadataFilters(filters=[F("rank", "c")]))
    assert sorted(store.query(_q()).ids or []) == sorted([W1_A, W3_C])
    store.delete_nodes(filters=MetadataFilters(filters=[F("weight", 2.0, FilterOperator.GTE)]))
    assert store.query(_q()).ids == [W1_A]
    with pytest.raises(ValueError, match="clear"):
        store.delete_nodes()


def test_get_nodes_round_trips_nodes(store: CloudflareVectorizeVectorStore) -> None:
    nodes = store.get_nodes([W3_C, W1_A, "no-such-id"])
    assert [n.node_id for n in nodes] == [W3_C, W1_A]
    original = {n.node_id: n for n in _nodes()}
    for node in nodes:
        assert node.get_content() == original[node.node_id].get_content()
        assert node.metadata == original[node.node_id].metadata
        assert node.ref_doc_id == original[node.node_id].ref_doc_id
        assert node.embedding == original[node.node_id].embedding
    by_filter = store.get_nodes(filters=MetadataFilters(filters=[F("rank", "c")]))
    assert sorted(n.node_id for n in by_filter) == sorted([W2_C, W3_C])
    assert sorted(n.node_id for n in store.get_nodes()) == sorted([W1_A, W2_C, W3_C])
    assert [n.node_id for n in store.get_nodes([W1_A, W2_C], MetadataFilters(filters=[F("rank", "c")]))] == [W2_C]


def test_query_returns_nodes_with_text(store: CloudflareVectorizeVectorStore) -> None:
    result = store.query(_q(top_k=1))
    assert result.nodes and result.nodes[0].get_content() == "lorem ipsum c3.0"
    assert result.nodes[0].metadata["rank"] == "c"


def test_doc_ids_query_parameter(store: CloudflareVectorizeVectorStore) -> None:
    assert store.query(_q(doc_ids=["test-0", "test-2"])).ids == [W3_C, W1_A]
    assert store.query(_q([F("doc_id", "test-1")])).ids == [W2_C]  # the alias LlamaIndex users write
    assert store.query(_q([F("rank", "c")], doc_ids=["test-0"])).ids == []


def test_more_results_than_one_metadata_query_allows(client: CloudflareClient, wire: Wire) -> None:
    store = _store(client, name="wide", max_top_k_with_metadata=20)
    nodes = [TextNode(text=f"node {i}", id_=f"n{i}", embedding=[1.0, i / 30]) for i in range(30)]
    store.add(nodes)
    wire.clear()
    result = store.query(VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=25))
    assert result.ids == [f"n{i}" for i in range(25)]
    assert [n.get_content() for n in result.nodes or []] == [f"node {i}" for i in range(25)]
    query = wire.to("/query")[0].json()
    assert (query["topK"], query["returnMetadata"]) == (25, "none")
    assert wire.to("/get_by_ids")
    with pytest.raises(InvalidInputError, match="similarity_top_k"):
        store.query(VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=101))


def test_mmr_prefers_diverse_results(client: CloudflareClient, wire: Wire) -> None:
    store = _store(client, name="mmr")
    store.add([TextNode(text="a", id_="a", embedding=[1.0, 0.0]),
               TextNode(text="a2", id_="a2", embedding=[0.99, 0.05]),
               TextNode(text="b", id_="b", embedding=[0.5, 0.85])])
    query = VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=2)
    assert store.query(query).ids == ["a", "a2"]
    mmr = VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=2, mode=VectorStoreQueryMode.MMR)
    assert store.query(mmr, mmr_threshold=0.3).ids == ["a", "b"]
    assert wire.to("/query")[-1].json()["returnValues"] is True
    assert store.query(mmr, mmr_threshold=1.0).ids == ["a", "a2"]  # threshold 1 = pure relevance
    with pytest.raises(ValueError, match="svm"):
        store.query(VectorStoreQuery(query_embedding=[1.0, 0.0], mode=VectorStoreQueryMode.SVM))


@pytest.mark.parametrize("metric", ["euclidean", "dot-product"])
def test_similarities_are_higher_is_better_for_every_metric(client: CloudflareClient, metric: str) -> None:
    store = _store(client, name=f"m-{metric}", metric=metric)
    store.add(_nodes())
    result = store.query(VectorStoreQuery(query_embedding=[0.2, 1.0], similarity_top_k=3))
    expected = [W3_C, W2_C, W1_A] if metric == "dot-product" else [W2_C, W3_C, W1_A]
    assert result.ids == expected
    assert result.similarities == sorted(result.similarities or [], reverse=True)
    # ranking by ids (computed locally) uses the same similarity scale as Vectorize's own ranking
    by_ids = store.query(VectorStoreQuery(query_embedding=[0.2, 1.0], similarity_top_k=3,
                                          node_ids=[W1_A, W2_C, W3_C]))
    assert by_ids.ids == result.ids
    assert by_ids.similarities == pytest.approx(result.similarities, abs=1e-4)


def test_namespaces_isolate_writes_queries_and_clear(client: CloudflareClient) -> None:
    a = _store(client, name="ns", namespace="tenant-a")
    b = CloudflareVectorizeVectorStore(index_name="ns", client=client, namespace="tenant-b")
    a.add(_nodes()[:2])
    b.add(_nodes()[2:])
    assert sorted(a.query(_q()).ids or []) == sorted([W1_A, W2_C])
    assert b.query(_q()).ids == [W3_C]
    assert [n.node_id for n in b.get_nodes([W1_A, W3_C])] == [W3_C]
    a.clear()
    assert a.query(_q()).ids == []
    assert b.query(_q()).ids == [W3_C]


def test_metadata_over_10_kib_is_refused_naming_the_node(client: CloudflareClient, wire: Wire) -> None:
    store = _store(client, name="big")
    wire.clear()
    big = TextNode(text="é" * 6000, id_="too-big", embedding=[1.0, 0.0])
    with pytest.raises(InvalidInputError) as err:
        store.add([TextNode(text="fine", id_="ok", embedding=[0.0, 1.0]), big])
    assert "'too-big'" in str(err.value) and "10240" in str(err.value)
    assert (err.value.field, err.value.limit, err.value.item) == ("metadata", 10240, "too-big")
    assert wire.to("/upsert") == []  # nothing written, not even the valid node


def test_node_id_over_64_bytes_and_missing_embedding(client: CloudflareClient) -> None:
    store = _store(client, name="ids")
    with pytest.raises(InvalidInputError, match="64 bytes"):
        store.add([TextNode(text="x", id_="x" * 65, embedding=[1.0, 0.0])])
    with pytest.raises(InvalidInputError, match="no embedding"):
        store.add([TextNode(text="x", id_="y")])


def test_delete_without_ref_doc_index_explains_what_to_do(client: CloudflareClient) -> None:
    client.vectorize.create_index("bare", dimensions=2)
    store = CloudflareVectorizeVectorStore(index_name="bare", client=client)
    store.add(_nodes())
    with pytest.raises(InvalidInputError, match=r"ref_doc_id.*create_metadata_indexes"):
        store.delete("test-1")
    assert store.create_metadata_indexes() == ["ref_doc_id"]
    assert store.create_metadata_indexes() == []  # idempotent
    store.add(_nodes())  # re-written so the new index covers them
    store.delete("test-1")
    assert sorted(store.query(_q()).ids or []) == sorted([W1_A, W3_C])


def test_writes_wait_until_queryable(wire: Wire) -> None:
    from cf_core.local import local_client

    slow = Emulator(mutation_delay_s=0.2)
    try:
        with local_client(slow) as c:
            store = _store(c, name="slow")
            store.add(_nodes())
            assert len(store.query(_q()).ids or []) == 3  # visible at once: add waited
            store.delete("test-0")
            assert W1_A not in (store.query(_q()).ids or [])
    finally:
        slow.close()


async def test_async_twins(client: CloudflareClient, aclient: AsyncCloudflareClient) -> None:
    store = _store(client, aclient, name="async")
    assert await store.async_add(_nodes()) == [W1_A, W2_C, W3_C]
    assert (await store.aquery(_q([F("rank", "c")]))).ids == [W3_C, W2_C]
    assert [n.node_id for n in await store.aget_nodes([W2_C])] == [W2_C]
    await store.adelete("test-1")
    assert (await store.aquery(_q())).ids == [W3_C, W1_A]
    await store.adelete_nodes([W1_A])
    assert (await store.aquery(_q())).ids == [W3_C]
    await store.aclear()
    assert (await store.aquery(_q())).ids == []
    assert await store.acreate_metadata_indexes({"rank": "string"}) == []


def test_store_serialises_without_secrets(client: CloudflareClient) -> None:
    store = CloudflareVectorizeVectorStore(index_name="x", api_token="vec-SECRET", account_id="a")
    assert store.stores_text is True
    assert "vec-SECRET" not in store.to_json() and "vec-SECRET" not in repr(store)
    assert store.to_dict()["index_name"] == "x"


def test_empty_node_ids_mean_no_restriction(store: CloudflareVectorizeVectorStore) -> None:
    """VectorStoreIndex's retriever passes node_ids=[] when the store keeps the text."""
    assert store.query(_q(node_ids=[])).ids == store.query(_q()).ids
    assert store.get_nodes([]) == []
    store.delete_nodes([])
    assert len(store.query(_q()).ids or []) == 3
