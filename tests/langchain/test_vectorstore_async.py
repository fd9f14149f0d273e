"""The async twins of CloudflareVectorize against the emulator.

The stores here get *only* an async core client: a sync request would need a client built from
the emulator's fake base URL and fail, so these tests also prove that no async method falls back to
the sync path (LangChain's default for un-overridden ``a*`` methods)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding

from cf_core import InvalidInputError
from cf_core.local import Emulator
from cf_langchain import vectorstores
from cf_langchain.embeddings import CloudflareWorkersAIEmbeddings
from cf_langchain.vectorstores import CloudflareVectorize

if TYPE_CHECKING:
    from conftest import Wire


async def _astore(wire: Wire, **kwargs: object) -> CloudflareVectorize:
    store = CloudflareVectorize(embedding=DeterministicFakeEmbedding(size=6), index_name=f"a-{uuid.uuid4().hex[:10]}",
                                async_client=wire.aclient, **kwargs)
    info = await store.acreate_index(metric="euclidean")
    assert info.dimensions == 6
    return store


async def test_async_round_trip(wire: Wire) -> None:
    store = await _astore(wire)
    ids = await store.aadd_documents([Document(id="one", page_content="first", metadata={"n": 1}),
                                      Document(page_content="second", metadata={"n": 2, "tags": ["x"]})])
    assert ids[0] == "one" and len(ids) == 2
    hits = await store.asimilarity_search("first", k=1)
    assert hits == [Document(id="one", page_content="first", metadata={"n": 1})]
    scored = await store.asimilarity_search_with_score("second", k=2)
    assert [d.page_content for d, _ in scored] == ["second", "first"]
    assert scored[0][1] == pytest.approx(0.0, abs=1e-5)  # euclidean: identical vector, distance 0
    relevance = await store.asimilarity_search_with_relevance_scores("second", k=2)
    assert relevance[0][1] == pytest.approx(1.0) and 0.0 <= relevance[1][1] < relevance[0][1]
    by_vector = await store.asimilarity_search_by_vector(await store.embedding.aembed_query("first"), k=1)
    assert [d.id for d in by_vector] == ["one"]
    mmr = await store.amax_marginal_relevance_search("first", k=2, fetch_k=2)
    assert {d.id for d in mmr} == set(ids)
    mmr_v = await store.amax_marginal_relevance_search_by_vector(await store.embedding.aembed_query("first"), k=1)
    assert [d.id for d in mmr_v] == ["one"]
    got = await store.aget_by_ids(["one", "nope"])
    assert got == [Document(id="one", page_content="first", metadata={"n": 1})]
    assert await store.adelete(["one", "nope"]) is True
    assert [d.id for d in await store.aget_by_ids(ids)] == [ids[1]]
    assert await store.adelete() is True
    assert await store.asimilarity_search("first") == []
    assert all("/ai/run/" not in p for p in wire.paths())  # the fake embedding stays local


async def test_async_metric_lookup_uses_the_async_client(wire: Wire) -> None:
    name = f"m-{uuid.uuid4().hex[:8]}"
    await wire.aclient.vectorize.create_index(name, dimensions=6, metric="dot-product")
    store = CloudflareVectorize(embedding=DeterministicFakeEmbedding(size=6), index_name=name,
                                async_client=wire.aclient)
    await store.aadd_texts(["a", "b"])
    pairs = await store.asimilarity_search_with_relevance_scores("a", k=2)
    assert len(pairs) == 2 and all(0.0 <= r <= 1.0 for _, r in pairs)
    await store.asimilarity_search_with_relevance_scores("b", k=2)
    assert sum(p.endswith(f"/indexes/{name}") for p in wire.paths()) == 1  # fetched once, then cached


async def test_async_writes_wait(wire: Wire, emulator: Emulator) -> None:
    emulator.config.mutation_delay_s = 0.3
    store = await _astore(wire)
    await store.aadd_texts(["now"], ids=["now"])
    assert [d.id for d in await store.asimilarity_search("now", k=1)] == ["now"]
    await store.adelete(["now"])
    assert await store.asimilarity_search("now", k=1) == []


async def test_async_namespaces_and_filters(wire: Wire) -> None:
    store = await _astore(wire, namespace="team-1")
    await store.acreate_metadata_index("kind", "string")
    await store.aadd_texts(["a", "b"], [{"kind": "x"}, {"kind": "y"}], ids=["a", "b"])
    await store.aadd_texts(["c"], [{"kind": "x"}], ids=["c"], namespace="team-2")
    assert {d.id for d in await store.asimilarity_search("a", k=5)} == {"a", "b"}
    assert [d.id for d in await store.asimilarity_search("a", k=5, filter={"kind": "x"})] == ["a"]
    assert [d.id for d in await store.asimilarity_search("a", k=5, namespace="team-2")] == ["c"]
    with pytest.raises(InvalidInputError):
        await store.asimilarity_search("a", filter={"kind": {"$like": "x"}})


async def test_afrom_texts_and_afrom_documents(wire: Wire) -> None:
    store = await CloudflareVectorize.afrom_texts(["p", "q"], DeterministicFakeEmbedding(size=9), ids=["p", "q"],
                                                  index_name="afrom", metric="dot-product", async_client=wire.aclient)
    info = await wire.aclient.vectorize.get_index("afrom")
    assert (info.dimensions, info.metric) == (9, "dot-product")
    assert {d.id for d in await store.aget_by_ids(["p", "q"])} == {"p", "q"}
    store2 = await CloudflareVectorize.afrom_documents([Document(id="r", page_content="r")],
                                                       DeterministicFakeEmbedding(size=9), index_name="afrom",
                                                       async_client=wire.aclient)
    assert [d.id for d in await store2.aget_by_ids(["r"])] == ["r"]
    await store2.adelete_index()
    assert "afrom" not in [i.name for i in await wire.aclient.vectorize.list_indexes()]


async def test_async_retriever(wire: Wire) -> None:
    store = await _astore(wire)
    await store.aadd_texts(["alpha", "beta", "gamma"])
    docs = await store.as_retriever(search_kwargs={"k": 2}).ainvoke("beta")
    assert docs[0].page_content == "beta" and len(docs) == 2
    mmr = await store.as_retriever(search_type="mmr", search_kwargs={"k": 2}).ainvoke("beta")
    assert len(mmr) == 2


async def test_async_large_adds_use_the_core_ingest(wire: Wire, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectorstores, "INGEST_MIN_TEXTS", 2)
    calls: list[int] = []
    original = type(wire.aclient.vectorize).ingest

    async def spy(self: Any, index: str, texts: Any, **kwargs: Any) -> Any:
        calls.append(len(texts))
        return await original(self, index, texts, **kwargs)

    monkeypatch.setattr(type(wire.aclient.vectorize), "ingest", spy)
    emb = CloudflareWorkersAIEmbeddings(model="@cf/baai/bge-small-en-v1.5", async_client=wire.aclient)
    store = await CloudflareVectorize.afrom_texts(["red fox", "blue whale", "green frog"], emb, index_name="abulk",
                                                  async_client=wire.aclient)
    assert calls == [3]
    assert [d.page_content for d in await store.asimilarity_search("blue whale", k=1)] == ["blue whale"]
