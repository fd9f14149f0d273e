"""The query endpoint: request validation and the shape of its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import errors as E
from .columns import Column, IndexedProperty, evaluate, indexed_metadata
from .filters import Filter, FilterError, parse_filter
from .limits import DEFAULT_TOP_K, MAX_TOP_K, is_finite_number, is_number_list
from .state import QueryContext

RETURN_METADATA = ("none", "indexed", "all")


@dataclass(frozen=True)
class QueryRequest:
    vector: list[float] | None
    vector_id: str | None
    top_k: int
    return_values: bool
    return_metadata: str
    namespace: str | None
    filter: Filter | None


def _parse_error(detail: str) -> Exception:
    return E.query_error(E.QUERY_PARSE, f"Failed to parse the request body as JSON: {detail}")


def _return_metadata(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        if value in RETURN_METADATA:
            return value
        raise _parse_error(f"returnMetadata: unknown variant `{value}`, expected one of `none`, `indexed`, `all`")
    # the text the live v2 API gives for a boolean (the v1 form)
    raise _parse_error("returnMetadata: expected value")


def _top_k(value: Any) -> int:
    if value is None:
        return DEFAULT_TOP_K
    if isinstance(value, bool) or not is_finite_number(value) or not float(value).is_integer():
        raise _parse_error(f"topK: invalid type: expected an integer, got {value!r}")
    top_k = int(value)
    if not 1 <= top_k <= MAX_TOP_K:
        raise E.query_error(E.QUERY_TOPK_RANGE, f"topK must be between 1 and {MAX_TOP_K}, but got {top_k}")
    return top_k


def parse_query(body: Any, topk_cap_with_values: int) -> QueryRequest:
    if not isinstance(body, dict):
        raise _parse_error("expected a JSON object")
    return_metadata = _return_metadata(body.get("returnMetadata"))
    return_values = body.get("returnValues")
    if return_values is None:
        return_values = False
    if not isinstance(return_values, bool):
        raise _parse_error(f"returnValues: invalid type: expected a boolean, got {return_values!r}")
    top_k = _top_k(body.get("topK"))
    if (return_values or return_metadata == "all") and top_k > topk_cap_with_values:
        raise E.query_error(E.QUERY_TOPK_CAP, "with returnValues=true or returnMetadata=all, max top K is "
                                              f"{topk_cap_with_values}, but got {top_k}")
    namespace = body.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise _parse_error("namespace: invalid type: expected a string")
    vector, vector_id = body.get("vector"), body.get("vectorId")
    if vector is not None and vector_id is not None:
        raise _parse_error("send either `vector` or `vectorId`, not both")
    if vector is None and vector_id is None:
        raise _parse_error("missing field `vector` (or `vectorId`)")
    if vector is not None and not is_number_list(vector):
        raise _parse_error("vector: invalid type: expected a list of numbers")
    if vector_id is not None and (not isinstance(vector_id, str) or not vector_id):
        raise _parse_error("vectorId: invalid type: expected a non-empty string")
    flt = None
    raw_filter = body.get("filter")
    if raw_filter is not None:
        try:
            flt = parse_filter(raw_filter)
        except FilterError as exc:
            raise E.query_error(E.QUERY_INVALID_FILTER, f"invalid metadata filter: {exc}") from None
    return QueryRequest(vector, vector_id, top_k, return_values, return_metadata, namespace, flt)


def _query_vector(ctx: QueryContext, req: QueryRequest) -> np.ndarray:
    dims = ctx.index.dimensions
    if req.vector is not None:
        if len(req.vector) != dims:
            raise E.query_error(E.QUERY_DIMENSIONS, f"invalid query vector, expected {dims} dimensions, "
                                                    f"and got {len(req.vector)} dimensions")
        try:
            with np.errstate(over="ignore"):
                q = np.asarray(req.vector, dtype=np.float32)
        except OverflowError:  # an integer beyond float64
            q = np.full(dims, np.inf, dtype=np.float32)
        if not np.isfinite(q).all():
            raise E.query_error(E.QUERY_NON_FINITE, "invalid query vector, values must be finite float32 numbers "
                                                    "(no NaN, Infinity or values beyond float32 range)")
        return q
    assert req.vector_id is not None
    row = ctx.snapshot.row_of.get(req.vector_id)
    if row is None:
        raise E.query_error(E.QUERY_VECTOR_ID_NOT_FOUND, f'no vector with id "{req.vector_id}" in this index')
    return np.asarray(ctx.snapshot.matrix[row])


def _filter_mask(ctx: QueryContext, flt: Filter, strict: bool) -> np.ndarray:
    snap = ctx.snapshot
    by_path = {p.path: p for p in ctx.metadata_indexes}

    def column(path: str) -> Column | None:
        if not strict:
            return snap.column(path, None)
        prop = by_path.get(path)
        return snap.column(path, prop) if prop is not None else None

    return evaluate(flt, column, len(snap), truncate=strict)


def run_query(ctx: QueryContext, req: QueryRequest, strict: bool) -> dict[str, Any]:
    q = _query_vector(ctx, req)
    snap = ctx.snapshot
    allowed = _filter_mask(ctx, req.filter, strict) if req.filter is not None and len(snap) else None
    found = snap.search(q, ctx.index.metric, req.top_k, req.namespace, allowed)
    props: list[IndexedProperty] = ctx.metadata_indexes
    matches: list[dict[str, Any]] = []
    for m in found:
        item: dict[str, Any] = {"id": snap.ids[m.row], "score": m.score}
        if req.return_values:
            item["values"] = snap.matrix[m.row].tolist()
        ns = snap.namespaces[m.row]
        if ns is not None:
            item["namespace"] = ns
        if req.return_metadata != "none":
            meta = snap.metadata_at(m.row)
            if req.return_metadata == "all":
                item["metadata"] = meta if meta is not None else {}
            else:
                item["metadata"] = indexed_metadata(meta, int(snap.written_seq[m.row]), props)
        matches.append(item)
    return {"count": len(matches), "matches": matches}
