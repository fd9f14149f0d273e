"""HTTP handlers for Vectorize v2 (paths relative to ``/client/v4``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ...gc_pause import gc_paused
from ..router import Router
from ..wire import ApiError, EmuRequest, EmuResponse, envelope
from . import errors as E
from .bodies import MultipartError, ndjson_lines, parse_multipart
from .fastbody import decode_fast
from .limits import (
    DEFAULT_LIST_COUNT,
    MAX_LIST_COUNT,
    MAX_VECTORS_PER_REQUEST,
    METADATA_INDEX_TYPES,
    VectorRecord,
    parse_float32_rows,
    parse_vectors,
    validate_index_create,
)
from .query import parse_query, run_query
from .state import VectorizeState
from .store import IndexRow, StoredVector

BASE = "/accounts/{account}/vectorize/v2/indexes"
INDEX = BASE + "/{name}"


def index_object(row: IndexRow) -> dict[str, Any]:
    return {"name": row.name, "description": row.description,
            "config": {"dimensions": row.dimensions, "metric": row.metric},
            "created_on": row.created_on, "modified_on": row.modified_on}


def _json_body(req: EmuRequest, error: Callable[[str], ApiError]) -> Any:
    if not req.body.strip():
        raise error("the request body is empty")
    try:
        return json.loads(req.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"the body is not valid JSON ({exc})") from None


def _vector_json(v: StoredVector) -> dict[str, Any]:
    import numpy as np

    out: dict[str, Any] = {"id": v.id, "values": np.frombuffer(v.vals, dtype=np.float32).tolist(),
                           "metadata": json.loads(v.metadata) if v.metadata is not None else {}}
    if v.namespace is not None:
        out["namespace"] = v.namespace
    return out


def parse_vectors_body(req: EmuRequest, dimensions: int) -> list[VectorRecord]:
    """Vectors from a raw NDJSON body or the ``vectors`` part of a multipart body."""
    with gc_paused():
        return _parse_vectors_body(req, dimensions)


def _parse_vectors_body(req: EmuRequest, dimensions: int) -> list[VectorRecord]:
    behaviour = req.query.get("unparsable-behavior", "error")
    if behaviour not in ("error", "discard"):
        raise E.insert_error(E.INSERT_UNPARSABLE, f"unparsable-behavior must be error or discard, got {behaviour!r}")
    data = req.body
    if req.content_type == "multipart/form-data":
        try:
            parts = parse_multipart(req.body, req.headers.get("content-type", ""))
        except MultipartError as exc:
            raise E.insert_error(E.INSERT_UNPARSABLE, f"invalid multipart body: {exc}") from None
        part = next((p for p in parts if p.name == "vectors"), None)
        if part is None:
            raise E.insert_error(E.INSERT_UNPARSABLE, 'the multipart body has no part named "vectors"')
        data = part.data
    fast = decode_fast(data, dimensions, MAX_VECTORS_PER_REQUEST)
    if fast is not None and fast.objects:
        records = parse_float32_rows(fast.objects, fast.matrix)
        if records is not None:
            return records
    # the general path: it also gives every error, with the line it concerns
    decoded = []
    for line in ndjson_lines(data):
        if line.error is None and isinstance(line.value, dict):
            decoded.append(line)
        elif behaviour == "error":
            why = line.error or "not a JSON object"
            raise E.insert_error(E.INSERT_UNPARSABLE, f"line {line.number} of the NDJSON body could not be "
                                                      f"parsed as a vector: {why}")
    if not decoded:
        raise E.insert_error(E.INSERT_EMPTY, "the body contains no vectors")
    if len(decoded) > MAX_VECTORS_PER_REQUEST:
        raise E.insert_error(E.INSERT_TOO_MANY, f"{len(decoded)} vectors in one request; the limit is "
                                                f"{MAX_VECTORS_PER_REQUEST}")
    return parse_vectors([line.value for line in decoded], dimensions, [line.number for line in decoded])


def _ids(body: Any, op: str, code: int) -> list[str]:
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise E.vector_error(op, code, 'the body must be {"ids": [<string>, ...]}')
    return ids


def _property_name(body: Any) -> str:
    prop = body.get("propertyName") if isinstance(body, dict) else None
    if not isinstance(prop, str) or not prop or len(prop) > 512:
        raise E.index_error(E.METADATA_INDEX_INVALID, "metadata_index.invalid",
                            "propertyName must be a string of 1 to 512 characters")
    for segment in prop.split("."):
        if not segment or '"' in segment or segment.startswith("$"):
            raise E.index_error(E.METADATA_INDEX_INVALID, "metadata_index.invalid",
                                f'propertyName "{prop}": each dot-separated part must be non-empty, '
                                "without '\"' and not starting with \"$\"")
    return prop


def install_routes(api: Router, state: VectorizeState) -> None:
    config = state.config

    def create(req: EmuRequest) -> EmuResponse:
        body = _json_body(req, lambda d: E.index_error(E.INDEX_INVALID_CONFIG, "index.invalid_config", d))
        if not isinstance(body, dict):
            raise E.index_error(E.INDEX_INVALID_CONFIG, "index.invalid_config", "the body must be a JSON object")
        row = state.create_index(req.params["account"], validate_index_create(body))
        return envelope(index_object(row), status=201)

    def list_indexes(req: EmuRequest) -> EmuResponse:
        return envelope([index_object(r) for r in state.list_indexes(req.params["account"])])

    def get_index(req: EmuRequest) -> EmuResponse:
        return envelope(index_object(state.get_index(req.params["account"], req.params["name"])))

    def delete_index(req: EmuRequest) -> EmuResponse:
        state.delete_index(req.params["account"], req.params["name"])
        return envelope(None)

    def info(req: EmuRequest) -> EmuResponse:
        return envelope(state.info(req.params["account"], req.params["name"]))

    def writer(replace: bool) -> Callable[[EmuRequest], EmuResponse]:
        def handle(req: EmuRequest) -> EmuResponse:
            index = state.index_for_write(req.params["account"], req.params["name"])
            records = parse_vectors_body(req, index.dimensions)
            return envelope({"mutationId": state.write(index, records, replace=replace)})
        return handle

    def query(req: EmuRequest) -> EmuResponse:
        body = _json_body(req, lambda d: E.query_error(E.QUERY_PARSE, f"Failed to parse the request body as JSON: {d}"))
        parsed = parse_query(body, config.topk_cap_with_values)
        ctx = state.query_context(req.params["account"], req.params["name"])
        return envelope(run_query(ctx, parsed, strict=config.strict_metadata_index))

    def get_by_ids(req: EmuRequest) -> EmuResponse:
        ids = _ids(_json_body(req, lambda d: E.vector_error("GET", E.GET_INVALID, d)), "GET", E.GET_INVALID)
        vectors = state.get_vectors(req.params["account"], req.params["name"], ids)
        return envelope([_vector_json(v) for v in vectors])

    def delete_by_ids(req: EmuRequest) -> EmuResponse:
        body = _json_body(req, lambda d: E.vector_error("DELETE", E.DELETE_INVALID, d))
        ids = _ids(body, "DELETE", E.DELETE_INVALID)
        index = state.index_for_write(req.params["account"], req.params["name"])
        return envelope({"mutationId": state.delete_ids(index, ids)})

    def list_vectors(req: EmuRequest) -> EmuResponse:
        raw = req.query.get("count", "")
        try:
            count = int(raw) if raw else DEFAULT_LIST_COUNT
        except ValueError:
            count = 0
        if not 1 <= count <= MAX_LIST_COUNT:
            raise E.vector_error("LIST", E.LIST_INVALID_COUNT,
                                 f"count must be an integer from 1 to {MAX_LIST_COUNT}, got {raw!r}")
        return envelope(state.list_vectors(req.params["account"], req.params["name"], count,
                                           req.query.get("cursor") or None))

    def mdi_error(detail: str) -> ApiError:
        return E.index_error(E.METADATA_INDEX_INVALID, "metadata_index.invalid", detail)

    def mdi_create(req: EmuRequest) -> EmuResponse:
        body = _json_body(req, mdi_error)
        prop = _property_name(body)
        index_type = body.get("indexType")
        if index_type not in METADATA_INDEX_TYPES:
            raise mdi_error(f"indexType must be one of {', '.join(METADATA_INDEX_TYPES)}, got {index_type!r}")
        mutation = state.create_metadata_index(req.params["account"], req.params["name"], prop, index_type)
        return envelope({"mutationId": mutation})

    def mdi_list(req: EmuRequest) -> EmuResponse:
        props = state.metadata_indexes(req.params["account"], req.params["name"])
        return envelope({"metadataIndexes": [{"propertyName": p.path, "indexType": p.index_type} for p in props]})

    def mdi_delete(req: EmuRequest) -> EmuResponse:
        prop = _property_name(_json_body(req, mdi_error))
        return envelope({"mutationId": state.delete_metadata_index(req.params["account"], req.params["name"], prop)})

    api.add("POST", BASE, create)
    api.add("GET", BASE, list_indexes)
    api.add("GET", INDEX, get_index)
    api.add("DELETE", INDEX, delete_index)
    api.add("GET", INDEX + "/info", info)
    api.add("POST", INDEX + "/insert", writer(replace=False))
    api.add("POST", INDEX + "/upsert", writer(replace=True))
    api.add("POST", INDEX + "/query", query)
    api.add("POST", INDEX + "/get_by_ids", get_by_ids)
    api.add("POST", INDEX + "/delete_by_ids", delete_by_ids)
    api.add("GET", INDEX + "/list", list_vectors)
    api.add("POST", INDEX + "/metadata_index/create", mdi_create)
    api.add("GET", INDEX + "/metadata_index/list", mdi_list)
    api.add("POST", INDEX + "/metadata_index/delete", mdi_delete)
