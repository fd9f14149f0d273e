"""What chat puts in the request body, per model, decided by catalog data: messages, tool calls and
results, Mistral ids, vision, tools, tool_choice, JSON mode. Pure: no request is sent."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from pydantic import BaseModel

from cf_core import InvalidInputError
from cf_core.workers_ai.chat import plan_chat
from cf_core.workers_ai.ids import IdMapper

LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct"
LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
VISION_11B = "@cf/meta/llama-3.2-11b-vision-instruct"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 16
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}


def body(model: str, messages: Any = None, **kw: Any) -> dict[str, Any]:
    return plan_chat(model, messages, **kw).request().json  # type: ignore[no-any-return]


def conversation(call_id: str = "call_abc-123", args: Any = None) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function",
             "function": {"name": "get_weather", "arguments": args if args is not None else {"city": "Oslo"}}}]},
        {"role": "tool", "tool_call_id": call_id, "content": {"temp_c": 4}},
    ]


def test_assistant_tool_calls_go_out_openai_shaped_with_string_arguments() -> None:
    msgs = body(LLAMA_70B, conversation(), tools=[WEATHER])["messages"]
    assistant, tool = msgs[1], msgs[2]
    assert assistant["content"] == ""
    call = assistant["tool_calls"][0]
    assert call == {"id": "call_abc-123", "type": "function",
                    "function": {"name": "get_weather", "arguments": json.dumps({"city": "Oslo"})}}
    # tool results are strings, carry the id and the tool's name (found from the assistant's call)
    assert tool == {"role": "tool", "content": json.dumps({"temp_c": 4}), "tool_call_id": "call_abc-123",
                    "name": "get_weather"}


def test_string_arguments_and_flat_calls_are_accepted() -> None:
    msgs = [{"role": "user", "content": "x"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "a", "name": "get_weather",
                                                                 "arguments": {"city": "A"}}]},
            {"role": "assistant", "content": "", "tool_calls": [conversation(args='{"city": "B"}')[1]["tool_calls"][0]]}]
    out = body(LLAMA_70B, msgs)["messages"]
    assert json.loads(out[1]["tool_calls"][0]["function"]["arguments"]) == {"city": "A"}
    assert json.loads(out[2]["tool_calls"][0]["function"]["arguments"]) == {"city": "B"}


def test_mistral_ids_rewritten_to_nine_alphanumerics_consistently() -> None:
    msgs = [
        *conversation("call_abc-123"),
        {"role": "user", "content": "and Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "AbC123xyZ", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "P"}}}]},
        {"role": "tool", "tool_call_id": "AbC123xyZ", "name": "get_weather", "content": "warm"},
    ]
    out = body(MISTRAL, msgs, tools=[WEATHER])["messages"]
    first, second = out[1]["tool_calls"][0]["id"], out[4]["tool_calls"][0]["id"]
    assert re.fullmatch(r"[a-zA-Z0-9]{9}", first)
    assert out[2]["tool_call_id"] == first  # the result points at the rewritten call
    assert second == "AbC123xyZ" and out[5]["tool_call_id"] == second  # compliant ids are kept
    assert first != second
    # other models keep ids as given
    assert body(LLAMA_70B, conversation("call_abc-123"))["messages"][1]["tool_calls"][0]["id"] == "call_abc-123"


def test_id_mapper_is_stable_and_collision_free() -> None:
    mapper = IdMapper("^[a-zA-Z0-9]{9}$")
    ids = [mapper(f"call-{i}") for i in range(200)]
    assert len(set(ids)) == 200
    assert mapper("call-7") == ids[7]


def test_text_style_models_also_see_their_call_as_text() -> None:
    out = body(LLAMA_8B, conversation(), tools=[WEATHER])["messages"]
    assert json.loads(out[1]["content"]) == {"name": "get_weather", "parameters": {"city": "Oslo"}}
    assert out[1]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_non_vision_model_gets_string_content_from_text_parts() -> None:
    msgs = [{"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}]
    assert body(LLAMA_8B, msgs)["messages"][0]["content"] == "one\ntwo"


def test_content_parts_model_gets_image_url_data_uri() -> None:
    uri = "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()
    msgs = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                         {"type": "image_url", "image_url": {"url": uri}}]}]
    content = body(SCOUT, msgs)["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "What is this?"}
    assert content[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert base64.b64decode(content[1]["image_url"]["url"].split(",", 1)[1]) == JPEG


def test_image_argument_is_attached_as_a_part_for_content_parts_models() -> None:
    b = body(MISTRAL, prompt="Describe", image=PNG)
    assert "prompt" not in b
    parts = b["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "Describe"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_image_field_model_gets_the_byte_array() -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    msgs = [{"role": "user", "content": [{"type": "text", "text": "Describe"},
                                         {"type": "image_url", "image_url": {"url": uri}}]}]
    b = body(VISION_11B, msgs)
    assert b["messages"][0]["content"] == "Describe"
    assert b["image"] == list(PNG)
    assert body(VISION_11B, prompt="Describe", image=PNG)["image"] == list(PNG)


def test_tools_normalised_to_function_shape() -> None:
    flat = {"name": "get_time", "description": "Time"}
    tools = body(LLAMA_70B, [{"role": "user", "content": "x"}], tools=[WEATHER, flat])["tools"]
    assert tools[1] == {"type": "function", "function": {"name": "get_time", "description": "Time", "parameters": {
        "type": "object", "properties": {}}}}
    assert tools[0]["function"]["parameters"]["properties"] == {"city": {"type": "string"}}


def test_prompt_with_tools_becomes_a_conversation() -> None:
    b = body(LLAMA_70B, prompt="Weather in Oslo?", tools=[WEATHER])
    assert "prompt" not in b and b["messages"] == [{"role": "user", "content": "Weather in Oslo?"}]


@pytest.mark.parametrize(("choice", "sent"), [
    ("auto", "auto"), ("none", "none"), ("required", "required"), ("any", "required"),
    ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ({"type": "function", "function": {"name": "get_weather"}}, {"type": "function", "function": {"name": "get_weather"}}),
])
def test_tool_choice_forms(choice: Any, sent: Any) -> None:
    assert body(LLAMA_70B, prompt="x", tools=[WEATHER], tool_choice=choice)["tool_choice"] == sent


def test_tool_choice_not_sent_to_models_without_native_tools() -> None:
    b = body(LLAMA_8B, prompt="x", tools=[WEATHER], tool_choice="required")
    assert "tool_choice" not in b and b["tools"]
    assert "tools" not in body(LLAMA_8B, prompt="x", tools=[WEATHER], tool_choice="none")


def test_json_schema_goes_out_under_the_models_parameter() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert body(LLAMA_70B, prompt="x", json_schema=schema)["response_format"] == {"type": "json_schema",
                                                                                 "json_schema": schema}
    mistral = body(MISTRAL, prompt="x", json_schema=schema)
    assert mistral["guided_json"] == schema and "response_format" not in mistral
    assert body(LLAMA_70B, prompt="x", json_mode=True)["response_format"] == {"type": "json_object"}
    assert body(MISTRAL, prompt="x", json_mode=True)["guided_json"] == {"type": "object"}


def test_json_schema_from_pydantic_and_openai_wrapper() -> None:
    class Person(BaseModel):
        name: str
        age: int

    sent = body(LLAMA_70B, prompt="x", json_schema=Person)["response_format"]["json_schema"]
    assert sent["properties"].keys() == {"name", "age"}
    wrapped = {"name": "person", "strict": True, "schema": {"type": "object", "properties": {"n": {"type": "string"}}}}
    assert body(LLAMA_70B, prompt="x", json_schema=wrapped)["response_format"]["json_schema"] == wrapped["schema"]


def test_sampling_values_sent_as_given_including_zero() -> None:
    b = body(LLAMA_8B, prompt="x", temperature=0, top_p=0.5, top_k=1, seed=7, max_tokens=12,
             repetition_penalty=1.1, frequency_penalty=0, presence_penalty=2)
    assert b == {"prompt": "x", "temperature": 0, "top_p": 0.5, "top_k": 1, "seed": 7, "max_tokens": 12,
                 "repetition_penalty": 1.1, "frequency_penalty": 0, "presence_penalty": 2}


def test_nothing_unknown_added_and_stop_not_sent() -> None:
    assert body(LLAMA_8B, prompt="x", stop=["\n"]) == {"prompt": "x"}


def test_extra_raw_and_lora_pass_through() -> None:
    b = body(VISION_11B, prompt="x", raw=True, lora="my-adapter", extra={"functions": []})
    assert (b["raw"], b["lora"], b["functions"]) == (True, "my-adapter", [])


def test_stream_flag_only_on_streams_and_never_with_json_mode() -> None:
    plan = plan_chat(LLAMA_8B, prompt="x")
    assert "stream" not in plan.request().json and plan.request(stream=True).json["stream"] is True
    json_plan = plan_chat(LLAMA_70B, prompt="x", json_mode=True)
    assert "stream" not in json_plan.request(stream=True).json


def test_routing_paths() -> None:
    req = plan_chat(LLAMA_8B, prompt="x", gateway="my-gw").request()
    assert req.path == f"/ai/run/{LLAMA_8B}"
    assert req.gateway_path == f"workers-ai/{LLAMA_8B}"
    assert getattr(req.gateway, "id", None) == "my-gw"


def test_unknown_model_gets_safe_defaults() -> None:
    b = body("@cf/someone/new-model-9b", [{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    assert b == {"messages": [{"role": "user", "content": "hi"}]}
    with pytest.raises(InvalidInputError) as err:
        body("@cf/someone/new-model-9b", prompt="x", json_mode=True)
    assert err.value.field == "json_mode"
