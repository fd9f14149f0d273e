"""A tool-calling agent that needs two different tools, end to end against the emulator.

The loop is the plain one (model -> tool calls -> ToolMessages -> model until no tool call). The
stand-in model picks tools the request names and fills arguments from the text, so the checks are
about the plumbing: which tools ran, what went back to the model, and what stayed out of its context.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool

from cf_langchain import (
    ChatCloudflareWorkersAI,
    CloudflareImageGenerationTool,
    CloudflareTextClassificationTool,
    CloudflareTranslationTool,
)

if TYPE_CHECKING:
    from tests.langchain.conftest import Wire

TASK = ("Classify the sentiment of this review: 'The hotel was wonderful and the staff were lovely.' "
        "Then generate an image of the hotel pool at sunset.")
MODELS = ["@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/meta/llama-4-scout-17b-16e-instruct"]


def make_tools(wire: Wire) -> list[BaseTool]:
    kwargs: dict[str, Any] = {"client": wire.client, "async_client": wire.aclient}
    return [CloudflareImageGenerationTool(**kwargs), CloudflareTextClassificationTool(**kwargs),
            CloudflareTranslationTool(**kwargs)]


def run_agent(llm: ChatCloudflareWorkersAI, tools: list[BaseTool], task: str, max_steps: int = 5) -> list[BaseMessage]:
    by_name = {t.name: t for t in tools}
    model = llm.bind_tools(tools)
    messages: list[BaseMessage] = [HumanMessage(task)]
    for _ in range(max_steps):
        reply = model.invoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            return messages
        messages.extend(by_name[call["name"]].invoke(call) for call in reply.tool_calls)
    raise AssertionError("the agent did not finish")


async def arun_agent(llm: ChatCloudflareWorkersAI, tools: list[BaseTool], task: str,
                     max_steps: int = 5) -> list[BaseMessage]:
    by_name = {t.name: t for t in tools}
    model = llm.bind_tools(tools)
    messages: list[BaseMessage] = [HumanMessage(task)]
    for _ in range(max_steps):
        reply = await model.ainvoke(messages)
        messages.append(reply)
        if not reply.tool_calls:
            return messages
        messages.extend([await by_name[call["name"]].ainvoke(call) for call in reply.tool_calls])
    raise AssertionError("the agent did not finish")


def check_run(messages: list[BaseMessage], wire: Wire) -> None:
    first = messages[1]
    assert isinstance(first, AIMessage)
    assert sorted(c["name"] for c in first.tool_calls) == ["classify_sentiment", "generate_image"]
    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert {r.tool_call_id for r in results} == {c["id"] for c in first.tool_calls}
    sentiment = next(r for r in results if r.name == "classify_sentiment")
    image = next(r for r in results if r.name == "generate_image")
    assert sentiment.content.startswith("POSITIVE")
    assert image.artifact["type"] == "image" and image.artifact["base64"]

    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert "POSITIVE" in final.text and "generate_image" in final.text

    model_bodies = [b for b in wire.bodies("/ai/run/@cf/meta/") if "messages" in b]
    assert len(model_bodies) == 2  # one turn with the calls, one with the results
    second = model_bodies[1]["messages"]
    assistant = next(m for m in second if m["role"] == "assistant")
    assert {c["function"]["name"] for c in assistant["tool_calls"]} == {"classify_sentiment", "generate_image"}
    tool_turns = [m for m in second if m["role"] == "tool"]
    assert {m["name"] for m in tool_turns} == {"classify_sentiment", "generate_image"}
    assert {m["tool_call_id"] for m in tool_turns} == {c["id"] for c in assistant["tool_calls"]}
    # The generated image never reaches the model's context.
    assert image.artifact["base64"][:200] not in json.dumps(model_bodies)


@pytest.mark.parametrize("model", MODELS)
def test_agent_uses_two_tools(wire: Wire, model: str) -> None:
    llm = ChatCloudflareWorkersAI(client=wire.client, async_client=wire.aclient, model=model, temperature=0)
    check_run(run_agent(llm, make_tools(wire), TASK), wire)


async def test_agent_async(wire: Wire) -> None:
    llm = ChatCloudflareWorkersAI(client=wire.client, async_client=wire.aclient, model=MODELS[1])
    check_run(await arun_agent(llm, make_tools(wire), TASK), wire)
