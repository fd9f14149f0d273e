"""The vector store's operations, written once for sync and async.

Each operation is a generator that yields :class:`Step` requests (an embedding call or a
``client.vectorize`` method) and receives their results; :func:`run_sync` and :func:`run_async`
perform the steps with the sync or the async clients. So the logic (batching, id generation, k
caps, MMR, waiting) exists once and only the I/O differs, like the core's own operations.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypeVar

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from cf_core import AsyncCloudflareClient, CloudflareClient, InvalidInputError
from cf_core.errors import CloudflareError, PartialWriteError
from cf_core.vectorize.scores import relevance_from_score
from cf_core.vectorize.types import IndexInfo, Match, MutationResult, QueryResult, Vector
from cf_core.vectorize.validation import MAX_BATCH_SIZE, MAX_TOP_K, MAX_TOP_K_WITH_VALUES

from ._vectorize_docs import (
    AddPlan,
    doc_from_vector,
    docs_from_matches,
    prepare_filter,
    vectors_for,
)

T = TypeVar("T")

WRITE_CHUNK = MAX_BATCH_SIZE
"""Texts embedded and written per round of a large add (bounds memory; one upsert request each)."""
ID_CHUNK = 1000
"""Ids per get_by_ids / delete_by_ids request when deleting many (the core sends a list in one request)."""


@dataclass(frozen=True)
class Step:
    """One I/O request: ``embedding.<method>`` or ``client.vectorize.<method>``."""

    target: Literal["embedding", "vectorize"]
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


Op: TypeAlias = Generator[Step, Any, T]


@dataclass
class StoreSpec:
    """What every operation needs to know about the store (a snapshot of its fields)."""

    index_name: str
    text_key: str
    namespace: str | None
    wait: bool
    wait_timeout: float
    metric_cache: dict[str, str]
    """index name -> metric, shared with the store so the index is looked up once."""


# -- drivers -------------------------------------------------------------------------------------

def run_sync(op: Op[T], embedding: Embeddings, client: CloudflareClient) -> T:
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = op.throw(error) if error is not None else op.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        result, error = None, None
        try:
            if step.target == "embedding":
                result = getattr(embedding, step.method)(*step.args, **step.kwargs)
            else:
                result = getattr(client.vectorize, step.method)(*step.args, **step.kwargs)
        except Exception as exc:  # handed to the operation, which may handle or re-raise it
            error = exc


async def run_async(op: Op[T], embedding: Embeddings, client: AsyncCloudflareClient) -> T:
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            step = op.throw(error) if error is not None else op.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        result, error = None, None
        try:
            if step.target == "embedding":
                result = await getattr(embedding, "a" + step.method)(*step.args, **step.kwargs)
            else:
                result = await getattr(client.vectorize, step.method)(*step.args, **step.kwargs)
        except Exception as exc:
            error = exc


def _embed(method: str, *args: Any) -> Step:
    return Step("embedding", method, args)


def _vz(method: str, *args: Any, **kwargs: Any) -> Step:
    return Step("vectorize", method, args, kwargs)


# -- index metric ----------------------------------------------------------------------------------

def index_metric(spec: StoreSpec) -> Op[str]:
    """The index's distance metric, looked up once per store and index."""
    cached = spec.metric_cache.get(spec.index_name)
    if cached is None:
        info: IndexInfo = yield _vz("get_index", spec.index_name)
        cached = spec.metric_cache[spec.index_name] = info.metric
    return cached


# -- writes ----------------------------------------------------------------------------------------

def add(spec: StoreSpec, plan: AddPlan, namespace: str | None,
        ingest: Mapping[str, Any] | None = None,
        on_progress: Callable[[int, int | None], None] | None = None) -> Op[list[str]]:
    """Embed and upsert ``plan``; wait for the last mutation unless the store says not to.

    ``ingest`` (``embedding_model=`` and the embedding's other settings) hands the whole job to the
    core's bulk ingest instead, which overlaps embedding and writing. ``on_progress(written, total)``
    is called as documents are written.
    """
    if not plan.texts:
        return []
    if ingest is not None:
        # Ingest adds the text under text_key itself.
        metadatas = [{k: v for k, v in m.items() if k != spec.text_key} for m in plan.metadatas]
        yield _vz("ingest", spec.index_name, plan.texts, ids=plan.ids, metadatas=metadatas, namespace=namespace,
                  text_key=spec.text_key, wait=spec.wait, wait_timeout=spec.wait_timeout,
                  on_progress=on_progress, **ingest)
        return plan.ids
    last: MutationResult | None = None
    mutation_ids: list[str] = []
    for start in range(0, len(plan.texts), WRITE_CHUNK):
        chunk = plan.texts[start:start + WRITE_CHUNK]
        try:
            values = yield _embed("embed_documents", chunk)
            if len(values) != len(chunk):
                raise InvalidInputError(f"the embedding returned {len(values)} vectors for {len(chunk)} texts",
                                        field="embedding")
            last = yield _vz("upsert", spec.index_name, vectors_for(plan, start, values, namespace),
                             batch_size=MAX_BATCH_SIZE)
        except CloudflareError as exc:
            if start == 0 and not isinstance(exc, PartialWriteError):
                raise
            partial = exc if isinstance(exc, PartialWriteError) else None
            written = plan.ids[:start] + (partial.written_ids if partial else [])
            done = set(written)
            failed = [i for i in plan.ids if i not in done]
            raise PartialWriteError(f"add stopped after {len(written)} of {len(plan.ids)} documents (see "
                                    f".written_ids / .failed_ids): {exc}. Adding the same texts again with the "
                                    "same ids completes it without duplicates.",
                                    written_ids=written, failed_ids=failed,
                                    mutation_ids=mutation_ids + (partial.mutation_ids if partial else []),
                                    cause=exc) from exc
        mutation_ids.extend(last.mutation_ids)
        if on_progress is not None:
            on_progress(start + len(chunk), len(plan.texts))
    if spec.wait and last is not None and last.mutation_id is not None:
        # Mutations are applied in order, so the last one being processed covers every chunk.
        yield _vz("wait_for_mutation", spec.index_name, last.mutation_id, timeout=spec.wait_timeout)
    return plan.ids


def delete(spec: StoreSpec, ids: Sequence[str] | None, namespace: str | None) -> Op[bool]:
    """Delete ``ids`` (missing ones are ignored); ``None`` deletes every vector (of ``namespace``)."""
    if ids is None:
        ids = yield _vz("all_vector_ids", spec.index_name)
        if namespace is not None:
            # Listing ignores namespaces: keep only the vectors that live in this one.
            kept: list[str] = []
            for start in range(0, len(ids), ID_CHUNK):
                found: list[Vector] = yield _vz("get_by_ids", spec.index_name, list(ids[start:start + ID_CHUNK]))
                kept += [v.id for v in found if v.namespace == namespace]
            ids = kept
    ids = list(dict.fromkeys(ids))
    last: MutationResult | None = None
    for start in range(0, len(ids), ID_CHUNK):
        last = yield _vz("delete_by_ids", spec.index_name, ids[start:start + ID_CHUNK])
    if spec.wait and last is not None and last.mutation_id is not None:
        yield _vz("wait_for_mutation", spec.index_name, last.mutation_id, timeout=spec.wait_timeout)
    return True


def get_by_ids(spec: StoreSpec, ids: Sequence[str]) -> Op[list[Document]]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    found: list[Vector] = yield _vz("get_by_ids", spec.index_name, ids)
    return [doc_from_vector(v.id, v.metadata, spec.text_key) for v in found]


# -- reads -----------------------------------------------------------------------------------------

def _check_k(k: Any, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_TOP_K:
        raise InvalidInputError(f"{name} must be an integer from 1 to {MAX_TOP_K} (Vectorize's topK limit), "
                                f"got {k!r}", field=name, limit=MAX_TOP_K)
    return k


def _query_vector(query: str | None, vector: Sequence[float] | None) -> Op[list[float]]:
    if vector is not None:
        return [float(v) for v in vector]
    assert query is not None
    result: list[float] = yield _embed("embed_query", query)
    return result


def search(spec: StoreSpec, *, query: str | None = None, vector: Sequence[float] | None = None, k: int = 4,
           filter: Mapping[str, Any] | None = None, namespace: str | None = None) -> Op[list[tuple[Document, float]]]:
    """The ``k`` best documents with their raw Vectorize scores (meaning depends on the metric)."""
    k = _check_k(k)
    flt = prepare_filter(filter)
    qvec = yield from _query_vector(query, vector)
    if k <= MAX_TOP_K_WITH_VALUES:
        result: QueryResult = yield _vz("query", spec.index_name, qvec, top_k=k, return_metadata="all",
                                        namespace=namespace, filter=flt)
        return docs_from_matches(result.matches[:k], spec.text_key)
    # Above the cap for metadata, ask for ids only, then fetch the documents by id.
    result = yield _vz("query", spec.index_name, qvec, top_k=k, return_metadata="none",
                       namespace=namespace, filter=flt)
    matches = result.matches[:k]
    if not matches:
        return []
    found: list[Vector] = yield _vz("get_by_ids", spec.index_name, [m.id for m in matches])
    by_id = {v.id: v for v in found}
    return [(doc_from_vector(m.id, by_id[m.id].metadata, spec.text_key), m.score)
            for m in matches if m.id in by_id]


def search_with_relevance(spec: StoreSpec, **kwargs: Any) -> Op[list[tuple[Document, float]]]:
    """Like :func:`search`, scores mapped to [0, 1] (1 = identical) for the index's metric."""
    metric = yield from index_metric(spec)
    pairs = yield from search(spec, **kwargs)
    return [(doc, relevance_from_score(metric, score)) for doc, score in pairs]


def mmr(spec: StoreSpec, *, query: str | None = None, vector: Sequence[float] | None = None, k: int = 4,
        fetch_k: int = 20, lambda_mult: float = 0.5, filter: Mapping[str, Any] | None = None,
        namespace: str | None = None) -> Op[list[Document]]:
    """Maximal marginal relevance, computed here from the candidates' values (Vectorize has no MMR).

    ``fetch_k`` candidates (at most Vectorize's cap for queries that return values) are fetched with
    their vectors; ``k`` of them are chosen trading similarity to the query for diversity (LangChain's
    ``maximal_marginal_relevance``, which measures both with cosine similarity whatever the index metric).
    """
    k = _check_k(k)
    if k > MAX_TOP_K_WITH_VALUES:
        raise InvalidInputError(f"k is {k}; MMR needs the candidates' values, and Vectorize returns values for "
                                f"at most {MAX_TOP_K_WITH_VALUES} matches", field="k", limit=MAX_TOP_K_WITH_VALUES)
    if not 0.0 <= lambda_mult <= 1.0:
        raise InvalidInputError(f"lambda_mult must be between 0 and 1, got {lambda_mult}", field="lambda_mult")
    # fetch_k is a candidate-pool size, not a result count: keep it within [k, cap].
    if isinstance(fetch_k, bool) or not isinstance(fetch_k, int) or fetch_k < 1:
        raise InvalidInputError(f"fetch_k must be a positive integer, got {fetch_k!r}", field="fetch_k")
    fetch = min(max(fetch_k, k), MAX_TOP_K_WITH_VALUES)
    flt = prepare_filter(filter)
    qvec = yield from _query_vector(query, vector)
    result: QueryResult = yield _vz("query", spec.index_name, qvec, top_k=fetch, return_values=True,
                                    return_metadata="all", namespace=namespace, filter=flt)
    candidates: list[Match] = [m for m in result.matches if m.values]
    if not candidates:
        return []
    values = [m.values or [] for m in candidates]
    chosen = maximal_marginal_relevance(np.asarray(qvec, dtype=float), values,
                                        k=min(k, len(candidates)), lambda_mult=lambda_mult)
    return [doc_from_vector(candidates[i].id, candidates[i].metadata, spec.text_key) for i in chosen]


# -- index management ------------------------------------------------------------------------------

def ensure_index(spec: StoreSpec, *, dimensions: int, metric: str,
                 metadata_indexes: Mapping[str, str] | None = None, description: str | None = None) -> Op[IndexInfo]:
    """Create the index (or reuse an existing one of the same size) and its metadata indexes."""
    from cf_core.errors import ConflictError

    try:
        info: IndexInfo = yield _vz("create_index", spec.index_name, dimensions=dimensions, metric=metric,
                                    description=description)
    except ConflictError:
        info = yield _vz("get_index", spec.index_name)
        if info.dimensions != dimensions:
            raise InvalidInputError(
                f"index {spec.index_name!r} already exists with {info.dimensions} dimensions, but the embedding "
                f"gives {dimensions}; use another index_name or delete that index", field="dimensions",
                limit=info.dimensions) from None
    spec.metric_cache[spec.index_name] = info.metric
    yield from create_metadata_indexes(spec, metadata_indexes or {})
    return info


def create_metadata_indexes(spec: StoreSpec, properties: Mapping[str, str]) -> Op[list[str]]:
    """Create metadata indexes (property -> "string" | "number" | "boolean"), waiting if the store waits.

    Only vectors written after a property's index exists are filterable on it, so create these before
    adding documents.
    """
    mutation_ids = []
    for prop, kind in properties.items():
        mutation_id: str = yield _vz("create_metadata_index", spec.index_name, prop, kind)
        mutation_ids.append(mutation_id)
    if spec.wait and mutation_ids:
        yield _vz("wait_for_mutation", spec.index_name, mutation_ids[-1], timeout=spec.wait_timeout)
    return mutation_ids
