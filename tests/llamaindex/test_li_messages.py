"""Message conversion both ways, streamed-message assembly, and images on a vision model."""

from __future__ import annotations

import base64
import json

import pytest
from li_support import Wire
from llama_index.core.base.llms.types import (
    AudioBlock,
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)

from cf_core import CloudflareClient, GatewayInfo
from cf_core.errors import InvalidInputError
from cf_core.workers_ai import ChatChunk, ToolCall, ToolCallChunk, Usage
from cf_llamaindex import CloudflareWorkersAI
from cf_llamaindex._messages import StreamAccumulator, assistant_message, to_wire_messages

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def test_roles_text_and_thinking() -> None:
    wire = to_wire_messages([
        ChatMessage(role=MessageRole.DEVELOPER, content="rules"),
        ChatMessage(role=MessageRole.USER, blocks=[TextBlock(text="a"), TextBlock(text="b")]),
        ChatMessage(role=MessageRole.ASSISTANT, blocks=[ThinkingBlock(content="hmm"), TextBlock(text="ok")]),
    ])
    assert wire == [{"role": "system", "content": "rules"}, {"role": "user", "content": "a\nb"},
                    {"role": "assistant", "content": "ok"}]


def test_images_become_data_url_parts() -> None:
    [msg] = to_wire_messages([ChatMessage(role=MessageRole.USER, blocks=[TextBlock(text="what is this?"),
                                                                         ImageBlock(image=PNG)])])
    assert msg["content"][0] == {"type": "text", "text": "what is this?"}
    url = msg["content"][1]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,") and base64.b64decode(url.split(",", 1)[1]) == PNG


def test_unsupported_blocks_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="audio block"):
        to_wire_messages([ChatMessage(role=MessageRole.USER, blocks=[AudioBlock(audio=b"RIFF0000WAVE")])])


def test_tool_calls_from_blocks_or_legacy_kwargs() -> None:
    legacy = ChatMessage(role=MessageRole.ASSISTANT, content="", additional_kwargs={"tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]})
    blocks = ChatMessage(role=MessageRole.ASSISTANT, blocks=[ToolCallBlock(tool_call_id="c2", tool_name="g",
                                                                           tool_kwargs={"y": 2})])
    tool1 = ChatMessage(role=MessageRole.TOOL, content="r1", additional_kwargs={"tool_call_id": "c1"})
    tool2 = ChatMessage(role=MessageRole.TOOL, content="r2", additional_kwargs={"tool_call_id": "c2", "name": "g"})
    out = to_wire_messages([legacy, tool1, blocks, tool2])
    assert out[0]["tool_calls"] == [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]
    assert out[1] == {"role": "tool", "content": "r1", "tool_call_id": "c1", "name": "f"}
    assert out[2]["tool_calls"][0]["function"] == {"name": "g", "arguments": {"y": 2}}
    assert out[3]["name"] == "g"


def test_assistant_message_from_a_result() -> None:
    msg = assistant_message("", [ToolCall(id="t1", name="f", arguments={"a": 1})], reasoning="thinking")
    assert isinstance(msg.blocks[0], ThinkingBlock) and msg.blocks[0].content == "thinking"
    assert [type(b) for b in msg.blocks[1:]] == [ToolCallBlock]
    assert msg.content is None
    assert json.loads(msg.additional_kwargs["tool_calls"][0]["function"]["arguments"]) == {"a": 1}
    plain = assistant_message("hi", [])
    assert plain.content == "hi" and "tool_calls" not in plain.additional_kwargs


def test_stream_accumulator_assembles_text_calls_and_usage() -> None:
    acc = StreamAccumulator(model="m")
    acc.add(ChatChunk(text="Hel", reasoning="r"))
    acc.add(ChatChunk(text="lo", tool_call_chunks=[ToolCallChunk(index=0, id="x1", name="f", arguments='{"ci')]))
    mid = acc.add(ChatChunk(tool_call_chunks=[ToolCallChunk(index=0, arguments='ty": "Rome"')]))
    assert mid.message.content == "Hello"
    partial = next(b for b in mid.message.blocks if isinstance(b, ToolCallBlock))
    assert partial.tool_kwargs == '{"city": "Rome"'  # still a fragment
    last = acc.add(ChatChunk(tool_call_chunks=[ToolCallChunk(index=0, arguments="}"),
                                               ToolCallChunk(index=1, id=None, name="g", arguments="{}")],
                             usage=Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7),
                             finish_reason="tool_calls"))
    calls = [b for b in last.message.blocks if isinstance(b, ToolCallBlock)]
    assert [(c.tool_call_id, c.tool_name, c.tool_kwargs) for c in calls[:1]] == [("x1", "f", {"city": "Rome"})]
    assert calls[1].tool_call_id  # made up, since the model sent none
    assert last.raw["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert last.additional_kwargs["total_tokens"] == 7
    assert last.raw["finish_reason"] == "tool_calls"
    assert [c["id"] for c in last.message.additional_kwargs["tool_calls"]] == [c.tool_call_id for c in calls]
    assert acc.add(ChatChunk()).message.additional_kwargs["tool_calls"][1]["id"] == calls[1].tool_call_id


def test_stream_accumulator_text_chunks_carry_the_whole_message_and_their_own_raw() -> None:
    """Text-only chunks take the cheap path; each response still holds everything so far."""
    acc = StreamAccumulator(model="m")
    first = acc.add(ChatChunk(text="Hel", gateway=GatewayInfo(cache_status="MISS", log_id="L")))
    second = acc.add(ChatChunk(text="lo"))
    assert [first.message.content, second.message.content] == ["Hel", "Hello"]
    assert [first.delta, second.delta] == ["Hel", "lo"]
    assert [type(b) for b in second.message.blocks] == [TextBlock]
    assert second.message.additional_kwargs == {} and second.additional_kwargs == {}
    assert second.raw is not None and second.raw["gateway"]["log_id"] == "L" and second.raw["usage"] is None
    second.raw["gateway"]["log_id"] = "changed"  # one response's raw is not shared with the next
    third = acc.add(ChatChunk(tool_call_chunks=[ToolCallChunk(index=0, id="c1", name="f", arguments='{"a": 1}')]))
    assert third.raw is not None and third.raw["gateway"]["log_id"] == "L"
    assert third.message.content == "Hello"
    assert [b.tool_name for b in third.message.blocks if isinstance(b, ToolCallBlock)] == ["f"]
    last = acc.add(ChatChunk(finish_reason="tool_calls",
                             usage=Usage(prompt_tokens=2, completion_tokens=3, total_tokens=5)))
    assert last.raw is not None and last.raw["usage"]["total_tokens"] == 5 and last.additional_kwargs["total_tokens"] == 5
    assert last.message.additional_kwargs["tool_calls"][0]["function"]["name"] == "f"
    assert first.message.content == "Hel"  # earlier responses are not changed by later chunks


def test_vision_model_receives_the_image(client: CloudflareClient, wire: Wire) -> None:
    """The stand-in describes an attached image by format and size, which shows the bytes arrived."""
    llm = CloudflareWorkersAI(model="@cf/meta/llama-4-scout-17b-16e-instruct", client=client)
    response = llm.chat([ChatMessage(role=MessageRole.USER, blocks=[TextBlock(text="Describe it."),
                                                                    ImageBlock(image=PNG)])])
    assert f"PNG data of {len(PNG)} bytes" in (response.message.content or "")
    assert wire.chat_bodies()[-1]["messages"][0]["content"][1]["type"] == "image_url"
