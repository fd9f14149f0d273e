"""get_cloudflare_usage_callback: totals per model, neurons and USD, cache hits, threads, scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from langchain_core.messages import AIMessage

from cf_core import Gateway
from cf_core.catalog import usd_for_neurons
from cf_core.usage import estimate_neurons
from cf_core.workers_ai.types import Usage
from cf_langchain import ChatCloudflareWorkersAI, CloudflareKVCache, get_cloudflare_usage_callback

if TYPE_CHECKING:
    from tests.langchain.conftest import Wire

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
PROMPT = "Oslo is the capital of Norway. What is the capital of Norway?"


def chat(wire: Wire, **kwargs: object) -> ChatCloudflareWorkersAI:
    return ChatCloudflareWorkersAI(client=wire.client, async_client=wire.aclient, **kwargs)  # type: ignore[arg-type]


def neurons_of(model: str, message: AIMessage) -> float:
    usage = message.usage_metadata
    assert usage is not None
    value = estimate_neurons(model, Usage(prompt_tokens=usage["input_tokens"], completion_tokens=usage["output_tokens"],
                                          total_tokens=usage["total_tokens"]))
    assert value is not None
    return value


def test_totals_per_model_from_invoke_and_stream(wire: Wire) -> None:
    llama, mistral = chat(wire, model=LLAMA), chat(wire, model=MISTRAL)
    with get_cloudflare_usage_callback() as cb:
        a = llama.invoke(PROMPT)
        b = mistral.invoke(PROMPT)
        streamed = None
        for chunk in llama.stream(PROMPT):
            streamed = chunk if streamed is None else streamed + chunk
    assert streamed is not None
    messages = [(LLAMA, a), (MISTRAL, b), (LLAMA, streamed)]
    expected_tokens = sum(m.usage_metadata["total_tokens"] for _, m in messages)  # type: ignore[index]
    assert cb.successful_requests == 3 and cb.total_tokens == expected_tokens
    assert cb.prompt_tokens + cb.completion_tokens == cb.total_tokens
    per_model = cb.by_model()
    assert per_model[LLAMA].requests == 2 and per_model[MISTRAL].requests == 1
    expected_neurons = sum(neurons_of(model, m) for model, m in messages)
    assert cb.total_neurons == pytest.approx(expected_neurons)
    assert cb.total_cost == pytest.approx(usd_for_neurons(expected_neurons))
    assert cb.total_neurons > 0 and cb.cache_hits == 0


def test_nothing_is_counted_outside_the_block(wire: Wire) -> None:
    llm = chat(wire)
    with get_cloudflare_usage_callback() as cb:
        llm.invoke(PROMPT)
    llm.invoke(PROMPT)
    assert cb.successful_requests == 1


def test_gateway_cache_hits_cost_no_neurons(wire: Wire) -> None:
    llm = chat(wire, ai_gateway=Gateway(id="gw", cache_ttl=300))
    with get_cloudflare_usage_callback() as cb:
        first = llm.invoke(PROMPT)
        second = llm.invoke(PROMPT)
    assert second.response_metadata["cache_status"] == "HIT"
    assert cb.successful_requests == 2 and cb.cache_hits == 1
    assert cb.total_neurons == pytest.approx(neurons_of(LLAMA, first))


def test_langchain_cache_hits_are_counted_as_hits(wire: Wire) -> None:
    namespace = wire.client.kv.create_namespace("cb-cache").id
    llm = chat(wire, cache=CloudflareKVCache(namespace_id=namespace, client=wire.client))
    with get_cloudflare_usage_callback() as cb:
        first = llm.invoke(PROMPT)
        llm.invoke(PROMPT)
    assert cb.successful_requests == 2 and cb.cache_hits == 1
    assert cb.total_neurons == pytest.approx(neurons_of(LLAMA, first))


def test_thread_safe_under_batch(wire: Wire) -> None:
    prompts = [f"Item {i} is blue. What colour is item {i}?" for i in range(12)]
    with get_cloudflare_usage_callback() as cb:
        results = chat(wire).batch(prompts, config={"max_concurrency": 6})
    assert cb.successful_requests == 12
    assert cb.total_tokens == sum(r.usage_metadata["total_tokens"] for r in results)  # type: ignore[index]


async def test_async_calls_are_counted(wire: Wire) -> None:
    with get_cloudflare_usage_callback() as cb:
        await chat(wire).ainvoke(PROMPT)
        await chat(wire).abatch([PROMPT, PROMPT + " Briefly."])
    assert cb.successful_requests == 3


def test_readable_summary(wire: Wire) -> None:
    with get_cloudflare_usage_callback() as cb:
        chat(wire, model=LLAMA).invoke(PROMPT)
        chat(wire, model=MISTRAL).invoke(PROMPT)
    text = str(cb)
    assert LLAMA in text and MISTRAL in text and "TOTAL" in text and "neurons" in text
    total_line = next(line for line in text.splitlines() if line.startswith("TOTAL"))
    assert str(cb.total_tokens) in total_line.split()
    assert "requests=2" in repr(cb)
    cb.reset()
    assert cb.successful_requests == 0
