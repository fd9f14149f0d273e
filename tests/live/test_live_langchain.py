"""cf_langchain against a real Cloudflare account: chat (invoke, stream, tools), embeddings and a
Vectorize store round trip. Credentials come from the environment, as in a user's program. Chat
questions are answered from context they carry (so the emulator's stand-in passes them too)."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from cf_langchain import ChatCloudflareWorkersAI, CloudflareVectorize, CloudflareWorkersAIEmbeddings

pytestmark = pytest.mark.live

CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
TOOL_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
EMBED_DIMS = 384
SECRET = [SystemMessage("The secret word is pong."),
          HumanMessage("What is the secret word? Answer with that word only.")]
PLANETS = [SystemMessage("The three inner planets are Mercury, Venus and Earth."),
           HumanMessage("Which are the three inner planets?")]


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 21 C in {city}."


def test_invoke_and_stream() -> None:
    llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, temperature=0, max_tokens=32)
    message = llm.invoke(SECRET)
    assert "pong" in str(message.content).lower()
    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] > 0
    llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, temperature=0, max_tokens=64)
    chunks = list(llm.stream(PLANETS))
    assert "venus" in "".join(str(c.content) for c in chunks).lower()
    assert sum(1 for c in chunks if c.usage_metadata) == 1


def test_tool_round_trip() -> None:
    llm = ChatCloudflareWorkersAI(model=TOOL_MODEL, temperature=0).bind_tools([get_weather], tool_choice="any")
    question = HumanMessage("What is the weather in Paris right now?")
    first = llm.invoke([question])
    assert isinstance(first, AIMessage)
    call = first.tool_calls[0]
    assert call["name"] == "get_weather" and "paris" in str(call["args"].get("city", "")).lower()
    result = ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"] or "")
    answer = ChatCloudflareWorkersAI(model=TOOL_MODEL, temperature=0).bind_tools([get_weather]).invoke(
        [question, first, result])
    assert "21" in str(answer.content) or "sunny" in str(answer.content).lower()


async def test_embeddings() -> None:
    embeddings = CloudflareWorkersAIEmbeddings(model=EMBED_MODEL)
    documents = embeddings.embed_documents(["The cat sleeps.", "Bond yields rose."])
    assert [len(v) for v in documents] == [EMBED_DIMS, EMBED_DIMS]
    assert len(await embeddings.aembed_query("Where does the cat sleep?")) == EMBED_DIMS


def test_vectorize_store_round_trip(index_name: str) -> None:
    store = CloudflareVectorize.from_texts(
        ["The lighthouse on Vela Island is painted cobalt blue.", "Bond yields rose on Tuesday.",
         "The ferry to Vela Island leaves every hour."],
        CloudflareWorkersAIEmbeddings(model=EMBED_MODEL),
        metadatas=[{"topic": "island"}, {"topic": "finance"}, {"topic": "island"}],
        ids=["lighthouse", "bonds", "ferry"], index_name=index_name, metadata_indexes={"topic": "string"},
        wait_timeout=180)
    top = store.similarity_search("What colour is the lighthouse?", k=1)
    assert [(d.id, d.metadata) for d in top] == [("lighthouse", {"topic": "island"})]
    assert "cobalt blue" in top[0].page_content
    island = store.similarity_search("money", k=3, filter={"topic": "island"})
    assert {d.id for d in island} == {"lighthouse", "ferry"}
    assert store.delete(["ferry"])
    assert [d.id for d in store.get_by_ids(["ferry", "bonds"])] == ["bonds"]
    store.delete_index()
