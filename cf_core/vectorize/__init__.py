"""Vectorize v2: indexes, vector writes (NDJSON batches), queries, metadata indexes, mutations.

Every operation is one builder in a submodule; :class:`Vectorize` and :class:`AsyncVectorize` turn
each into a method (``client.vectorize.upsert(...)`` / ``await aclient.vectorize.upsert(...)``).
"""

from __future__ import annotations

from .._facade import AsyncResource, SyncResource, async_call, sync_call
from ..ingest import ingest
from . import indexes, mutations, reads, vectors
from .filters import validate_filter
from .scores import higher_is_better, is_better, relevance_from_score
from .types import (
    IndexInfo,
    IndexStats,
    Match,
    MetadataIndex,
    Metric,
    MutationResult,
    QueryResult,
    Vector,
    VectorIdPage,
)
from .validation import MAX_BATCH_SIZE, MAX_TOP_K, MAX_TOP_K_WITH_VALUES


class Vectorize(SyncResource):
    """Vectorize operations, sent synchronously."""

    create_index = sync_call(indexes.create_index)
    get_index = sync_call(indexes.get_index)
    list_indexes = sync_call(indexes.list_indexes)
    delete_index = sync_call(indexes.delete_index)
    index_info = sync_call(indexes.index_info)
    upsert = sync_call(vectors.upsert)
    insert = sync_call(vectors.insert)
    delete_by_ids = sync_call(vectors.delete_by_ids)
    query = sync_call(reads.query)
    get_by_ids = sync_call(reads.get_by_ids)
    list_vector_ids = sync_call(reads.list_vector_ids)
    all_vector_ids = sync_call(reads.all_vector_ids)
    create_metadata_index = sync_call(vectors.create_metadata_index)
    list_metadata_indexes = sync_call(reads.list_metadata_indexes)
    delete_metadata_index = sync_call(vectors.delete_metadata_index)
    wait_for_mutation = sync_call(mutations.wait_for_mutation)
    ingest = sync_call(ingest)


class AsyncVectorize(AsyncResource):
    """Vectorize operations, awaited."""

    create_index = async_call(indexes.create_index)
    get_index = async_call(indexes.get_index)
    list_indexes = async_call(indexes.list_indexes)
    delete_index = async_call(indexes.delete_index)
    index_info = async_call(indexes.index_info)
    upsert = async_call(vectors.upsert)
    insert = async_call(vectors.insert)
    delete_by_ids = async_call(vectors.delete_by_ids)
    query = async_call(reads.query)
    get_by_ids = async_call(reads.get_by_ids)
    list_vector_ids = async_call(reads.list_vector_ids)
    all_vector_ids = async_call(reads.all_vector_ids)
    create_metadata_index = async_call(vectors.create_metadata_index)
    list_metadata_indexes = async_call(reads.list_metadata_indexes)
    delete_metadata_index = async_call(vectors.delete_metadata_index)
    wait_for_mutation = async_call(mutations.wait_for_mutation)
    ingest = async_call(ingest)


__all__ = [
    "MAX_BATCH_SIZE", "MAX_TOP_K", "MAX_TOP_K_WITH_VALUES", "AsyncVectorize", "IndexInfo", "IndexStats", "Match",
    "MetadataIndex", "Metric", "MutationResult", "QueryResult", "Vector", "VectorIdPage", "Vectorize",
    "higher_is_better", "is_better", "relevance_from_score", "validate_filter",
]
