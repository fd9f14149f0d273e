"""``/ai/v1/chat/completions``: plain OpenAI bodies on success, Cloudflare envelopes on errors."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jsonschema

LLAMA31 = "@cf/meta/llama-3.1-8b-instruct"
LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
LLAMA3B = "@cf/meta/llama-3.2-3b-instruct"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
FACTS = "Saturn has prominent rings. Mercury is closest to the Sun. Jupiter is the largest planet."
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def chat(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post("/accounts/acc-test/ai/v1/chat/completions", json=body)


def test_plain_completion_shape(emu_client: httpx.Client) -> None:
    resp = chat(emu_client, {"model": LLAMA31, "messages": [
        {"role": "system", "content": FACTS}, {"role": "user", "content": "Which planet is the largest?"}]})
    assert resp.status_code == 200
    body = resp.json()
    assert "result" not in body and "success" not in body
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == LLAMA31 and isinstance(body["created"], int)
    [choice] = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop" and choice["logprobs"] is None
    message = choice["message"]
    assert message["role"] == "assistant" and message["tool_calls"] == []
    assert "Jupiter is the largest planet." in message["content"]
    usage = body["usage"]
    assert usage["completion_tokens"] == len(message["content"].split())
    assert usage["prompt_tokens"] == len(FACTS.split()) + 5
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_stop_and_max_completion_tokens(emu_client: httpx.Client) -> None:
    base = {"model": LLAMA31, "messages": [{"role": "system", "content": FACTS},
                                           {"role": "user", "content": "Which planet is the largest?"}]}
    stopped = chat(emu_client, {**base, "stop": ["largest"]}).json()["choices"][0]
    assert stopped["message"]["content"] == "[stand-in] Jupiter is the"
    assert stopped["finish_reason"] == "stop"
    cut = chat(emu_client, {**base, "max_completion_tokens": 2}).json()
    assert cut["choices"][0]["message"]["content"] == "[stand-in] Jupiter"
    assert cut["choices"][0]["finish_reason"] == "length"
    assert cut["usage"]["completion_tokens"] == 2
    assert chat(emu_client, {**base, "max_tokens": 2}).json()["usage"]["completion_tokens"] == 2


def test_text_content_parts_work_for_any_model(emu_client: httpx.Client) -> None:
    resp = chat(emu_client, {"model": LLAMA31, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Which planet has rings?"}]},
    ]})
    assert resp.status_code == 200


def test_image_parts_only_for_vision_models(emu_client: httpx.Client) -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(8)).decode()
    messages = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                             {"type": "image_url", "image_url": {"url": uri}}]}]
    ok = chat(emu_client, {"model": SCOUT, "messages": messages})
    assert "PNG data of 16 bytes" in ok.json()["choices"][0]["message"]["content"]
    bad = chat(emu_client, {"model": LLAMA31, "messages": messages})
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == 5006
    assert "'/messages/0/content/1/type'" in bad.json()["errors"][0]["message"]


def test_tool_calls_have_string_arguments(emu_client: httpx.Client) -> None:
    for model in (LLAMA33, SCOUT, LLAMA31):
        body = chat(emu_client, {"model": model, "tools": [WEATHER],
                                 "messages": [{"role": "user", "content": "weather in Accra?"}]}).json()
        choice = body["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        assert choice["message"]["content"] is None
        [call] = choice["message"]["tool_calls"]
        assert call["type"] == "function" and call["id"]
        assert json.loads(call["function"]["arguments"]) == {"city": "Accra"}


def test_tool_result_round_trip(emu_client: httpx.Client) -> None:
    first = chat(emu_client, {"model": LLAMA33, "tools": [WEATHER],
                              "messages": [{"role": "user", "content": "weather in Accra?"}]}).json()
    call = first["choices"][0]["message"]["tool_calls"][0]
    second = chat(emu_client, {"model": LLAMA33, "tools": [WEATHER], "messages": [
        {"role": "user", "content": "weather in Accra?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "31 C and humid"}]}).json()
    choice = second["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "31 C and humid" in choice["message"]["content"]


def test_tool_choice_forms(emu_client: httpx.Client) -> None:
    base = {"model": LLAMA33, "tools": [WEATHER], "messages": [{"role": "user", "content": "Is Accra hot?"}]}
    assert chat(emu_client, base).json()["choices"][0]["message"]["tool_calls"] == []
    required = chat(emu_client, {**base, "tool_choice": "required"}).json()["choices"][0]["message"]
    assert required["tool_calls"][0]["function"]["name"] == "get_weather"
    named = chat(emu_client, {**base, "tool_choice": {"type": "function", "function": {"name": "get_weather"}}})
    assert named.json()["choices"][0]["finish_reason"] == "tool_calls"
    none = chat(emu_client, {**base, "messages": [{"role": "user", "content": "weather in Accra?"}],
                             "tool_choice": "none"})
    assert none.json()["choices"][0]["message"]["tool_calls"] == []


def test_response_format_with_openai_wrapper(emu_client: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"planet": {"type": "string"}, "moons": {"type": "integer"}},
              "required": ["planet", "moons"], "additionalProperties": False}
    for model in (LLAMA33, MISTRAL):
        body = chat(emu_client, {"model": model, "messages": [{"role": "user", "content": "Mars has 2 moons"}],
                                 "response_format": {"type": "json_schema", "json_schema": {
                                     "name": "planet", "schema": schema, "strict": True}}}).json()
        value = json.loads(body["choices"][0]["message"]["content"])
        jsonschema.validate(value, schema)
        assert value == {"planet": "Mars", "moons": 2}
    resp = chat(emu_client, {"model": LLAMA3B, "messages": [{"role": "user", "content": "x"}],
                             "response_format": {"type": "json_object"}})
    assert resp.status_code == 400 and "'/response_format'" in resp.json()["errors"][0]["message"]
    text = chat(emu_client, {"model": LLAMA3B, "messages": [{"role": "user", "content": "x"}],
                             "response_format": {"type": "text"}})
    assert text.status_code == 200


def test_errors_use_the_v4_envelope(emu_client: httpx.Client) -> None:
    def err(body: dict[str, Any]) -> tuple[int, int, str]:
        resp = chat(emu_client, body)
        payload = resp.json()
        assert payload["success"] is False and payload["messages"] == [] and "result" in payload
        return resp.status_code, payload["errors"][0]["code"], payload["errors"][0]["message"]
    msgs = [{"role": "user", "content": "hi"}]
    assert err({"model": "@cf/meta/unknown", "messages": msgs})[:2] == (400, 5007)
    assert err({"model": "@cf/baai/bge-base-en-v1.5", "messages": msgs})[:2] == (400, 5007)
    assert err({"messages": msgs})[:2] == (400, 5006)
    status, code, message = err({"model": LLAMA31, "messages": msgs, "temperature": 9})
    assert (status, code) == (400, 5006) and "'/temperature'" in message
    status, code, message = err({"model": LLAMA31, "messages": msgs, "frobnicate": 1})
    assert "'/frobnicate'" in message
    status, code, message = err({"model": LLAMA31, "messages": msgs, "n": 2})
    assert "'/n'" in message
    status, code, message = err({"model": LLAMA31, "messages": [{"role": "wizard", "content": "hi"}]})
    assert "'/messages/0/role'" in message
    status, code, message = err({"model": LLAMA33, "messages": msgs, "stream": True,
                                 "response_format": {"type": "json_object"}})
    assert (status, code) == (400, 5006) and "stream" in message
