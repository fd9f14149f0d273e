"""The streaming chat parser on hand-written SSE payloads: every chunk style of reference section 2."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from cf_core import StreamError
from cf_core.http import RawResponse, SSEDecoder
from cf_core.workers_ai import ChatChunk
from cf_core.workers_ai.chat import plan_chat
from cf_core.workers_ai.stream import ChatStreamParser
from tests.support import tool_calls_of

LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "w",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
TIME = {"type": "function", "function": {"name": "get_time", "description": "t",
                                         "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}}
USER = [{"role": "user", "content": "hi"}]


def parser(model: str = LLAMA_8B, **kw: Any) -> ChatStreamParser:
    return ChatStreamParser(plan_chat(model, USER, **kw))


def feed(p: ChatStreamParser, events: list[Any], done: bool = True) -> list[ChatChunk]:
    out: list[ChatChunk] = []
    for event in events:
        out += p.feed(event if isinstance(event, str) else json.dumps(event))
    if done:
        out += p.feed("[DONE]")
    out += p.end()
    return out


def text_of(chunks: list[ChatChunk]) -> str:
    return "".join(c.text for c in chunks)


def test_native_chunks_padding_ignored_usage_once_at_the_end() -> None:
    chunks = feed(parser(), [{"response": "Hel", "p": "abcdefgh"}, {"response": "lo", "p": "abcdefghijklmnop"},
                             {"response": ""},
                             {"response": "", "usage": {"prompt_tokens": 7, "completion_tokens": 2,
                                                        "total_tokens": 9}}])
    assert text_of(chunks) == "Hello"
    with_usage = [c for c in chunks if c.usage is not None]
    assert len(with_usage) == 1 and with_usage[0] is chunks[-1]
    assert with_usage[0].usage is not None and with_usage[0].usage.total_tokens == 9
    assert chunks[-1].finish_reason == "stop"
    assert all("abc" not in c.text for c in chunks)


def test_usage_is_the_last_usage_event_not_the_sum() -> None:
    events = [
        {"choices": [{"index": 0, "delta": {"content": "A"}}], "usage": {"prompt_tokens": 5, "completion_tokens": 1,
                                                                        "total_tokens": 6}},
        {"choices": [{"index": 0, "delta": {"content": "B"}}], "usage": {"prompt_tokens": 5, "completion_tokens": 2,
                                                                        "total_tokens": 7}},
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}},
        {"response": "", "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}},
    ]
    chunks = feed(parser(), events)
    usages = [c.usage for c in chunks if c.usage is not None]
    assert len(usages) == 1
    assert (usages[0].prompt_tokens, usages[0].completion_tokens, usages[0].total_tokens) == (5, 3, 8)
    assert text_of(chunks) == "AB"


def test_openai_delta_chunks_with_reasoning_and_finish_reason() -> None:
    events = [
        {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"reasoning_content": "Think"}}]},
        {"choices": [{"index": 0, "delta": {"reasoning": "ing."}}]},
        {"choices": [{"index": 0, "delta": {"content": "Answer"}, "finish_reason": None}], "p": "xyz"},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]},
    ]
    chunks = feed(parser(), events)
    assert "".join(c.reasoning for c in chunks) == "Thinking."
    assert text_of(chunks) == "Answer"
    assert chunks[-1].finish_reason == "length"


def test_native_top_level_tool_calls_string_arguments() -> None:
    events = [{"tool_calls": [{"id": "call123", "type": "function", "index": 0,
                               "function": {"name": "get_weather", "arguments": "{\"city\": \"London\"}"}}]},
              {"response": "", "finish_reason": "tool_calls"}]
    chunks = feed(parser(SCOUT, tools=[WEATHER]), events)
    calls = tool_calls_of(chunks)
    assert calls == {0: {"id": "call123", "name": "get_weather", "arguments": "{\"city\": \"London\"}"}}
    assert chunks[-1].finish_reason == "tool_calls"


def test_openai_delta_tool_fragments_joined_per_index() -> None:
    events = [
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "chatcmpl-tool-a", "type": "function",
                                                "function": {"name": "get_weather"}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\": \""}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 1, "id": "chatcmpl-tool-b", "type": "function",
                                                "function": {"name": "get_time", "arguments": ""}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "Paris\"}"}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 1, "function": {"arguments": "{\"tz\":\"UTC\"}"}}]}}]},
        {"choices": [{"delta": {}, "finish_reason": "tool_calls"}]},
    ]
    chunks = feed(parser(SCOUT, tools=[WEATHER, TIME]), events)
    calls = tool_calls_of(chunks)
    assert calls[0] == {"id": "chatcmpl-tool-a", "name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}
    assert calls[1] == {"id": "chatcmpl-tool-b", "name": "get_time", "arguments": "{\"tz\":\"UTC\"}"}
    # the id and name come once per call, on its first chunk
    assert sum(1 for c in chunks for t in c.tool_call_chunks if t.id is not None) == 2
    assert chunks[-1].finish_reason == "tool_calls"


def test_native_fragments_without_index_null_finalisation_and_empty_events() -> None:
    events = [
        {"tool_calls": [], "p": "abc"},
        {"tool_calls": [{"id": None, "type": "function", "function": {"name": "get_weather", "arguments": "{\"ci"}}]},
        {"tool_calls": [{"id": None, "type": None, "function": {"name": None, "arguments": "ty\": \"Rome\"}"}}]},
        {"tool_calls": [{"id": None, "type": None, "function": {"name": None, "arguments": None}}]},
        {"tool_calls": [{"type": "function", "function": {"name": "get_time", "arguments": {"tz": "CET"}}}]},
        {"tool_calls": [], "p": "abcdef"},
    ]
    chunks = feed(parser(MISTRAL, tools=[WEATHER, TIME]), events)
    calls = tool_calls_of(chunks)
    assert sorted(calls) == [0, 1]
    assert calls[0]["name"] == "get_weather" and json.loads(calls[0]["arguments"]) == {"city": "Rome"}
    assert calls[1]["name"] == "get_time" and json.loads(calls[1]["arguments"]) == {"tz": "CET"}
    # generated ids follow Mistral's 9-alphanumeric pattern and differ
    assert all(re.fullmatch(r"[a-zA-Z0-9]{9}", c["id"]) for c in calls.values())
    assert calls[0]["id"] != calls[1]["id"]
    assert chunks[-1].finish_reason == "tool_calls"


def test_complete_flat_calls_each_with_index_zero_become_separate_calls() -> None:
    events = [{"tool_calls": [{"index": 0, "name": "get_weather", "arguments": {"city": "A"}}]},
              {"tool_calls": [{"index": 0, "name": "get_weather", "arguments": {"city": "B"}}]}]
    calls = tool_calls_of(feed(parser(SCOUT, tools=[WEATHER]), events))
    assert [json.loads(c["arguments"]) for c in calls.values()] == [{"city": "A"}, {"city": "B"}]


def test_a_repeated_complete_call_after_its_fragments_is_not_doubled() -> None:
    events = [
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "get_weather",
                                                                                    "arguments": "{\"city\":"}}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"Oslo\"}"}}]}}]},
        {"response": "", "tool_calls": [{"id": "c1", "type": "function",
                                         "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
    ]
    calls = tool_calls_of(feed(parser(SCOUT, tools=[WEATHER]), events))
    assert list(calls) == [0]
    assert json.loads(calls[0]["arguments"]) == {"city": "Oslo"}


def test_tool_call_streamed_as_json_text_becomes_tool_chunks() -> None:
    pieces = ['{"name": ', '"get_weather", ', '"parameters": ', '{"city": "Lima"}}']
    chunks = feed(parser(LLAMA_8B, tools=[WEATHER]), [{"response": p} for p in pieces])
    assert text_of(chunks) == ""
    calls = tool_calls_of(chunks)
    assert calls[0]["name"] == "get_weather" and json.loads(calls[0]["arguments"]) == {"city": "Lima"}
    assert calls[0]["id"]
    assert chunks[-1].finish_reason == "tool_calls"


def test_text_with_tools_streams_once_it_cannot_be_a_call() -> None:
    p = parser(LLAMA_8B, tools=[WEATHER])
    assert p.feed(json.dumps({"response": "  "})) == []  # could still become JSON
    out = p.feed(json.dumps({"response": "Sunny"}))
    assert text_of(out) == "  Sunny"
    assert text_of(p.feed(json.dumps({"response": " today"}))) == " today"


def test_text_with_tools_is_released_as_soon_as_it_is_no_call_prefix() -> None:
    p = parser(LLAMA_8B, tools=[WEATHER])
    assert p.feed(json.dumps({"response": "["})) == []
    assert text_of(p.feed(json.dumps({"response": "note] see"}))) == "[note] see"
    q = parser(LLAMA_8B, tools=[WEATHER])
    assert q.feed(json.dumps({"response": '{"na'})) == []  # may become {"name": ...}
    assert text_of(q.feed(json.dumps({"response": 'tion": "x"}'}))) == '{"nation": "x"}'


def test_json_looking_text_that_is_not_a_call_is_released_at_the_end() -> None:
    chunks = feed(parser(LLAMA_8B, tools=[WEATHER]), [{"response": "{\"temp\": "}, {"response": "3}"}])
    assert text_of(chunks) == "{\"temp\": 3}"
    assert tool_calls_of(chunks) == {}


def test_stop_sequence_split_across_events() -> None:
    chunks = feed(parser(stop=["STOP"]), [{"response": "one ST"}, {"response": "OP two"}, {"response": " three"},
                                          {"response": "", "usage": {"completion_tokens": 4}}])
    assert text_of(chunks) == "one "
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None  # usage still read after the stop


def test_text_near_a_stop_prefix_is_released_when_no_stop_follows() -> None:
    chunks = feed(parser(stop=["STOP"]), [{"response": "a ST"}, {"response": "ay"}])
    assert text_of(chunks) == "a STay"


def test_missing_done_raises_stream_error() -> None:
    p = parser()
    p.feed(json.dumps({"response": "partial"}))
    with pytest.raises(StreamError, match=r"\[DONE\]"):
        p.end()


def test_error_event_raises_stream_error() -> None:
    with pytest.raises(StreamError, match="overloaded"):
        parser().feed(json.dumps({"error": "model overloaded"}))


def test_non_json_event_raises_stream_error() -> None:
    with pytest.raises(StreamError):
        parser().feed("not json")


def test_events_after_done_are_ignored() -> None:
    p = parser()
    p.feed("[DONE]")
    assert p.feed(json.dumps({"response": "late"})) == []


def test_gateway_info_on_the_first_chunk_only() -> None:
    p = parser()
    p.begin(RawResponse(200, {"content-type": "text/event-stream", "cf-aig-cache-status": "MISS",
                              "cf-aig-log-id": "LOG"}, b""))
    chunks = feed(p, [{"response": "a"}, {"response": "b"}])
    assert chunks[0].gateway is not None and chunks[0].gateway.log_id == "LOG"
    assert all(c.gateway is None for c in chunks[1:])


def test_plain_json_body_fallback_yields_equivalent_chunks() -> None:
    body = json.dumps({"result": {"response": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "X"}}],
                                  "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
                       "success": True, "errors": [], "messages": []}).encode()
    p = parser(LLAMA_8B, tools=[WEATHER])
    chunks = p.from_body(RawResponse(200, {"content-type": "application/json"}, body)) + p.end()
    calls = tool_calls_of(chunks)
    assert calls[0]["name"] == "get_weather" and json.loads(calls[0]["arguments"]) == {"city": "X"}
    assert sum(1 for c in chunks if c.usage is not None) == 1
    assert chunks[-1].finish_reason == "tool_calls"


def test_json_mode_fallback_yields_json_text() -> None:
    body = json.dumps({"result": {"response": {"a": 1}}, "success": True, "errors": [], "messages": []}).encode()
    p = ChatStreamParser(plan_chat("@cf/meta/llama-3.3-70b-instruct-fp8-fast", USER, json_mode=True))
    chunks = p.from_body(RawResponse(200, {"content-type": "application/json"}, body))
    assert json.loads(text_of(chunks)) == {"a": 1}


def test_split_sse_frames_through_the_decoder() -> None:
    wire = (b'data: {"response":"Hel","p":"abc"}\n\n'
            b'data: {"response":"lo"}\r\n\r\n'
            b'data: {"response":"","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n'
            b'data: [DONE]\n\n')
    for size in (1, 3, 7, len(wire)):
        decoder, p = SSEDecoder(), parser()
        chunks: list[ChatChunk] = []
        for i in range(0, len(wire), size):
            for data in decoder.feed(wire[i:i + size]):
                chunks += p.feed(data)
        for data in decoder.flush():
            chunks += p.feed(data)
        chunks += p.end()
        assert text_of(chunks) == "Hello", size
        assert [c.usage.total_tokens for c in chunks if c.usage] == [3]


def test_sse_body_with_the_wrong_content_type_is_still_parsed() -> None:
    wire = b'data: {"response":"ok"}\n\ndata: [DONE]\n\n'
    chunks = parser().from_body(RawResponse(200, {"content-type": "text/plain"}, wire))
    assert text_of(chunks) == "ok"
