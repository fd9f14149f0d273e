"""CloudflareVectorize search semantics against the emulator: metric-aware relevance scores for all
three metrics, client-side MMR, metadata filters, namespaces and retrievers.

A table embedding (text -> fixed vector) makes the geometry known, so expected orders and scores
are computed here from the vectors, independently of the store."""

from __future__ import annotations

import math
import uuid
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from cf_core import InvalidInputError
from cf_langchain.vectorstores import CloudflareVectorize

if TYPE_CHECKING:
    from conftest import Wire


class TableEmbeddings(Embeddings):
    """Each known text maps to a fixed vector (queries too)."""

    def __init__(self, table: dict[str, Sequence[float]]) -> None:
        self.table = {k: [float(x) for x in v] for k, v in table.items()}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.table[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.table[text]


# Query q; "same" equals q, "near" is close, "far" is orthogonal, "opposite" points away.
GEOMETRY = {
    "q": [1.0, 0.0, 0.0],
    "same": [1.0, 0.0, 0.0],
    "near": [0.8, 0.6, 0.0],
    "far": [0.0, 0.0, 1.0],
    "opposite": [-1.0, 0.0, 0.0],
}


def _store(wire: Wire, embedding: Embeddings, metric: str = "cosine", **kwargs: object) -> CloudflareVectorize:
    store = CloudflareVectorize(embedding=embedding, index_name=f"s-{uuid.uuid4().hex[:10]}", client=wire.client,
                                async_client=wire.aclient, **kwargs)
    dims = len(next(iter(embedding.table.values()))) if isinstance(embedding, TableEmbeddings) else None
    store.create_index(metric=metric, dimensions=dims)  # type: ignore[arg-type]
    return store


def _expected(metric: str, doc: Sequence[float], query: Sequence[float]) -> tuple[float, float]:
    """(raw Vectorize score, relevance) computed from the vectors."""
    dot = sum(a * b for a, b in zip(doc, query, strict=True))
    if metric == "cosine":
        cos = dot / (math.hypot(*doc) * math.hypot(*query))
        return cos, (1 + cos) / 2
    if metric == "euclidean":
        dist = math.dist(doc, query)
        return dist, 1 / (1 + dist)
    return -dot, min(1.0, max(0.0, (1 + dot) / 2))


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
def test_relevance_scores_per_metric(wire: Wire, metric: str) -> None:
    store = _store(wire, TableEmbeddings(GEOMETRY), metric)
    names = ["far", "opposite", "same", "near"]
    store.add_texts(names, ids=names)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # LangChain warns when relevance leaves [0, 1]
        relevance = store.similarity_search_with_relevance_scores("q", k=4)
    assert [d.id for d, _ in relevance] == ["same", "near", "far", "opposite"]
    rel = [r for _, r in relevance]
    assert all(0.0 <= r <= 1.0 for r in rel)
    assert rel == sorted(rel, reverse=True) and rel[0] == pytest.approx(1.0) and rel[0] > rel[1] > rel[2] > rel[3]
    raw = store.similarity_search_with_score("q", k=4)
    for (doc, score), (_, r) in zip(raw, relevance, strict=True):
        want_raw, want_rel = _expected(metric, GEOMETRY[doc.id or ""], GEOMETRY["q"])
        assert score == pytest.approx(want_raw, abs=1e-5)
        assert r == pytest.approx(want_rel, abs=1e-5)
    # The metric is looked up once per store, not per search.
    assert sum(p.endswith(f"/indexes/{store.index_name}") for p in wire.paths()) <= 1


@pytest.mark.parametrize("metric", ["euclidean", "dot-product"])
def test_select_relevance_score_fn_follows_the_metric(wire: Wire, metric: str) -> None:
    store = CloudflareVectorize(embedding=TableEmbeddings(GEOMETRY), index_name=f"m-{uuid.uuid4().hex[:8]}",
                                client=wire.client)
    wire.client.vectorize.create_index(store.index_name, dimensions=3, metric=metric)
    fn = store._select_relevance_score_fn()
    # Lower raw scores are better for both metrics: relevance must go down as the score goes up.
    assert fn(0.0) > fn(0.5) > fn(1.5)


def test_score_threshold(wire: Wire) -> None:
    store = _store(wire, TableEmbeddings(GEOMETRY))
    store.add_texts(["same", "near", "far", "opposite"])
    kept = store.similarity_search_with_relevance_scores("q", k=4, score_threshold=0.7)
    assert [d.page_content for d, _ in kept] == ["same", "near"]


MMR_TABLE = {
    "q": [1.0, 0.0, 0.0],
    "best": [0.99, 0.1, 0.0],
    "best-duplicate": [0.98, 0.12, 0.0],
    "different": [0.6, 0.0, 0.8],
}


def test_mmr_picks_diverse_results(wire: Wire) -> None:
    store = _store(wire, TableEmbeddings(MMR_TABLE))
    store.add_texts(["best", "best-duplicate", "different"])
    plain = [d.page_content for d in store.similarity_search("q", k=2)]
    assert plain == ["best", "best-duplicate"]
    wire.clear()
    mmr = [d.page_content for d in store.max_marginal_relevance_search("q", k=2, fetch_k=3, lambda_mult=0.25)]
    assert mmr == ["best", "different"]
    (query,) = wire.bodies("/query")
    assert query["returnValues"] is True and query["topK"] == 3 and query["returnMetadata"] == "all"
    # lambda_mult=1 is plain relevance
    assert [d.page_content for d in store.max_marginal_relevance_search("q", k=2, lambda_mult=1.0)] == plain


def test_mmr_by_vector_and_caps(wire: Wire) -> None:
    store = _store(wire, TableEmbeddings(MMR_TABLE))
    store.add_texts(["best", "best-duplicate", "different"])
    wire.clear()
    docs = store.max_marginal_relevance_search_by_vector([1.0, 0.0, 0.0], k=2, fetch_k=500, lambda_mult=0.25)
    assert [d.page_content for d in docs] == ["best", "different"]
    assert wire.bodies("/query")[0]["topK"] == 50  # fetch_k kept within Vectorize's cap with values
    with pytest.raises(InvalidInputError, match="lambda_mult"):
        store.max_marginal_relevance_search("q", lambda_mult=1.5)
    with pytest.raises(InvalidInputError, match="at most 50"):
        store.max_marginal_relevance_search("q", k=60)


def test_mmr_on_empty_store(wire: Wire) -> None:
    store = _store(wire, TableEmbeddings(MMR_TABLE))
    assert store.max_marginal_relevance_search("q", k=2) == []


# -- filters -----------------------------------------------------------------------------------------

@pytest.fixture
def library(wire: Wire) -> CloudflareVectorize:
    store = _store(wire, DeterministicFakeEmbedding(size=8))
    # Metadata indexes first: Vectorize only filters on vectors written after their index exists.
    store.create_metadata_index("genre", "string")
    store.create_metadata_index("year", "number")
    store.add_texts(
        ["dune", "neuromancer", "emma", "persuasion", "foundation"],
        [{"genre": "sci-fi", "year": 1965}, {"genre": "sci-fi", "year": 1984}, {"genre": "romance", "year": 1815},
         {"genre": "romance", "year": 1817}, {"genre": "sci-fi", "year": 1951}],
        ids=["dune", "neuromancer", "emma", "persuasion", "foundation"])
    return store


def test_filters_pass_through(library: CloudflareVectorize, wire: Wire) -> None:
    wire.clear()
    got = library.similarity_search("emma", k=5, filter={"genre": "sci-fi", "year": {"$gte": 1960}})
    assert sorted(d.id or "" for d in got) == ["dune", "neuromancer"]
    assert wire.bodies("/query")[0]["filter"] == {"genre": "sci-fi", "year": {"$gte": 1960}}
    assert {d.id for d in library.similarity_search("dune", k=5, filter={"genre": {"$in": ["romance"]}})} \
        == {"emma", "persuasion"}
    assert {d.id for d, _ in library.similarity_search_with_relevance_scores(
        "dune", k=5, filter={"year": {"$lt": 1900}})} == {"emma", "persuasion"}
    assert {d.id for d in library.max_marginal_relevance_search("dune", k=5, filter={"genre": "romance"})} \
        == {"emma", "persuasion"}


def test_invalid_filter_fails_before_sending(library: CloudflareVectorize, wire: Wire) -> None:
    wire.clear()
    with pytest.raises(InvalidInputError):
        library.similarity_search("x", filter={"year": {"$regex": "19.*"}})
    with pytest.raises(InvalidInputError):
        library.similarity_search("x", filter={"$or": [{"a": 1}]})
    assert wire.requests == []


def test_retrievers(library: CloudflareVectorize) -> None:
    sim = library.as_retriever(search_kwargs={"k": 2, "filter": {"genre": "romance"}})
    assert {d.id for d in sim.invoke("anything")} == {"emma", "persuasion"}
    mmr = library.as_retriever(search_type="mmr", search_kwargs={"k": 3, "fetch_k": 5})
    assert len(mmr.invoke("dune")) == 3
    threshold = library.as_retriever(search_type="similarity_score_threshold",
                                     search_kwargs={"k": 5, "score_threshold": 0.999})
    assert [d.id for d in threshold.invoke("dune")] == ["dune"]


# -- namespaces ----------------------------------------------------------------------------------------

def test_namespaces_isolate(wire: Wire) -> None:
    emb = DeterministicFakeEmbedding(size=8)
    tenant_a = _store(wire, emb, namespace="tenant-a")
    tenant_b = CloudflareVectorize(embedding=emb, index_name=tenant_a.index_name, namespace="tenant-b",
                                   client=wire.client)
    tenant_a.add_texts(["shared words"], ids=["a1"])
    tenant_b.add_texts(["shared words"], ids=["b1"])
    assert [d.id for d in tenant_a.similarity_search("shared words", k=5)] == ["a1"]
    assert [d.id for d in tenant_b.similarity_search("shared words", k=5)] == ["b1"]
    # per-call namespace overrides the store's
    assert [d.id for d in tenant_a.similarity_search("shared words", k=5, namespace="tenant-b")] == ["b1"]
    assert [d.id for d in tenant_a.max_marginal_relevance_search("shared words", k=5, namespace="tenant-b")] \
        == ["b1"]
    tenant_a.add_texts(["other"], ids=["a2"], namespace="tenant-c")
    assert [d.id for d in tenant_b.similarity_search("other", k=5, namespace="tenant-c")] == ["a2"]


def test_namespace_on_the_wire_and_delete_all_in_namespace(wire: Wire) -> None:
    emb = DeterministicFakeEmbedding(size=8)
    store = _store(wire, emb, namespace="ns1")
    store.add_texts(["x"], ids=["in-ns1"])
    store.add_texts(["y"], ids=["in-ns2"], namespace="ns2")
    upserts = [r.body.decode() for r in wire.requests if r.url.path.endswith("/upsert")]
    assert '"namespace":"ns1"' in upserts[0] and '"namespace":"ns2"' in upserts[1]
    # get_by_ids ignores namespaces (as Vectorize does); the namespace is not injected into metadata
    assert [d.metadata for d in store.get_by_ids(["in-ns1", "in-ns2"])] == [{}, {}]
    store.delete()  # ids=None: only this store's namespace
    assert [d.id for d in store.get_by_ids(["in-ns1", "in-ns2"])] == ["in-ns2"]


def test_documents_with_empty_store(wire: Wire) -> None:
    store = _store(wire, DeterministicFakeEmbedding(size=8))
    assert store.similarity_search("x") == []
    assert store.similarity_search_with_relevance_scores("x") == []
    assert store.similarity_search_by_vector([0.1] * 8) == []
    assert isinstance(store.add_documents([Document(page_content="z")])[0], str)
