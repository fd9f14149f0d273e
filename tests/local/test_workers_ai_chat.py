"""Text generation on ``/ai/run``: output styles, tool calling, JSON mode, usage and the stand-in's
answers. The stand-in is what answers here, so the tests check what the wire carries (shapes,
counts, which tool was called with which arguments) and the stand-in's documented rules."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jsonschema
import pytest

from cf_core.local import Emulator, EmulatorTransport
from cf_core.local.pytest_plugin import TEST_TOKEN

LLAMA31 = "@cf/meta/llama-3.1-8b-instruct"
LLAMA33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
HERMES = "@hf/nousresearch/hermes-2-pro-mistral-7b"
VISION = "@cf/meta/llama-3.2-11b-vision-instruct"

WEATHER = {"name": "get_weather", "description": "Current weather for a city",
           "parameters": {"type": "object", "properties": {
               "city": {"type": "string", "description": "City name"},
               "unit": {"type": "string", "description": "Unit", "enum": ["celsius", "fahrenheit"]}},
               "required": ["city"]}}
CONVERT = {"type": "function", "function": {
    "name": "convert_currency", "description": "Convert money between currencies",
    "parameters": {"type": "object", "properties": {
        "amount": {"type": "number", "description": "How much"},
        "from_code": {"type": "string", "description": "ISO code", "pattern": "^[A-Z]{3}$"},
        "to_code": {"type": "string", "description": "ISO code", "pattern": "^[A-Z]{3}$"}},
        "required": ["amount", "from_code", "to_code"]}}}
CLOCK = {"name": "current_time", "description": "The time now",
         "parameters": {"type": "object", "properties": {}}}


def result(client: httpx.Client, model: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = client.post(f"/accounts/acc-test/ai/run/{model}", json=body)
    assert resp.status_code == 200, resp.text
    payload = resp.json()
    assert payload["success"] is True and payload["errors"] == [] and payload["messages"] == []
    out: dict[str, Any] = payload["result"]
    return out


def ask(text: str, system: str | None = None) -> list[dict[str, str]]:
    msgs = [{"role": "system", "content": system}] if system else []
    return [*msgs, {"role": "user", "content": text}]


FACTS = ("The Amazon river flows through Brazil and Peru. Mount Kilimanjaro is the highest mountain in Africa. "
         "The Danube passes through Vienna and Budapest. Copper conducts electricity well.")


def test_answers_from_the_system_context(emu_client: httpx.Client) -> None:
    out = result(emu_client, LLAMA31, {"messages": ask("Which is the highest mountain in Africa?", FACTS)})
    assert out["response"].startswith("[stand-in] ")
    assert "Kilimanjaro" in out["response"]
    assert "Danube" not in out["response"] and "Copper" not in out["response"]
    assert out["tool_calls"] == []


def test_answers_from_context_inside_the_user_message(emu_client: httpx.Client) -> None:
    prompt = f"Context: {FACTS}\nQuestion: Which cities does the Danube pass through?"
    out = result(emu_client, LLAMA31, {"prompt": prompt})
    assert "Vienna and Budapest" in out["response"]
    assert "Kilimanjaro" not in out["response"]


def test_without_context_it_says_so(emu_client: httpx.Client) -> None:
    out = result(emu_client, LLAMA31, {"prompt": "Name a planet."})
    assert out["response"].startswith("[stand-in] No context")
    assert "planet" in out["response"]


def test_usage_counts_whitespace_words(emu_client: httpx.Client) -> None:
    messages = ask("Which is the highest mountain in Africa?", FACTS)
    out = result(emu_client, LLAMA31, {"messages": messages})
    prompt_words = sum(len(m["content"].split()) for m in messages)
    usage = out["usage"]
    assert usage["prompt_tokens"] == prompt_words
    assert usage["completion_tokens"] == len(out["response"].split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_max_tokens_cuts_the_answer(emu_client: httpx.Client) -> None:
    out = result(emu_client, LLAMA31, {"messages": ask("Which is the highest mountain in Africa?", FACTS),
                                       "max_tokens": 3})
    assert len(out["response"].split()) == 3
    assert out["usage"]["completion_tokens"] == 3


def test_max_tokens_defaults_to_256(emu_client: httpx.Client) -> None:
    long_sentence = " ".join(f"glacier{i}" for i in range(200)) + " glacier."
    system = " ".join([long_sentence] * 3).replace("glacier. ", "glacier! ")
    out = result(emu_client, LLAMA31, {"messages": ask("Tell me about the glacier?", system)})
    assert out["usage"]["completion_tokens"] == 256
    assert len(out["response"].split()) == 256


def test_same_request_same_answer_across_emulators() -> None:
    body = {"messages": ask("Book a flight to Paris", None), "tools": [WEATHER, CONVERT],
            "tool_choice": "required"}
    answers = []
    for _ in range(2):
        emulator = Emulator(seed=7)
        with httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator.local/client/v4",
                          headers={"authorization": f"Bearer {TEST_TOKEN}"}) as client:
            answers.append(result(client, SCOUT, body))
    assert answers[0] == answers[1]


# -- tool calling -------------------------------------------------------------------------------


def test_flat_style(emu_client: httpx.Client) -> None:
    for model in (LLAMA33, HERMES, MISTRAL, VISION):
        out = result(emu_client, model, {"messages": ask("What's the weather in Lisbon in fahrenheit?"),
                                          "tools": [WEATHER, CLOCK]})
        assert out["response"] == ""
        assert out["tool_calls"] == [{"name": "get_weather", "arguments": {"city": "Lisbon", "unit": "fahrenheit"}}]
        assert out["usage"]["completion_tokens"] > 0


def test_openai_style_with_object_arguments(emu_client: httpx.Client) -> None:
    out = result(emu_client, SCOUT, {"messages": ask("What's the weather in Lisbon?"), "tools": [WEATHER]})
    [call] = out["tool_calls"]
    assert call["type"] == "function"
    assert call["id"].startswith("chatcmpl-tool-")
    assert call["function"] == {"name": "get_weather", "arguments": {"city": "Lisbon"}}


def test_text_style_puts_the_call_in_response(emu_client: httpx.Client) -> None:
    out = result(emu_client, LLAMA31, {"messages": ask("What's the weather in Lisbon?"), "tools": [WEATHER]})
    assert out["tool_calls"] == []
    assert json.loads(out["response"]) == {"name": "get_weather", "parameters": {"city": "Lisbon"}}
    assert out["usage"]["completion_tokens"] == len(out["response"].split())


def test_several_tools_in_the_order_asked(emu_client: httpx.Client) -> None:
    text = "First convert currency: 250 EUR to JPY, then tell me the weather in Kyoto."
    out = result(emu_client, LLAMA33, {"messages": ask(text), "tools": [WEATHER, CONVERT, CLOCK]})
    names = [c["name"] for c in out["tool_calls"]]
    assert names == ["convert_currency", "get_weather"]
    convert = out["tool_calls"][0]["arguments"]
    jsonschema.validate(convert, CONVERT["function"]["parameters"])  # type: ignore[index]
    assert convert == {"amount": 250, "from_code": "EUR", "to_code": "JPY"}
    assert out["tool_calls"][1]["arguments"]["city"] == "Kyoto"


def test_no_argument_tool(emu_client: httpx.Client) -> None:
    out = result(emu_client, LLAMA33, {"messages": ask("What is the current time?"), "tools": [WEATHER, CLOCK]})
    assert out["tool_calls"] == [{"name": "current_time", "arguments": {}}]


def test_tool_not_asked_for_gives_an_answer(emu_client: httpx.Client) -> None:
    out = result(emu_client, LLAMA33, {"messages": ask("Which is the highest mountain in Africa?", FACTS),
                                       "tools": [WEATHER]})
    assert out["tool_calls"] == []
    assert "Kilimanjaro" in out["response"]


def test_tool_choice_none_required_and_named(emu_client: httpx.Client) -> None:
    base = {"messages": ask("What's the weather in Lisbon?"), "tools": [WEATHER, CLOCK]}
    assert result(emu_client, LLAMA33, {**base, "tool_choice": "none"})["tool_calls"] == []
    forced = result(emu_client, LLAMA33, {**base, "tool_choice": {"type": "function",
                                                                  "function": {"name": "current_time"}}})
    assert [c["name"] for c in forced["tool_calls"]] == ["current_time"]
    unasked = {"messages": ask("Is it going to rain in Lisbon?"), "tools": [WEATHER, CLOCK]}
    assert result(emu_client, LLAMA33, unasked)["tool_calls"] == []
    required = result(emu_client, LLAMA33, {**unasked, "tool_choice": "required"})
    assert [c["name"] for c in required["tool_calls"]] == ["get_weather"]
    assert required["tool_calls"][0]["arguments"]["city"] == "Lisbon"


def test_results_are_used_and_not_requested_again(emu_client: httpx.Client) -> None:
    first = result(emu_client, SCOUT, {"messages": ask("What's the weather in Lisbon?"), "tools": [WEATHER]})
    call = first["tool_calls"][0]
    messages = [
        *ask("What's the weather in Lisbon?"),
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": call["id"], "type": "function", "function": {
                "name": "get_weather", "arguments": json.dumps(call["function"]["arguments"])}}]},
        {"role": "tool", "content": "{\"temp_c\": 21, \"sky\": \"clear\"}", "tool_call_id": call["id"]},
    ]
    out = result(emu_client, SCOUT, {"messages": messages, "tools": [WEATHER]})
    assert out["tool_calls"] == []
    assert out["response"].startswith("[stand-in] ")
    assert "get_weather" in out["response"] and "\"temp_c\": 21" in out["response"]


def test_docs_continuation_form_without_ids(emu_client: httpx.Client) -> None:
    messages = [
        *ask("What's the weather in Lisbon, and convert currency 10 USD to EUR?"),
        {"role": "assistant", "content": "{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Lisbon\"}}"},
        {"role": "tool", "content": "{\"temp_c\": 14}"},
    ]
    out = result(emu_client, HERMES, {"messages": messages, "tools": [WEATHER, CONVERT]})
    # The weather has its result; the currency conversion is still pending.
    assert [c["name"] for c in out["tool_calls"]] == ["convert_currency"]
    assert out["tool_calls"][0]["arguments"] == {"amount": 10, "from_code": "USD", "to_code": "EUR"}


def test_mistral_tool_call_ids_fit_its_pattern(emu_client: httpx.Client) -> None:
    import re

    body = {"messages": ask("What's the weather in Lisbon?"), "tools": [{"type": "function", "function": WEATHER}]}
    resp = emu_client.post("/accounts/acc-test/ai/v1/chat/completions", json={"model": MISTRAL, **body})
    call_id = resp.json()["choices"][0]["message"]["tool_calls"][0]["id"]
    assert re.fullmatch(r"[a-zA-Z0-9]{9}", call_id)
    # ... so that sending it back passes Mistral's own tool_call_id check on /ai/run.
    messages = [*ask("What's the weather in Lisbon?"),
                {"role": "assistant", "content": "", "tool_calls": [{"id": call_id, "type": "function", "function": {
                    "name": "get_weather", "arguments": "{\"city\": \"Lisbon\"}"}}]},
                {"role": "tool", "content": "sunny", "tool_call_id": call_id}]
    out = result(emu_client, MISTRAL, {"messages": messages, "tools": [WEATHER]})
    assert "sunny" in out["response"]


# -- JSON mode ----------------------------------------------------------------------------------

ORDER = {"type": "object", "properties": {
    "customer": {"type": "string"},
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "product": {"type": "string", "enum": ["tea", "coffee", "cake"]},
        "quantity": {"type": "integer", "minimum": 1}}, "required": ["product", "quantity"]}, "minItems": 1},
    "express": {"type": "boolean"}},
    "required": ["customer", "items", "express"], "additionalProperties": False}


@pytest.mark.parametrize("model", [LLAMA33, SCOUT, HERMES, LLAMA31])
def test_json_schema_mode_returns_an_object(emu_client: httpx.Client, model: str) -> None:
    body = {"messages": ask("Order for Priya: 3 coffee, express delivery"),
            "response_format": {"type": "json_schema", "json_schema": ORDER}}
    out = result(emu_client, model, body)
    value = out["response"]
    assert isinstance(value, dict)
    jsonschema.validate(value, ORDER)
    assert value["customer"] == "Priya"
    assert value["items"] == [{"product": "coffee", "quantity": 3}]
    assert value["express"] is True
    assert out["usage"]["completion_tokens"] == len(json.dumps(value, ensure_ascii=False).split())


def test_guided_json_on_mistral(emu_client: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
              "required": ["city", "population"]}
    out = result(emu_client, MISTRAL, {"messages": ask("Porto has 230000 people"), "guided_json": schema})
    assert out["response"] == {"city": "Porto", "population": 230000}


def test_json_object_mode(emu_client: httpx.Client) -> None:
    out = result(emu_client, LLAMA33, {"messages": ask("Which is the highest mountain in Africa?", FACTS),
                                       "response_format": {"type": "json_object"}})
    assert isinstance(out["response"], dict)
    assert "Kilimanjaro" in json.dumps(out["response"])


def test_unsatisfiable_schema_is_json_mode_couldnt_be_met(emu_client: httpx.Client) -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^Q[0-9]{7}Z$"}},
              "required": ["code"]}
    resp = emu_client.post(f"/accounts/acc-test/ai/run/{LLAMA33}", json={
        "messages": ask("hello"), "response_format": {"type": "json_schema", "json_schema": schema}})
    assert resp.status_code == 400
    assert "JSON Mode couldn't be met" in resp.json()["errors"][0]["message"]


# -- vision -------------------------------------------------------------------------------------

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + bytes(40)
JPEG_HEAD = b"\xff\xd8\xff\xe0" + bytes(60)


def test_llama_vision_image_field(emu_client: httpx.Client) -> None:
    out = result(emu_client, VISION, {"prompt": "What is in this picture?", "image": list(PNG_HEAD)})
    assert out["response"].startswith("[stand-in] ")
    assert f"PNG data of {len(PNG_HEAD)} bytes" in out["response"]
    encoded = base64.b64encode(JPEG_HEAD).decode()
    out = result(emu_client, VISION, {"messages": ask("Describe it"), "image": encoded})
    assert f"JPEG data of {len(JPEG_HEAD)} bytes" in out["response"]


@pytest.mark.parametrize("model", [SCOUT, MISTRAL])
def test_content_part_images(emu_client: httpx.Client, model: str) -> None:
    uri = "data:image/jpeg;base64," + base64.b64encode(JPEG_HEAD).decode()
    body = {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Describe this"}, {"type": "image_url", "image_url": {"url": uri}}]}]}
    out = result(emu_client, model, body)
    assert f"JPEG data of {len(JPEG_HEAD)} bytes" in out["response"]


def test_schemaless_json_mode_uses_the_keys_the_prompt_names(emu_client) -> None:  # type: ignore[no-untyped-def]
    """Stand-in behaviour: JSON mode without a schema answers with the quoted key names the user asks for."""
    body = {"messages": [{"role": "user", "content": 'Describe Lyon as JSON with "city" and \'country\' keys.'}],
            "response_format": {"type": "json_object"}}
    result = emu_client.post("/accounts/a/ai/run/@cf/meta/llama-3.3-70b-instruct-fp8-fast", json=body).json()
    assert sorted(result["result"]["response"]) == ["city", "country"]
    body["messages"][0]["content"] = "Describe Lyon as JSON."
    result = emu_client.post("/accounts/a/ai/run/@cf/meta/llama-3.3-70b-instruct-fp8-fast", json=body).json()
    assert list(result["result"]["response"]) == ["response"]
