"""CloudflareVectorizeVectorStore.ingest_nodes: the core's bulk embed-and-write pipeline for nodes."""

from __future__ import annotations

import pytest
from li_support import EMBED_MODEL, Wire, make_store
from llama_index.core.schema import MetadataMode, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.errors import InvalidInputError
from cf_llamaindex import CloudflareWorkersAIEmbedding


def _nodes(n: int) -> list[TextNode]:
    return [TextNode(text=f"record {i}: the {['red', 'green', 'blue'][i % 3]} kite number {i}", id_=f"node-{i}",
                     metadata={"n": i}) for i in range(n)]


def test_ingest_embeds_and_writes_nodes(client: CloudflareClient, aclient: AsyncCloudflareClient,
                                        embed_model: CloudflareWorkersAIEmbedding, wire: Wire) -> None:
    store = make_store(client, aclient, "bulk", batch_size=100)
    wire.clear()
    progress: list[int] = []
    nodes = _nodes(250)
    assert store.ingest_nodes(nodes, embed_model, on_progress=lambda done, total: progress.append(done)) == \
        [n.node_id for n in nodes]
    assert progress and progress[-1] == 250
    embeds = wire.to(f"/ai/run/{EMBED_MODEL}")
    assert sum(len(s.json()["text"]) for s in embeds) == 250
    assert all(len(s.json()["text"]) <= 100 for s in embeds)
    assert embeds[0].json()["text"][0] == nodes[0].get_content(metadata_mode=MetadataMode.EMBED)
    assert len(wire.to("/upsert")) == 3  # write batches of batch_size
    # what was written is what add() would write: nodes round-trip and are found by their own text
    target = nodes[123]
    query = VectorStoreQuery(query_embedding=embed_model.get_query_embedding(
        target.get_content(metadata_mode=MetadataMode.EMBED)), similarity_top_k=1)
    found = store.query(query)
    assert found.ids == ["node-123"]
    assert found.nodes and found.nodes[0].get_content() == target.get_content()
    assert found.nodes[0].metadata == {"n": 123}


async def test_aingest_with_a_model_id(client: CloudflareClient, aclient: AsyncCloudflareClient) -> None:
    store = make_store(client, aclient, "bulk-async")
    assert await store.aingest_nodes(_nodes(5), EMBED_MODEL) == [f"node-{i}" for i in range(5)]
    assert client.vectorize.index_info("bulk-async").vector_count == 5


def test_ingest_checks_every_node_before_sending(client: CloudflareClient, aclient: AsyncCloudflareClient,
                                                 wire: Wire) -> None:
    store = make_store(client, aclient, "bulk-bad")
    wire.clear()
    nodes = [*_nodes(3), TextNode(text="x" * 11000, id_="huge")]
    with pytest.raises(InvalidInputError, match="'huge'"):
        store.ingest_nodes(nodes, EMBED_MODEL)
    assert wire == []


def test_ingest_embeds_with_the_models_pooling(client: CloudflareClient, aclient: AsyncCloudflareClient,
                                               wire: Wire) -> None:
    """A cls-pooled embedding model: every bulk embedding request carries its pooling, so the stored
    vectors are the ones it gives queries (mean vectors would not be comparable with them)."""
    pooled = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, async_client=aclient, pooling="cls")
    store = make_store(client, aclient, "bulk-cls")
    wire.clear()
    nodes = _nodes(30)
    store.ingest_nodes(nodes, pooled)
    embeds = wire.to(f"/ai/run/{EMBED_MODEL}")
    assert embeds and all(s.json().get("pooling") == "cls" for s in embeds)
    target = nodes[17]
    query = VectorStoreQuery(query_embedding=pooled.get_text_embedding(
        target.get_content(metadata_mode=MetadataMode.EMBED)), similarity_top_k=1)
    found = store.query(query)
    assert found.ids == ["node-17"] and found.similarities is not None and found.similarities[0] > 0.999


async def test_show_progress_draws_a_bar(client: CloudflareClient, aclient: AsyncCloudflareClient,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    store = make_store(client, aclient, "bulk-bar")
    store.ingest_nodes(_nodes(4), EMBED_MODEL, show_progress=True)
    assert "Vectorize bulk-bar" in capsys.readouterr().err
    await store.aingest_nodes(_nodes(6), EMBED_MODEL, show_progress=True)
    assert "6/6" in capsys.readouterr().err
    store.ingest_nodes(_nodes(2), EMBED_MODEL)
    assert capsys.readouterr().err == ""
