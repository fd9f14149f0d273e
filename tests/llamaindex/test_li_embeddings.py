"""CloudflareWorkersAIEmbedding on the emulator (its embeddings are a deterministic lexical stand-in)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest
from li_support import EMBED_DIMS, EMBED_MODEL, Wire
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import ValidationError

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.errors import InvalidInputError
from cf_core.local import Emulator
from cf_core.local.client import LOCAL_ACCOUNT_ID, LOCAL_API_TOKEN, LOCAL_BASE_URL
from cf_core.local.transport import EmulatorTransport
from cf_core.usage import UsageTracker
from cf_llamaindex import CloudflareWorkersAIEmbedding


def test_class_and_defaults() -> None:
    emb = CloudflareWorkersAIEmbedding(api_token="emb-SECRET", account_id="a")
    assert isinstance(emb, BaseEmbedding)
    assert emb.model_name == "@cf/baai/bge-base-en-v1.5" and emb.dimensions == 768
    assert emb.embed_batch_size == 2048 and emb.max_concurrency == 16
    assert emb.to_payload()["model_name"] == "@cf/baai/bge-base-en-v1.5"
    for text in (repr(emb), emb.to_json(), json.dumps(emb.to_dict()), json.dumps(emb.to_payload())):
        assert "emb-SECRET" not in text
    assert CloudflareWorkersAIEmbedding(embed_batch_size=2048).embed_batch_size == 2048  # LlamaIndex's cap
    with pytest.raises(ValidationError, match="embed_batch_size"):
        CloudflareWorkersAIEmbedding(embed_batch_size=2049)


def test_batches_of_at_most_100_in_order(client: CloudflareClient, wire: Wire) -> None:
    """One request at a time, so the wire's order is the send order (concurrency is tested below)."""
    embed_model = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, max_concurrency=1)
    texts = [f"sentence number {i} about topic {i % 7}" for i in range(250)]
    vectors = embed_model.get_text_embedding_batch(texts)
    sent = [s.json()["text"] for s in wire.to(f"/ai/run/{EMBED_MODEL}")]
    assert [len(batch) for batch in sent] == [100, 100, 50]
    assert [t for batch in sent for t in batch] == texts
    assert len(vectors) == 250 and all(len(v) == EMBED_DIMS for v in vectors)
    assert vectors[137] == embed_model.get_text_embedding(texts[137])  # order preserved


def test_instructions_prefix_queries_and_texts(client: CloudflareClient, wire: Wire) -> None:
    emb = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, query_instruction="query: ",
                                       text_instruction="passage: ", pooling="cls")
    emb.get_query_embedding("where is it")
    emb.get_text_embedding("it is here")
    bodies = [s.json() for s in wire.to("/ai/run/")]
    assert bodies[0] == {"text": ["query: where is it"], "pooling": "cls"}
    assert bodies[1] == {"text": ["passage: it is here"], "pooling": "cls"}


def test_similar_texts_are_closer(embed_model: CloudflareWorkersAIEmbedding) -> None:
    q = embed_model.get_query_embedding("lighthouse painted blue")
    near, far = embed_model.get_text_embedding_batch(["the lighthouse is painted blue", "oats and honey biscuits"])
    assert embed_model.similarity(q, near) > embed_model.similarity(q, far)


async def test_async_batches_match_sync_and_respect_concurrency(client: CloudflareClient,
                                                                aclient: AsyncCloudflareClient) -> None:
    # LlamaIndex gathers its calls (of 150 texts: two requests each); requests in flight stay <= 2.
    emb = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, async_client=aclient,
                                       embed_batch_size=150, max_concurrency=2)
    in_flight, peak, sent = 0, 0, 0
    real = aclient.workers_ai.embed_batch

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, peak, sent
        in_flight += 1
        sent += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        try:
            return await real(*args, **kwargs)
        finally:
            in_flight -= 1

    aclient.workers_ai.embed_batch = counting  # type: ignore[method-assign]
    texts = [f"text {i}" for i in range(600)]
    vectors = await emb.aget_text_embedding_batch(texts)
    assert sent == 8 and peak == 2  # four calls of two requests, never more than two requests at once
    assert vectors == emb.get_text_embedding_batch(texts)
    assert await emb.aget_query_embedding("text 3") == emb.get_query_embedding("text 3")


def test_usage_and_gateway(client: CloudflareClient, wire: Wire) -> None:
    tracker = UsageTracker()
    emb = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, usage_tracker=tracker,
                                       ai_gateway="emb-gw")
    emb.get_text_embedding_batch(["a b c", "d e f"])
    assert str(wire[-1].url).endswith(f"/emb-gw/workers-ai/{EMBED_MODEL}")
    assert tracker.by_model()[EMBED_MODEL].requests == 1


def test_empty_text_is_refused_locally(embed_model: CloudflareWorkersAIEmbedding, wire: Wire) -> None:
    with pytest.raises(InvalidInputError):
        embed_model.get_text_embedding("")
    assert wire == []


class _Concurrency(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The emulator's transport, counting requests in flight; sync requests meet at a barrier, so the
    test fails (BrokenBarrierError) unless ``barrier`` requests really are in flight together."""

    def __init__(self, emulator: Emulator, barrier: int) -> None:
        self.inner = EmulatorTransport(emulator)
        self.barrier = threading.Barrier(barrier, timeout=5)
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()

    def _enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def _leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._enter()
        try:
            self.barrier.wait()
            return self.inner.handle_request(request)
        finally:
            self._leave()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._enter()
        try:
            await asyncio.sleep(0.02)
            return await self.inner.handle_async_request(request)
        finally:
            self._leave()


def _local(cls: Any, transport: _Concurrency) -> Any:
    return cls(transport=transport, account_id=LOCAL_ACCOUNT_ID, api_token=LOCAL_API_TOKEN,
               base_url=LOCAL_BASE_URL, max_retries=0)


def test_one_call_of_250_goes_out_as_3_concurrent_requests(emulator: Emulator) -> None:
    transport = _Concurrency(emulator, barrier=3)
    with _local(CloudflareClient, transport) as client:
        emb = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client)
        texts = [f"sentence number {i} about topic {i % 7}" for i in range(250)]
        calls: list[int] = []
        real = client.workers_ai.embed

        def spy(model: str, items: list[str], **kwargs: Any) -> Any:
            calls.append(len(items))
            return real(model, items, **kwargs)

        client.workers_ai.embed = spy
        vectors = emb.get_text_embedding_batch(texts)
        assert calls == [250]  # the whole LlamaIndex batch handed to the core in one call
        assert transport.peak == 3  # ... which sent its three requests at once
        client.workers_ai.embed = real
        single = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, max_concurrency=1)
        transport.barrier = threading.Barrier(1)
        for i in (0, 99, 100, 137, 249):  # order preserved across the concurrent requests
            assert vectors[i] == single.get_text_embedding(texts[i])


async def test_async_call_of_250_goes_out_as_3_concurrent_requests(emulator: Emulator) -> None:
    transport = _Concurrency(emulator, barrier=1)
    async with _local(AsyncCloudflareClient, transport) as aclient:
        emb = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, async_client=aclient)
        texts = [f"async sentence {i} about topic {i % 5}" for i in range(250)]
        vectors = await emb.aget_text_embedding_batch(texts)
        assert transport.peak == 3
        assert [vectors[i] for i in (0, 100, 249)] == [
            await emb.aget_text_embedding(texts[i]) for i in (0, 100, 249)]


def test_concurrency_is_bounded_by_max_concurrency(emulator: Emulator) -> None:
    transport = _Concurrency(emulator, barrier=2)
    with _local(CloudflareClient, transport) as client:
        emb = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, max_concurrency=2)
        assert len(emb.get_text_embedding_batch([f"t {i}" for i in range(400)])) == 400
        assert transport.peak == 2  # four requests, two at a time
