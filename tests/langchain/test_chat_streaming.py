"""Streaming: usage and model name on exactly one chunk, tool-call chunks with indices for both
output styles, gateway metadata, callbacks per token, sync and async."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk
from langchain_core.tools import tool

from cf_core import Gateway
from cf_langchain import ChatCloudflareWorkersAI

if TYPE_CHECKING:
    from tests.langchain.conftest import Wire

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"  # flat tool calls
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"  # OpenAI-style tool calls
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"  # flat, nine-character tool call ids
PROMPT = "The Rhine flows through Basel. Which river flows through Basel?"


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return "sunny"


@tool
def get_population(city: str) -> int:
    """Get the population of a city."""
    return 1


def chat(wire: Wire, **kwargs: Any) -> ChatCloudflareWorkersAI:
    return ChatCloudflareWorkersAI(client=wire.client, async_client=wire.aclient, **kwargs)


def merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    merged = chunks[0]
    for c in chunks[1:]:
        merged = merged + c
    return merged


@pytest.mark.parametrize("model", [LLAMA, SCOUT])
def test_text_stream_usage_and_model_name_once(wire: Wire, model: str) -> None:
    chunks = list(chat(wire, model=model).stream(PROMPT))
    assert len(chunks) > 2
    assert sum(c.usage_metadata is not None for c in chunks) == 1
    assert sum("model_name" in c.response_metadata for c in chunks) == 1
    assert sum("finish_reason" in c.response_metadata for c in chunks) == 1
    assert chunks[-1].chunk_position == "last"
    full = merge(chunks)
    assert "Rhine" in full.text
    assert full.response_metadata["model_name"] == model
    assert full.response_metadata["model_provider"] == "cloudflare"
    assert full.response_metadata["finish_reason"] == "stop"
    usage = full.usage_metadata
    assert usage is not None and all(isinstance(usage[k], int) for k in ("input_tokens", "output_tokens"))  # type: ignore[literal-required]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    (body,) = wire.bodies()
    assert body["stream"] is True


def test_stream_matches_invoke(wire: Wire) -> None:
    llm = chat(wire)
    assert merge(list(llm.stream(PROMPT))).text == llm.invoke(PROMPT).text


@pytest.mark.parametrize("model", [LLAMA, SCOUT, MISTRAL])
def test_streamed_tool_calls_have_indices_and_merge(wire: Wire, model: str) -> None:
    llm = chat(wire, model=model).bind_tools([get_weather, get_population])
    chunks = list(llm.stream("What is the weather in Oslo and the population of Oslo?"))
    pieces = [tc for c in chunks for tc in c.tool_call_chunks]
    assert {tc["index"] for tc in pieces} == {0, 1}
    assert all(isinstance(tc["index"], int) for tc in pieces)
    full = merge(chunks)
    assert [c["name"] for c in full.tool_calls] == ["get_weather", "get_population"]
    assert all(c["id"] for c in full.tool_calls)
    assert full.tool_calls[0]["args"] == {"city": "Oslo"}
    assert full.response_metadata["finish_reason"] == "tool_calls"
    assert sum(c.usage_metadata is not None for c in chunks) == 1


async def test_async_stream(wire: Wire) -> None:
    chunks = [c async for c in chat(wire, model=SCOUT).astream(PROMPT)]
    assert sum(c.usage_metadata is not None for c in chunks) == 1
    assert merge(chunks).response_metadata["model_name"] == SCOUT


async def test_async_streamed_tool_calls(wire: Wire) -> None:
    llm = chat(wire).bind_tools([get_weather], tool_choice="any")
    full = merge([c async for c in llm.astream("Weather in Rome?")])
    assert full.tool_calls[0]["name"] == "get_weather" and full.tool_calls[0]["args"] == {"city": "Rome"}


def test_callback_sees_every_token(wire: Wire) -> None:
    class Tokens(BaseCallbackHandler):
        def __init__(self) -> None:
            self.tokens: list[str] = []

        def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
            self.tokens.append(token)

    handler = Tokens()
    full = merge(list(chat(wire).stream(PROMPT, config={"callbacks": [handler]})))
    assert "".join(handler.tokens) == full.text and len(handler.tokens) > 2


def test_gateway_cache_status_and_log_id(wire: Wire) -> None:
    llm = chat(wire, ai_gateway=Gateway(id="my-gateway", cache_ttl=300))
    first, second = llm.invoke(PROMPT), llm.invoke(PROMPT)
    assert first.response_metadata["cache_status"] == "MISS"
    assert second.response_metadata["cache_status"] == "HIT"
    assert first.response_metadata["log_id"] and first.response_metadata["log_id"] != second.response_metadata["log_id"]
    assert all("/my-gateway/workers-ai/" in p for p in wire.paths())
    chunks = list(llm.stream(PROMPT))
    assert sum("log_id" in c.response_metadata for c in chunks) == 1
    assert merge(chunks).response_metadata["cache_status"] in ("MISS", "HIT")


def test_gateway_cache_ttl_header_is_sent(wire: Wire) -> None:
    chat(wire, ai_gateway=Gateway(id="gw", cache_ttl=120, skip_cache=False)).invoke(PROMPT)
    headers = wire.requests[-1].headers
    assert headers["cf-aig-cache-ttl"] == "120" and headers["cf-aig-skip-cache"] == "false"
