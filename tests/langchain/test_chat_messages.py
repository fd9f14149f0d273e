"""LangChain <-> Workers AI message conversion (pure functions, no emulator)."""

from __future__ import annotations

import base64

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from cf_core import GatewayInfo, InvalidInputError
from cf_core.workers_ai.types import ChatChunk, ChatResult, ToolCall, ToolCallChunk, Usage
from cf_langchain._messages import chunk_to_message, result_to_message, to_workers_ai_messages

PNG_B64 = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def test_roles_and_plain_text() -> None:
    out = to_workers_ai_messages([SystemMessage("be brief"), HumanMessage("hi", name="ann"),
                                  AIMessage("hello"), ChatMessage(role="user", content="again")])
    assert out == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},  # `name` has no Workers AI field and is not sent
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]


def test_text_blocks_are_joined_into_a_string() -> None:
    out = to_workers_ai_messages([HumanMessage([{"type": "text", "text": "a"}, "b", {"type": "text", "text": "c"}])])
    assert out == [{"role": "user", "content": "abc"}]


def test_v1_base64_image_becomes_a_data_uri_part() -> None:
    msg = HumanMessage([{"type": "text", "text": "what is this?"},
                        {"type": "image", "base64": PNG_B64, "mime_type": "image/png"}])
    (out,) = to_workers_ai_messages([msg])
    assert out["content"] == [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
    ]


def test_openai_image_url_block_passes_through_in_both_shapes() -> None:
    uri = f"data:image/png;base64,{PNG_B64}"
    for block in ({"type": "image_url", "image_url": {"url": uri}}, {"type": "image_url", "image_url": uri}):
        (out,) = to_workers_ai_messages([HumanMessage([block])])
        assert out["content"] == [{"type": "image_url", "image_url": {"url": uri}}]


def test_remote_image_url_is_refused_before_sending() -> None:
    msg = HumanMessage([{"type": "image", "url": "https://example.com/cat.png"}])
    with pytest.raises(InvalidInputError, match="not remote URLs") as info:
        to_workers_ai_messages([msg])
    assert info.value.field == "image"


def test_base64_image_without_mime_type_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="mime_type"):
        to_workers_ai_messages([HumanMessage([{"type": "image", "base64": PNG_B64}])])


def test_unsupported_block_type_names_the_message_and_type() -> None:
    msg = HumanMessage([{"type": "file", "base64": "AAAA", "mime_type": "application/pdf"}])
    with pytest.raises(InvalidInputError, match=r"messages\[0\].*'file'"):
        to_workers_ai_messages([msg])


def test_images_outside_user_messages_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="only accepted in user messages"):
        to_workers_ai_messages([SystemMessage([{"type": "image", "base64": PNG_B64, "mime_type": "image/png"}])])


def test_ai_tool_calls_and_tool_results_with_name_recovered_from_the_id() -> None:
    ai = AIMessage(
        content=[{"type": "text", "text": "let me check"},
                 {"type": "tool_use", "id": "c1", "name": "get_weather", "input": {"city": "Zürich"}}],
        tool_calls=[{"name": "get_weather", "args": {"city": "Zürich"}, "id": "c1", "type": "tool_call"}])
    tool = ToolMessage("12°C", tool_call_id="c1")  # no name: taken from the AI message's call
    out = to_workers_ai_messages([HumanMessage("weather?"), ai, tool])
    assert out[1] == {"role": "assistant", "content": "let me check", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich"}}}]}
    assert out[2] == {"role": "tool", "content": "12°C", "tool_call_id": "c1", "name": "get_weather"}


def test_ai_message_without_text_sends_empty_string_not_null() -> None:
    ai = AIMessage(content=[], tool_calls=[{"name": "f", "args": {}, "id": "x", "type": "tool_call"}])
    (out,) = to_workers_ai_messages([ai])
    assert out["content"] == ""


def test_reasoning_blocks_are_not_sent_back() -> None:
    ai = AIMessage(content=[{"type": "reasoning", "reasoning": "hmm"}, {"type": "text", "text": "42"}])
    assert to_workers_ai_messages([ai]) == [{"role": "assistant", "content": "42"}]


def test_structured_tool_result_is_json_with_unicode_kept() -> None:
    tool = ToolMessage(content=[{"type": "json", "value": {"name": "東京"}}], tool_call_id="t", name="lookup")
    (out,) = to_workers_ai_messages([tool])
    assert "東京" in out["content"]
    assert out["content"].startswith("[{")


def test_repeated_roles_are_kept_in_order() -> None:
    msgs = [SystemMessage("a"), SystemMessage("b"), HumanMessage("c"), HumanMessage("d")]
    assert [m["content"] for m in to_workers_ai_messages(msgs)] == ["a", "b", "c", "d"]


# -- incoming ---------------------------------------------------------------------------------


def test_result_to_message_maps_usage_metadata_and_tool_calls() -> None:
    result = ChatResult(
        model="@cf/m", text="", finish_reason="tool_calls", reasoning="thinking...",
        tool_calls=[ToolCall(id="a", name="f", arguments={"x": 1}),
                    ToolCall(id="b", name="g", arguments={}, raw_arguments="not json")],
        usage=Usage(prompt_tokens=10, completion_tokens=5, total_tokens=15, cached_tokens=4, neurons=0.5,
                    estimated_usd=0.0000055),
        gateway=GatewayInfo(cache_status="HIT", log_id="L1"))
    msg = result_to_message(result, model="@cf/other")
    assert msg.tool_calls == [{"name": "f", "args": {"x": 1}, "id": "a", "type": "tool_call"}]
    assert msg.invalid_tool_calls[0]["args"] == "not json"
    assert msg.usage_metadata == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15,
                                  "input_token_details": {"cache_read": 4}}
    assert msg.response_metadata["model_name"] == "@cf/m"
    assert msg.response_metadata["model_provider"] == "cloudflare"
    assert msg.response_metadata["finish_reason"] == "tool_calls"
    assert msg.response_metadata["cache_status"] == "HIT"
    assert msg.response_metadata["log_id"] == "L1"
    assert msg.additional_kwargs["reasoning_content"] == "thinking..."
    assert [b["type"] for b in msg.content_blocks if b["type"] == "reasoning"] == ["reasoning"]


def test_chunks_merge_into_one_message_with_usage_once() -> None:
    chunks = [
        ChatChunk(text="Hel", reasoning="r1", gateway=GatewayInfo(cache_status="MISS", log_id="L")),
        ChatChunk(text="lo", reasoning="r2",
                  tool_call_chunks=[ToolCallChunk(index=0, id="c", name="f", arguments='{"a"')]),
        ChatChunk(tool_call_chunks=[ToolCallChunk(index=0, arguments=": 1}")]),
        ChatChunk(finish_reason="tool_calls", usage=Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5,
                                                          neurons=0.25)),
    ]
    messages = [chunk_to_message(c, model="@cf/m", first=i == 0) for i, c in enumerate(chunks)]
    assert [m.usage_metadata is not None for m in messages] == [False, False, False, True]
    assert ["model_name" in m.response_metadata for m in messages] == [True, False, False, False]
    merged: AIMessageChunk = messages[0]
    for m in messages[1:]:
        merged = merged + m
    merged = merged + AIMessageChunk(content="", chunk_position="last")
    assert merged.content == "Hello"
    assert merged.response_metadata["model_name"] == "@cf/m"
    assert merged.response_metadata["finish_reason"] == "tool_calls"
    assert merged.response_metadata["neurons"] == 0.25
    assert merged.additional_kwargs["reasoning_content"] == "r1r2"
    assert merged.tool_calls == [{"name": "f", "args": {"a": 1}, "id": "c", "type": "tool_call"}]
    assert merged.usage_metadata == {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}


def test_text_only_chunks_carry_text_alone() -> None:
    """Only the first chunk names the model and provider; plain text chunks carry nothing else."""
    first = chunk_to_message(ChatChunk(text="Hel"), model="@cf/m", first=True)
    middle = chunk_to_message(ChatChunk(text="lo"), model="@cf/m", first=False)
    assert first.response_metadata == {"model_name": "@cf/m", "model_provider": "cloudflare"}
    assert middle.content == "lo" and middle.response_metadata == {} and middle.additional_kwargs == {}
    assert middle.usage_metadata is None and middle.tool_call_chunks == [] and middle.tool_calls == []
    last = chunk_to_message(ChatChunk(finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=2,
                                                                          total_tokens=3)), model="@cf/m", first=False)
    assert last.response_metadata == {"finish_reason": "stop"}
    assert last.usage_metadata == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}
    merged = first + middle + last
    assert merged.content == "Hello" and merged.response_metadata["model_provider"] == "cloudflare"
    assert merged.response_metadata["model_name"] == "@cf/m"
