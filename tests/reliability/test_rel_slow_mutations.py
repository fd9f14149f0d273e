"""Vectorize mutations that are processed slowly (the emulator's ``mutation_delay_s``): a waiting
write returns only once its data is visible, and a wait that runs out raises
``MutationTimeoutError`` saying so (the write was accepted and becomes visible later), in the core
and through both adapters. Waiting also survives injected 5xx/429/dropped polls.
"""

from __future__ import annotations

import time

import pytest
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery
from rel_support import DIMS, EMBED_MODEL, FAST_RETRIES

from cf_core import AsyncCloudflareClient, CloudflareClient, MutationTimeoutError
from cf_core.local import Emulator, FaultConfig, local_async_client, local_client
from cf_langchain import CloudflareVectorize, CloudflareWorkersAIEmbeddings
from cf_llamaindex import CloudflareVectorizeVectorStore

DELAY_S = 0.6
INDEX = "slow"


@pytest.fixture
def client(emulator: Emulator) -> CloudflareClient:
    emulator.config.mutation_delay_s = DELAY_S
    return local_client(emulator, retry_policy=FAST_RETRIES)


@pytest.fixture
def aclient(emulator: Emulator) -> AsyncCloudflareClient:
    return local_async_client(emulator, retry_policy=FAST_RETRIES)


def vectors(n: int, start: int = 0) -> list[dict[str, object]]:
    return [{"id": f"v{i}", "values": [1.0, float(i) + 1.0, 0.5], "metadata": {"i": i}} for i in range(start, start + n)]


def test_without_waiting_the_write_is_not_yet_visible(client: CloudflareClient) -> None:
    """The control: the delay is real, so the waiting tests below prove something."""
    client.vectorize.create_index(INDEX, dimensions=3)
    client.vectorize.upsert(INDEX, vectors(5))
    assert client.vectorize.get_by_ids(INDEX, ["v0"]) == []
    assert client.vectorize.index_info(INDEX).vector_count == 0


@pytest.mark.parametrize("faulty_polls", [False, True], ids=["clean", "faulty-polls"])
def test_waiting_write_is_visible_when_it_returns(emulator: Emulator, client: CloudflareClient,
                                                  faulty_polls: bool) -> None:
    client.vectorize.create_index(INDEX, dimensions=3)
    if faulty_polls:
        emulator.faults.configure(FaultConfig(error_rates={500: 0.1, 503: 0.1, 429: 0.1}, drop_rate=0.05,
                                              retry_after_s=0.01, seed=3, paths="/info"))
    started = time.monotonic()
    result = client.vectorize.upsert(INDEX, vectors(30), batch_size=7, wait=True, wait_timeout=10)
    assert time.monotonic() - started >= DELAY_S * 0.9
    assert (sum(emulator.faults.snapshot().values()) > 0) == faulty_polls
    assert client.stats["retries"] == sum(emulator.faults.snapshot().values())
    emulator.faults.configure(FaultConfig())
    assert client.vectorize.index_info(INDEX).vector_count == 30
    assert sorted(v.id for v in client.vectorize.get_by_ids(INDEX, result.ids)) == sorted(result.ids)
    top = client.vectorize.query(INDEX, [1.0, 30.0, 0.5], top_k=1, return_metadata="all")
    assert top.matches[0].id == "v29"
    deleted = client.vectorize.delete_by_ids(INDEX, ["v0", "v1"], wait=True, wait_timeout=10)
    assert deleted.ids == ["v0", "v1"] and client.vectorize.get_by_ids(INDEX, ["v0", "v1"]) == []


def test_a_wait_that_times_out_says_so_and_nothing_is_lost(client: CloudflareClient) -> None:
    client.vectorize.create_index(INDEX, dimensions=3)
    with pytest.raises(MutationTimeoutError) as caught:
        client.vectorize.upsert(INDEX, vectors(5), wait=True, wait_timeout=0.05)
    err = caught.value
    assert err.mutation_id and err.waited_s >= 0.05
    assert "not processed within 0.05 s" in str(err) and "not yet visible" in str(err) and err.mutation_id in str(err)
    assert client.vectorize.get_by_ids(INDEX, ["v0"]) == []  # indeed not yet visible
    stats = client.vectorize.wait_for_mutation(INDEX, err.mutation_id, timeout=10, poll_interval=0.05)
    assert stats.vector_count == 5 and len(client.vectorize.get_by_ids(INDEX, ["v0", "v4"])) == 2


def test_wait_for_mutation_timeout_and_ingest_wait(client: CloudflareClient) -> None:
    client.vectorize.create_index(INDEX, dimensions=DIMS)
    texts = [f"slow passage number {i}" for i in range(250)]
    ids = [f"p{i}" for i in range(250)]
    result = client.vectorize.ingest(INDEX, texts, embedding_model=EMBED_MODEL, ids=ids, write_batch=100)
    assert client.vectorize.index_info(INDEX).vector_count == 250 and len(result.mutation_ids) == 3
    mid = client.vectorize.delete_by_ids(INDEX, ids[:10]).mutation_ids[0]
    with pytest.raises(MutationTimeoutError, match=mid):
        client.vectorize.wait_for_mutation(INDEX, mid, timeout=0.05, poll_interval=0.01)
    client.vectorize.wait_for_mutation(INDEX, mid, timeout=10, poll_interval=0.05)
    assert client.vectorize.index_info(INDEX).vector_count == 240


# -- through the adapters ----------------------------------------------------------------------------


def _lc_store(client: CloudflareClient, aclient: AsyncCloudflareClient, timeout: float) -> CloudflareVectorize:
    emb = CloudflareWorkersAIEmbeddings(model=EMBED_MODEL, client=client, async_client=aclient)
    return CloudflareVectorize(embedding=emb, index_name=INDEX, client=client, async_client=aclient,
                               wait_timeout=timeout)


async def test_langchain_add_is_searchable_on_return_and_timeout_says_so(client: CloudflareClient,
                                                                          aclient: AsyncCloudflareClient) -> None:
    store = _lc_store(client, aclient, timeout=10)
    await store.acreate_index(dimensions=DIMS)
    ids = await store.aadd_texts(["the quick brown fox jumps", "slow mutations become visible"], ids=["a", "b"])
    hits = await store.asimilarity_search("slow mutations visible", k=1)
    assert ids == ["a", "b"] and [d.id for d in hits] == ["b"]
    impatient = _lc_store(client, aclient, timeout=0.05)
    with pytest.raises(MutationTimeoutError, match="not yet visible") as caught:
        impatient.add_texts(["a third document about waiting"], ids=["c"])
    assert impatient.get_by_ids(["c"]) == []
    client.vectorize.wait_for_mutation(INDEX, caught.value.mutation_id, timeout=10, poll_interval=0.05)
    assert [d.page_content for d in store.get_by_ids(["c"])] == ["a third document about waiting"]


def test_llamaindex_add_is_queryable_on_return_and_timeout_says_so(client: CloudflareClient,
                                                                   aclient: AsyncCloudflareClient) -> None:
    store = CloudflareVectorizeVectorStore(index_name=INDEX, client=client, async_client=aclient)
    store.create_index(dimensions=3)
    store.add([TextNode(id_="n1", text="first", embedding=[1.0, 0.0, 0.0]),
               TextNode(id_="n2", text="second", embedding=[0.0, 1.0, 0.0])])
    result = store.query(VectorStoreQuery(query_embedding=[0.0, 1.0, 0.0], similarity_top_k=1))
    assert result.ids == ["n2"]
    impatient = CloudflareVectorizeVectorStore(index_name=INDEX, client=client, async_client=aclient,
                                               mutation_timeout=0.05)
    with pytest.raises(MutationTimeoutError, match="not yet visible") as caught:
        impatient.add([TextNode(id_="n3", text="third", embedding=[0.0, 0.0, 1.0])])
    assert impatient.get_nodes(node_ids=["n3"]) == []
    client.vectorize.wait_for_mutation(INDEX, caught.value.mutation_id, timeout=10, poll_interval=0.05)
    assert [n.get_content() for n in store.get_nodes(node_ids=["n3"])] == ["third"]
