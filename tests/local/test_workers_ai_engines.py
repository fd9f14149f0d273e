"""Optional engines behind the same wire: a remote OpenAI-compatible chat server, MiniLM embeddings.

The remote chat engine is checked against an httpx MockTransport (what it sends, how it reads the
answer) and against a second emulator standing in for the server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np

from cf_core.local import Emulator, EmulatorTransport
from cf_core.local.pytest_plugin import TEST_TOKEN
from cf_core.local.workers_ai import WorkersAIState
from cf_core.local.workers_ai.engines.chat_remote import RemoteChatEngine
from cf_core.local.workers_ai.engines.embeddings_minilm import MiniLMEmbedder

LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
WEATHER = {"name": "get_weather", "description": "Weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string", "description": "c"}}, "required": ["city"]}}


def client_for(emulator: Emulator) -> httpx.Client:
    return httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator.local/client/v4",
                        headers={"authorization": f"Bearer {TEST_TOKEN}"})


def with_remote(handler: Any) -> tuple[Emulator, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        assert request.url.path == "/v1/chat/completions"
        response: httpx.Response = handler(request)
        return response

    emulator = Emulator(chat_engine_url="http://llm.local/v1")
    state: WorkersAIState = emulator.components["workers_ai"]
    assert isinstance(state.chat_engine, RemoteChatEngine)
    state.chat_engine.close()
    state.chat_engine = RemoteChatEngine("http://llm.local/v1", client=httpx.Client(transport=httpx.MockTransport(record)))
    return emulator, sent


def test_remote_text_answer_keeps_the_native_wire() -> None:
    emulator, sent = with_remote(lambda r: httpx.Response(200, json={
        "choices": [{"message": {"role": "assistant", "content": "Real answer here"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}))
    with client_for(emulator) as client:
        resp = client.post(f"/accounts/a/ai/run/{LLAMA33}", json={"messages": [
            {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 40,
            "temperature": 0.2})
        streamed = client.post(f"/accounts/a/ai/run/{LLAMA33}", json={"prompt": "Hi", "stream": True})
    assert resp.json()["result"] == {"response": "Real answer here", "tool_calls": [],
                                     "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}}
    assert sent[0]["model"] == LLAMA33
    assert sent[0]["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert sent[0]["max_tokens"] == 40 and sent[0]["temperature"] == 0.2 and sent[0]["stream"] is False
    assert sent[1]["max_tokens"] == 256
    assert '"response":"Real"' in streamed.text and streamed.text.endswith("data: [DONE]\n\n")


def test_remote_tool_calls_and_schema_are_translated() -> None:
    emulator, sent = with_remote(lambda r: httpx.Response(200, json={"choices": [{"message": {
        "role": "assistant", "content": None, "tool_calls": [{"id": "x", "type": "function", "function": {
            "name": "get_weather", "arguments": "{\"city\": \"Lima\"}"}}]}, "finish_reason": "tool_calls"}]}))
    with client_for(emulator) as client:
        out = client.post(f"/accounts/a/ai/run/{SCOUT}", json={
            "messages": [{"role": "user", "content": "weather in Lima?"}], "tools": [WEATHER],
            "tool_choice": "required"}).json()["result"]
    assert out["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": {"city": "Lima"}}
    assert sent[0]["tools"] == [{"type": "function", "function": WEATHER}]
    assert sent[0]["tool_choice"] == "required"
    assert out["usage"]["prompt_tokens"] > 0  # counted locally when the server reports none


def test_remote_json_mode_and_failures() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    emulator, sent = with_remote(lambda r: httpx.Response(200, json={"choices": [{"message": {
        "content": "{\"a\": 5}"}, "finish_reason": "stop"}]}))
    with client_for(emulator) as client:
        out = client.post(f"/accounts/a/ai/run/{LLAMA33}", json={
            "prompt": "a is 5", "response_format": {"type": "json_schema", "json_schema": schema}}).json()
    assert out["result"]["response"] == {"a": 5}
    assert sent[0]["response_format"] == {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
    broken, _ = with_remote(lambda r: httpx.Response(500, text="boom"))
    with client_for(broken) as client:
        resp = client.post(f"/accounts/a/ai/run/{LLAMA33}", json={"prompt": "hi"})
    assert resp.status_code == 502 and resp.json()["errors"][0]["code"] == 10002


def test_remote_engine_against_a_second_emulator() -> None:
    """The second emulator's OpenAI route plays the model server; its stand-in answers."""
    server = Emulator()
    front = Emulator(chat_engine_url="http://emulator.local/client/v4/accounts/b/ai/v1")
    state: WorkersAIState = front.components["workers_ai"]
    state.chat_engine.close()  # type: ignore[attr-defined]
    state.chat_engine = RemoteChatEngine("http://emulator.local/client/v4/accounts/b/ai/v1", client=client_for(server))
    with client_for(front) as client:
        out = client.post(f"/accounts/a/ai/run/{LLAMA33}", json={"messages": [
            {"role": "system", "content": "Basil grows in summer. Kale grows in winter."},
            {"role": "user", "content": "When does kale grow?"}]}).json()["result"]
    assert out["response"] == "[stand-in] Kale grows in winter."
    assert server.components["workers_ai"].runs == {LLAMA33: 1}


class FakeSentenceModel:
    def encode(self, texts: list[str], normalize_embeddings: bool) -> np.ndarray:
        rows = np.array([[float(len(t)), float(t.count("a")), 1.0] + [0.0] * 381 for t in texts])
        out: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return out


def test_minilm_projection_dims_and_pooling() -> None:
    engine = MiniLMEmbedder(model=FakeSentenceModel())
    native = engine.embed(["banana", "kiwi"], model="m", dim=384, pooling="mean")
    assert native.shape == (2, 384)
    wide = engine.embed(["banana", "kiwi"], model="m", dim=1024, pooling="mean")
    assert wide.shape == (2, 1024)
    assert np.allclose(np.linalg.norm(wide, axis=1), 1.0, atol=1e-5)
    cls = engine.embed(["banana"], model="m", dim=1024, pooling="cls")
    assert not np.allclose(cls[0], wide[0])
    assert np.array_equal(engine.embed(["banana"], model="m", dim=1024, pooling="cls"), cls)
