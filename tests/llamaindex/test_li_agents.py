"""FunctionAgent and AgentWorkflow driving CloudflareWorkersAI through a task that needs two tools.

The stand-in model calls the tools the user names and then quotes their results, so the tests check
the loop's mechanics: both tools ran, their results went back with matching call ids, the events
streamed, and the final answer carries both results."""

# No `from __future__ import annotations`: FunctionTool reads the tools' annotations at runtime.

from typing import Any

from li_support import Wire
from llama_index.core.agent.workflow import (
    AgentOutput,
    AgentStream,
    AgentWorkflow,
    FunctionAgent,
    ToolCallResult,
)
from llama_index.core.llms.llm import ToolSelection

from cf_llamaindex import CloudflareWorkersAI

TASK = "What is the weather in Paris, and what is the exchange rate of the euro?"


def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"WEATHER-RESULT: 21 degrees and sunny in {city}"


def get_exchange_rate(currency: str) -> str:
    """Get the exchange rate of a currency against the US dollar."""
    return "RATE-RESULT: 1.08 USD"


async def _run(agent: Any, task: str = TASK) -> tuple[list[Any], Any]:
    handler = agent.run(task)
    events = [event async for event in handler.stream_events()]
    return events, await handler


def _tool_messages(wire: Wire) -> list[dict[str, Any]]:
    return [m for m in wire.chat_bodies()[-1]["messages"] if m["role"] == "tool"]


def _check_both_tools_ran(events: list[Any], result: Any, wire: Wire) -> None:
    results = [e for e in events if isinstance(e, ToolCallResult)]
    assert sorted(e.tool_name for e in results) == ["get_exchange_rate", "get_weather"]
    assert all(not e.tool_output.is_error for e in results)
    final = str(result)
    assert "WEATHER-RESULT" in final and "RATE-RESULT" in final
    # the last request carried both results, each tied to the id of the call that asked for it
    sent = _tool_messages(wire)
    assert {m["tool_call_id"] for m in sent} == {e.tool_id for e in results}
    assert {m["name"] for m in sent} == {"get_weather", "get_exchange_rate"}
    assert any("WEATHER-RESULT" in m["content"] for m in sent)
    assert wire.chat_bodies()[-1]["tools"]


async def test_function_agent_streaming(llm: CloudflareWorkersAI, wire: Wire) -> None:
    agent = FunctionAgent(tools=[get_weather, get_exchange_rate], llm=llm, system_prompt="Use the tools.")
    events, result = await _run(agent)
    _check_both_tools_ran(events, result, wire)
    streams = [e for e in events if isinstance(e, AgentStream)]
    assert any(e.tool_calls for e in streams)  # calls visible while streaming
    assert "".join(e.delta for e in streams).endswith(str(result).split("RATE-RESULT")[-1])
    assert all(body["stream"] is True for body in wire.chat_bodies())
    weather = next(e for e in events if isinstance(e, ToolCallResult) and e.tool_name == "get_weather")
    assert weather.tool_kwargs == {"city": "Paris"}


async def test_function_agent_without_streaming_or_parallel_calls(llm: CloudflareWorkersAI, wire: Wire) -> None:
    agent = FunctionAgent(tools=[get_weather, get_exchange_rate], llm=llm, streaming=False,
                          allow_parallel_tool_calls=False)
    events, result = await _run(agent)
    _check_both_tools_ran(events, result, wire)
    outputs = [e for e in events if isinstance(e, AgentOutput)]
    asked = [[t.tool_name for t in o.tool_calls if isinstance(t, ToolSelection)] for o in outputs]
    assert asked == [["get_weather"], ["get_exchange_rate"], []]  # one tool per turn, then the answer
    assert len(wire.chat_bodies()) == 3
    assert all("stream" not in body for body in wire.chat_bodies())


async def test_agent_workflow_from_functions(llm: CloudflareWorkersAI, wire: Wire) -> None:
    workflow = AgentWorkflow.from_tools_or_functions([get_weather, get_exchange_rate], llm=llm)
    assert isinstance(workflow.agents[next(iter(workflow.agents))], FunctionAgent)
    events, result = await _run(workflow)
    _check_both_tools_ran(events, result, wire)


async def test_agent_workflow_with_a_named_root_agent(llm: CloudflareWorkersAI, wire: Wire) -> None:
    weather = FunctionAgent(name="weather_agent", description="Knows the weather.", llm=llm,
                            tools=[get_weather, get_exchange_rate], can_handoff_to=[])
    workflow = AgentWorkflow(agents=[weather], root_agent="weather_agent")
    events, result = await _run(workflow)
    _check_both_tools_ran(events, result, wire)
