"""cf_llamaindex against a real Cloudflare account: chat (sync, async, stream), tool calls,
embeddings and a VectorStoreIndex over Vectorize answering a question. Credentials come from the
environment; LlamaIndex's OpenAI defaults are never used (every component is passed explicitly).
Chat questions are answered from context they carry (so the emulator's stand-in passes them too)."""

# No `from __future__ import annotations`: FunctionTool reads the tool's annotations at runtime.

import pytest
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.tools import FunctionTool

from cf_core import CloudflareClient
from cf_llamaindex import (
    CloudflareVectorizeVectorStore,
    CloudflareWorkersAI,
    CloudflareWorkersAIEmbedding,
)

pytestmark = pytest.mark.live

CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
TOOL_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
EMBED_DIMS = 384
SECRET = [ChatMessage(role=MessageRole.SYSTEM, content="The secret word is pong."),
          ChatMessage(role=MessageRole.USER, content="What is the secret word? Answer with that word only.")]
PLANETS = "The three inner planets are Mercury, Venus and Earth. Which are the three inner planets?"


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 21 C in {city}."


def test_chat_and_stream() -> None:
    llm = CloudflareWorkersAI(model=CHAT_MODEL, temperature=0, max_tokens=32)
    response = llm.chat(SECRET)
    assert "pong" in (response.message.content or "").lower()
    chunks = list(CloudflareWorkersAI(model=CHAT_MODEL, temperature=0, max_tokens=64).stream_complete(PLANETS))
    assert "venus" in chunks[-1].text.lower()


async def test_async_chat() -> None:
    llm = CloudflareWorkersAI(model=CHAT_MODEL, temperature=0, max_tokens=32)
    response = await llm.achat(SECRET)
    assert "pong" in (response.message.content or "").lower()


def test_tool_call() -> None:
    llm = CloudflareWorkersAI(model=TOOL_MODEL, temperature=0)
    response = llm.chat_with_tools([FunctionTool.from_defaults(fn=get_weather)],
                                   user_msg="What is the weather in Paris right now?", tool_required=True)
    calls = llm.get_tool_calls_from_response(response)
    assert calls[0].tool_name == "get_weather"
    assert "paris" in str(calls[0].tool_kwargs.get("city", "")).lower()


async def test_embeddings() -> None:
    embed = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL)
    assert len(embed.get_query_embedding("Where does the cat sleep?")) == EMBED_DIMS
    vectors = await embed.aget_text_embedding_batch(["The cat sleeps.", "Bond yields rose."])
    assert [len(v) for v in vectors] == [EMBED_DIMS, EMBED_DIMS]


def test_vector_store_index_answers(index_name: str, live_client: CloudflareClient) -> None:
    store = CloudflareVectorizeVectorStore(index_name=index_name, mutation_timeout=180)
    store.create_index(dimensions=EMBED_DIMS, metadata_indexes={"topic": "string"})
    docs = [Document(text="The lighthouse on Vela Island is painted cobalt blue.", metadata={"topic": "island"},
                     id_="doc-lighthouse"),
            Document(text="Bond yields rose on Tuesday.", metadata={"topic": "finance"}, id_="doc-bonds")]
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store),
                                            embed_model=CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL))
    assert live_client.vectorize.index_info(index_name).vector_count == 2
    engine = index.as_query_engine(llm=CloudflareWorkersAI(model=TOOL_MODEL, temperature=0), similarity_top_k=1)
    response = engine.query("What colour is the lighthouse on Vela Island?")
    assert response.source_nodes[0].node.ref_doc_id == "doc-lighthouse"
    assert "blue" in str(response).lower()
