"""When failures outlast the retries, a bulk write says exactly which ids were written and which were
not, and running the same operation again completes the job without duplicates (core ingest, the
LangChain vector store on both of its write paths, the LlamaIndex vector store).

Faults hit only upsert requests (``paths="/upsert"``); the seed is chosen so that the first upsert
succeeds and the next one fails every attempt (``rel_support.seed_for_outcomes``), which makes the
split deterministic even when chunks are written concurrently.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.schema import TextNode
from rel_support import DIMS, EMBED_MODEL, Corpus, corpus, seed_for_outcomes

from cf_core import AsyncCloudflareClient, CloudflareClient, RetryPolicy
from cf_core.errors import APIConnectionError, PartialWriteError, RateLimitError, ServerError
from cf_core.local import Emulator, FaultConfig, local_async_client, local_client
from cf_core.local.server import RunningServer
from cf_langchain import CloudflareVectorize, CloudflareWorkersAIEmbeddings
from cf_llamaindex import CloudflareVectorizeVectorStore, CloudflareWorkersAIEmbedding

INDEX = "partial"
RETRIES = 2
FEW_RETRIES = RetryPolicy(max_retries=RETRIES, base_delay_s=0.001, max_delay_s=0.01)
UPSERT_PATH = f"/vectorize/v2/indexes/{INDEX}/upsert"


def _outlasting_faults(later_upserts: int = 0) -> FaultConfig:
    """Upserts meet a mix of 500, 503, 429 and dropped connections: the first one gets through, the
    next one fails on all of its 1 + RETRIES attempts, the ``later_upserts`` after it get through."""
    cfg = FaultConfig(error_rates={500: 0.25, 503: 0.25, 429: 0.1}, retry_after_s=0.01, drop_rate=0.2,
                      paths=UPSERT_PATH)
    outcomes = [False] + [True] * (RETRIES + 1) + [False] * later_upserts
    cfg.seed = seed_for_outcomes(cfg, outcomes, path=UPSERT_PATH)
    return cfg


def injected_total(emulator: Emulator) -> int:
    return sum(emulator.faults.snapshot().values())


@pytest.fixture
def client(emulator: Emulator) -> CloudflareClient:
    return local_client(emulator, retry_policy=FEW_RETRIES)


@pytest.fixture
def aclient(emulator: Emulator) -> AsyncCloudflareClient:
    return local_async_client(emulator, retry_policy=FEW_RETRIES)


def stored_ids(client: CloudflareClient, err: PartialWriteError | None = None) -> list[str]:
    if err is not None and err.mutation_ids:
        client.vectorize.wait_for_mutation(INDEX, err.mutation_ids[-1], timeout=10)
    return client.vectorize.all_vector_ids(INDEX)


def assert_error_is_exact(client: CloudflareClient, err: PartialWriteError, docs: Corpus,
                          failed_sizes: set[int]) -> None:
    assert len(err.failed_ids) in failed_sizes
    assert err.written_ids and err.failed_ids
    assert not set(err.written_ids) & set(err.failed_ids)
    assert sorted(err.written_ids + err.failed_ids) == sorted(docs.ids)
    assert isinstance(err.__cause__, ServerError | RateLimitError | APIConnectionError)
    assert f"{len(err.written_ids)}" in str(err) and "again" in str(err)
    stored = stored_ids(client, err)
    assert sorted(stored) == sorted(err.written_ids), "the error must say exactly what was stored"


def assert_complete(client: CloudflareClient, docs: Corpus) -> None:
    listed = client.vectorize.all_vector_ids(INDEX)
    assert len(listed) == len(set(listed)) == len(docs.ids)
    assert set(listed) == set(docs.ids)
    assert client.vectorize.index_info(INDEX).vector_count == len(docs.ids)


def test_core_ingest_reports_exact_ids_and_rerun_completes(emulator: Emulator, client: CloudflareClient) -> None:
    docs = corpus(5000)
    client.vectorize.create_index(INDEX, dimensions=DIMS)
    emulator.faults.configure(_outlasting_faults(later_upserts=3))  # five chunks of 1,000
    args: dict[str, Any] = {"embedding_model": EMBED_MODEL, "ids": docs.ids, "metadatas": docs.metadatas, "write_batch": 1000}
    with pytest.raises(PartialWriteError) as caught:
        client.vectorize.ingest(INDEX, docs.texts, **args)
    assert injected_total(emulator) == RETRIES + 1
    assert_error_is_exact(client, caught.value, docs, {1000})
    emulator.faults.configure(FaultConfig())
    result = client.vectorize.ingest(INDEX, docs.texts, **args)
    assert result.ids == docs.ids
    assert_complete(client, docs)
    got = client.vectorize.get_by_ids(INDEX, [docs.ids[0], docs.ids[-1]])
    assert [v.metadata for v in got] == [docs.metadatas[0], docs.metadatas[-1]]


@pytest.mark.parametrize("use_ingest", [True, False], ids=["ingest", "chunked"])
async def test_langchain_add_texts_reports_exact_ids_and_rerun_completes(
        emulator: Emulator, client: CloudflareClient, aclient: AsyncCloudflareClient, use_ingest: bool) -> None:
    """6,000 texts: two upserts of 5,000 and 1,000. Concurrent chunks (ingest) may fail either one;
    the sequential path fails the second."""
    docs = corpus(6000)
    embedding = CloudflareWorkersAIEmbeddings(model=EMBED_MODEL, client=client, async_client=aclient)
    store = CloudflareVectorize(embedding=embedding, index_name=INDEX, client=client, async_client=aclient,
                                use_ingest=use_ingest)
    await store.acreate_index(dimensions=DIMS)
    emulator.faults.configure(_outlasting_faults())
    with pytest.raises(PartialWriteError) as caught:
        await store.aadd_texts(docs.texts, docs.metadatas, ids=docs.ids)
    assert injected_total(emulator) == RETRIES + 1
    assert_error_is_exact(client, caught.value, docs, {1000, 5000} if use_ingest else {1000})
    emulator.faults.configure(FaultConfig())
    assert await store.aadd_texts(docs.texts, docs.metadatas, ids=docs.ids) == docs.ids
    assert_complete(client, docs)
    found = await store.aget_by_ids([docs.ids[4999], docs.ids[5000]])
    assert [d.metadata for d in found] == [docs.metadatas[4999], docs.metadatas[5000]]


def test_llamaindex_add_reports_exact_ids_and_rerun_completes(emulator: Emulator, client: CloudflareClient,
                                                              aclient: AsyncCloudflareClient) -> None:
    """6,000 nodes in upserts of 5,000: a waiting write sends its last batch after the others."""
    docs = corpus(6000)
    store = CloudflareVectorizeVectorStore(index_name=INDEX, client=client, async_client=aclient, batch_size=5000)
    store.create_index(dimensions=DIMS)
    embed = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, async_client=aclient)
    nodes = [TextNode(id_=vid, text=text, metadata=meta)
             for vid, text, meta in zip(docs.ids, docs.texts, docs.metadatas, strict=True)]
    context = StorageContext.from_defaults(vector_store=store)
    emulator.faults.configure(_outlasting_faults())
    with pytest.raises(PartialWriteError) as caught:
        VectorStoreIndex(nodes, storage_context=context, embed_model=embed, insert_batch_size=len(nodes))
    assert injected_total(emulator) == RETRIES + 1
    err = caught.value
    assert_error_is_exact(client, err, docs, {1000})
    assert err.written_ids == docs.ids[:5000]
    emulator.faults.configure(FaultConfig())
    VectorStoreIndex(nodes, storage_context=context, embed_model=embed, insert_batch_size=len(nodes))
    assert_complete(client, docs)
    got = store.get_nodes(node_ids=[docs.ids[0], docs.ids[-1]])
    assert [(n.get_content(), n.metadata) for n in got] == [(docs.texts[0], docs.metadatas[0]),
                                                            (docs.texts[-1], docs.metadatas[-1])]


def test_a_write_whose_answer_was_lost_is_reported_unconfirmed_and_rerun_converges(
        emulator: Emulator, server: RunningServer) -> None:
    """Over a real socket a timed-out upsert can still be applied by the server. The error lists it
    among ``failed_ids`` (not confirmed), never among ``written_ids``; the rerun is still exact."""
    from rel_support import socket_client

    vectors = [{"id": f"v{i:03d}", "values": [float(i % 5) + 1.0, 1.0, 2.0], "metadata": {"i": i}}
               for i in range(20)]
    ids = [v["id"] for v in vectors]
    cfg = FaultConfig(slow_rate=0.5, slow_ms=1200, paths="/upsert")
    cfg.seed = seed_for_outcomes(cfg, [False, True], path="/upsert")
    with socket_client(server, timeout=0.4, retry_policy=RetryPolicy(max_retries=0)) as c:
        c.vectorize.create_index(INDEX, dimensions=3)
        emulator.faults.configure(cfg)
        with pytest.raises(PartialWriteError) as caught:
            c.vectorize.upsert(INDEX, vectors, batch_size=10, concurrency=1)
        err = caught.value
        assert err.written_ids == ids[:10] and err.failed_ids == ids[10:]
        emulator.faults.configure(FaultConfig())
        deadline = time.monotonic() + 5
        while c.vectorize.index_info(INDEX).vector_count < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        stored = set(c.vectorize.all_vector_ids(INDEX))
        assert set(err.written_ids) <= stored <= set(ids)
        assert stored == set(ids), "the slow write was expected to land on the server after the timeout"
        c.vectorize.upsert(INDEX, vectors, batch_size=10, wait=True)
        listed = c.vectorize.all_vector_ids(INDEX)
        assert sorted(listed) == ids and c.vectorize.index_info(INDEX).vector_count == 20
