"""Gateway logs: list with the API's filters, and one entry in detail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..errors import APIError, InvalidInputError
from ..http import Call, RawResponse, unwrap
from ._requests import check_gateway_id, gateway_path, request
from .types import GatewayLog

SIMPLE_FILTERS = frozenset({
    "cached", "success", "provider", "model", "model_type", "feedback", "search", "meta_info",
    "min_cost", "max_cost", "min_duration", "max_duration", "min_tokens_in", "max_tokens_in",
    "min_tokens_out", "max_tokens_out", "min_total_tokens", "max_total_tokens", "start_date", "end_date",
    "order_by", "order_by_direction", "direction", "page", "per_page",
})
ORDER_BY = ("created_at", "provider", "model", "model_type", "success", "cached")
OPERATORS = ("eq", "neq", "contains", "lt", "gt")
MAX_PER_PAGE = 50


def _param(name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bool | int | float | str):
        return value
    raise InvalidInputError(f"log filter {name} must be a string, number, boolean or datetime, got {value!r}",
                            field=name)


def _structured(filters: Any) -> dict[str, Any]:
    """``[{key, operator, value}]`` as ``filters[i][key]`` / ``[operator]`` / ``[value][j]`` query pairs."""
    if isinstance(filters, Mapping) or not isinstance(filters, Sequence):
        raise InvalidInputError("filters must be a list of {key, operator, value} objects", field="filters")
    out: dict[str, Any] = {}
    for i, item in enumerate(filters):
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str) or not item["key"]:
            raise InvalidInputError(f"filters[{i}] must be an object with a non-empty 'key'", field="filters", item=i)
        op = item.get("operator", "eq")
        if op not in OPERATORS:
            raise InvalidInputError(f"filters[{i}].operator must be one of {', '.join(OPERATORS)}, got {op!r}",
                                    field="filters", limit=OPERATORS, item=i)
        values = item.get("value")
        values = list(values) if isinstance(values, list | tuple) else [values]
        if not values:
            raise InvalidInputError(f"filters[{i}].value must hold at least one value", field="filters", item=i)
        out[f"filters[{i}][key]"] = item["key"]
        out[f"filters[{i}][operator]"] = op
        for j, value in enumerate(values):
            out[f"filters[{i}][value][{j}]"] = _param(f"filters[{i}].value", value)
    return out


def log_params(filters: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(filters) - SIMPLE_FILTERS - {"filters"})
    if unknown:
        raise InvalidInputError(f"unknown log filter(s) {', '.join(unknown)}; known: "
                                f"{', '.join(sorted(SIMPLE_FILTERS | {'filters'}))}", field=unknown[0])
    if "order_by" in filters and filters["order_by"] not in ORDER_BY:
        raise InvalidInputError(f"order_by must be one of {', '.join(ORDER_BY)}, got {filters['order_by']!r}",
                                field="order_by", limit=ORDER_BY)
    per_page = filters.get("per_page")
    if per_page is not None and (isinstance(per_page, bool) or not isinstance(per_page, int)
                                 or not 1 <= per_page <= MAX_PER_PAGE):
        raise InvalidInputError(f"per_page must be an integer from 1 to {MAX_PER_PAGE}, got {per_page!r}",
                                field="per_page", limit=MAX_PER_PAGE)
    params = {name: _param(name, value) for name, value in filters.items() if name != "filters" and value is not None}
    if filters.get("filters"):
        params.update(_structured(filters["filters"]))
    return params


def _logs(raw: RawResponse) -> list[GatewayLog]:
    result = unwrap(raw) or []
    if not isinstance(result, list):
        raise APIError(f"expected a list of log entries, got {type(result).__name__}", status=raw.status)
    return [GatewayLog.from_wire(item) for item in result]


def list_logs(gateway_id: str, **filters: Any) -> Call[list[GatewayLog]]:
    """One page of a gateway's logs, newest first by default.

    Filters are the API's query parameters (``success=True``, ``provider="workers-ai"``,
    ``min_duration=100``, ``start_date=datetime(...)``, ``search="..."``, ``page``/``per_page`` <= 50,
    ``order_by``, ``order_by_direction="asc"``...) plus structured ``filters=[{"key": "metadata.value",
    "operator": "eq", "value": ["x"]}]``. Unknown names are refused locally.
    """
    path = gateway_path(check_gateway_id(gateway_id, "gateway_id"), "/logs")
    return Call(request("GET", path, params=log_params(filters)), _logs)


def _log(raw: RawResponse) -> GatewayLog:
    result = unwrap(raw)
    if not isinstance(result, dict):
        raise APIError(f"expected a log entry, got {type(result).__name__}", status=raw.status)
    return GatewayLog.from_wire(result)


def get_log(gateway_id: str, log_id: str) -> Call[GatewayLog]:
    """One log entry with its sizes and the heads of the request and response bodies."""
    if not isinstance(log_id, str) or not log_id or "/" in log_id:
        raise InvalidInputError(f"log_id must be a non-empty id string, got {log_id!r}", field="log_id")
    path = gateway_path(check_gateway_id(gateway_id, "gateway_id"), f"/logs/{log_id}")
    return Call(request("GET", path), _log)
