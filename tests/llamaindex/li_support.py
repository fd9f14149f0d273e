"""Shared helpers for the LlamaIndex adapter tests (constants, wire recording, store factory)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_llamaindex import CloudflareVectorizeVectorStore

CHAT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
JSON_ONLY_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"  # JSON mode, no tool calling
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
EMBED_DIMS = 384


@dataclass
class Sent:
    method: str
    url: str
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Wire(list[Sent]):
    """Every request the clients sent, in order."""

    def to(self, fragment: str) -> list[Sent]:
        return [s for s in self if fragment in s.url]

    def chat_bodies(self) -> list[dict[str, Any]]:
        runs = [s for s in self if "/ai/run/" in s.url or "/workers-ai/" in s.url]
        return [s.json() for s in runs if s.body.startswith(b"{") and "messages" in s.json()]


class _Recording(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, wire: Wire) -> None:
        self.inner, self.wire = inner, wire

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.wire.append(Sent(request.method, str(request.url), request.headers, request.read()))
        return self.inner.handle_request(request)


class _AsyncRecording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, wire: Wire) -> None:
        self.inner, self.wire = inner, wire

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.wire.append(Sent(request.method, str(request.url), request.headers, await request.aread()))
        return await self.inner.handle_async_request(request)


def make_store(client: CloudflareClient, aclient: AsyncCloudflareClient, name: str = "docs",
               metadata_indexes: dict[str, Any] | None = None, **kwargs: Any) -> CloudflareVectorizeVectorStore:
    store = CloudflareVectorizeVectorStore(index_name=name, client=client, async_client=aclient, **kwargs)
    store.create_index(dimensions=EMBED_DIMS, metadata_indexes=metadata_indexes or {})
    return store
