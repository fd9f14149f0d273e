"""CloudflareWorkersAIEmbedding on the emulator (its embeddings are a deterministic lexical stand-in)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from li_support import EMBED_DIMS, EMBED_MODEL, Wire
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import ValidationError

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.errors import InvalidInputError
from cf_core.usage import UsageTracker
from cf_llamaindex import CloudflareWorkersAIEmbedding


def test_class_and_defaults() -> None:
    emb = CloudflareWorkersAIEmbedding(api_token="emb-SECRET", account_id="a")
    assert isinstance(emb, BaseEmbedding)
    assert emb.model_name == "@cf/baai/bge-base-en-v1.5" and emb.dimensions == 768
    assert emb.embed_batch_size == 100
    assert emb.to_payload()["model_name"] == "@cf/baai/bge-base-en-v1.5"
    for text in (repr(emb), emb.to_json(), json.dumps(emb.to_dict()), json.dumps(emb.to_payload())):
        assert "emb-SECRET" not in text
    with pytest.raises(ValidationError, match="embed_batch_size"):
        CloudflareWorkersAIEmbedding(embed_batch_size=101)


def test_batches_of_at_most_100_in_order(embed_model: CloudflareWorkersAIEmbedding, wire: Wire) -> None:
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
    emb = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, async_client=aclient,
                                       embed_batch_size=10, max_concurrency=2)
    in_flight, peak = 0, 0
    real = aclient.workers_ai.embed

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        try:
            return await real(*args, **kwargs)
        finally:
            in_flight -= 1

    aclient.workers_ai.embed = counting  # type: ignore[method-assign]
    texts = [f"text {i}" for i in range(60)]
    vectors = await emb.aget_text_embedding_batch(texts)
    assert peak == 2  # six batches, never more than two requests at once
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
