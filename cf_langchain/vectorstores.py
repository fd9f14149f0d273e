"""``CloudflareVectorize``: a LangChain vector store on a Cloudflare Vectorize (v2) index.

The document text lives in each vector's metadata under a reserved key (``text_key``), so no second
store is needed and search results come back complete. Writes are upserts and, by default, wait
until Vectorize has processed them, so a search right after ``add_documents`` or ``delete`` sees
the change. Every method has an async twin; both run the same operation from
:mod:`._vectorize_ops`, only the client differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Self

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from pydantic import ConfigDict, Field, PrivateAttr, field_validator

from cf_core import InvalidInputError
from cf_core.progress import with_progress_bar
from cf_core.vectorize.scores import relevance_from_score
from cf_core.vectorize.types import IndexInfo, MetadataIndexType, Metric
from cf_core.vectorize.validation import check_index_name, check_metadata, check_namespace

from . import _vectorize_ops as ops
from ._client import CloudflareClientMixin
from ._vectorize_docs import plan_add
from .embeddings import CloudflareWorkersAIEmbeddings

__all__ = ["DEFAULT_TEXT_KEY", "CloudflareVectorize"]

DEFAULT_TEXT_KEY = "__text"
INGEST_MIN_TEXTS = 1000
"""Adds of at least this many texts go through the core's bulk ingest when it applies."""
_PROBE = "dimension probe"


class CloudflareVectorize(CloudflareClientMixin, VectorStore):
    """LangChain vector store backed by a Cloudflare Vectorize index.

    Setup: the index must exist (``from_texts`` / :meth:`create_index` create it, sized from the
    embedding). Credentials come from ``CLOUDFLARE_ACCOUNT_ID`` / ``CLOUDFLARE_API_TOKEN`` or the
    ``account_id`` / ``api_token`` fields, or pass ready core clients (``client=`` and
    ``async_client=``, e.g. ``cf_core.local.local_client(emulator)``).

    Example:
        .. code-block:: python

            from cf_langchain import CloudflareVectorize, CloudflareWorkersAIEmbeddings

            store = CloudflareVectorize.from_texts(
                ["Vectorize is a vector database", "Workers AI runs models"],
                CloudflareWorkersAIEmbeddings(), index_name="docs",
                metadatas=[{"source": "a"}, {"source": "b"}], metadata_indexes={"source": "string"})
            store.similarity_search("vector database", k=1, filter={"source": "a"})
            store.as_retriever(search_type="mmr", search_kwargs={"k": 2}).invoke("models")

    Scores: ``similarity_search_with_score`` returns Vectorize's raw score, whose meaning depends on
    the index metric (cosine: similarity, higher is better; euclidean: distance and dot-product:
    negative dot product, lower is better). ``similarity_search_with_relevance_scores`` maps them to
    [0, 1], 1 = identical, for every metric.

    Filters use Vectorize's own language (``{"genre": "sci-fi", "year": {"$gte": 1990}}``; operators
    ``$eq $ne $in $nin $lt $lte $gt $gte``) and only see properties that have a metadata index
    (:meth:`create_metadata_index`, created *before* the documents are written).
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, extra="forbid")

    embedding: Embeddings
    """Embeds documents and queries; its vector size must equal the index dimensions."""
    index_name: str
    """The Vectorize index (at most 64 bytes)."""
    namespace: str | None = None
    """Default namespace for writes and searches (each method also takes ``namespace=``)."""
    text_key: str = DEFAULT_TEXT_KEY
    """Metadata key that holds the document text; reserved, and stripped from returned metadata."""
    wait: bool = True
    """Wait until Vectorize has processed each write, so the next read sees it."""
    wait_timeout: float = Field(default=60.0, gt=0)
    """Seconds to wait for a write to be processed before ``MutationTimeoutError``."""
    use_ingest: bool = True
    """Send large adds (``INGEST_MIN_TEXTS`` or more, Workers AI embeddings) through the core's bulk ingest."""

    _metric_cache: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("index_name")
    @classmethod
    def _index_name(cls, value: str) -> str:
        return check_index_name(value)

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        return check_namespace(value)

    @field_validator("text_key")
    @classmethod
    def _text_key(cls, value: str) -> str:
        check_metadata({value: ""})
        return value

    # -- plumbing ----------------------------------------------------------------------------------

    @property
    def embeddings(self) -> Embeddings:
        return self.embedding

    def _spec(self) -> ops.StoreSpec:
        return ops.StoreSpec(index_name=self.index_name, text_key=self.text_key, namespace=self.namespace,
                             wait=self.wait, wait_timeout=self.wait_timeout, metric_cache=self._metric_cache)

    def _run(self, op: ops.Op[ops.T]) -> ops.T:
        return ops.run_sync(op, self.embedding, self._sync_client())

    async def _arun(self, op: ops.Op[ops.T]) -> ops.T:
        return await ops.run_async(op, self.embedding, self._async_client())

    def _ns(self, namespace: str | None) -> str | None:
        return check_namespace(namespace) if namespace is not None else self.namespace

    @staticmethod
    def _no_extra(kwargs: Mapping[str, Any], method: str) -> None:
        if kwargs:
            raise TypeError(f"{method}() got unexpected keyword arguments: {', '.join(sorted(kwargs))}")

    def _ingest_args(self, count: int) -> dict[str, Any] | None:
        """Arguments for the core's bulk ingest, when it would embed exactly as ``self.embedding`` does."""
        emb = self.embedding
        if not self.use_ingest or count < INGEST_MIN_TEXTS or not isinstance(emb, CloudflareWorkersAIEmbeddings):
            return None
        # Ingest has no prefix option, and embeds through the store's client: only equivalent when
        # the embedding would reach the same account the same way.
        if emb.document_prefix:
            return None
        mine, theirs = self._sync_client(), emb._sync_client()
        if mine is not theirs and (mine.config != theirs.config or mine.gateway != theirs.gateway):
            return None
        return {"embedding_model": emb.model, "embed_batch_size": emb.batch_size, "pooling": emb.pooling,
                "gateway": emb._gateway()}

    def _add_op(self, texts: Iterable[str], metadatas: list[dict[str, Any]] | None, ids: list[str] | None,
                kwargs: dict[str, Any], method: str) -> ops.Op[list[str]]:
        namespace = self._ns(kwargs.pop("namespace", None))
        on_progress = kwargs.pop("on_progress", None)
        show_progress = bool(kwargs.pop("show_progress", False))
        self._no_extra(kwargs, method)
        plan = plan_add(texts, metadatas, ids, self.text_key)
        spec, ingest = self._spec(), self._ingest_args(len(plan.texts))
        if show_progress and on_progress is None and plan.texts:
            return with_progress_bar(f"Vectorize {self.index_name}", len(plan.texts),
                                     lambda report: ops.add(spec, plan, namespace, ingest, report))
        return ops.add(spec, plan, namespace, ingest, on_progress)

    # -- writes ------------------------------------------------------------------------------------

    def add_texts(self, texts: Iterable[str], metadatas: list[dict[str, Any]] | None = None, *,
                  ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        """Embed and upsert ``texts``; returns their ids (given, or uuid4 where missing).

        An existing id is replaced (text, metadata and vector). Keyword ``namespace`` overrides the
        store's; ``on_progress(written, total)`` reports progress of large adds, and ``show_progress=True``
        draws a progress bar on standard error instead. Waits until the write is searchable unless
        ``wait=False`` on the store.
        """
        return self._run(self._add_op(texts, metadatas, ids, dict(kwargs), "add_texts"))

    async def aadd_texts(self, texts: Iterable[str], metadatas: list[dict[str, Any]] | None = None, *,
                         ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        return await self._arun(self._add_op(texts, metadatas, ids, dict(kwargs), "aadd_texts"))

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Delete ``ids`` (unknown ids are ignored). ``ids=None`` deletes every vector in the index,
        or only those of ``namespace`` (keyword, or the store's) when one is set."""
        namespace = self._ns(kwargs.pop("namespace", None))
        self._no_extra(kwargs, "delete")
        return self._run(ops.delete(self._spec(), ids, namespace))

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        namespace = self._ns(kwargs.pop("namespace", None))
        self._no_extra(kwargs, "adelete")
        return await self._arun(ops.delete(self._spec(), ids, namespace))

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The stored documents for ``ids`` (any namespace); unknown ids are left out."""
        return self._run(ops.get_by_ids(self._spec(), ids))

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return await self._arun(ops.get_by_ids(self._spec(), ids))

    # -- similarity search -------------------------------------------------------------------------

    def _search_args(self, k: int, filter: Mapping[str, Any] | None, kwargs: dict[str, Any],
                     method: str) -> dict[str, Any]:
        namespace = self._ns(kwargs.pop("namespace", None))
        self._no_extra(kwargs, method)
        return {"k": k, "filter": filter, "namespace": namespace}

    def similarity_search(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None,
                          **kwargs: Any) -> list[Document]:
        """The ``k`` documents closest to ``query`` (optionally ``filter=`` and ``namespace=``)."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    async def asimilarity_search(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None,
                                 **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in await self.asimilarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_with_score(self, query: str, k: int = 4,
                                     filter: Mapping[str, Any] | None = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        """Documents with Vectorize's raw score (see the class docstring for its meaning per metric)."""
        args = self._search_args(k, filter, dict(kwargs), "similarity_search_with_score")
        return self._run(ops.search(self._spec(), query=query, **args))

    async def asimilarity_search_with_score(self, query: str, k: int = 4,
                                            filter: Mapping[str, Any] | None = None,
                                            **kwargs: Any) -> list[tuple[Document, float]]:
        args = self._search_args(k, filter, dict(kwargs), "asimilarity_search_with_score")
        return await self._arun(ops.search(self._spec(), query=query, **args))

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                    filter: Mapping[str, Any] | None = None,
                                    **kwargs: Any) -> list[Document]:
        args = self._search_args(k, filter, dict(kwargs), "similarity_search_by_vector")
        return [doc for doc, _ in self._run(ops.search(self._spec(), vector=embedding, **args))]

    async def asimilarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                           filter: Mapping[str, Any] | None = None,
                                           **kwargs: Any) -> list[Document]:
        args = self._search_args(k, filter, dict(kwargs), "asimilarity_search_by_vector")
        return [doc for doc, _ in await self._arun(ops.search(self._spec(), vector=embedding, **args))]

    # -- relevance scores --------------------------------------------------------------------------

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        metric = self._run(ops.index_metric(self._spec()))
        return lambda score: relevance_from_score(metric, score)

    def _similarity_search_with_relevance_scores(self, query: str, k: int = 4,
                                                 **kwargs: Any) -> list[tuple[Document, float]]:
        filter_ = kwargs.pop("filter", None)
        args = self._search_args(k, filter_, kwargs, "similarity_search_with_relevance_scores")
        return self._run(ops.search_with_relevance(self._spec(), query=query, **args))

    async def _asimilarity_search_with_relevance_scores(self, query: str, k: int = 4,
                                                        **kwargs: Any) -> list[tuple[Document, float]]:
        filter_ = kwargs.pop("filter", None)
        args = self._search_args(k, filter_, kwargs, "asimilarity_search_with_relevance_scores")
        return await self._arun(ops.search_with_relevance(self._spec(), query=query, **args))

    # -- maximal marginal relevance ----------------------------------------------------------------

    def _mmr_args(self, k: int, fetch_k: int, lambda_mult: float, kwargs: dict[str, Any],
                  method: str) -> dict[str, Any]:
        filter_ = kwargs.pop("filter", None)
        args = self._search_args(k, filter_, kwargs, method)
        return {**args, "fetch_k": fetch_k, "lambda_mult": lambda_mult}

    def max_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20,
                                      lambda_mult: float = 0.5, **kwargs: Any) -> list[Document]:
        """``k`` documents chosen among ``fetch_k`` candidates for relevance *and* diversity
        (``lambda_mult``: 1 = relevance only, 0 = diversity only). Computed client-side from the
        candidates' vectors; ``fetch_k`` is capped at Vectorize's topK limit for returned values."""
        args = self._mmr_args(k, fetch_k, lambda_mult, dict(kwargs), "max_marginal_relevance_search")
        return self._run(ops.mmr(self._spec(), query=query, **args))

    async def amax_marginal_relevance_search(self, query: str, k: int = 4, fetch_k: int = 20,
                                             lambda_mult: float = 0.5, **kwargs: Any) -> list[Document]:
        args = self._mmr_args(k, fetch_k, lambda_mult, dict(kwargs), "amax_marginal_relevance_search")
        return await self._arun(ops.mmr(self._spec(), query=query, **args))

    def max_marginal_relevance_search_by_vector(self, embedding: list[float], k: int = 4, fetch_k: int = 20,
                                                lambda_mult: float = 0.5, **kwargs: Any) -> list[Document]:
        args = self._mmr_args(k, fetch_k, lambda_mult, dict(kwargs), "max_marginal_relevance_search_by_vector")
        return self._run(ops.mmr(self._spec(), vector=embedding, **args))

    async def amax_marginal_relevance_search_by_vector(self, embedding: list[float], k: int = 4,
                                                       fetch_k: int = 20, lambda_mult: float = 0.5,
                                                       **kwargs: Any) -> list[Document]:
        args = self._mmr_args(k, fetch_k, lambda_mult, dict(kwargs), "amax_marginal_relevance_search_by_vector")
        return await self._arun(ops.mmr(self._spec(), vector=embedding, **args))

    # -- index management --------------------------------------------------------------------------

    def _create_op(self, dimensions: int | None, metric: Metric,
                   metadata_indexes: Mapping[str, MetadataIndexType] | None,
                   description: str | None) -> ops.Op[IndexInfo]:
        def op() -> ops.Op[IndexInfo]:
            dims = dimensions if dimensions is not None else (yield from _embedding_dimensions(self.embedding))
            return (yield from ops.ensure_index(self._spec(), dimensions=dims, metric=metric,
                                                metadata_indexes=metadata_indexes, description=description))
        return op()

    def create_index(self, *, dimensions: int | None = None, metric: Metric = "cosine",
                     metadata_indexes: Mapping[str, MetadataIndexType] | None = None,
                     description: str | None = None) -> IndexInfo:
        """Create this store's index (``dimensions`` default: the embedding's size), or reuse an
        existing one of the same size; then the given metadata indexes (property -> type)."""
        return self._run(self._create_op(dimensions, metric, metadata_indexes, description))

    async def acreate_index(self, *, dimensions: int | None = None, metric: Metric = "cosine",
                            metadata_indexes: Mapping[str, MetadataIndexType] | None = None,
                            description: str | None = None) -> IndexInfo:
        return await self._arun(self._create_op(dimensions, metric, metadata_indexes, description))

    def create_metadata_index(self, property_name: str, index_type: MetadataIndexType = "string") -> str:
        """Make ``property_name`` filterable (for vectors written from now on); returns the mutation id."""
        return self._run(ops.create_metadata_indexes(self._spec(), {property_name: index_type}))[0]

    async def acreate_metadata_index(self, property_name: str, index_type: MetadataIndexType = "string") -> str:
        return (await self._arun(ops.create_metadata_indexes(self._spec(), {property_name: index_type})))[0]

    def delete_index(self) -> None:
        """Delete this store's index and everything in it."""
        self._sync_client().vectorize.delete_index(self.index_name)
        self._metric_cache.pop(self.index_name, None)

    async def adelete_index(self) -> None:
        await self._async_client().vectorize.delete_index(self.index_name)
        self._metric_cache.pop(self.index_name, None)

    # -- constructors ------------------------------------------------------------------------------

    @classmethod
    def _from_texts_parts(cls, texts: list[str], embedding: Embeddings, metadatas: list[dict[str, Any]] | None,
                          ids: list[str] | None, kwargs: dict[str, Any]) -> tuple[Self, ops.Op[list[str]]]:
        metric: Metric = kwargs.pop("metric", "cosine")
        dimensions: int | None = kwargs.pop("dimensions", None)
        metadata_indexes: Mapping[str, MetadataIndexType] | None = kwargs.pop("metadata_indexes", None)
        create = kwargs.pop("create_index", True)
        store = cls(embedding=embedding, **kwargs)
        plan = plan_add(texts, metadatas, ids, store.text_key)

        def op() -> ops.Op[list[str]]:
            if create:
                yield from store._create_op(dimensions, metric, metadata_indexes, None)
            return (yield from ops.add(store._spec(), plan, store.namespace,
                                       store._ingest_args(len(plan.texts))))
        return store, op()

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings, metadatas: list[dict[str, Any]] | None = None,
                   *, ids: list[str] | None = None, **kwargs: Any) -> Self:
        """Create the index if needed (sized from ``embedding``; ``metric=`` default cosine;
        ``metadata_indexes={"prop": "string"}`` created before writing), then add ``texts``.

        Other keywords are the store's fields (``index_name`` is required; ``client``, ``namespace``...).
        ``create_index=False`` uses an existing index as is.
        """
        store, op = cls._from_texts_parts(texts, embedding, metadatas, ids, dict(kwargs))
        store._run(op)
        return store

    @classmethod
    async def afrom_texts(cls, texts: list[str], embedding: Embeddings,
                          metadatas: list[dict[str, Any]] | None = None, *, ids: list[str] | None = None,
                          **kwargs: Any) -> Self:
        store, op = cls._from_texts_parts(texts, embedding, metadatas, ids, dict(kwargs))
        await store._arun(op)
        return store


def _embedding_dimensions(embedding: Embeddings) -> ops.Op[int]:
    """The embedding's vector size: from the catalog for Workers AI models, else by embedding a probe."""
    if isinstance(embedding, CloudflareWorkersAIEmbeddings) and embedding.dimensions:
        return embedding.dimensions
    probe: list[float] = yield ops.Step("embedding", "embed_query", (_PROBE,))
    if not probe:
        raise InvalidInputError("the embedding returned an empty vector", field="embedding")
    return len(probe)
