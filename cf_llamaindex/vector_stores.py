"""``CloudflareVectorizeVectorStore``: a LlamaIndex vector store on Cloudflare Vectorize (v2).

- One vector per node: id = node id (<= 64 bytes), the node (text included) in the metadata
  (<= 10 KiB, checked per node before anything is sent), ``ref_doc_id`` as a filterable field.
- Filters: Vectorize's eight operators with AND (see :mod:`._filters`). A filter only sees
  properties that had a metadata index *before* the vectors were written: call
  :meth:`create_metadata_indexes` (or :meth:`create_index`) first. ``delete(ref_doc_id)`` and
  ``doc_ids`` queries need the ``ref_doc_id`` index, which both helpers always create.
- Writes are asynchronous in Vectorize; by default every write waits until it is queryable.
- Every multi-step operation is one plan (:mod:`._plans`) run by a sync or an async driver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from llama_index.core.indices.query.embedding_utils import get_top_k_mmr_embeddings
from llama_index.core.schema import BaseNode, MetadataMode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from pydantic import Field, PrivateAttr

from cf_core.errors import InvalidInputError
from cf_core.gc_pause import gc_paused
from cf_core.progress import with_progress_bar
from cf_core.vectorize import IndexInfo, Vector

from ._client import CloudflareConnection
from ._filters import REF_DOC_KEY, NoMatch, VectorizeFilter, matches, to_vectorize_filter
from ._nodes import (
    check_node_id,
    node_error,
    node_metadata,
    node_to_vector,
    similarity,
    similarity_from_score,
    vector_to_node,
)
from ._plans import Plan, call, run_async, run_sync
from .embeddings import CloudflareWorkersAIEmbedding

IndexType = Literal["string", "number", "boolean"]
MAX_TOP_K = 100
_ID_CHUNK = 100
_INDEXED_STRING_BYTES = 64


class CloudflareVectorizeVectorStore(CloudflareConnection, BasePydanticVectorStore):
    """Store and search LlamaIndex nodes in a Vectorize index.

    Example::

        store = CloudflareVectorizeVectorStore(index_name="docs")
        store.create_index(dimensions=768, metadata_indexes={"genre": "string"})
        index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(
            vector_store=store), embed_model=CloudflareWorkersAIEmbedding())
    """

    stores_text: bool = True
    flat_metadata: bool = False
    index_name: str = Field(description="The Vectorize index.")
    namespace: str | None = Field(default=None, description="Write to and search in this namespace only.")
    batch_size: int = Field(default=5000, ge=1, le=5000, description="Vectors per upsert request.")
    wait_for_mutations: bool = Field(
        default=True, description="Block until each write is queryable (Vectorize applies writes later).")
    mutation_timeout: float = Field(default=60.0, gt=0)
    check_metadata_indexes: bool = Field(
        default=True, description="Refuse filters on properties that have no metadata index.")
    max_top_k_with_metadata: int = Field(
        default=20, ge=1, le=50, description="topK for one-step queries returning metadata (docs: 20).")
    mmr_prefetch_factor: float = Field(default=4.0, ge=1)
    mmr_prefetch_k: int | None = Field(default=None, ge=1)

    _index_info: IndexInfo | None = PrivateAttr(default=None)
    _indexed: set[str] | None = PrivateAttr(default=None)

    @classmethod
    def class_name(cls) -> str:
        return "CloudflareVectorizeVectorStore"

    # -- drivers --------------------------------------------------------------------------------

    def _run(self, plan: Plan[Any]) -> Any:
        return run_sync(self.client.vectorize, plan)

    async def _arun(self, plan: Plan[Any]) -> Any:
        return await run_async(self.async_client.vectorize, plan)

    # -- shared steps ---------------------------------------------------------------------------

    def _index_plan(self) -> Plan[IndexInfo]:
        if self._index_info is None:
            self._index_info = yield call("get_index", self.index_name)
        return self._index_info

    def _require_indexed(self, flt: VectorizeFilter | None) -> Plan[None]:
        keys = set(flt or ())
        if not keys or not self.check_metadata_indexes:
            return
        if self._indexed is None or not keys <= self._indexed:
            found = yield call("list_metadata_indexes", self.index_name)
            self._indexed = {m.property_name for m in found}
        missing = sorted(keys - self._indexed)
        if missing:
            raise InvalidInputError(
                f"Vectorize can only filter on properties with a metadata index; index "
                f"{self.index_name!r} has none for {', '.join(map(repr, missing))}. Create them with "
                "store.create_metadata_indexes({...}) before adding vectors (vectors written earlier "
                "must be re-added)", field="filters", item=missing)

    def _fetch_plan(self, ids: Sequence[str]) -> Plan[list[Vector]]:
        out: list[Vector] = []
        for start in range(0, len(ids), _ID_CHUNK):
            out.extend((yield call("get_by_ids", self.index_name, list(ids[start:start + _ID_CHUNK]))))
        return out

    def _in_scope(self, vector: Vector, flt: VectorizeFilter | None) -> bool:
        if self.namespace is not None and vector.namespace != self.namespace:
            return False
        return matches(flt, vector.metadata)

    def _delete_ids_plan(self, ids: Sequence[str]) -> Plan[None]:
        for start in range(0, len(ids), _ID_CHUNK * 10):
            yield call("delete_by_ids", self.index_name, list(ids[start:start + _ID_CHUNK * 10]),
                       wait=self.wait_for_mutations, wait_timeout=self.mutation_timeout)

    # -- metadata indexes and index creation ------------------------------------------------------

    def _metadata_indexes_plan(self, properties: Mapping[str, IndexType] | None, wait: bool) -> Plan[list[str]]:
        wanted: dict[str, IndexType] = {REF_DOC_KEY: "string", **(properties or {})}
        existing = {m.property_name for m in (yield call("list_metadata_indexes", self.index_name))}
        created = []
        for name, index_type in wanted.items():
            if name in existing:
                continue
            yield call("create_metadata_index", self.index_name, name, index_type, wait=wait,
                       wait_timeout=self.mutation_timeout)
            created.append(name)
        self._indexed = existing | set(created)
        return created

    def create_metadata_indexes(self, properties: Mapping[str, IndexType] | None = None, *,
                                wait: bool = True) -> list[str]:
        """Create the metadata indexes filters need (``ref_doc_id`` always); returns the ones created.

        Vectorize only filters vectors written *after* the index on that property existed.
        """
        return self._run(self._metadata_indexes_plan(properties, wait))  # type: ignore[no-any-return]

    async def acreate_metadata_indexes(self, properties: Mapping[str, IndexType] | None = None, *,
                                       wait: bool = True) -> list[str]:
        return await self._arun(self._metadata_indexes_plan(properties, wait))  # type: ignore[no-any-return]

    def _create_index_plan(self, dimensions: int | None, metric: str, preset: str | None,
                           description: str | None, metadata_indexes: Mapping[str, IndexType] | None,
                           ) -> Plan[IndexInfo]:
        self._index_info = yield call("create_index", self.index_name, dimensions=dimensions, metric=metric,
                                      preset=preset, description=description)
        yield from self._metadata_indexes_plan(metadata_indexes, wait=True)
        assert self._index_info is not None
        return self._index_info

    def create_index(self, dimensions: int | None = None, *, metric: str = "cosine", preset: str | None = None,
                     description: str | None = None,
                     metadata_indexes: Mapping[str, IndexType] | None = None) -> IndexInfo:
        """Create the Vectorize index and its metadata indexes (``ref_doc_id`` plus ``metadata_indexes``)."""
        return self._run(self._create_index_plan(  # type: ignore[no-any-return]
            dimensions, metric, preset, description, metadata_indexes))

    async def acreate_index(self, dimensions: int | None = None, *, metric: str = "cosine",
                            preset: str | None = None, description: str | None = None,
                            metadata_indexes: Mapping[str, IndexType] | None = None) -> IndexInfo:
        return await self._arun(self._create_index_plan(  # type: ignore[no-any-return]
            dimensions, metric, preset, description, metadata_indexes))

    # -- add ------------------------------------------------------------------------------------

    def _add_plan(self, nodes: Sequence[BaseNode]) -> Plan[list[str]]:
        # The core validates the whole write (the metadata's size included) before sending any of it;
        # measuring each node's metadata here as well would encode it once more.
        with gc_paused():  # a dict per node next to the caller's nodes: see cf_core.gc_pause
            vectors = [node_to_vector(node, self.namespace, check_size=False) for node in nodes]
        if vectors:
            try:
                yield call("upsert", self.index_name, vectors, batch_size=self.batch_size,
                           wait=self.wait_for_mutations, wait_timeout=self.mutation_timeout)
            except InvalidInputError as err:
                raise node_error(err, nodes, [v["metadata"] for v in vectors]) from None
        return [v["id"] for v in vectors]

    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> list[str]:
        """Upsert ``nodes`` (in batches of ``batch_size``) and return their ids.

        With ``wait_for_mutations`` the call waits once, for the last batch's mutation (the core sends
        that batch after the others were answered, so it being applied means all of them are).
        """
        plan = self._add_plan(nodes)
        return self._run(plan)  # type: ignore[no-any-return]

    async def async_add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> list[str]:
        return await self._arun(self._add_plan(nodes))  # type: ignore[no-any-return]

    def _ingest_plan(self, nodes: Sequence[BaseNode], embed_model: str | CloudflareWorkersAIEmbedding,
                     on_progress: Callable[[int, int | None], None] | None) -> Plan[list[str]]:
        ids = [check_node_id(node) for node in nodes]
        with gc_paused():  # a dict per node next to the caller's nodes: see cf_core.gc_pause
            metadatas = [node_metadata(node, check_size=False) for node in nodes]  # the core measures them
            texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in nodes]
        embedding: dict[str, Any] = {}
        if isinstance(embed_model, CloudflareWorkersAIEmbedding):
            # Embedded as the model object would embed them (its instruction, pooling and gateway),
            # so stored vectors match the queries it embeds later.
            model, prefix = embed_model.model_name, embed_model.text_instruction or ""
            texts = [prefix + text for text in texts]
            embedding = {"pooling": embed_model.pooling, "gateway": embed_model.gateway_arg}
        else:
            model = embed_model
        if ids:
            try:
                yield call("ingest", self.index_name, texts, embedding_model=model, ids=ids, metadatas=metadatas,
                           namespace=self.namespace, write_batch=self.batch_size, wait=self.wait_for_mutations,
                           wait_timeout=self.mutation_timeout, on_progress=on_progress, **embedding)
            except InvalidInputError as err:
                raise node_error(err, nodes, metadatas) from None
        return ids

    def _ingest_with_progress(self, nodes: Sequence[BaseNode], embed_model: str | CloudflareWorkersAIEmbedding,
                              on_progress: Callable[[int, int | None], None] | None,
                              show_progress: bool) -> Plan[list[str]]:
        if show_progress and on_progress is None and nodes:
            return with_progress_bar(f"Vectorize {self.index_name}", len(nodes),
                                     lambda report: self._ingest_plan(nodes, embed_model, report))
        return self._ingest_plan(nodes, embed_model, on_progress)

    def ingest_nodes(self, nodes: Sequence[BaseNode], embed_model: str | CloudflareWorkersAIEmbedding, *,
                     on_progress: Callable[[int, int | None], None] | None = None,
                     show_progress: bool = False) -> list[str]:
        """Embed ``nodes`` on Workers AI and write them, overlapped (the core's bulk pipeline).

        The fast path for large corpora: ``add`` needs nodes embedded beforehand, this embeds and
        writes in one pass, through the store's client. ``embed_model`` is a model id or a
        :class:`CloudflareWorkersAIEmbedding`, whose ``text_instruction``, ``pooling`` and gateway
        are applied, so the stored vectors are the ones it gives queries. ``on_progress(written,
        total)`` reports progress; ``show_progress=True`` draws a bar on standard error instead.
        Returns the node ids.
        """
        plan = self._ingest_with_progress(nodes, embed_model, on_progress, show_progress)
        return self._run(plan)  # type: ignore[no-any-return]

    async def aingest_nodes(self, nodes: Sequence[BaseNode], embed_model: str | CloudflareWorkersAIEmbedding, *,
                            on_progress: Callable[[int, int | None], None] | None = None,
                            show_progress: bool = False) -> list[str]:
        plan = self._ingest_with_progress(nodes, embed_model, on_progress, show_progress)
        return await self._arun(plan)  # type: ignore[no-any-return]

    # -- query ----------------------------------------------------------------------------------

    def _query_plan(self, query: VectorStoreQuery, kwargs: Mapping[str, Any]) -> Plan[VectorStoreQueryResult]:
        if query.mode not in (VectorStoreQueryMode.DEFAULT, VectorStoreQueryMode.MMR):
            raise ValueError(f"CloudflareVectorizeVectorStore supports the default and mmr query modes, "
                             f"not {query.mode.value!r}")
        if query.query_embedding is None:
            raise ValueError("a Vectorize query needs query.query_embedding")
        top_k = query.similarity_top_k
        if not 1 <= top_k <= MAX_TOP_K:
            raise InvalidInputError(f"similarity_top_k must be 1..{MAX_TOP_K} for Vectorize, got {top_k}",
                                    field="similarity_top_k", limit=MAX_TOP_K, item=top_k)
        try:
            flt = to_vectorize_filter(query.filters, query.doc_ids)
        except NoMatch:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        info = yield from self._index_plan()
        embedding = list(query.query_embedding)
        if query.node_ids:  # VectorStoreIndex passes [] to mean "no restriction"
            return (yield from self._node_ids_query_plan(query, embedding, flt, info))
        yield from self._require_indexed(flt)
        if query.mode == VectorStoreQueryMode.MMR:
            return (yield from self._mmr_plan(query, embedding, flt, kwargs))
        if top_k <= self.max_top_k_with_metadata:
            result = yield call("query", self.index_name, embedding, top_k=top_k, return_metadata="all",
                                namespace=self.namespace, filter=flt)
            found = [(m.id, m.score, m.metadata) for m in result.matches]
        else:  # metadata is capped at a smaller topK: ids first, then the vectors by id
            result = yield call("query", self.index_name, embedding, top_k=top_k, return_metadata="none",
                                namespace=self.namespace, filter=flt)
            by_id = {v.id: v for v in (yield from self._fetch_plan([m.id for m in result.matches]))}
            found = [(m.id, m.score, by_id[m.id].metadata) for m in result.matches if m.id in by_id]
        return VectorStoreQueryResult(
            nodes=[vector_to_node(meta, vid) for vid, _, meta in found],
            similarities=[similarity_from_score(info.metric, score) for _, score, _ in found],
            ids=[vid for vid, _, _ in found])

    def _node_ids_query_plan(self, query: VectorStoreQuery, embedding: list[float],
                             flt: VectorizeFilter | None, info: IndexInfo) -> Plan[VectorStoreQueryResult]:
        # Vectorize cannot restrict a search to given ids: fetch those vectors and rank them here.
        node_ids = list(dict.fromkeys(query.node_ids or []))
        vectors = [v for v in (yield from self._fetch_plan(node_ids)) if self._in_scope(v, flt)]
        if query.mode == VectorStoreQueryMode.MMR:
            return self._mmr_result(query, embedding, vectors, {})
        scored = sorted(((similarity(info.metric, embedding, v.values), v) for v in vectors),
                        key=lambda p: -p[0])[:query.similarity_top_k]
        return VectorStoreQueryResult(nodes=[vector_to_node(v.metadata, v.id) for _, v in scored],
                                      similarities=[s for s, _ in scored], ids=[v.id for _, v in scored])

    def _mmr_plan(self, query: VectorStoreQuery, embedding: list[float], flt: VectorizeFilter | None,
                  kwargs: Mapping[str, Any]) -> Plan[VectorStoreQueryResult]:
        prefetch = self.mmr_prefetch_k or int(query.similarity_top_k * self.mmr_prefetch_factor)
        prefetch = max(query.similarity_top_k, min(prefetch, self.max_top_k_with_metadata))
        result = yield call("query", self.index_name, embedding, top_k=prefetch, return_values=True,
                            return_metadata="all", namespace=self.namespace, filter=flt)
        vectors = [Vector(id=m.id, values=m.values or [], metadata=m.metadata, namespace=m.namespace)
                   for m in result.matches]
        return self._mmr_result(query, embedding, vectors, kwargs)

    @staticmethod
    def _mmr_result(query: VectorStoreQuery, embedding: list[float], vectors: Sequence[Vector],
                    kwargs: Mapping[str, Any]) -> VectorStoreQueryResult:
        threshold = kwargs.get("mmr_threshold", query.mmr_threshold)
        if not vectors:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        sims, ids = get_top_k_mmr_embeddings(
            embedding, [list(v.values) for v in vectors], similarity_top_k=query.similarity_top_k,
            embedding_ids=[v.id for v in vectors], mmr_threshold=threshold)
        by_id = {v.id: v for v in vectors}
        return VectorStoreQueryResult(nodes=[vector_to_node(by_id[i].metadata, i) for i in ids],
                                      similarities=list(sims), ids=list(ids))

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Search (default or MMR mode); similarities are higher-is-better for every metric."""
        return self._run(self._query_plan(query, kwargs))  # type: ignore[no-any-return]

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        return await self._arun(self._query_plan(query, kwargs))  # type: ignore[no-any-return]

    # -- delete ---------------------------------------------------------------------------------

    def _delete_matching_plan(self, flt: VectorizeFilter) -> Plan[int]:
        """Delete every vector matching ``flt``: query ids (100 at a time), delete, wait, repeat."""
        yield from self._require_indexed(flt)
        info = yield from self._index_plan()
        probe = [1.0] + [0.0] * (info.dimensions - 1)
        long_strings = any(isinstance(v, str) and len(v.encode("utf-8")) > _INDEXED_STRING_BYTES
                           for ops in flt.values() for v in ops.values())
        seen: set[str] = set()
        while True:
            result = yield call("query", self.index_name, probe, top_k=MAX_TOP_K, return_metadata="none",
                                namespace=self.namespace, filter=flt)
            ids = [m.id for m in result.matches if m.id not in seen]
            if not ids:
                return len(seen)
            seen.update(ids)
            if long_strings:  # indexes hold 64-byte prefixes: confirm on the full values
                ids = [v.id for v in (yield from self._fetch_plan(ids)) if matches(flt, v.metadata)]
            # Waiting is required here, else the next query would return the same ids again.
            yield call("delete_by_ids", self.index_name, ids, wait=True, wait_timeout=self.mutation_timeout)

    def _delete_plan(self, ref_doc_id: str) -> Plan[None]:
        yield from self._delete_matching_plan({REF_DOC_KEY: {"$eq": ref_doc_id}})

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every node of the document ``ref_doc_id`` (needs the ``ref_doc_id`` metadata index)."""
        self._run(self._delete_plan(ref_doc_id))

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        await self._arun(self._delete_plan(ref_doc_id))

    def _delete_nodes_plan(self, node_ids: list[str] | None, filters: MetadataFilters | None) -> Plan[None]:
        try:
            flt = to_vectorize_filter(filters)
        except NoMatch:
            return
        if node_ids is None and flt is None:
            raise ValueError("delete_nodes needs node_ids or filters (use clear() to delete everything)")
        if node_ids is None:
            assert flt is not None
            yield from self._delete_matching_plan(flt)
            return
        ids = list(node_ids)
        if flt is not None or self.namespace is not None:
            ids = [v.id for v in (yield from self._fetch_plan(ids)) if self._in_scope(v, flt)]
        yield from self._delete_ids_plan(ids)

    def delete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None,
                     **delete_kwargs: Any) -> None:
        """Delete the given nodes; with both arguments, only those ids that also match ``filters``."""
        self._run(self._delete_nodes_plan(node_ids, filters))

    async def adelete_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None,
                            **delete_kwargs: Any) -> None:
        await self._arun(self._delete_nodes_plan(node_ids, filters))

    # -- get / clear ----------------------------------------------------------------------------

    def _scan_plan(self, node_ids: list[str] | None, flt: VectorizeFilter | None) -> Plan[list[Vector]]:
        ids: Iterable[str] = node_ids if node_ids is not None else (
            yield call("all_vector_ids", self.index_name))
        ids = list(dict.fromkeys(ids))
        return [v for v in (yield from self._fetch_plan(ids)) if self._in_scope(v, flt)]

    def _get_nodes_plan(self, node_ids: list[str] | None, filters: MetadataFilters | None) -> Plan[list[BaseNode]]:
        try:
            flt = to_vectorize_filter(filters)
        except NoMatch:
            return []
        vectors = yield from self._scan_plan(node_ids, flt)
        return [vector_to_node(v.metadata, v.id, v.values) for v in vectors]

    def get_nodes(self, node_ids: list[str] | None = None,
                  filters: MetadataFilters | None = None) -> list[BaseNode]:
        """Nodes by id (in the order given), filtered; with no ids, a scan of the whole index."""
        return self._run(self._get_nodes_plan(node_ids, filters))  # type: ignore[no-any-return]

    async def aget_nodes(self, node_ids: list[str] | None = None,
                         filters: MetadataFilters | None = None) -> list[BaseNode]:
        return await self._arun(self._get_nodes_plan(node_ids, filters))  # type: ignore[no-any-return]

    def _clear_plan(self) -> Plan[None]:
        if self.namespace is None:
            ids = yield call("all_vector_ids", self.index_name)
        else:
            ids = [v.id for v in (yield from self._scan_plan(None, None))]
        yield from self._delete_ids_plan(list(ids))

    def clear(self) -> None:
        """Delete every vector (in ``namespace`` only, when one is set)."""
        self._run(self._clear_plan())

    async def aclear(self) -> None:
        await self._arun(self._clear_plan())
