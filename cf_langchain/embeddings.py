"""``CloudflareWorkersAIEmbeddings``: LangChain embeddings backed by a Workers AI embedding model.

Batching (at most 100 texts per request), concurrency, retries and timeouts are the core's
``workers_ai.embed``; this class adds LangChain's interface, instruction prefixes and error types.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from pydantic import AliasChoices, ConfigDict, Field

from cf_core import info as model_info
from cf_core.workers_ai.types import EmbeddingResult

from ._client import CloudflareClientMixin
from ._errors import map_errors

__all__ = ["DEFAULT_EMBEDDING_MODEL", "CloudflareWorkersAIEmbeddings"]

DEFAULT_EMBEDDING_MODEL = "@cf/baai/bge-base-en-v1.5"
MAX_BATCH_SIZE = 100
"""Texts per Workers AI request: larger batches have been observed to fail."""


class CloudflareWorkersAIEmbeddings(CloudflareClientMixin, Embeddings):
    """Embed text with a Workers AI embedding model (default ``@cf/baai/bge-base-en-v1.5``).

    Setup: set ``CLOUDFLARE_ACCOUNT_ID`` and ``CLOUDFLARE_API_TOKEN`` (or pass ``account_id`` and
    ``api_token``), or pass ready core clients (``client=cf_core.local.local_client()``, and
    ``async_client=``) to work offline against the local emulator.

    Example:
        .. code-block:: python

            from cf_langchain import CloudflareWorkersAIEmbeddings

            emb = CloudflareWorkersAIEmbeddings(
                model="@cf/baai/bge-small-en-v1.5",
                query_prefix="Represent this sentence for searching relevant passages: ",
            )
            emb.embed_query("What is Vectorize?")
            await emb.aembed_documents(["a", "b"])

    Texts are sent in batches of ``batch_size`` (at most 100); the async methods run up to
    ``concurrency`` batches at once (the sync ones too, on the core's worker threads). Output order
    always matches input order. Empty strings are rejected before sending.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, extra="forbid",
                              protected_namespaces=())

    model: str = Field(default=DEFAULT_EMBEDDING_MODEL, validation_alias=AliasChoices("model", "model_name"))
    """Workers AI embedding model id (alias ``model_name``)."""
    batch_size: int = Field(default=MAX_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE)
    """Texts per request (1-100)."""
    concurrency: int = Field(default=4, ge=1, le=64)
    """Batches in flight at once."""
    pooling: Literal["mean", "cls"] | None = None
    """bge models only: ``"cls"`` gives more accurate vectors on long inputs, but they are not
    comparable with ``"mean"`` ones (the service default). Never mix the two in one index."""
    query_prefix: str = ""
    """Prepended to every query (``embed_query``), e.g. an instruction for asymmetric retrieval."""
    document_prefix: str = ""
    """Prepended to every document (``embed_documents``)."""

    @property
    def dimensions(self) -> int | None:
        """The model's vector size from the catalog (``None`` for a model it does not know)."""
        return model_info(self.model).dimensions

    def _embed_args(self, texts: Sequence[str], prefix: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
        # One request description for the sync and the async path.
        prepared = [prefix + text for text in texts] if prefix else list(texts)
        return (self.model, prepared), {"pooling": self.pooling, "batch_size": self.batch_size,
                                        "concurrency": self.concurrency, "gateway": self._gateway()}

    def _embed(self, texts: Sequence[str], prefix: str) -> list[list[float]]:
        if not texts:
            return []
        args, kwargs = self._embed_args(texts, prefix)
        with map_errors():
            result: EmbeddingResult = self._sync_client().workers_ai.embed(*args, **kwargs)
        return result.vectors

    async def _aembed(self, texts: Sequence[str], prefix: str) -> list[list[float]]:
        if not texts:
            return []
        args, kwargs = self._embed_args(texts, prefix)
        with map_errors():
            result: EmbeddingResult = await self._async_client().workers_ai.embed(*args, **kwargs)
        return result.vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order (``document_prefix`` prepended)."""
        return self._embed(texts, self.document_prefix)

    def embed_query(self, text: str) -> list[float]:
        """The vector of one query (``query_prefix`` prepended)."""
        return self._embed([text], self.query_prefix)[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await self._aembed(texts, self.document_prefix)

    async def aembed_query(self, text: str) -> list[float]:
        return (await self._aembed([text], self.query_prefix))[0]
