"""A VectorStoreIndex over Vectorize answering through a query engine with CloudflareWorkersAI.

The chat model is the emulator's stand-in, which answers from the context it is sent; the tests
check the wire (the retrieved node's text reached the model) and that the answer came back through
the engine, sync, async and streaming. Embeddings are the emulator's lexical hashing stand-in."""

from __future__ import annotations

import pytest
from li_support import EMBED_DIMS, Wire, make_store
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_llamaindex import (
    CloudflareVectorizeVectorStore,
    CloudflareWorkersAI,
    CloudflareWorkersAIEmbedding,
)

DOCS = [
    Document(text="The lighthouse on Vela Island is painted cobalt blue and was built in 1871.",
             metadata={"topic": "lighthouse"}, id_="doc-lighthouse"),
    Document(text="Quokka biscuits are baked with oats, honey and a pinch of sea salt.",
             metadata={"topic": "baking"}, id_="doc-biscuits"),
    Document(text="The tram line to Harbour Point runs every twelve minutes on weekdays.",
             metadata={"topic": "transport"}, id_="doc-tram"),
]
QUESTION = "What colour is the lighthouse on Vela Island?"


@pytest.fixture
def index(client: CloudflareClient, aclient: AsyncCloudflareClient,
          embed_model: CloudflareWorkersAIEmbedding) -> VectorStoreIndex:
    store = make_store(client, aclient, "rag", metadata_indexes={"topic": "string"})
    return VectorStoreIndex.from_documents(DOCS, storage_context=StorageContext.from_defaults(vector_store=store),
                                           embed_model=embed_model)


def _context_sent(wire: Wire) -> str:
    return " ".join(str(m["content"]) for m in wire.chat_bodies()[-1]["messages"])


def test_index_writes_nodes_to_vectorize(index: VectorStoreIndex, client: CloudflareClient) -> None:
    assert client.vectorize.index_info("rag").vector_count == 3
    assert client.vectorize.get_index("rag").dimensions == EMBED_DIMS


def test_query_engine_answers_from_retrieved_context(index: VectorStoreIndex, llm: CloudflareWorkersAI,
                                                     wire: Wire) -> None:
    engine = index.as_query_engine(llm=llm, similarity_top_k=1)
    response = engine.query(QUESTION)
    assert "cobalt blue" in _context_sent(wire)  # the retrieved node reached the model
    assert "Quokka" not in _context_sent(wire)
    assert "cobalt blue" in str(response)
    assert response.source_nodes[0].node.ref_doc_id == "doc-lighthouse"
    assert response.source_nodes[0].score is not None and response.source_nodes[0].score > 0


async def test_async_query_engine(index: VectorStoreIndex, llm: CloudflareWorkersAI, wire: Wire) -> None:
    engine = index.as_query_engine(llm=llm, similarity_top_k=1)
    response = await engine.aquery(QUESTION)
    assert "cobalt blue" in _context_sent(wire)
    assert "cobalt blue" in str(response)


def test_streaming_query_engine(index: VectorStoreIndex, llm: CloudflareWorkersAI, wire: Wire) -> None:
    engine = index.as_query_engine(llm=llm, similarity_top_k=1, streaming=True)
    response = engine.query(QUESTION)
    tokens = list(response.response_gen)  # type: ignore[union-attr]
    assert len(tokens) > 1
    assert "cobalt blue" in "".join(tokens)
    assert wire.chat_bodies()[-1]["stream"] is True
    assert "cobalt blue" in _context_sent(wire)


async def test_async_streaming_query_engine(index: VectorStoreIndex, llm: CloudflareWorkersAI) -> None:
    engine = index.as_query_engine(llm=llm, similarity_top_k=1, streaming=True)
    response = await engine.aquery(QUESTION)
    tokens = [t async for t in response.async_response_gen()]  # type: ignore[union-attr]
    assert "cobalt blue" in "".join(tokens)


def test_retriever_filters_and_delete_ref_doc(index: VectorStoreIndex, llm: CloudflareWorkersAI) -> None:
    filters = MetadataFilters(filters=[MetadataFilter(key="topic", value="baking")])
    nodes = index.as_retriever(similarity_top_k=3, filters=filters).retrieve(QUESTION)
    assert [n.node.ref_doc_id for n in nodes] == ["doc-biscuits"]
    index.delete_ref_doc("doc-lighthouse")
    left = index.as_retriever(similarity_top_k=3).retrieve(QUESTION)
    assert "doc-lighthouse" not in {n.node.ref_doc_id for n in left}
    assert len(left) == 2


async def test_async_index_build(client: CloudflareClient, aclient: AsyncCloudflareClient,
                                 embed_model: CloudflareWorkersAIEmbedding, llm: CloudflareWorkersAI) -> None:
    store = CloudflareVectorizeVectorStore(index_name="rag-async", client=client, async_client=aclient)
    await store.acreate_index(dimensions=EMBED_DIMS)
    index = VectorStoreIndex.from_documents(DOCS, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=embed_model, use_async=True)
    response = await index.as_query_engine(llm=llm, similarity_top_k=1).aquery("When does the tram to Harbour Point run?")
    assert "twelve minutes" in str(response)
