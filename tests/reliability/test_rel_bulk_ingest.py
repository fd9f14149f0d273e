"""Bulk ingest of 5,000 documents through each adapter while the emulator injects the issue's fault
mix (10% HTTP 500/503, 5% 429 with Retry-After, 2% dropped connections, 1% answers slower than the
client's timeout), over a real loopback socket.

Proves: the index ends with exactly the 5,000 ids and their metadata, with no duplicate; every
injected fault was met by a retry, visible by reason in ``client.stats`` and as a log line. The
seed is chosen so that every kind of fault occurs (see ``rel_support.seed_with_every_fault``).
Over the socket a request that timed out is still processed by the server later, so a retried
write may be applied twice: upserts by id keep that harmless, and the checks would see otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core import StorageContext, VectorStoreIndex
from llama_index.core.schema import TextNode
from rel_support import (
    DIMS,
    EMBED_MODEL,
    SOCKET_SLOW_MS,
    Corpus,
    assert_every_fault_was_retried,
    corpus,
    issue_faults,
    seed_with_every_fault,
)

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.local import Emulator, FaultConfig
from cf_langchain import CloudflareVectorize, CloudflareWorkersAIEmbeddings
from cf_llamaindex import CloudflareVectorizeVectorStore, CloudflareWorkersAIEmbedding

N = 5000
INDEX = "bulk"
TEXT_KEY = "__text"


def _faults() -> FaultConfig:
    base = issue_faults(slow_ms=SOCKET_SLOW_MS)
    base.seed = seed_with_every_fault(base, within=40)
    return base


def _stored(client: CloudflareClient, ids: list[str]) -> dict[str, dict[str, Any] | None]:
    out: dict[str, dict[str, Any] | None] = {}
    for start in range(0, len(ids), 1000):
        for vector in client.vectorize.get_by_ids(INDEX, ids[start:start + 1000]):
            assert vector.id not in out
            out[vector.id] = vector.metadata
    return out


def assert_exactly(client: CloudflareClient, docs: Corpus) -> dict[str, dict[str, Any] | None]:
    """The index holds each of the corpus ids exactly once, and nothing else; returns the metadata."""
    listed = client.vectorize.all_vector_ids(INDEX)
    assert len(listed) == len(set(listed)) == N, "duplicate or missing ids"
    assert set(listed) == set(docs.ids)
    assert client.vectorize.index_info(INDEX).vector_count == N
    stored = _stored(client, docs.ids)
    assert set(stored) == set(docs.ids)
    return stored


# -- LangChain ---------------------------------------------------------------------------------------


def _lc_store(client: CloudflareClient, aclient: AsyncCloudflareClient) -> CloudflareVectorize:
    embedding = CloudflareWorkersAIEmbeddings(model=EMBED_MODEL, client=client, async_client=aclient)
    return CloudflareVectorize(embedding=embedding, index_name=INDEX, client=client, async_client=aclient,
                               text_key=TEXT_KEY)


def _check_langchain(client: CloudflareClient, store: CloudflareVectorize, docs: Corpus) -> None:
    stored = assert_exactly(client, docs)
    for i, vid in enumerate(docs.ids):
        assert stored[vid] == {**docs.metadatas[i], TEXT_KEY: docs.texts[i]}, vid
    sample = [docs.ids[0], docs.ids[2500], docs.ids[-1]]
    got = store.get_by_ids(sample)
    assert [(d.id, d.page_content, d.metadata) for d in got] == [
        (vid, docs.texts[docs.ids.index(vid)], docs.metadatas[docs.ids.index(vid)]) for vid in sample]


def test_langchain_add_texts_5000_under_faults(emulator: Emulator, sclient: CloudflareClient,
                                               saclient: AsyncCloudflareClient,
                                               retry_log: pytest.LogCaptureFixture) -> None:
    docs = corpus(N)
    store = _lc_store(sclient, saclient)
    store.create_index(dimensions=DIMS)
    emulator.faults.configure(_faults())
    returned = store.add_texts(docs.texts, docs.metadatas, ids=docs.ids)
    injected = emulator.faults.snapshot()
    emulator.faults.configure(FaultConfig())
    assert returned == docs.ids
    _check_langchain(sclient, store, docs)
    assert_every_fault_was_retried(sclient.stats, injected, retry_log.records)


async def test_langchain_aadd_texts_5000_under_faults(emulator: Emulator, sclient: CloudflareClient,
                                                      saclient: AsyncCloudflareClient,
                                                      retry_log: pytest.LogCaptureFixture) -> None:
    docs = corpus(N)
    store = _lc_store(sclient, saclient)
    await store.acreate_index(dimensions=DIMS)
    emulator.faults.configure(_faults())
    returned = await store.aadd_texts(docs.texts, docs.metadatas, ids=docs.ids)
    injected = emulator.faults.snapshot()
    emulator.faults.configure(FaultConfig())
    assert returned == docs.ids
    _check_langchain(sclient, store, docs)
    assert_every_fault_was_retried(saclient.stats, injected, retry_log.records)


# -- LlamaIndex --------------------------------------------------------------------------------------


def _li_parts(client: CloudflareClient, aclient: AsyncCloudflareClient,
              docs: Corpus) -> tuple[CloudflareVectorizeVectorStore, CloudflareWorkersAIEmbedding, list[TextNode]]:
    store = CloudflareVectorizeVectorStore(index_name=INDEX, client=client, async_client=aclient)
    embed = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, async_client=aclient)
    nodes = [TextNode(id_=vid, text=text, metadata=meta)
             for vid, text, meta in zip(docs.ids, docs.texts, docs.metadatas, strict=True)]
    return store, embed, nodes


def _check_llamaindex(client: CloudflareClient, store: CloudflareVectorizeVectorStore, docs: Corpus) -> None:
    assert_exactly(client, docs)
    nodes = store.get_nodes(node_ids=docs.ids)
    assert [n.node_id for n in nodes] == docs.ids
    for node, text, meta in zip(nodes, docs.texts, docs.metadatas, strict=True):
        assert (node.get_content(), node.metadata) == (text, meta), node.node_id
        assert node.embedding is not None and len(node.embedding) == DIMS


def test_llamaindex_vector_store_index_5000_under_faults(emulator: Emulator, sclient: CloudflareClient,
                                                         saclient: AsyncCloudflareClient,
                                                         retry_log: pytest.LogCaptureFixture) -> None:
    docs = corpus(N)
    store, embed, nodes = _li_parts(sclient, saclient, docs)
    store.create_index(dimensions=DIMS)
    emulator.faults.configure(_faults())
    VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed)
    injected = emulator.faults.snapshot()
    emulator.faults.configure(FaultConfig())
    _check_llamaindex(sclient, store, docs)
    assert_every_fault_was_retried(sclient.stats, injected, retry_log.records)


async def test_llamaindex_ainsert_nodes_5000_under_faults(emulator: Emulator, sclient: CloudflareClient,
                                                          saclient: AsyncCloudflareClient,
                                                          retry_log: pytest.LogCaptureFixture) -> None:
    docs = corpus(N)
    store, embed, nodes = _li_parts(sclient, saclient, docs)
    await store.acreate_index(dimensions=DIMS)
    index = VectorStoreIndex([], storage_context=StorageContext.from_defaults(vector_store=store),
                             embed_model=embed)
    emulator.faults.configure(_faults())
    await index.ainsert_nodes(nodes)
    injected = emulator.faults.snapshot()
    emulator.faults.configure(FaultConfig())
    _check_llamaindex(sclient, store, docs)
    assert_every_fault_was_retried(saclient.stats, injected, retry_log.records)
