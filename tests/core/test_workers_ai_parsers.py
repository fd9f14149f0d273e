"""Non-streaming chat parsing on hand-written payloads: every output style Workers AI models use
(reference sections 1.3, 3.2) must come out as the same ChatResult."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cf_core.http import RawResponse
from cf_core.workers_ai.chat import ChatPlan, parse_response, parse_result, plan_chat

LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct"
LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                            "parameters": {"type": "object",
                                                           "properties": {"city": {"type": "string"}},
                                                           "required": ["city"]}}}
TIME = {"name": "get_time", "description": "Time in a zone",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}
USER = [{"role": "user", "content": "What is the weather in London?"}]


def plan(model: str = LLAMA_70B, **kw: Any) -> ChatPlan:
    return plan_chat(model, USER, **kw)


def test_plain_native_response_with_usage_and_estimated_cost() -> None:
    result = parse_result(plan(LLAMA_8B), {"response": "Mars.", "tool_calls": [],
                                           "usage": {"prompt_tokens": 24, "completion_tokens": 3,
                                                     "total_tokens": 27}})
    assert result.text == "Mars."
    assert result.tool_calls == []
    assert result.finish_reason == "stop"
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (24, 3, 27)
    # catalog: 25,608 / 75,147 neurons per M tokens for llama-3.1-8b
    expected = (24 * 25608 + 3 * 75147) / 1e6
    assert result.usage.neurons == pytest.approx(expected)
    assert result.usage.estimated_usd == pytest.approx(expected * 1.1e-05)


def test_usage_floats_and_cached_tokens_are_read_as_ints() -> None:
    result = parse_result(plan(LLAMA_8B), {"response": "x", "usage": {
        "prompt_tokens": 10.0, "completion_tokens": 2.0, "total_tokens": 12.0,
        "prompt_tokens_details": {"cached_tokens": 4}, "neurons": 1.5}})
    assert result.usage is not None
    assert result.usage.prompt_tokens == 10 and isinstance(result.usage.prompt_tokens, int)
    assert result.usage.cached_tokens == 4
    assert result.usage.neurons == 1.5  # the service's own figure wins over the estimate


def test_missing_usage_is_none() -> None:
    assert parse_result(plan(LLAMA_8B), {"response": "hello"}).usage is None


def test_flat_tool_calls_get_ids_and_dict_arguments() -> None:
    result = parse_result(plan(LLAMA_70B, tools=[WEATHER]), {
        "response": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "London"}},
                                       {"name": "get_weather", "arguments": {"city": "Paris"}}]})
    assert [c.name for c in result.tool_calls] == ["get_weather", "get_weather"]
    assert [c.arguments for c in result.tool_calls] == [{"city": "London"}, {"city": "Paris"}]
    ids = [c.id for c in result.tool_calls]
    assert all(ids) and len(set(ids)) == 2
    assert result.finish_reason == "tool_calls"
    assert result.text == ""


def test_openai_style_tool_calls_with_object_arguments_keep_their_id() -> None:
    result = parse_result(plan(SCOUT, tools=[WEATHER]), {"response": None, "tool_calls": [
        {"id": "chatcmpl-tool-1a2b", "type": "function",
         "function": {"name": "get_weather", "arguments": {"city": "London"}}}]})
    assert result.tool_calls[0].id == "chatcmpl-tool-1a2b"
    assert result.tool_calls[0].arguments == {"city": "London"}
    assert result.text == ""


def test_openai_style_tool_calls_with_string_arguments() -> None:
    result = parse_result(plan(SCOUT, tools=[WEATHER]), {"response": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]})
    assert result.tool_calls[0].arguments == {"city": "Oslo"}
    assert result.tool_calls[0].raw_arguments is None


def test_unparseable_arguments_are_kept_raw_not_lost() -> None:
    result = parse_result(plan(SCOUT, tools=[WEATHER]), {"tool_calls": [
        {"id": "c1", "function": {"name": "get_weather", "arguments": "{city: Oslo"}}]})
    assert result.tool_calls[0].arguments == {}
    assert result.tool_calls[0].raw_arguments == "{city: Oslo"


def test_choices_message_tool_calls_and_reasoning() -> None:
    result = parse_result(plan(LLAMA_70B, tools=[WEATHER]), {
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "reasoning_content": "They want weather.",
            "tool_calls": [{"id": "call_9", "type": "function",
                            "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}]}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}})
    assert result.tool_calls[0].id == "call_9"
    assert result.tool_calls[0].arguments == {"city": "Rome"}
    assert result.reasoning == "They want weather."
    assert result.finish_reason == "tool_calls"
    assert result.usage is not None and result.usage.total_tokens == 12


def test_choices_plain_content_and_reasoning_field() -> None:
    result = parse_result(plan(LLAMA_8B), {"choices": [{"message": {"content": "Hi.", "reasoning": "greet"},
                                                        "finish_reason": "length"}]})
    assert (result.text, result.reasoning, result.finish_reason) == ("Hi.", "greet", "length")


def test_json_text_tool_call_in_response_when_tools_were_sent() -> None:
    text = '{"name": "get_weather", "parameters": {"city": "London"}}'
    result = parse_result(plan(LLAMA_8B, tools=[WEATHER]), {"response": text})
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("get_weather", {"city": "London"})]
    assert result.text == ""
    assert result.finish_reason == "tool_calls"


def test_json_text_tool_call_list_with_arguments_key_and_code_fence() -> None:
    text = '```json\n[{"name": "get_weather", "arguments": {"city": "A"}}, {"name": "get_time", "arguments": {"tz": "UTC"}}]\n```'
    result = parse_result(plan(LLAMA_8B, tools=[WEATHER, TIME]), {"response": text})
    assert [c.name for c in result.tool_calls] == ["get_weather", "get_time"]
    assert result.tool_calls[1].arguments == {"tz": "UTC"}


def test_json_text_is_not_a_tool_call_without_tools_or_with_an_unknown_name() -> None:
    text = '{"name": "get_weather", "parameters": {"city": "London"}}'
    assert parse_result(plan(LLAMA_8B), {"response": text}).tool_calls == []
    assert parse_result(plan(LLAMA_8B), {"response": text}).text == text
    other = '{"name": "delete_everything", "parameters": {}}'
    result = parse_result(plan(LLAMA_8B, tools=[WEATHER]), {"response": other})
    assert result.tool_calls == [] and result.text == other


def test_ordinary_json_answer_is_not_mistaken_for_a_tool_call() -> None:
    text = '{"name": "get_weather"}'  # no parameters/arguments: data, not a call
    result = parse_result(plan(LLAMA_8B, tools=[WEATHER]), {"response": text})
    assert result.tool_calls == [] and result.text == text


def test_mistral_generated_ids_match_its_pattern() -> None:
    result = parse_result(plan(MISTRAL, tools=[WEATHER]), {"response": "", "tool_calls": [
        {"name": "get_weather", "arguments": {"city": c}} for c in ("A", "B", "C")]})
    ids = [c.id for c in result.tool_calls]
    assert all(re.fullmatch(r"[a-zA-Z0-9]{9}", i) for i in ids), ids
    assert len(set(ids)) == 3


def test_json_mode_object_response() -> None:
    p = plan(LLAMA_70B, json_schema={"type": "object", "properties": {"a": {"type": "integer"}}})
    result = parse_result(p, {"response": {"a": 1}})
    assert result.json == {"a": 1}
    assert json.loads(result.text) == {"a": 1}


def test_json_mode_string_response_with_fence() -> None:
    p = plan(LLAMA_70B, json_mode=True)
    result = parse_result(p, {"response": '```json\n{"a": [1, 2]}\n```'})
    assert result.json == {"a": [1, 2]}


def test_json_mode_invalid_json_leaves_json_none() -> None:
    result = parse_result(plan(LLAMA_70B, json_mode=True), {"response": "not json"})
    assert result.json is None and result.text == "not json"


def test_no_json_value_outside_json_mode() -> None:
    assert parse_result(plan(LLAMA_70B), {"response": '{"a": 1}'}).json is None


def test_generated_text_array_response() -> None:
    result = parse_result(plan(SCOUT), {"response": [{"generated_text": "Hel"}, {"generated_text": "lo"}]})
    assert result.text == "Hello"


def test_stop_is_applied_client_side() -> None:
    result = parse_result(plan(LLAMA_8B, stop=["END", "\n\n"]), {"response": "one two\n\nthree END four"})
    assert result.text == "one two"
    assert result.finish_reason == "stop"


def test_length_finish_inferred_from_max_tokens() -> None:
    p = plan(LLAMA_8B, max_tokens=3)
    result = parse_result(p, {"response": "a b c", "usage": {"prompt_tokens": 1, "completion_tokens": 3}})
    assert result.finish_reason == "length"
    default = parse_result(plan(LLAMA_8B), {"response": "x", "usage": {"completion_tokens": 256}})
    assert default.finish_reason == "length"  # the catalog's default max_tokens (256)


def test_parse_response_reads_envelope_and_gateway_headers() -> None:
    body = json.dumps({"result": {"response": "ok"}, "success": True, "errors": [], "messages": []}).encode()
    resp = RawResponse(200, {"content-type": "application/json", "cf-aig-cache-status": "HIT",
                             "cf-aig-log-id": "L1", "cf-aig-step": "0"}, body)
    result = parse_response(plan(LLAMA_8B), resp)
    assert result.text == "ok"
    assert result.gateway is not None and result.gateway.cache_hit and result.gateway.log_id == "L1"
