"""Index management: create, get, list, delete, info."""

from __future__ import annotations

from typing import Any

from ..errors import APIConnectionError, ConflictError, InvalidInputError, ServerError, TimeoutError
from ..http import Call, Op, RawResponse, unwrap
from . import validation as V
from ._paths import BASE, index_path, request
from .types import IndexInfo, IndexStats


def _index(raw: RawResponse) -> IndexInfo:
    return IndexInfo.from_wire(unwrap(raw))


def _config(dimensions: int | None, metric: str, preset: str | None) -> dict[str, Any]:
    if metric not in V.METRICS:
        raise InvalidInputError(f"metric must be one of {', '.join(V.METRICS)}, got {metric!r}", field="metric",
                                limit=V.METRICS)
    if preset is None:
        if dimensions is None:
            raise InvalidInputError("create_index needs dimensions= (with metric=) or preset=", field="dimensions")
        return {"dimensions": V.check_dimensions(dimensions), "metric": metric}
    if preset not in V.PRESETS:
        raise InvalidInputError(f"unknown preset {preset!r}; the presets are {', '.join(V.PRESETS)}",
                                field="preset", limit=tuple(V.PRESETS))
    if dimensions is not None and dimensions != V.PRESETS[preset]:
        raise InvalidInputError(f"preset {preset} has {V.PRESETS[preset]} dimensions; do not pass "
                                f"dimensions={dimensions!r} with it", field="dimensions")
    if metric != "cosine":  # every documented preset is cosine
        raise InvalidInputError(f"preset {preset} uses the cosine metric; do not pass metric={metric!r} with it",
                                field="metric")
    return {"preset": preset}


def create_index(name: str, *, dimensions: int | None = None, metric: str = "cosine",
                 preset: str | None = None, description: str | None = None) -> Op[IndexInfo]:
    """Create an index from ``dimensions`` and ``metric``, or from an embedding-model ``preset``.

    Raises :class:`ConflictError` when the name is taken, except in one case: an earlier attempt of
    this same call failed in a way that may have created the index (timeout, dropped connection,
    5xx) and the index now there has exactly the requested configuration; that is this call's own
    work, whose answer was lost, and it is returned.
    """
    body: dict[str, Any] = {"name": V.check_index_name(name), "config": _config(dimensions, metric, preset)}
    if description is not None:
        if not isinstance(description, str):
            raise InvalidInputError("description must be a string", field="description")
        body["description"] = description
    # Cloudflare documents 201 for a create; 200 is accepted too (any 2xx is).
    return _create(Call(request("POST", BASE, json=body), _index), name, body)


_AMBIGUOUS = (TimeoutError, APIConnectionError, ServerError)
"""Failures after which the request may still have been carried out."""


def _create(call: Call[IndexInfo], name: str, body: dict[str, Any]) -> Op[IndexInfo]:
    try:
        created: IndexInfo = yield call
    except ConflictError as conflict:
        if not any(isinstance(e, _AMBIGUOUS) for e in conflict.earlier_attempts):
            raise
        existing: IndexInfo = yield get_index(name)
        config = body["config"]
        wanted = (V.PRESETS[config["preset"]], "cosine") if "preset" in config else \
            (config["dimensions"], config["metric"])
        if (existing.dimensions, existing.metric) != wanted or (existing.description or None) != body.get("description"):
            raise
        return existing
    return created


def get_index(name: str) -> Call[IndexInfo]:
    """An index's name, description, dimensions, metric and timestamps."""
    return Call(request("GET", index_path(V.check_index_name(name))), _index)


def _index_list(raw: RawResponse) -> list[IndexInfo]:
    return [IndexInfo.from_wire(item) for item in unwrap(raw) or []]


def list_indexes() -> Call[list[IndexInfo]]:
    """Every index of the account (one page: the endpoint is not paginated)."""
    return Call(request("GET", BASE), _index_list)


def _nothing(raw: RawResponse) -> None:
    unwrap(raw)


def delete_index(name: str) -> Call[None]:
    """Delete an index and all its vectors (its name can then be reused)."""
    return Call(request("DELETE", index_path(V.check_index_name(name))), _nothing)


def _stats(raw: RawResponse) -> IndexStats:
    return IndexStats.from_wire(unwrap(raw) or {})


def index_info(name: str) -> Call[IndexStats]:
    """Vector count and how far the asynchronous mutations have been processed."""
    return Call(request("GET", index_path(V.check_index_name(name), "/info")), _stats)
