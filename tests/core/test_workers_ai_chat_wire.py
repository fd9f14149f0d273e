"""Chat over the wire against the in-process emulator, sync and async: prompt and messages, every
catalog tool-call style, JSON mode, streaming, client-side stop, vision.

The emulator's chat model is a deterministic rule-based stand-in. These tests check what was sent and
that what came back was parsed faithfully (often by comparing with the raw ``run`` answer to the same
body), never the quality of an answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.workers_ai import ChatChunk
from tests.support import tool_calls_of

LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct"
LLAMA_3B = "@cf/meta/llama-3.2-3b-instruct"
LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
HERMES = "@hf/nousresearch/hermes-2-pro-mistral-7b"
VISION_11B = "@cf/meta/llama-3.2-11b-vision-instruct"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}},
                   "required": ["city"]}}}
ASK = [{"role": "system", "content": "Be brief."},
       {"role": "user", "content": "What is the weather in London today?"}]
CONTEXT = ("Cloudflare Workers AI runs models on a global network. The Eiffel Tower is in Paris. "
           "Which city has the Eiffel Tower?")
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
          "required": ["city", "population"]}
# (model, catalog tool style, id pattern) -- one model per style the catalog knows
TOOL_MODELS = [(LLAMA_70B, "flat"), (HERMES, "flat"), (MISTRAL, "flat"), (SCOUT, "openai"), (LLAMA_3B, "text")]


def joined(chunks: list[ChatChunk]) -> tuple[str, dict[int, dict[str, Any]]]:
    return "".join(c.text for c in chunks), tool_calls_of(chunks)


def test_chat_prompt_parses_the_answer_that_was_sent(rclient: CloudflareClient, recorder: Any) -> None:
    result = rclient.workers_ai.chat(LLAMA_8B, prompt=CONTEXT, temperature=0, max_tokens=64)
    sent = recorder.last
    assert sent.method == "POST"
    assert sent.url.path == f"/client/v4/accounts/local-account/ai/run/{LLAMA_8B}"
    assert sent.json() == {"prompt": CONTEXT, "temperature": 0, "max_tokens": 64}
    raw = rclient.workers_ai.run(LLAMA_8B, {"prompt": CONTEXT, "temperature": 0, "max_tokens": 64})
    assert result.text == raw["response"] and result.text
    assert result.usage is not None
    assert result.usage.prompt_tokens == raw["usage"]["prompt_tokens"]
    assert result.usage.completion_tokens == raw["usage"]["completion_tokens"]
    assert result.usage.neurons is not None and result.usage.neurons > 0
    assert result.finish_reason == "stop" and result.model == LLAMA_8B and result.gateway is None


def test_chat_messages(rclient: CloudflareClient, recorder: Any) -> None:
    msgs = [{"role": "system", "content": CONTEXT.rsplit(".", 1)[0] + "."},
            {"role": "user", "content": [{"type": "text", "text": "Which city has the Eiffel Tower?"}]}]
    result = rclient.workers_ai.chat(LLAMA_8B, msgs)
    assert recorder.last.json()["messages"][1] == {"role": "user", "content": "Which city has the Eiffel Tower?"}
    assert result.text == rclient.workers_ai.run(LLAMA_8B, recorder.last.json())["response"]


async def test_chat_async_matches_sync(client: CloudflareClient, aclient: AsyncCloudflareClient) -> None:
    sync = client.workers_ai.chat(LLAMA_8B, prompt=CONTEXT)
    result = await aclient.workers_ai.chat(LLAMA_8B, prompt=CONTEXT)
    assert result.text == sync.text and result.usage == sync.usage


@pytest.mark.parametrize(("model", "style"), TOOL_MODELS)
def test_tool_calls_each_catalog_style(rclient: CloudflareClient, recorder: Any, model: str, style: str) -> None:
    """The stand-in calls a tool whose name the question mentions; we check the wire shape it used
    for this model's style and that the core turned it into the same ToolCall."""
    result = rclient.workers_ai.chat(model, ASK, tools=[WEATHER])
    assert recorder.last.json()["tools"] == [WEATHER]
    raw = result.raw
    if style == "flat":
        assert "id" not in raw["tool_calls"][0] and isinstance(raw["tool_calls"][0]["arguments"], dict)
    elif style == "openai":
        assert raw["tool_calls"][0]["function"]["name"] == "get_weather" and raw["tool_calls"][0]["id"]
    else:
        assert raw["tool_calls"] == [] and json.loads(raw["response"])["name"] == "get_weather"
    assert len(result.tool_calls) == 1
    call = result.tool_calls[0]
    assert call.name == "get_weather" and isinstance(call.arguments, dict) and isinstance(call.arguments["city"], str)
    assert call.id
    if model == MISTRAL:
        assert re.fullmatch(r"[a-zA-Z0-9]{9}", call.id)
    assert result.finish_reason == "tool_calls" and result.text == ""


@pytest.mark.parametrize(("model", "style"), TOOL_MODELS)
def test_tool_round_trip_is_accepted(rclient: CloudflareClient, recorder: Any, model: str, style: str) -> None:
    """Sending the call and its result back: OpenAI-shaped assistant turn, string result with id and name.
    For Mistral the emulator validates the 9-alphanumeric id pattern, so an unfixed id would fail. The
    last check leans on the stand-in quoting tool results: it proves the result reached the model."""
    first = rclient.workers_ai.chat(model, ASK, tools=[WEATHER])
    call = first.tool_calls[0]
    original_id = "call_0001-xyz"  # as another provider (or LangChain) might have named it
    convo = [*ASK, {"role": "assistant", "content": None, "tool_calls": [
        {"id": original_id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}]},
        {"role": "tool", "tool_call_id": original_id, "content": {"temp_c": 14, "sky": "clear"}}]
    second = rclient.workers_ai.chat(model, convo, tools=[WEATHER])
    sent = recorder.last.json()["messages"]
    assistant, tool = sent[2], sent[3]
    assert isinstance(assistant["content"], str)
    assert isinstance(assistant["tool_calls"][0]["function"]["arguments"], str)
    assert json.loads(assistant["tool_calls"][0]["function"]["arguments"]) == call.arguments
    assert tool["tool_call_id"] == assistant["tool_calls"][0]["id"]
    assert tool["name"] == "get_weather" and json.loads(tool["content"]) == {"temp_c": 14, "sky": "clear"}
    if model == MISTRAL:
        assert re.fullmatch(r"[a-zA-Z0-9]{9}", tool["tool_call_id"])
    else:
        assert tool["tool_call_id"] == original_id
    assert second.tool_calls == [] and "14" in second.text  # the stand-in quotes tool results


@pytest.mark.parametrize(("model", "param"), [(LLAMA_70B, "response_format"), (MISTRAL, "guided_json")])
def test_json_mode_sends_the_models_parameter(rclient: CloudflareClient, recorder: Any, model: str,
                                              param: str) -> None:
    """The stand-in fills the schema; what is tested is the parameter sent and that ``json`` is the
    parsed answer text."""
    result = rclient.workers_ai.chat(model, [{"role": "user", "content": "Paris has 2100000 people."}],
                                     json_schema=SCHEMA)
    sent = recorder.last.json()
    if param == "response_format":
        assert sent["response_format"] == {"type": "json_schema", "json_schema": SCHEMA}
        assert "guided_json" not in sent
    else:
        assert sent["guided_json"] == SCHEMA and "response_format" not in sent
    assert isinstance(result.json, dict) and set(SCHEMA["required"]) <= set(result.json)
    assert isinstance(result.json["population"], int)
    assert json.loads(result.text) == result.json


async def test_json_mode_async(raclient: AsyncCloudflareClient, recorder: Any) -> None:
    result = await raclient.workers_ai.chat(LLAMA_70B, prompt="Give me JSON", json_mode=True)
    assert recorder.last.json()["response_format"] == {"type": "json_object"}
    assert isinstance(result.json, dict)


def test_stream_matches_the_non_streamed_answer(rclient: CloudflareClient, recorder: Any) -> None:
    whole = rclient.workers_ai.chat(LLAMA_8B, prompt=CONTEXT)
    chunks = list(rclient.workers_ai.stream_chat(LLAMA_8B, prompt=CONTEXT))
    assert recorder.last.json() == {"prompt": CONTEXT, "stream": True}
    text, calls = joined(chunks)
    assert text == whole.text and calls == {}
    assert len(chunks) > 2
    usages = [c.usage for c in chunks if c.usage is not None]
    assert usages == [whole.usage]
    assert chunks[-1].finish_reason == "stop"


async def test_stream_async(raclient: AsyncCloudflareClient, aclient: AsyncCloudflareClient) -> None:
    whole = await aclient.workers_ai.chat(LLAMA_8B, prompt=CONTEXT)
    chunks = [c async for c in raclient.workers_ai.stream_chat(LLAMA_8B, prompt=CONTEXT)]
    assert joined(chunks)[0] == whole.text
    assert sum(1 for c in chunks if c.usage is not None) == 1


@pytest.mark.parametrize(("model", "style"), TOOL_MODELS)
def test_stream_tool_calls_each_style(client: CloudflareClient, model: str, style: str) -> None:
    """Streamed tool calls (fragments per index, whole calls, or JSON text) join into the same call
    the non-streaming answer gives."""
    whole = client.workers_ai.chat(model, ASK, tools=[WEATHER])
    chunks = list(client.workers_ai.stream_chat(model, ASK, tools=[WEATHER]))
    text, calls = joined(chunks)
    assert text == ""
    assert [c["name"] for c in calls.values()] == ["get_weather"]
    assert json.loads(calls[0]["arguments"]) == whole.tool_calls[0].arguments
    assert calls[0]["id"]
    if model == MISTRAL:
        assert re.fullmatch(r"[a-zA-Z0-9]{9}", calls[0]["id"])
    assert chunks[-1].finish_reason == "tool_calls"


async def test_stream_tool_calls_async(aclient: AsyncCloudflareClient) -> None:
    chunks = [c async for c in aclient.workers_ai.stream_chat(SCOUT, ASK, tools=[WEATHER])]
    assert [c["name"] for c in joined(chunks)[1].values()] == ["get_weather"]


def test_stream_with_json_mode_makes_one_plain_call(rclient: CloudflareClient, recorder: Any) -> None:
    """The emulator answers 5006 to stream + JSON mode, as JSON mode cannot stream: no stream flag is sent."""
    chunks = list(rclient.workers_ai.stream_chat(LLAMA_70B, prompt="Paris has 2100000 people.", json_schema=SCHEMA))
    assert "stream" not in recorder.last.json()
    assert set(json.loads(joined(chunks)[0])) >= {"city", "population"}
    assert sum(1 for c in chunks if c.usage is not None) == 1


def test_stop_applied_client_side(rclient: CloudflareClient, recorder: Any) -> None:
    whole = rclient.workers_ai.chat(LLAMA_8B, prompt=CONTEXT).text
    words = whole.split()
    stop = words[len(words) // 2]
    expected = whole[: whole.find(stop)]
    result = rclient.workers_ai.chat(LLAMA_8B, prompt=CONTEXT, stop=[stop])
    assert "stop" not in recorder.last.json()
    assert result.text == expected and result.finish_reason == "stop"
    streamed = list(rclient.workers_ai.stream_chat(LLAMA_8B, prompt=CONTEXT, stop=stop))
    assert joined(streamed)[0] == expected
    assert sum(1 for c in streamed if c.usage is not None) == 1


def test_vision_content_parts_and_image_field(rclient: CloudflareClient, recorder: Any) -> None:
    """Both vision input forms are accepted by the emulator's per-model schema (5006 otherwise)."""
    rclient.workers_ai.chat(SCOUT, prompt="What is in this picture?", image=PNG)
    parts = recorder.last.json()["messages"][0]["content"]
    assert parts[1]["type"] == "image_url" and parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    rclient.workers_ai.chat(VISION_11B, prompt="What is in this picture?", image=PNG)
    assert recorder.last.json()["image"] == list(PNG)


def test_stream_text_answer_with_tools_is_not_held_back(client: CloudflareClient) -> None:
    """With tools sent, a text-style model's answer that is not a JSON call still streams piece by piece."""
    chunks = list(client.workers_ai.stream_chat(LLAMA_3B, [{"role": "user", "content": CONTEXT}], tools=[WEATHER]))
    text, calls = joined(chunks)
    assert calls == {} and text == client.workers_ai.chat(LLAMA_3B, [{"role": "user", "content": CONTEXT}],
                                                           tools=[WEATHER]).text
    assert sum(1 for c in chunks if c.text) > 3
