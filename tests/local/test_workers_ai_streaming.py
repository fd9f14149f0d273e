"""SSE streaming on ``/ai/run`` and ``/ai/v1/chat/completions``, over the loopback server and the
in-process transport: framing, ``[DONE]``, the usage event, tool-call chunk shapes."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cf_core.local.pytest_plugin import TEST_TOKEN
from cf_core.local.server import RunningServer

LLAMA31 = "@cf/meta/llama-3.1-8b-instruct"
LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
FACTS = "The Nile is the longest river in Africa. Rust is a systems programming language. Owls hunt at night."
QUESTION = [{"role": "system", "content": FACTS}, {"role": "user", "content": "When do owls hunt?"}]
WEATHER = {"name": "get_weather", "description": "Weather for a city", "parameters": {
    "type": "object", "properties": {"city": {"type": "string", "description": "City"}}, "required": ["city"]}}


def frames(raw: str) -> list[str]:
    """Split an SSE body into its ``data:`` payloads, checking the framing on the way."""
    assert raw.endswith("\n\n")
    blocks = raw[:-2].split("\n\n")
    out = []
    for block in blocks:
        assert block.startswith("data: "), block
        assert "\n" not in block
        out.append(block[len("data: "):])
    return out


def native_events(raw: str) -> list[dict[str, Any]]:
    payloads = frames(raw)
    assert payloads[-1] == "[DONE]"
    assert payloads.count("[DONE]") == 1
    return [json.loads(p) for p in payloads[:-1]]


def test_native_stream_over_loopback(emu_server: RunningServer) -> None:
    headers = {"authorization": f"Bearer {TEST_TOKEN}"}
    body = {"messages": QUESTION, "stream": True}
    with httpx.Client(base_url=emu_server.base_url, headers=headers) as client:
        plain = client.post(f"/accounts/acc-test/ai/run/{LLAMA31}", json={"messages": QUESTION}).json()["result"]
        chunks: list[str] = []
        with client.stream("POST", f"/accounts/acc-test/ai/run/{LLAMA31}", json=body) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            for chunk in resp.iter_text():
                chunks.append(chunk)
    events = native_events("".join(chunks))
    *tokens, last = events
    assert all(set(e) == {"response", "p"} for e in tokens)
    assert all(isinstance(e["p"], str) and e["p"] for e in tokens)
    text = "".join(e["response"] for e in tokens)
    assert text == plain["response"]
    assert "Owls hunt at night." in text
    assert last == {"response": "", "usage": plain["usage"]}
    assert last["usage"]["completion_tokens"] == len(tokens)


def test_native_stream_obeys_max_tokens(emu_client: httpx.Client) -> None:
    resp = emu_client.post(f"/accounts/acc-test/ai/run/{LLAMA31}",
                           json={"messages": QUESTION, "stream": True, "max_tokens": 2})
    events = native_events(resp.text)
    assert len(events) == 3
    assert events[-1]["usage"]["completion_tokens"] == 2


def test_flat_style_tool_call_stream(emu_client: httpx.Client) -> None:
    resp = emu_client.post(f"/accounts/acc-test/ai/run/{LLAMA33}", json={
        "messages": [{"role": "user", "content": "weather in Quito?"}], "tools": [WEATHER], "stream": True})
    events = native_events(resp.text)
    calls = [e for e in events if "tool_calls" in e]
    assert len(calls) == 1
    [call] = calls[0]["tool_calls"]
    assert call["index"] == 0 and call["type"] == "function" and call["id"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Quito"}
    assert {"response": "", "finish_reason": "tool_calls"} in events
    assert "usage" in events[-1]


def test_openai_style_tool_call_stream_in_fragments(emu_client: httpx.Client) -> None:
    resp = emu_client.post(f"/accounts/acc-test/ai/run/{SCOUT}", json={
        "messages": [{"role": "user", "content": "weather in Quito and in Lima?"}],
        "tools": [WEATHER], "stream": True})
    events = native_events(resp.text)
    first = [e["tool_calls"][0] for e in events if "tool_calls" in e and "id" in e["tool_calls"][0]]
    assert [f["function"]["name"] for f in first] == ["get_weather"]
    arguments: dict[int, str] = {}
    fragments = 0
    for e in events:
        for part in e.get("tool_calls", []):
            arguments[part["index"]] = arguments.get(part["index"], "") + part["function"].get("arguments", "")
            fragments += 1
    assert fragments > 2  # the arguments really arrive in pieces
    assert json.loads(arguments[0]) == {"city": "Quito"}
    assert events[-2] == {"response": "", "finish_reason": "tool_calls"}


def test_text_style_tool_call_streams_as_text(emu_client: httpx.Client) -> None:
    resp = emu_client.post(f"/accounts/acc-test/ai/run/{LLAMA31}", json={
        "messages": [{"role": "user", "content": "weather in Quito?"}], "tools": [WEATHER], "stream": True})
    events = native_events(resp.text)
    text = "".join(e.get("response", "") for e in events)
    assert json.loads(text) == {"name": "get_weather", "parameters": {"city": "Quito"}}
    assert events[-1]["usage"]["completion_tokens"] == len(events) - 1


def openai_chunks(raw: str) -> list[dict[str, Any]]:
    payloads = frames(raw)
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


@pytest.mark.parametrize("include_usage", [True, False])
def test_openai_stream_over_loopback(emu_server: RunningServer, include_usage: bool) -> None:
    headers = {"authorization": f"Bearer {TEST_TOKEN}"}
    body: dict[str, Any] = {"model": LLAMA31, "messages": QUESTION, "stream": True}
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    with httpx.Client(base_url=emu_server.base_url, headers=headers) as client:
        resp = client.post("/accounts/acc-test/ai/v1/chat/completions", json=body)
    assert resp.headers["content-type"].startswith("text/event-stream")
    chunks = openai_chunks(resp.text)
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == LLAMA31 for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    with_choices = [c for c in chunks if c["choices"]]
    assert with_choices[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in with_choices)
    assert "Owls hunt at night." in text
    assert with_choices[-1]["choices"][0]["finish_reason"] == "stop"
    usage_chunks = [c for c in chunks if not c["choices"]]
    if include_usage:
        [usage] = usage_chunks
        assert usage["usage"]["completion_tokens"] == len(text.split())
        assert chunks[-1] is usage
    else:
        assert usage_chunks == []


def test_openai_stream_tool_calls(emu_client: httpx.Client) -> None:
    resp = emu_client.post("/accounts/acc-test/ai/v1/chat/completions", json={
        "model": LLAMA33, "stream": True, "messages": [{"role": "user", "content": "weather in Quito?"}],
        "tools": [{"type": "function", "function": WEATHER}]})
    chunks = openai_chunks(resp.text)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    parts = [tc for d in deltas for tc in d.get("tool_calls", [])]
    assert parts[0]["id"] and parts[0]["function"]["name"] == "get_weather"
    arguments = "".join(p["function"].get("arguments", "") for p in parts)
    assert json.loads(arguments) == {"city": "Quito"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_async_client_stream(emu_aclient: httpx.AsyncClient) -> None:
    async with emu_aclient.stream("POST", f"/accounts/acc-test/ai/run/{LLAMA31}",
                                  json={"messages": QUESTION, "stream": True}) as resp:
        body = "".join([chunk async for chunk in resp.aiter_text()])
    events = native_events(body)
    assert "usage" in events[-1]
