"""langchain-cloudflare 0.4.x (Cloudflare's own LangChain package) against the loopback emulator.

Pointed at the emulator only through its documented base-URL settings, which differ per class:

- ``ChatCloudflareWorkersAI(base_url=".../client/v4")`` (alias ``cloudflare_api_base``);
- ``CloudflareWorkersAIEmbeddings(api_base_url=".../client/v4/accounts")``;
- ``CloudflareVectorize(base_url=".../client/v4")``.

The package reads ``CF_*``, ``AI_GATEWAY`` and ``BASE_URL`` from the environment; every test clears
them so only the arguments count. Chat answers come from the emulator's stand-in model: the tests
check what the package parsed out of Cloudflare's wire shapes (text, usage, tool calls), and the
tests named ``test_limitation_*`` pin down where the package itself does not handle a documented
Cloudflare shape (the emulator is not bent to suit it).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import requests
from langchain_cloudflare import (
    ChatCloudflareWorkersAI,
    CloudflareVectorize,
    CloudflareWorkersAIEmbeddings,
)
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

if TYPE_CHECKING:
    from conftest import Loopback

ACCOUNT = "acc-compat"
LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct"
LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"  # flat native tool calls
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"  # OpenAI-style native tool calls
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
EMBED_DIMS = 384
CONTEXT = [SystemMessage("The lighthouse on Vela Island is painted cobalt blue."),
           HumanMessage("What colour is the lighthouse on Vela Island?")]
WEATHER_QUESTION = 'What is the weather in "Lisbon"?'
_ENV = ("CF_ACCOUNT_ID", "CF_AI_API_TOKEN", "CF_API_TOKEN", "CF_VECTORIZE_API_TOKEN", "CF_D1_DATABASE_ID",
        "CF_D1_API_TOKEN", "AI_GATEWAY", "BASE_URL")


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny and 24 C in {city}."


@pytest.fixture(autouse=True)
def _no_package_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


def chat_model(loopback: Loopback, model: str = LLAMA_8B) -> ChatCloudflareWorkersAI:
    return ChatCloudflareWorkersAI(model=model, account_id=ACCOUNT, api_token=loopback.token,
                                   base_url=loopback.base_url)


def _raw_run(loopback: Loopback, model: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{loopback.base_url}/accounts/{ACCOUNT}/ai/run/{model}", json=body,
                      headers={"authorization": f"Bearer {loopback.token}"})


class _ChunkInfo(BaseCallbackHandler):
    """Collects each streamed chunk's generation_info (where the package puts streamed usage)."""

    def __init__(self) -> None:
        self.infos: list[dict[str, Any] | None] = []

    def on_llm_new_token(self, token: str, *, chunk: Any = None, **kwargs: Any) -> None:
        self.infos.append(getattr(chunk, "generation_info", None))


# -- chat ------------------------------------------------------------------------------------------


def test_invoke_reads_text_and_usage(loopback: Loopback) -> None:
    """Also proves the emulator takes the ``"stop": null`` this package puts in every native body."""
    message = chat_model(loopback).invoke(CONTEXT)
    assert isinstance(message, AIMessage)
    assert "cobalt blue" in str(message.content)
    usage = message.usage_metadata
    assert usage is not None and usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    assert message.response_metadata["model_name"] == LLAMA_8B


async def test_ainvoke(loopback: Loopback) -> None:
    message = await chat_model(loopback).ainvoke(CONTEXT)
    assert "cobalt blue" in str(message.content)


def test_the_body_it_sends_is_accepted_but_a_real_stop_is_not(loopback: Loopback) -> None:
    """The package's native body carries ``temperature`` and ``stop: null`` (its ``stop`` field
    defaults to ``None``); Cloudflare accepts that (the package's live suite passes), so the emulator
    drops the null. A non-null ``stop`` is not a documented ``/ai/run`` input and stays a 5006."""
    body = {"messages": [{"role": "user", "content": "hello"}], "temperature": 0.7, "stop": None}
    assert _raw_run(loopback, LLAMA_8B, body).status_code == 200
    refused = _raw_run(loopback, LLAMA_8B, {**body, "stop": ["\n"]})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == 5006
    assert "'/stop'" in refused.json()["errors"][0]["message"]


def test_stream_text_then_usage_in_the_last_chunk(loopback: Loopback) -> None:
    seen = _ChunkInfo()
    chunks = list(chat_model(loopback).stream(CONTEXT, config={"callbacks": [seen]}))
    text = "".join(str(c.content) for c in chunks)
    assert text.startswith("[stand-in]") and "cobalt blue" in text
    usages = [info["usage"] for info in seen.infos if info and "usage" in info]
    assert len(usages) == 1  # the native stream reports usage once, in its last event
    words = sum(1 for c in chunks if str(c.content).strip())
    assert usages[0]["completion_tokens"] == words


async def test_astream(loopback: Loopback) -> None:
    chunks = [c async for c in chat_model(loopback).astream(CONTEXT)]
    assert "cobalt blue" in "".join(str(c.content) for c in chunks)


def test_bind_tools_call_and_result_round_trip(loopback: Loopback) -> None:
    """Stand-in model (it calls the tool the question names). Llama 3.3 answers flat native tool
    calls; the package parses them, and its follow-up (the call mirrored into assistant content plus
    an OpenAI ``tool_calls`` array, then a ``tool`` message) is accepted and answered."""
    bound = chat_model(loopback, LLAMA_70B).bind_tools([get_weather])
    first = bound.invoke(WEATHER_QUESTION)
    assert isinstance(first, AIMessage)
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [("get_weather", {"city": "Lisbon"})]
    call = first.tool_calls[0]
    result = ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"] or "", name=call["name"])
    second = bound.invoke([HumanMessage(WEATHER_QUESTION), first, result])
    assert second.tool_calls == []
    assert "Sunny and 24 C in Lisbon" in str(second.content)


def test_forced_tool_choice(loopback: Loopback) -> None:
    bound = chat_model(loopback, LLAMA_70B).bind_tools([get_weather], tool_choice="get_weather")
    message = bound.invoke("Tell me something about Porto.")
    assert isinstance(message, AIMessage)
    assert [c["name"] for c in message.tool_calls] == ["get_weather"]


def test_limitation_openai_style_native_tool_calls_are_dropped(loopback: Loopback) -> None:
    """Package limitation: Llama 4 Scout's native ``/ai/run`` tool calls have Cloudflare's documented
    OpenAI shape (``{"id", "type": "function", "function": {"name", "arguments"}}`` at
    ``result.tool_calls``). The package only reads the flat ``{"name", "arguments"}`` shape there,
    so the call is lost: no tool_calls and empty content."""
    raw = _raw_run(loopback, SCOUT, {"messages": [{"role": "user", "content": WEATHER_QUESTION}], "tools": [
        {"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]})
    wire_call = raw.json()["result"]["tool_calls"][0]
    assert wire_call["function"] == {"name": "get_weather", "arguments": {"city": "Lisbon"}}
    message = chat_model(loopback, SCOUT).bind_tools([get_weather]).invoke(WEATHER_QUESTION)
    assert isinstance(message, AIMessage)
    assert message.tool_calls == [] and message.content == ""


def test_limitation_streamed_tool_calls_are_dropped(loopback: Loopback) -> None:
    """Package limitation: a native stream sends tool calls as top-level ``{"tool_calls": [...]}``
    events (Cloudflare's documented stream shape, whole calls or argument fragments). The package's
    stream parser only reads events with ``response``, ``choices`` or ``streamed_data``, so a
    streamed tool call never reaches the chunks."""
    body = {"stream": True, "messages": [{"role": "user", "content": WEATHER_QUESTION}], "tools": [
        {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}}}}]}
    events = [line.removeprefix("data: ") for line in _raw_run(loopback, LLAMA_70B, body).text.splitlines()
              if line.startswith("data: {")]
    assert json.loads(events[0])["tool_calls"][0]["function"]["name"] == "get_weather"
    chunks = list(chat_model(loopback, LLAMA_70B).bind_tools([get_weather]).stream(WEATHER_QUESTION))
    assert chunks and all(not c.tool_call_chunks and not c.tool_calls for c in chunks)


def test_limitation_mistral_follow_up_with_invented_tool_call_id(loopback: Loopback) -> None:
    """Package limitation (wire fact UNCONFIRMED live): flat native tool calls carry no id, so the
    package invents a uuid4 for each. Cloudflare's model schema for Mistral Small 3.1 requires a
    ``tool_call_id`` of nine alphanumerics, which the emulator enforces, so sending the tool result
    back is refused (400, 5006)."""
    bound = chat_model(loopback, MISTRAL).bind_tools([get_weather])
    first = bound.invoke(WEATHER_QUESTION)
    assert isinstance(first, AIMessage)
    call = first.tool_calls[0]
    assert call["name"] == "get_weather" and len(call["id"] or "") == 36  # a uuid4 made up by the package
    result = ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"] or "", name=call["name"])
    with pytest.raises(httpx.HTTPStatusError) as refused:
        bound.invoke([HumanMessage(WEATHER_QUESTION), first, result])
    assert refused.value.response.status_code == 400
    assert "tool_call_id" in refused.value.response.json()["errors"][0]["message"]


# -- embeddings ------------------------------------------------------------------------------------


@pytest.fixture
def embeddings(loopback: Loopback) -> CloudflareWorkersAIEmbeddings:
    return CloudflareWorkersAIEmbeddings(account_id=ACCOUNT, api_token=loopback.token, model_name=EMBED_MODEL,
                                         api_base_url=loopback.accounts_url, batch_size=2)


def test_embed_documents_in_batches_and_query(embeddings: CloudflareWorkersAIEmbeddings) -> None:
    texts = ["cats sleep on warm\nwindowsills", "bond yields rose", "a cat on a windowsill"]
    vectors = embeddings.embed_documents(texts)  # batch_size=2: two requests
    assert [len(v) for v in vectors] == [EMBED_DIMS] * 3
    # newlines are replaced by spaces before sending (strip_new_lines), so the same text embeds the same
    assert embeddings.embed_query("cats sleep on warm windowsills") == pytest.approx(vectors[0], abs=1e-6)
    assert embeddings.embed_query("bond yields rose") == pytest.approx(vectors[1], abs=1e-6)


async def test_async_embeddings(embeddings: CloudflareWorkersAIEmbeddings) -> None:
    vectors = await embeddings.aembed_documents(["one", "two words", "three more words"])
    assert [len(v) for v in vectors] == [EMBED_DIMS] * 3
    query = await embeddings.aembed_query("two words")
    assert query == pytest.approx(vectors[1], abs=1e-6)


# -- Vectorize -------------------------------------------------------------------------------------


@pytest.fixture
def store(loopback: Loopback, embeddings: CloudflareWorkersAIEmbeddings) -> Iterator[CloudflareVectorize]:
    """No D1: ``d1_database_id`` stays empty, so the package skips every D1 call (its ``include_d1``
    steps run only with a D1 database or binding). ``default_wait_seconds=0`` makes its mutation
    polling (``wait=True``) poll at once instead of sleeping 5 s first."""
    name = f"lc-{uuid.uuid4().hex[:8]}"
    created = requests.post(f"{loopback.base_url}/accounts/{ACCOUNT}/vectorize/v2/indexes",
                            headers={"authorization": f"Bearer {loopback.token}"},
                            json={"name": name, "config": {"dimensions": EMBED_DIMS, "metric": "cosine"}})
    assert created.status_code == 201
    vs = CloudflareVectorize(embedding=embeddings, account_id=ACCOUNT, api_token=loopback.token,
                             base_url=loopback.base_url, index_name=name, default_wait_seconds=0)
    yield vs
    vs.delete_index()


def test_limitation_create_index_expects_404_for_a_missing_index(
        loopback: Loopback, embeddings: CloudflareWorkersAIEmbeddings) -> None:
    """Package limitation: ``create_index`` first GETs the index and only treats 404/410 as "does not
    exist". Vectorize answers a missing index with HTTP 400, code 3000
    (``vectorize.index.not_found``; 400 is what the live API has been observed to return, see the
    reference section 6.7), so the package re-raises instead of creating the index. ``from_texts``
    goes through the same path. Workaround: create the index another way (the tests do a REST call)."""
    vs = CloudflareVectorize(embedding=embeddings, account_id=ACCOUNT, api_token=loopback.token,
                             base_url=loopback.base_url)
    name = f"lc-{uuid.uuid4().hex[:8]}"
    with pytest.raises(requests.HTTPError) as missing:
        vs.create_index(dimensions=EMBED_DIMS, index_name=name)
    assert missing.value.response.status_code == 400
    assert missing.value.response.json()["errors"][0]["code"] == 3000
    assert missing.value.request.method == "GET"  # it never got as far as the POST


def test_add_search_get_delete(store: CloudflareVectorize) -> None:
    """Package limitations: without D1 the page text is not stored anywhere (the package keeps text
    only in D1), so documents come back with ``page_content == ""``; ids, metadata and scores
    round-trip. And with ``return_metadata="all"`` (the sync default) or ``return_values`` the package
    sends ``topK: 20`` whatever ``k`` is, so ``k`` only counts with ``return_metadata="none"``/``"indexed"``."""
    store.create_metadata_index("topic", "string", wait=True)
    assert store.list_metadata_indexes() == [{"propertyName": "topic", "indexType": "string"}]
    docs = [Document("The lighthouse on Vela Island is painted cobalt blue.", metadata={"topic": "island"}, id="d1"),
            Document("Bond yields rose sharply on Tuesday.", metadata={"topic": "finance"}, id="d2"),
            Document("Vela Island has a ferry every hour.", metadata={"topic": "island"}, id="d3")]
    assert store.add_documents(docs, wait=True) == ["d1", "d2", "d3"]
    info = store.get_index_info()
    assert info["vectorCount"] == 3 and info["dimensions"] == EMBED_DIMS and info["processedUpToMutation"]

    scored = store.similarity_search_with_score("What colour is the lighthouse on Vela Island?", k=2)
    assert [d.id for d, _ in scored] == ["d1", "d3", "d2"]  # k=2 ignored: topK 20 was sent
    assert scored[0][1] > scored[1][1] > scored[2][1]
    assert scored[0][0].metadata == {"topic": "island"} and scored[0][0].page_content == ""
    top_two = store.similarity_search("What colour is the lighthouse on Vela Island?", k=2, return_metadata="indexed")
    assert [(d.id, d.metadata) for d in top_two] == [("d1", {"topic": "island"}), ("d3", {"topic": "island"})]
    filtered = store.similarity_search("Vela Island", k=5, md_filter={"topic": "finance"})
    assert [d.id for d in filtered] == ["d2"]
    got = store.get_by_ids(["d2"])
    assert [(d.id, d.metadata["topic"], len(d.metadata["_values"])) for d in got] == [("d2", "finance", EMBED_DIMS)]

    assert store.delete(["d1"], wait=True) is True
    assert [d.id for d in store.similarity_search("lighthouse Vela Island", k=5)] == ["d3", "d2"]
    assert store.get_index_info()["vectorCount"] == 2


async def test_async_add_and_search(store: CloudflareVectorize) -> None:
    ids = await store.aadd_texts(["Quokka biscuits are baked with oats.", "Trams run every twelve minutes."],
                                 metadatas=[{"kind": "food"}, {"kind": "transport"}], ids=["q", "t"], wait=True)
    assert ids == ["q", "t"]
    found = await store.asimilarity_search("oats biscuits", k=1)  # async default: return_metadata="none"
    assert [(d.id, d.metadata) for d in found] == [("q", {})]
    with_metadata = await store.asimilarity_search("oats biscuits", k=1, return_metadata="all")
    assert [(d.id, d.metadata) for d in with_metadata] == [("q", {"kind": "food"}), ("t", {"kind": "transport"})]
