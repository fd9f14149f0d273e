"""CloudflareWorkersAIEmbeddings against the emulator: batching, concurrency, prefixes, pooling,
gateway routing, errors and secrets. The emulator's embedding model is a lexical stand-in, so the
tests check what went on the wire and how answers are put back together, not embedding quality."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import httpx
import pytest
from langchain_core.exceptions import ModelAuthenticationError, ModelNotFoundError
from pydantic import ValidationError

from cf_core import AsyncCloudflareClient, InvalidInputError
from cf_core.local import (
    LOCAL_ACCOUNT_ID,
    LOCAL_API_TOKEN,
    LOCAL_BASE_URL,
    LOCAL_GATEWAY_BASE_URL,
    AsyncEmulatorTransport,
    Emulator,
    local_client,
)
from cf_langchain.embeddings import CloudflareWorkersAIEmbeddings

if TYPE_CHECKING:
    from conftest import Wire

SMALL = "@cf/baai/bge-small-en-v1.5"


def _emb(wire: Wire, **kwargs: object) -> CloudflareWorkersAIEmbeddings:
    return CloudflareWorkersAIEmbeddings(client=wire.client, async_client=wire.aclient, **kwargs)


def test_batches_keep_order(wire: Wire) -> None:
    texts = [f"document number {i}" for i in range(250)]
    emb = _emb(wire, model=SMALL)
    vectors = emb.embed_documents(texts)
    sent = wire.bodies("/ai/run/")
    assert [len(b["text"]) for b in sent] == [100, 100, 50]
    assert [t for b in sent for t in b["text"]] == texts
    assert len(vectors) == 250 and {len(v) for v in vectors} == {384}
    # Each vector belongs to its own text: spot-check against single-text requests.
    for i in (0, 99, 100, 249):
        assert emb.embed_query(texts[i]) == vectors[i]


def test_batch_size_is_used(wire: Wire) -> None:
    _emb(wire, batch_size=3).embed_documents(["a", "b", "c", "d", "e", "f", "g"])
    assert [len(b["text"]) for b in wire.bodies()] == [3, 3, 1]


def test_batch_size_limit_is_checked() -> None:
    with pytest.raises(ValidationError, match="batch_size"):
        CloudflareWorkersAIEmbeddings(batch_size=101)


class _InFlight(httpx.AsyncBaseTransport):
    """Counts requests in flight at once (each held briefly so overlaps are visible)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.now, self.peak, self.count = inner, 0, 0, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.count += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(0.02)
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1


async def test_async_batches_run_concurrently_under_the_limit(emulator: Emulator) -> None:
    transport = _InFlight(AsyncEmulatorTransport(emulator))
    async with AsyncCloudflareClient(transport=transport, account_id=LOCAL_ACCOUNT_ID, api_token=LOCAL_API_TOKEN,
                                     base_url=LOCAL_BASE_URL, gateway_base_url=LOCAL_GATEWAY_BASE_URL) as aclient:
        emb = CloudflareWorkersAIEmbeddings(async_client=aclient, batch_size=2, concurrency=3)
        texts = [f"text {i}" for i in range(12)]
        vectors = await emb.aembed_documents(texts)
        assert transport.count == 6
        assert transport.peak == 3
        assert await emb.aembed_query("text 7") == vectors[7]


def test_prefixes_reach_the_wire(wire: Wire) -> None:
    emb = _emb(wire, query_prefix="query: ", document_prefix="passage: ")
    emb.embed_query("what is vectorize")
    emb.embed_documents(["vectorize stores vectors"])
    assert [b["text"] for b in wire.bodies()] == [["query: what is vectorize"], ["passage: vectorize stores vectors"]]


async def test_prefixes_async(wire: Wire) -> None:
    emb = _emb(wire, query_prefix="q: ", document_prefix="d: ")
    await emb.aembed_query("x")
    await emb.aembed_documents(["y", "z"])
    assert [b["text"] for b in wire.bodies()] == [["q: x"], ["d: y", "d: z"]]


def test_prefix_changes_the_vector(wire: Wire) -> None:
    plain = _emb(wire).embed_query("solar panels on roofs")
    prefixed = _emb(wire, query_prefix="Represent this sentence for searching: ").embed_query("solar panels on roofs")
    assert plain != prefixed


def test_pooling_is_sent_only_when_set(wire: Wire) -> None:
    _emb(wire).embed_query("a")
    _emb(wire, pooling="cls").embed_query("a")
    first, second = wire.bodies()
    assert "pooling" not in first
    assert second["pooling"] == "cls"


def test_gateway_routes_through_the_gateway(wire: Wire) -> None:
    _emb(wire, ai_gateway="docs-gw").embed_documents(["hello"])
    (request,) = wire.requests
    assert request.url.path == f"/v1/{LOCAL_ACCOUNT_ID}/docs-gw/workers-ai/@cf/baai/bge-base-en-v1.5"
    assert json.loads(request.body) == {"text": ["hello"]}
    logs = wire.client.ai_gateway.list_logs("docs-gw")
    assert [log.model for log in logs] == ["@cf/baai/bge-base-en-v1.5"]


def test_empty_inputs(wire: Wire) -> None:
    assert _emb(wire).embed_documents([]) == []
    assert wire.requests == []
    with pytest.raises(InvalidInputError, match=r"texts\[1\] is empty"):
        _emb(wire).embed_documents(["ok", ""])
    assert wire.requests == []  # rejected before sending


async def test_async_empty_list(wire: Wire) -> None:
    assert await _emb(wire).aembed_documents([]) == []
    assert wire.requests == []


def test_model_alias_and_catalog_dimensions(wire: Wire) -> None:
    emb = CloudflareWorkersAIEmbeddings(model_name=SMALL, client=wire.client)
    assert emb.model == SMALL
    assert emb.dimensions == 384 == len(emb.embed_query("probe"))
    assert CloudflareWorkersAIEmbeddings(model="@cf/acme/unknown-embed").dimensions is None


def test_errors_are_langchain_types() -> None:
    emulator = Emulator(tokens={"right-token"})
    with local_client(emulator, api_token="wrong-token") as bad, pytest.raises(ModelAuthenticationError):
        CloudflareWorkersAIEmbeddings(client=bad).embed_query("x")
    with local_client(emulator, api_token="right-token") as good, pytest.raises(ModelNotFoundError):
        CloudflareWorkersAIEmbeddings(client=good, model="@cf/acme/no-such-embed").embed_query("x")


def test_secret_never_shown() -> None:
    secret = "sekret-token-0123456789"
    for emb in (CloudflareWorkersAIEmbeddings(api_token=secret, account_id="acc"),
                CloudflareWorkersAIEmbeddings(api_key=secret, account_id="acc")):
        assert emb.api_token is not None and emb.api_token.get_secret_value() == secret
        for shown in (repr(emb), str(emb), str(emb.model_dump()), emb.model_dump_json()):
            assert secret not in shown
