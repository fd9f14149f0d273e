"""``stream_openai_chat``: streaming on the OpenAI-compatible route, sync and async, against the emulator.

The emulator's chat model is a deterministic stand-in; each test compares the streamed chunks with the
non-streaming ``openai_chat`` answer to the same body (what the parser made of the wire), and checks
what was sent, never the quality of an answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.errors import InvalidInputError
from cf_core.workers_ai import ChatChunk
from tests.support import tool_calls_of

LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
USER = [{"role": "user", "content": "What is Cloudflare?"}]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
ASK_WEATHER = [{"role": "user", "content": "What is the weather in London today?"}]


def text_of(chunks: list[ChatChunk]) -> str:
    return "".join(c.text for c in chunks)


def test_text_stream_matches_the_single_answer(rclient: CloudflareClient, recorder: Any) -> None:
    body = {"model": LLAMA_8B, "messages": USER, "max_tokens": 64}
    chunks = list(rclient.workers_ai.stream_openai_chat(body))
    sent = recorder.last
    assert sent.url.path == "/client/v4/accounts/local-account/ai/v1/chat/completions"
    assert sent.json() == {**body, "stream": True}
    assert body == {"model": LLAMA_8B, "messages": USER, "max_tokens": 64}  # the caller's body is not changed
    once = rclient.workers_ai.openai_chat(body)
    assert len(chunks) > 2 and text_of(chunks) == once["choices"][0]["message"]["content"]
    assert chunks[-1].finish_reason == "stop" and all(c.finish_reason is None for c in chunks[:-1])
    assert all(c.usage is None for c in chunks)  # no usage without stream_options.include_usage


def test_include_usage_gives_usage_once(rclient: CloudflareClient) -> None:
    body = {"model": LLAMA_8B, "messages": USER, "stream_options": {"include_usage": True}}
    chunks = list(rclient.workers_ai.stream_openai_chat(body))
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1]
    expected = rclient.workers_ai.openai_chat(body)["usage"]
    usage = with_usage[0].usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (
        expected["prompt_tokens"], expected["completion_tokens"], expected["total_tokens"])
    assert usage.neurons is not None and usage.neurons > 0  # estimated from the catalog


def test_tool_call_deltas_are_joined(rclient: CloudflareClient) -> None:
    body = {"model": SCOUT, "messages": ASK_WEATHER, "tools": [WEATHER]}
    chunks = list(rclient.workers_ai.stream_openai_chat(body))
    once = rclient.workers_ai.openai_chat(body)["choices"][0]["message"]["tool_calls"]
    calls = tool_calls_of(chunks)
    assert len(calls) == len(once) == 1
    assert calls[0]["id"] == once[0]["id"] and calls[0]["name"] == once[0]["function"]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == json.loads(once[0]["function"]["arguments"])
    assert sum(1 for c in chunks for t in c.tool_call_chunks if t.id) == 1  # the id only on the first piece
    assert text_of(chunks) == "" and chunks[-1].finish_reason == "tool_calls"


async def test_async_twin_matches_sync(client: CloudflareClient, aclient: AsyncCloudflareClient) -> None:
    body = {"model": LLAMA_8B, "messages": USER, "stream_options": {"include_usage": True}}
    sync = list(client.workers_ai.stream_openai_chat(body))
    asyn = [c async for c in aclient.workers_ai.stream_openai_chat(body)]
    assert text_of(asyn) == text_of(sync) and text_of(sync)
    assert asyn[-1].usage == sync[-1].usage and asyn[-1].finish_reason == sync[-1].finish_reason


def test_through_a_gateway(rclient: CloudflareClient, recorder: Any) -> None:
    chunks = list(rclient.workers_ai.stream_openai_chat({"model": LLAMA_8B, "messages": USER}, gateway="gw-oas"))
    sent = recorder.last
    assert sent.url.path.endswith("/gw-oas/workers-ai/v1/chat/completions") and sent.json()["stream"] is True
    assert chunks[0].gateway is not None and chunks[0].gateway.log_id
    assert all(c.gateway is None for c in chunks[1:])
    assert text_of(chunks)


@pytest.mark.parametrize(("body", "field"), [
    ({"model": LLAMA_8B, "messages": USER, "stream": False}, "body.stream"),
    ({"model": LLAMA_8B, "messages": []}, "body.messages"),
    ({"messages": USER}, "model"),
    ("not a body", "body"),
])
def test_bad_bodies_are_refused_before_sending(rclient: CloudflareClient, recorder: Any, body: Any,
                                               field: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        rclient.workers_ai.stream_openai_chat(body)
    assert err.value.field == field and recorder.sent == []


def test_openai_chat_points_at_the_streaming_method(rclient: CloudflareClient) -> None:
    with pytest.raises(InvalidInputError, match="stream_openai_chat"):
        rclient.workers_ai.openai_chat({"model": LLAMA_8B, "messages": USER, "stream": True})


def test_one_builder_for_both_clients() -> None:
    from cf_core.workers_ai import AsyncWorkersAI, WorkersAI

    assert WorkersAI.stream_openai_chat.__wrapped__ is AsyncWorkersAI.stream_openai_chat.__wrapped__
    assert WorkersAI.stream_openai_chat.__doc__ and "stream" in WorkersAI.stream_openai_chat.__doc__
