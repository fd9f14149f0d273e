"""Reasoning written inline as a leading ``<think>...</think>`` block (deepseek-r1-distill, qwq): pure parser
tests on canned payloads, non-streaming (``parse_result``) and streaming (``ChatStreamParser``)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from cf_core.workers_ai import ChatChunk
from cf_core.workers_ai.chat import parse_result, plan_chat
from cf_core.workers_ai.stream import ChatStreamParser
from cf_core.workers_ai.think import ThinkRouter, split_leading_think
from tests.support import tool_calls_of

R1 = "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b"
QWQ = "@cf/qwen/qwq-32b"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
USER = [{"role": "user", "content": "What is 2+2?"}]
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "w",
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
ANSWER = "<think>\nThe user asks 2+2.\nThat is 4.\n</think>\n\nThe answer is 4."

# (response text, expected reasoning or None, expected text)
CASES = [
    (ANSWER, "The user asks 2+2.\nThat is 4.", "The answer is 4."),
    ("  \n<think>short</think>Four.", "short", "Four."),
    ("The tag <think> is mentioned here.", None, "The tag <think> is mentioned here."),
    ("Answer first. <think>late</think> rest", None, "Answer first. <think>late</think> rest"),
    ("<thinking>not the tag</thinking> hi", None, "<thinking>not the tag</thinking> hi"),
    ("<think>cut off while thinking", "cut off while thinking", ""),
    ("<think></think>Only an answer.", None, "Only an answer."),
    ("<think>a</think>b<think>c</think>", "a", "b<think>c</think>"),
    ("<th", None, "<th"),
    ("Plain answer.", None, "Plain answer."),
]


def stream(model: str, pieces: list[str], *, openai: bool = False, **kw: Any) -> list[ChatChunk]:
    p = ChatStreamParser(plan_chat(model, USER, **kw))
    out: list[ChatChunk] = []
    for piece in pieces:
        event = {"choices": [{"index": 0, "delta": {"content": piece}}]} if openai else {"response": piece}
        out += p.feed(json.dumps(event))
    out += p.feed("[DONE]")
    return out + p.end()


def joined(chunks: list[ChatChunk]) -> tuple[str, str]:
    return "".join(c.reasoning for c in chunks), "".join(c.text for c in chunks)


def splits(text: str, rng: random.Random) -> list[str]:
    pieces, i = [], 0
    while i < len(text):
        step = rng.randint(1, 5)
        pieces.append(text[i:i + step])
        i += step
    return pieces


@pytest.mark.parametrize(("response", "reasoning", "text"), CASES)
def test_non_streaming_moves_only_a_leading_block(response: str, reasoning: str | None, text: str) -> None:
    result = parse_result(plan_chat(R1, USER), {"response": response})
    assert (result.reasoning, result.text) == (reasoning, text)
    assert result.raw["response"] == response  # the raw answer is kept as it came


def test_openai_shaped_content_and_reasoning_content_are_both_kept() -> None:
    result = parse_result(plan_chat(QWQ, USER), {"choices": [{"message": {
        "content": "<think>inline part</think>Four.", "reasoning_content": "field part"}, "finish_reason": "stop"}]})
    assert result.text == "Four." and result.reasoning == "field part\ninline part"


def test_think_block_before_a_text_tool_call_and_json() -> None:
    """What follows the block is read as usual: a tool call written as JSON text, or JSON mode output."""
    call = json.dumps({"name": "get_weather", "parameters": {"city": "Paris"}})
    result = parse_result(plan_chat("@cf/meta/llama-3.2-3b-instruct", USER, tools=[WEATHER]),
                          {"response": f"<think>need the weather</think>\n{call}"})
    assert result.reasoning == "need the weather" and result.text == ""
    assert [(c.name, c.arguments) for c in result.tool_calls] == [("get_weather", {"city": "Paris"})]
    as_json = parse_result(plan_chat("@cf/meta/llama-3.3-70b-instruct-fp8-fast", USER, json_mode=True),
                           {"response": '<think>shape it</think>{"city": "Paris"}'})
    assert as_json.json == {"city": "Paris"} and as_json.reasoning == "shape it"


@pytest.mark.parametrize(("response", "reasoning", "text"), CASES)
@pytest.mark.parametrize("openai", [False, True])
def test_streaming_matches_non_streaming_for_any_split(response: str, reasoning: str | None, text: str,
                                                       openai: bool) -> None:
    rng = random.Random(response)
    for _ in range(30):
        chunks = stream(R1, splits(response, rng), openai=openai)
        assert joined(chunks) == (reasoning or "", text)


def test_tags_split_one_character_at_a_time() -> None:
    chunks = stream(QWQ, list(ANSWER))
    assert joined(chunks) == ("The user asks 2+2.\nThat is 4.", "The answer is 4.")
    # reasoning is streamed as it arrives, before any answer text
    first_text = next(i for i, c in enumerate(chunks) if c.text)
    assert all(not c.reasoning for c in chunks[first_text:]) and any(c.reasoning for c in chunks[:first_text])


def test_streamed_reasoning_adds_to_the_reasoning_field() -> None:
    p = ChatStreamParser(plan_chat(R1, USER))
    chunks = p.feed(json.dumps({"choices": [{"delta": {"reasoning_content": "field "}}]}))
    chunks += p.feed(json.dumps({"response": "<think>inline</think>Four."}))
    chunks += p.feed("[DONE]")
    assert joined(chunks) == ("field inline", "Four.")


def test_streamed_tool_call_after_think_block_with_tools() -> None:
    """Text held back as a possible JSON tool call starts after the block, not at ``<think>``."""
    call = json.dumps({"name": "get_weather", "parameters": {"city": "Oslo"}})
    chunks = stream("@cf/meta/llama-3.2-3b-instruct", ["<think>check", " weather</think> ", call[:10], call[10:]],
                    tools=[WEATHER])
    assert joined(chunks) == ("check weather", "")
    calls = tool_calls_of(chunks)
    assert [(c["name"], json.loads(c["arguments"])) for c in calls.values()] == [("get_weather", {"city": "Oslo"})]
    assert chunks[-1].finish_reason == "tool_calls"


def test_stop_sequences_apply_to_the_answer_not_the_reasoning() -> None:
    chunks = stream(R1, ["<think>I will say END", " later</think>", "Four. END more"], stop="END")
    assert joined(chunks) == ("I will say END later", "Four. ")


def test_router_flush_keeps_a_partial_closing_tag_as_reasoning() -> None:
    router = ThinkRouter()
    assert router.push("<think>a </thi") == ("", "a")
    assert router.flush() == ("", " </thi")
    assert split_leading_think("<think>a </thi") == ("a </thi", "")
