"""cf_core against a real Cloudflare account: chat, streaming, tools, embeddings, a Vectorize round
trip and (with CLOUDFLARE_AI_GATEWAY_ID) an AI Gateway cache hit.

Real models answer: assertions allow any wording and check what must hold (a tool call by name,
usage counts that add up, vector sizes, the nearest neighbour of a stored vector is itself). Chat
questions are answered from context they carry, so the emulator's stand-in passes them too.
"""

from __future__ import annotations

import math
import uuid

import pytest

from cf_core import AsyncCloudflareClient, CloudflareClient, Gateway
from cf_core.vectorize import Vector

pytestmark = pytest.mark.live

CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"
TOOL_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
EMBED_DIMS = 384
SECRET = [{"role": "system", "content": "The secret word is pong."},
          {"role": "user", "content": "What is the secret word? Answer with that word only."}]
PLANETS = [{"role": "system", "content": "The three inner planets are Mercury, Venus and Earth."},
           {"role": "user", "content": "Which are the three inner planets?"}]
WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather for a city.",
    "parameters": {"type": "object", "required": ["city"],
                   "properties": {"city": {"type": "string", "description": "The city name"}}}}}


def _cos(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_chat(live_client: CloudflareClient) -> None:
    result = live_client.workers_ai.chat(CHAT_MODEL, SECRET, max_tokens=16, temperature=0)
    assert "pong" in result.text.lower()
    assert result.usage is not None
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens > 0


def test_stream(live_client: CloudflareClient) -> None:
    chunks = list(live_client.workers_ai.stream_chat(CHAT_MODEL, PLANETS, max_tokens=64))
    text = "".join(c.text for c in chunks)
    assert "venus" in text.lower()
    usages = [c.usage for c in chunks if c.usage is not None]
    assert len(usages) == 1 and usages[0].completion_tokens > 0


async def test_async_chat() -> None:
    async with AsyncCloudflareClient() as client:
        result = await client.workers_ai.chat(CHAT_MODEL, SECRET, max_tokens=16)
    assert "pong" in result.text.lower()


def test_tool_call(live_client: CloudflareClient) -> None:
    result = live_client.workers_ai.chat(
        TOOL_MODEL, [{"role": "user", "content": "What is the weather in Paris right now?"}],
        tools=[WEATHER_TOOL], tool_choice="required", temperature=0)
    assert [c.name for c in result.tool_calls][:1] == ["get_weather"]
    assert "paris" in str(result.tool_calls[0].arguments.get("city", "")).lower()
    assert result.tool_calls[0].id


def test_embeddings(live_client: CloudflareClient) -> None:
    result = live_client.workers_ai.embed(EMBED_MODEL, [
        "The cat sleeps on the warm windowsill.", "A kitten naps by the window.", "Bond yields rose on Tuesday."])
    assert result.shape == (3, EMBED_DIMS)
    cat, kitten, bonds = result.vectors
    assert _cos(cat, kitten) > _cos(cat, bonds)


def test_vectorize_round_trip(live_client: CloudflareClient, index_name: str) -> None:
    vz = live_client.vectorize
    created = vz.create_index(index_name, dimensions=EMBED_DIMS, metric="cosine", description="cf_core live test")
    assert created.name == index_name and created.dimensions == EMBED_DIMS
    vz.create_metadata_index(index_name, "topic", "string", wait=True, wait_timeout=180)
    texts = {"cat": "The cat sleeps on the warm windowsill.", "bonds": "Bond yields rose on Tuesday.",
             "ferry": "The ferry to the island leaves every hour."}
    embedded = live_client.workers_ai.embed(EMBED_MODEL, list(texts.values()))
    vectors = [Vector(id=key, values=values, metadata={"topic": key, "text": text})
               for (key, text), values in zip(texts.items(), embedded.vectors, strict=True)]
    vz.upsert(index_name, vectors, wait=True, wait_timeout=180)
    assert vz.index_info(index_name).vector_count == 3

    found = vz.query(index_name, embedded.vectors[0], top_k=2, return_metadata="all")
    assert found.matches[0].id == "cat" and found.matches[0].metadata == {"topic": "cat", "text": texts["cat"]}
    filtered = vz.query(index_name, embedded.vectors[0], top_k=3, filter={"topic": "ferry"})
    assert [m.id for m in filtered.matches] == ["ferry"]
    got = vz.get_by_ids(index_name, ["bonds", "missing"])
    assert [v.id for v in got] == ["bonds"] and len(got[0].values) == EMBED_DIMS

    vz.delete_by_ids(index_name, ["bonds"], wait=True, wait_timeout=180)
    assert vz.index_info(index_name).vector_count == 2
    vz.delete_index(index_name)
    assert index_name not in [i.name for i in vz.list_indexes()]


def test_gateway_cache_hit(live_client: CloudflareClient, gateway_id: str) -> None:
    gateway = Gateway(id=gateway_id, cache_ttl=300)
    # A unique question, so the first call cannot be served from an older test run's cache.
    question = [{"role": "user", "content": f"Repeat this code exactly: {uuid.uuid4().hex[:8]}"}]
    first = live_client.workers_ai.chat(CHAT_MODEL, question, max_tokens=32, gateway=gateway)
    second = live_client.workers_ai.chat(CHAT_MODEL, question, max_tokens=32, gateway=gateway)
    assert first.gateway is not None and second.gateway is not None
    assert not first.gateway.cache_hit
    assert second.gateway.cache_hit
    assert second.text == first.text
