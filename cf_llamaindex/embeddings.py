"""``CloudflareWorkersAIEmbedding``: LlamaIndex embeddings from Workers AI (bge models and friends)."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Literal

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from pydantic import Field, PrivateAttr

from cf_core import catalog
from cf_core.errors import CloudflareError
from cf_core.workers_ai import EmbeddingResult
from cf_core.workers_ai.embeddings import sum_usage

from ._client import CloudflareConnection

DEFAULT_EMBED_MODEL = "@cf/baai/bge-base-en-v1.5"
MAX_BATCH = 100  # texts per Workers AI request
MAX_CALL_BATCH = 2048  # LlamaIndex's own cap on embed_batch_size
# = VectorStoreIndex's insert_batch_size: each insert batch is embedded in one call (21 requests,
# max_concurrency at a time) instead of several calls LlamaIndex would make one after another.
DEFAULT_CALL_BATCH = 2048


class CloudflareWorkersAIEmbedding(CloudflareConnection, BaseEmbedding):
    """Text embeddings from a Workers AI model.

    LlamaIndex hands over ``embed_batch_size`` texts per call (up to 2048) and loops over those calls
    one after another; each call is split here into requests of <= 100 texts sent
    ``max_concurrency`` at a time, vectors in input order. On the async side the bound holds across
    calls too: the calls LlamaIndex gathers share ``max_concurrency`` requests in flight per event
    loop.

    ``query_instruction`` / ``text_instruction`` are prefixed to queries / documents when set (some
    retrieval models want e.g. "Represent this sentence for searching relevant passages: ").
    """

    model_name: str = Field(default=DEFAULT_EMBED_MODEL, description="Workers AI embedding model id.")
    embed_batch_size: int = Field(
        default=DEFAULT_CALL_BATCH, gt=0, le=MAX_CALL_BATCH,
        description="Texts per LlamaIndex call; split into concurrent requests of <= 100.")
    pooling: Literal["mean", "cls"] | None = Field(
        default=None, description="bge pooling; mean (service default) and cls are not compatible.")
    query_instruction: str | None = Field(default=None)
    text_instruction: str | None = Field(default=None)
    max_concurrency: int = Field(default=16, ge=1, description="Concurrent requests within one call.")

    # One semaphore per event loop: asyncio primitives must not cross loops.
    _semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = PrivateAttr(
        default_factory=weakref.WeakKeyDictionary)

    @classmethod
    def class_name(cls) -> str:
        return "CloudflareWorkersAIEmbedding"

    @property
    def dimensions(self) -> int | None:
        """The model's output size from the catalog (``None`` if unknown)."""
        return catalog.info(self.model_name).dimensions

    def _kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"batch_size": MAX_BATCH, "concurrency": self.max_concurrency}
        if self.pooling is not None:
            kwargs["pooling"] = self.pooling
        if self.gateway_arg is not None:
            kwargs["gateway"] = self.gateway_arg
        return kwargs

    @staticmethod
    def _prefixed(prefix: str | None, texts: list[str]) -> list[str]:
        return [f"{prefix}{t}" for t in texts] if prefix else texts

    def _vectors(self, result: EmbeddingResult) -> list[Embedding]:
        self.record_usage(result.model or self.model_name, result.usage, result.gateway)
        return result.vectors  # fresh lists parsed from this answer: no copy needed

    def _embed(self, texts: list[str], prefix: str | None) -> list[Embedding]:
        if not texts:
            return []
        result = self.client.workers_ai.embed(self.model_name, self._prefixed(prefix, texts), **self._kwargs())
        return self._vectors(result)

    async def _aembed(self, texts: list[str], prefix: str | None) -> list[Embedding]:
        """One LlamaIndex call: requests of <= 100 texts, each holding a slot of this event loop's
        semaphore, so calls LlamaIndex gathers share ``max_concurrency`` requests in flight."""
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.max_concurrency)
        items = self._prefixed(prefix, texts)
        kwargs = {k: v for k, v in self._kwargs().items() if k not in ("batch_size", "concurrency")}

        async def one(batch: list[str]) -> EmbeddingResult:
            async with semaphore:
                return await self.async_client.workers_ai.embed_batch(self.model_name, batch, **kwargs)

        async with asyncio.TaskGroup() as group:  # the first failure cancels the other requests
            tasks = [group.create_task(one(items[i:i + MAX_BATCH])) for i in range(0, len(items), MAX_BATCH)]
        results = [task.result() for task in tasks]
        vectors = [vector for result in results for vector in result.vectors]
        if len({len(v) for v in vectors}) > 1:
            raise CloudflareError(f"{self.model_name} returned vectors of different sizes across requests")
        self.record_usage(results[0].model or self.model_name, sum_usage([r.usage for r in results]),
                          results[0].gateway)
        return vectors

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embed([query], self.query_instruction)[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aembed([query], self.query_instruction))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embed([text], self.text_instruction)[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aembed([text], self.text_instruction))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embed(list(texts), self.text_instruction)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._aembed(list(texts), self.text_instruction)
