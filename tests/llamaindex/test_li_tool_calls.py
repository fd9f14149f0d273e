"""Tool calling: request preparation, parsing of calls (complete and streamed), ids, parallel calls,
and sending tool results back. The stand-in model calls the tools a message names, so assertions
are about what was sent and how the answer was parsed."""

# No `from __future__ import annotations`: FunctionTool reads the tools' annotations at runtime.

import inspect

import pytest
from li_support import JSON_ONLY_MODEL, Wire
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    MessageRole,
    TextBlock,
    ToolCallBlock,
)
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

from cf_core import CloudflareClient
from cf_core.errors import InvalidInputError
from cf_llamaindex import CloudflareWorkersAI


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


def get_population(city: str) -> str:
    """Get the number of inhabitants of a city."""
    return f"{city}: 2,100,000 people"


class Address(BaseModel):
    street: str = Field(description="Street and number")
    city: str = Field(description="City")


def send_letter(recipient: str, address: Address) -> str:
    """Send a letter to a recipient at an address."""
    return f"sent to {recipient} in {address.city}"


TOOLS = [FunctionTool.from_defaults(fn=get_weather), FunctionTool.from_defaults(fn=get_population)]
BOTH = "What is the weather in Paris, and the population of Paris?"


def test_prepare_chat_with_tools_builds_request(llm: CloudflareWorkersAI) -> None:
    assert "tool_required" in inspect.signature(llm._prepare_chat_with_tools).parameters
    history = [ChatMessage(role=MessageRole.SYSTEM, content="be brief")]
    prepared = llm._prepare_chat_with_tools(TOOLS, user_msg="weather?", chat_history=history)
    assert [m.content for m in prepared["messages"]] == ["be brief", "weather?"]
    assert history == [history[0]]  # the caller's list is not modified
    assert [t["function"]["name"] for t in prepared["tools"]] == ["get_weather", "get_population"]
    assert prepared["tools"][0]["type"] == "function"
    assert prepared["tools"][0]["function"]["parameters"]["properties"]["city"]["type"] == "string"
    assert prepared["tool_choice"] == "auto"
    assert llm._prepare_chat_with_tools(TOOLS, user_msg="x", tool_required=True)["tool_choice"] == "required"
    named = llm._prepare_chat_with_tools(TOOLS, user_msg="x", tool_choice="get_population")
    assert named["tool_choice"] == {"type": "function", "function": {"name": "get_population"}}
    assert llm._prepare_chat_with_tools(TOOLS, user_msg="x", tool_choice="none")["tool_choice"] == "none"
    with pytest.raises(InvalidInputError, match="get_time"):
        llm._prepare_chat_with_tools(TOOLS, user_msg="x", tool_choice="get_time")


def test_nested_argument_schemas_are_sent_without_refs(llm: CloudflareWorkersAI) -> None:
    prepared = llm._prepare_chat_with_tools([FunctionTool.from_defaults(fn=send_letter)], user_msg="x")
    params = prepared["tools"][0]["function"]["parameters"]
    assert "$defs" not in params and "$ref" not in str(params)
    assert params["properties"]["address"]["properties"]["city"]["type"] == "string"


def test_chat_with_tools_sends_tools_and_parses_calls(llm: CloudflareWorkersAI, wire: Wire) -> None:
    response = llm.chat_with_tools(TOOLS, user_msg="What is the weather in Paris?", tool_required=True)
    body = wire.chat_bodies()[-1]
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "get_population"]
    assert body["tool_choice"] == "required"
    calls = llm.get_tool_calls_from_response(response)
    assert [(c.tool_name, c.tool_kwargs) for c in calls] == [("get_weather", {"city": "Paris"})]
    assert calls[0].tool_id  # the core always gives an id
    raw_calls = response.message.additional_kwargs["tool_calls"]
    assert raw_calls[0]["id"] == calls[0].tool_id and raw_calls[0]["function"]["name"] == "get_weather"
    assert isinstance(raw_calls[0]["function"]["arguments"], str)


def test_parallel_calls_kept_or_cut_to_the_first(llm: CloudflareWorkersAI) -> None:
    both = llm.chat_with_tools(TOOLS, user_msg=BOTH, allow_parallel_tool_calls=True)
    assert [c.tool_name for c in llm.get_tool_calls_from_response(both)] == ["get_weather", "get_population"]
    one = llm.chat_with_tools(TOOLS, user_msg=BOTH, allow_parallel_tool_calls=False)
    assert [c.tool_name for c in llm.get_tool_calls_from_response(one)] == ["get_weather"]
    assert len(one.message.additional_kwargs["tool_calls"]) == 1


def test_parallel_off_also_applies_to_streams(llm: CloudflareWorkersAI) -> None:
    last = list(llm.stream_chat_with_tools(TOOLS, user_msg=BOTH, allow_parallel_tool_calls=False))[-1]
    assert [c.tool_name for c in llm.get_tool_calls_from_response(last)] == ["get_weather"]


def test_streamed_chunks_carry_the_tool_calls(llm: CloudflareWorkersAI) -> None:
    chunks = list(llm.stream_chat_with_tools(TOOLS, user_msg=BOTH, allow_parallel_tool_calls=True))
    last = chunks[-1]
    assert [c["function"]["name"] for c in last.message.additional_kwargs["tool_calls"]] == \
        ["get_weather", "get_population"]
    calls = llm.get_tool_calls_from_response(last)
    assert calls[0].tool_kwargs == {"city": "Paris"}
    ids = [c.tool_id for c in calls]
    assert len(set(ids)) == 2
    # ids stay the same from the chunk that introduced a call to the end of the stream
    for chunk in chunks:
        for call in llm.get_tool_calls_from_response(chunk, error_on_no_tool_call=False):
            assert call.tool_id in ids


async def test_async_tool_calls(llm: CloudflareWorkersAI) -> None:
    response = await llm.achat_with_tools(TOOLS, user_msg="What is the weather in Oslo?")
    assert llm.get_tool_calls_from_response(response)[0].tool_kwargs == {"city": "Oslo"}
    stream = await llm.astream_chat_with_tools(TOOLS, user_msg="What is the weather in Oslo?")
    chunks = [c async for c in stream]
    assert llm.get_tool_calls_from_response(chunks[-1])[0].tool_name == "get_weather"


def test_error_on_no_tool_call(llm: CloudflareWorkersAI) -> None:
    response = llm.chat_with_tools(TOOLS, user_msg="Tell me a fact.", tool_choice="none")
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError, match="tool call"):
        llm.get_tool_calls_from_response(response)


def test_missing_ids_are_made_up_and_kept_on_the_message(llm: CloudflareWorkersAI) -> None:
    message = ChatMessage(role=MessageRole.ASSISTANT, blocks=[
        ToolCallBlock(tool_call_id=None, tool_name="get_weather", tool_kwargs='{"city": "Rome", "un'),
        ToolCallBlock(tool_call_id=None, tool_name="get_population", tool_kwargs={"city": "Rome"})])
    calls = llm.get_tool_calls_from_response(ChatResponse(message=message))
    assert calls[0].tool_kwargs == {"city": "Rome"}  # partial JSON while streaming
    assert calls[0].tool_id and calls[1].tool_id and calls[0].tool_id != calls[1].tool_id
    again = llm.get_tool_calls_from_response(ChatResponse(message=message))
    assert [c.tool_id for c in again] == [c.tool_id for c in calls]


def test_tool_results_go_back_with_ids_and_names(llm: CloudflareWorkersAI, wire: Wire) -> None:
    """The history FunctionAgent builds: assistant ToolCallBlock, then a tool message with only the id."""
    first = llm.chat_with_tools(TOOLS, user_msg="What is the weather in Paris?")
    call = llm.get_tool_calls_from_response(first)[0]
    history = [ChatMessage(role=MessageRole.USER, content="What is the weather in Paris?"), first.message,
               ChatMessage(role=MessageRole.TOOL, blocks=[TextBlock(text="Sunny in Paris")],
                           additional_kwargs={"tool_call_id": call.tool_id})]
    final = llm.chat_with_tools(TOOLS, chat_history=history)
    sent = wire.chat_bodies()[-1]["messages"]
    assert sent[1]["role"] == "assistant"
    assert sent[1]["tool_calls"][0]["id"] == call.tool_id
    assert sent[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert sent[2] == {"role": "tool", "content": "Sunny in Paris", "tool_call_id": call.tool_id,
                       "name": "get_weather"}
    assert llm.get_tool_calls_from_response(final, error_on_no_tool_call=False) == []
    assert "Sunny in Paris" in (final.message.content or "")


def test_predict_and_call_runs_the_tool(llm: CloudflareWorkersAI) -> None:
    out = llm.predict_and_call(TOOLS, user_msg="What is the weather in Lima?")
    assert out.response == "Sunny in Lima"
    assert out.sources[0].tool_name == "get_weather"


def test_model_without_tool_support_is_refused_before_sending(client: CloudflareClient, wire: Wire) -> None:
    llm = CloudflareWorkersAI(model=JSON_ONLY_MODEL, client=client)
    with pytest.raises(InvalidInputError, match="tool calling"):
        llm.chat_with_tools(TOOLS, user_msg="weather in Paris?")
    assert wire == []


def test_calls_kept_only_in_additional_kwargs_are_read(llm: CloudflareWorkersAI) -> None:
    message = ChatMessage(role=MessageRole.ASSISTANT, content="", additional_kwargs={"tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Bern"}'}}]})
    [call] = llm.get_tool_calls_from_response(ChatResponse(message=message))
    assert (call.tool_id, call.tool_name, call.tool_kwargs) == ("call_1", "get_weather", {"city": "Bern"})
