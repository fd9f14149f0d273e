"""The logs API's query parameters: simple filters, structured ``filters``, ordering and paging.

Structured filters (``[{key, operator, value[]}]``) arrive in three spellings: a JSON array in
``filters`` (this emulator's form), bracketed ``filters[0][key]=..`` pairs, or the official SDK's
dotted ``filters.key=..`` form. The emulator sees each query key once, so the dotted form carries a
single filter with a single value.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import mgmt_invalid
from .logs import LogEntry

Predicate = Callable[[LogEntry], bool]

FILTER_KEYS = {
    "id", "created_at", "request_content_type", "response_content_type", "request_type", "success",
    "cached", "provider", "model", "model_type", "cost", "tokens", "tokens_in", "tokens_out", "duration",
    "feedback", "event_id", "metadata.key", "metadata.value", "authentication",
}
OPERATORS = ("eq", "neq", "contains", "lt", "gt")
LIST_ORDER = ("created_at", "provider", "model", "model_type", "success", "cached")
DELETE_ORDER = (*LIST_ORDER, "cost", "tokens_in", "tokens_out", "duration", "feedback")
MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 20

_RANGES = {"cost": "cost", "duration": "duration", "tokens_in": "tokens_in", "tokens_out": "tokens_out",
           "total_tokens": "tokens"}
_EQUALS = ("provider", "model", "model_type", "request_content_type", "response_content_type")
_BRACKET = re.compile(r"^filters\[(\d+)\]\[(key|operator|value)\](?:\[\d*\])?$")


@dataclass
class Filter:
    key: str
    operator: str
    values: list[Any]


def _bool(name: str, text: str) -> bool:
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise mgmt_invalid(f"{name}: expected true or false, got {text!r}")


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise mgmt_invalid(f"{name}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise mgmt_invalid(f"{name}: expected a finite number")
    return value


def _date(name: str, text: str) -> float:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise mgmt_invalid(f"{name}: expected an ISO 8601 date-time, got {text!r}") from None


def _structured(query: Mapping[str, str]) -> list[Filter]:
    raw: list[dict[str, Any]] = []
    if "filters" in query:
        try:
            data = json.loads(query["filters"])
        except ValueError:
            raise mgmt_invalid("filters: expected a JSON array of {key, operator, value}") from None
        if not isinstance(data, list) or not all(isinstance(f, dict) for f in data):
            raise mgmt_invalid("filters: expected a JSON array of {key, operator, value}")
        raw.extend(data)
    indexed: dict[int, dict[str, Any]] = {}
    for name, value in query.items():
        m = _BRACKET.match(name)
        if m:
            item = indexed.setdefault(int(m.group(1)), {})
            if m.group(2) == "value":
                item.setdefault("value", []).append(value)
            else:
                item[m.group(2)] = value
    raw.extend(indexed[i] for i in sorted(indexed))
    if "filters.key" in query:
        raw.append({"key": query["filters.key"], "operator": query.get("filters.operator", "eq"),
                    "value": [query.get("filters.value")]})
    out = []
    for item in raw:
        key, op, given = item.get("key"), item.get("operator") or "eq", item.get("value")
        if key not in FILTER_KEYS:
            raise mgmt_invalid(f"filters: unknown key {key!r}")
        if op not in OPERATORS:
            raise mgmt_invalid(f"filters: operator must be one of {', '.join(OPERATORS)}, got {op!r}")
        values = given if isinstance(given, list) else [given]
        if not values:
            raise mgmt_invalid("filters: value must hold at least one value")
        out.append(Filter(str(key), str(op), values))
    return out


def _coerce(sample: Any, value: Any) -> Any:
    """Bring a filter value (often a string from the query) to the field's type."""
    if isinstance(sample, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
    if isinstance(sample, int | float) and not isinstance(value, bool):
        try:
            return float(value)
        except (TypeError, ValueError):
            return math.nan
    return value


def _compare(op: str, field_value: Any, wanted: Any) -> bool:
    if op == "contains":
        return str(wanted).lower() in str(field_value).lower()
    if field_value is None:
        return op == "neq" and wanted is not None
    if op in ("lt", "gt"):
        try:
            return bool(field_value < wanted) if op == "lt" else bool(field_value > wanted)
        except TypeError:
            return False
    return bool(field_value == wanted) if op == "eq" else bool(field_value != wanted)


def _matches(entry: LogEntry, f: Filter) -> bool:
    if f.key in ("metadata.key", "metadata.value"):
        items = list(entry.metadata) if f.key == "metadata.key" else [
            str(v).lower() if isinstance(v, bool) else str(v) for v in entry.metadata.values()]
        texts = [str(w).lower() if isinstance(w, bool) else str(w) for w in f.values]
        if f.operator == "neq":
            return not any(item == w for item in items for w in texts)
        return any(_compare(f.operator, item, w) for item in items for w in texts)
    current = entry.field_value(f.key)
    wanted: list[Any]
    if f.key == "created_at":
        wanted = [_date("filters.value", v) if isinstance(v, str) else v for v in f.values]
    else:
        wanted = [_coerce(current, v) for v in f.values]
    if f.operator == "neq":
        return all(_compare("neq", current, w) for w in wanted)
    return any(_compare(f.operator, current, w) for w in wanted)


def _flag(name: str, wanted: bool) -> Predicate:
    return lambda e: getattr(e, name) is wanted


def _equal(name: str, wanted: Any) -> Predicate:
    return lambda e: getattr(e, name) == wanted


def _bound(key: str, limit: float, lower: bool) -> Predicate:
    def check(e: LogEntry) -> bool:
        value = float(e.field_value(key) or 0)
        return value >= limit if lower else value <= limit
    return check


def _structured_check(f: Filter) -> Predicate:
    return lambda e: _matches(e, f)


def build_predicate(query: Mapping[str, str]) -> Predicate:
    checks: list[Predicate] = []
    for name in ("cached", "success"):
        if name in query:
            checks.append(_flag(name, _bool(name, query[name])))
    for name in _EQUALS:
        if name in query:
            checks.append(_equal(name, query[name]))
    if "feedback" in query:
        checks.append(_equal("feedback", _number("feedback", query["feedback"])))
    for suffix, key in _RANGES.items():
        for bound in ("min", "max"):
            name = f"{bound}_{suffix}"
            if name in query:
                checks.append(_bound(key, _number(name, query[name]), bound == "min"))
    if "start_date" in query:
        checks.append(_bound("created_at", _date("start_date", query["start_date"]), True))
    if "end_date" in query:
        checks.append(_bound("created_at", _date("end_date", query["end_date"]), False))
    if "meta_info" in query:
        _bool("meta_info", query["meta_info"])  # accepted; every view already carries metadata
    if query.get("search"):
        needle = query["search"].lower()
        checks.append(lambda e: needle in _search_text(e))
    for f in _structured(query):
        checks.append(_structured_check(f))
    return lambda entry: all(check(entry) for check in checks)


def _search_text(entry: LogEntry) -> str:
    meta = " ".join(f"{k} {v}" for k, v in entry.metadata.items())
    return f"{meta} {entry.model} {entry.provider} {entry.path} {entry.event_id or ''}".lower()


def order(entries: list[LogEntry], query: Mapping[str, str], allowed: tuple[str, ...]) -> list[LogEntry]:
    key = query.get("order_by", "created_at")
    if key not in allowed:
        raise mgmt_invalid(f"order_by: must be one of {', '.join(allowed)}, got {key!r}")
    direction = query.get("order_by_direction") or query.get("direction") or "desc"
    if direction not in ("asc", "desc"):
        raise mgmt_invalid(f"direction: must be asc or desc, got {direction!r}")

    def sort_key(e: LogEntry) -> tuple[Any, ...]:
        value = e.field_value(key)
        return (value is None, value if value is not None else 0, e.seq)

    return sorted(entries, key=sort_key, reverse=direction == "desc")


def page(query: Mapping[str, str]) -> tuple[int, int]:
    try:
        number = int(query.get("page", "1"))
        size = int(query.get("per_page", str(DEFAULT_PER_PAGE)))
    except ValueError:
        raise mgmt_invalid("page and per_page: expected integers") from None
    if number < 1 or size < 1:
        raise mgmt_invalid("page and per_page: must be at least 1")
    return number, min(size, MAX_PER_PAGE)
