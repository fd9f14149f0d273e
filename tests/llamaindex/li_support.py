"""Shared helpers for the LlamaIndex adapter tests (constants, the recorded wire, store factory)."""

from __future__ import annotations

from typing import Any

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.local import SentRequest
from cf_llamaindex import CloudflareVectorizeVectorStore

CHAT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
JSON_ONLY_MODEL = "@cf/meta/llama-3.1-8b-instruct-fast"  # JSON mode, no tool calling
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
EMBED_DIMS = 384


class Wire(list[SentRequest]):
    """Every request the clients sent, in order."""

    def to(self, fragment: str) -> list[SentRequest]:
        return [s for s in self if fragment in str(s.url)]

    def chat_bodies(self) -> list[dict[str, Any]]:
        runs = [s for s in self if "/ai/run/" in str(s.url) or "/workers-ai/" in str(s.url)]
        return [s.json() for s in runs if s.body.startswith(b"{") and "messages" in s.json()]


def make_store(client: CloudflareClient, aclient: AsyncCloudflareClient, name: str = "docs",
               metadata_indexes: dict[str, Any] | None = None, **kwargs: Any) -> CloudflareVectorizeVectorStore:
    store = CloudflareVectorizeVectorStore(index_name=name, client=client, async_client=aclient, **kwargs)
    store.create_index(dimensions=EMBED_DIMS, metadata_indexes=metadata_indexes or {})
    return store
