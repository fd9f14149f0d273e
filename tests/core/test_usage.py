"""cf_core.usage: neurons and dollars from the catalog's prices, and the thread-safe tracker."""

from __future__ import annotations

import threading

import pytest

from cf_core import CloudflareClient, GatewayInfo
from cf_core.usage import (
    ModelUsage,
    UsageTracker,
    estimate_neurons,
    estimate_usd,
    neurons_for_audio,
    neurons_for_image,
    usage_from_payload,
)
from cf_core.workers_ai import Usage

LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
BGE = "@cf/baai/bge-base-en-v1.5"


def test_token_priced_chat_model() -> None:
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=500_000, total_tokens=1_500_000)
    # reference 9: 26,668 neurons per M input, 204,805 per M output
    assert estimate_neurons(LLAMA_70B, usage) == pytest.approx(26668 + 204805 / 2)
    assert estimate_usd(1000) == pytest.approx(0.011)  # $0.011 per 1,000 neurons


def test_embedding_model_input_only() -> None:
    assert estimate_neurons(BGE, Usage(prompt_tokens=2_000_000)) == pytest.approx(2 * 6058)


def test_service_neurons_win_and_unknown_prices_are_none() -> None:
    assert estimate_neurons(LLAMA_70B, Usage(prompt_tokens=10, neurons=3.25)) == 3.25
    assert estimate_neurons("@cf/someone/unknown", Usage(prompt_tokens=10)) is None
    assert estimate_neurons(LLAMA_70B, None) is None
    assert estimate_neurons("@hf/nousresearch/hermes-2-pro-mistral-7b", Usage(prompt_tokens=10)) is None


def test_audio_and_image_prices() -> None:
    assert neurons_for_audio("@cf/openai/whisper", 120) == pytest.approx(2 * 41.14)
    # flux: 4.80 per 512x512 tile + 9.60 per step; 1024x1024 = 4 tiles
    assert neurons_for_image("@cf/black-forest-labs/flux-1-schnell", 1024, 1024, steps=4) == pytest.approx(
        4 * 4.8 + 4 * 9.6)
    assert neurons_for_image("@cf/stabilityai/stable-diffusion-xl-base-1.0") is None


def test_usage_from_payload() -> None:
    usage = usage_from_payload(LLAMA_70B, {"prompt_tokens": 100, "completion_tokens": 50})
    assert usage is not None and usage.total_tokens == 150
    assert usage.neurons == pytest.approx((100 * 26668 + 50 * 204805) / 1e6)
    assert usage.estimated_usd == pytest.approx(usage.neurons * 1.1e-05)
    assert usage_from_payload(LLAMA_70B, None) is None


def test_tracker_totals_by_model_and_cache_hits() -> None:
    tracker = UsageTracker()
    u = Usage(prompt_tokens=1000, completion_tokens=100, total_tokens=1100)
    tracker.record(LLAMA_70B, u)
    tracker.record(LLAMA_70B, u, GatewayInfo(cache_status="HIT"))
    tracker.record(BGE, Usage(prompt_tokens=500, total_tokens=500))
    tracker.record(BGE, None)
    by_model = tracker.by_model()
    llama = by_model[LLAMA_70B]
    one_call = (1000 * 26668 + 100 * 204805) / 1e6
    assert (llama.requests, llama.prompt_tokens, llama.cache_hits) == (2, 2000, 1)
    assert llama.neurons == pytest.approx(one_call)  # the cache hit did not run the model
    assert by_model[BGE].requests == 2 and by_model[BGE].prompt_tokens == 500
    totals = tracker.totals()
    assert totals.requests == 4 and totals.total_tokens == 2700
    assert totals.usd == pytest.approx(totals.neurons * 1.1e-05)
    tracker.reset()
    assert tracker.totals() == ModelUsage()


def test_tracker_is_thread_safe() -> None:
    tracker = UsageTracker()
    u = Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5)

    def work() -> None:
        for _ in range(500):
            tracker.record(LLAMA_70B, u)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    totals = tracker.totals()
    assert totals.requests == 4000 and totals.total_tokens == 20000


def test_tracker_with_real_results(client: CloudflareClient) -> None:
    tracker = UsageTracker()
    result = client.workers_ai.chat(LLAMA_70B, prompt="Count the neurons please.")
    added = tracker.record(result.model, result.usage, result.gateway)
    assert result.usage is not None and added.prompt_tokens == result.usage.prompt_tokens
    assert added.neurons == pytest.approx(result.usage.neurons)
