"""Reading from an index: query, get by ids, list ids (one page or all), list metadata indexes."""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from typing import Any

from ..errors import APIError, InvalidInputError
from ..http import Call, Effect, Op, RawResponse, unwrap
from . import validation as V
from ._paths import index_path, request
from .filters import validate_filter
from .types import Match, MetadataIndex, QueryResult, Vector, VectorIdPage

MAX_PAGES = 1_000_000
"""Safety stop for :func:`all_vector_ids` (10M vectors per index / 1000 per page leaves ample room)."""


def _query_result(raw: RawResponse) -> QueryResult:
    result = unwrap(raw) or {}
    matches = [Match.from_wire(m) for m in result.get("matches") or []]
    return QueryResult(count=int(result.get("count", len(matches))), matches=matches)


def query(index: str, vector: Sequence[float] | None = None, *, vector_id: str | None = None, top_k: int = 5,
          return_values: bool = False, return_metadata: str = "none", namespace: str | None = None,
          filter: Mapping[str, Any] | None = None) -> Call[QueryResult]:
    """The ``top_k`` nearest vectors to ``vector`` (or to the stored vector ``vector_id``), best first.

    ``filter`` uses Vectorize's metadata filter language (validated locally; it only sees properties
    that have a metadata index). ``return_metadata`` is ``"none"``, ``"indexed"`` or ``"all"``.
    """
    V.check_index_name(index)
    if (vector is None) == (vector_id is None):
        raise InvalidInputError("query needs exactly one of vector= and vector_id=", field="vector")
    if not isinstance(return_values, bool):
        raise InvalidInputError(f"return_values must be a boolean, got {return_values!r}", field="return_values")
    body: dict[str, Any] = {}
    if vector is not None:
        body["vector"] = V.check_values(vector, field="vector")
    else:
        body["vectorId"] = V.check_id(vector_id, field="vector_id")
    return_metadata = V.check_return_metadata(return_metadata)
    body["topK"] = V.check_top_k(top_k, return_values, return_metadata)
    body["returnValues"] = return_values
    body["returnMetadata"] = return_metadata
    if namespace is not None:
        body["namespace"] = V.check_namespace(namespace)
    if filter is not None:
        body["filter"] = validate_filter(filter)
    return Call(request("POST", index_path(index, "/query"), json=body), _query_result)


def get_by_ids(index: str, ids: Sequence[str]) -> Op[list[Vector]]:
    """The stored vectors with these ids, in the order asked (missing ids are left out)."""
    V.check_index_name(index)
    wanted = list(dict.fromkeys(V.check_ids(ids)))
    return _get_gen(index, wanted)


def _get_gen(index: str, ids: list[str]) -> Generator[Effect, Any, list[Vector]]:
    if not ids:
        return []
    found: list[Vector] = yield Call(request("POST", index_path(index, "/get_by_ids"), json={"ids": ids}),
                                     _vectors)
    by_id = {v.id: v for v in found}
    return [by_id[i] for i in ids if i in by_id]


def _vectors(raw: RawResponse) -> list[Vector]:
    result = unwrap(raw) or []
    if not isinstance(result, list):
        raise APIError(f"expected a list of vectors, got {type(result).__name__}", status=raw.status)
    return [Vector.from_wire(v) for v in result]


def _page(raw: RawResponse) -> VectorIdPage:
    return VectorIdPage.from_wire(unwrap(raw) or {})


def list_vector_ids(index: str, *, count: int = 100, cursor: str | None = None) -> Call[VectorIdPage]:
    """One page (``count`` <= 1000) of vector ids; pass ``next_cursor`` back for the next page.

    The ids come from a snapshot taken at the first, cursor-less call; cursors expire.
    """
    V.check_index_name(index)
    params: dict[str, Any] = {"count": V.check_list_count(count)}
    if cursor is not None:
        if not isinstance(cursor, str) or not cursor:
            raise InvalidInputError(f"cursor must be a non-empty string, got {cursor!r}", field="cursor")
        params["cursor"] = cursor
    return Call(request("GET", index_path(index, "/list"), params=params), _page)


def all_vector_ids(index: str, *, page_size: int = V.MAX_LIST_COUNT) -> Op[list[str]]:
    """Every vector id of the index, following cursors page by page."""
    V.check_index_name(index)
    V.check_list_count(page_size)
    return _all_ids_gen(index, page_size)


def _all_ids_gen(index: str, page_size: int) -> Generator[Effect, Any, list[str]]:
    ids: list[str] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page: VectorIdPage = yield list_vector_ids(index, count=page_size, cursor=cursor)
        ids.extend(page.ids)
        if not page.is_truncated or not page.next_cursor:
            return ids
        if page.next_cursor in seen:
            raise APIError(f"Vectorize listed cursor {page.next_cursor!r} twice; stopping to avoid a loop")
        seen.add(page.next_cursor)
        cursor = page.next_cursor
    raise APIError(f"listing {index!r} did not finish within {MAX_PAGES} pages")


def _metadata_indexes(raw: RawResponse) -> list[MetadataIndex]:
    result = unwrap(raw) or {}
    return [MetadataIndex(property_name=m["propertyName"], index_type=m["indexType"])
            for m in result.get("metadataIndexes") or []]


def list_metadata_indexes(index: str) -> Call[list[MetadataIndex]]:
    """The properties that can be filtered on, with their types."""
    V.check_index_name(index)
    return Call(request("GET", index_path(index, "/metadata_index/list")), _metadata_indexes)
