"""Gateway management: create, get, list, update, delete (``/ai-gateway/gateways``)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from ..errors import InvalidInputError
from ..http import Call, Effect, Op, RawResponse, unwrap
from ._requests import BASE, check_gateway_id, gateway_path, request

REQUIRED_DEFAULTS: dict[str, Any] = {
    "cache_invalidate_on_update": False,
    "cache_ttl": 0,
    "collect_logs": True,
    "rate_limiting_interval": None,
    "rate_limiting_limit": None,
}
"""Fields the API requires on create and update, with the values a new gateway gets when not given."""
SETTINGS = frozenset({
    *REQUIRED_DEFAULTS, "rate_limiting_technique", "authentication", "log_management", "log_management_strategy",
    "logpush", "logpush_public_key", "retry_backoff", "retry_delay", "retry_max_attempts",
    # accepted and echoed by the API; carried over unchanged by update_gateway
    "byok_only", "dlp", "guardrails", "log_classification", "otel", "spend_limits", "store_id", "stripe",
    "workers_ai_billing_mode", "zdr",
})
CHOICES = {
    "rate_limiting_technique": ("fixed", "sliding"),
    "log_management_strategy": ("STOP_INSERTING", "DELETE_OLDEST", None),
    "retry_backoff": ("constant", "linear", "exponential", None),
}
GATEWAYS_PER_PAGE = 50


def check_settings(settings: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(settings) - SETTINGS)
    if unknown:
        raise InvalidInputError(f"unknown gateway setting(s) {', '.join(unknown)}; known: {', '.join(sorted(SETTINGS))}",
                                field=unknown[0], item=unknown[0])
    for name, allowed in CHOICES.items():
        if name in settings and settings[name] not in allowed:
            raise InvalidInputError(f"{name} must be one of {', '.join(map(str, allowed))}, got {settings[name]!r}",
                                    field=name, limit=allowed)
    ttl = settings.get("cache_ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 0):
        raise InvalidInputError(f"cache_ttl must be a non-negative number of seconds, got {ttl!r}", field="cache_ttl")
    return settings


def _gateway(raw: RawResponse) -> dict[str, Any]:
    result = unwrap(raw)
    return dict(result) if isinstance(result, dict) else {}


def create_gateway(id: str, **settings: Any) -> Call[dict[str, Any]]:
    """Create a gateway; settings not given get the API's defaults (caching off, logs on, no rate limit)."""
    body = {"id": check_gateway_id(id), **REQUIRED_DEFAULTS, **check_settings(settings)}
    return Call(request("POST", BASE, json=body), _gateway)


def get_gateway(id: str) -> Call[dict[str, Any]]:
    """A gateway's settings."""
    return Call(request("GET", gateway_path(check_gateway_id(id))), _gateway)


def _page(raw: RawResponse) -> tuple[list[dict[str, Any]], int | None]:
    payload = raw.json()
    items = [dict(g) for g in unwrap(raw) or [] if isinstance(g, dict)]
    info = payload.get("result_info") if isinstance(payload, dict) else None
    total = info.get("total_count") if isinstance(info, dict) else None
    return items, total if isinstance(total, int) else None


def _list_gen() -> Generator[Effect, Any, list[dict[str, Any]]]:
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        items, total = yield Call(request("GET", BASE, params={"page": page, "per_page": GATEWAYS_PER_PAGE}), _page)
        out.extend(items)
        if not items or len(items) < GATEWAYS_PER_PAGE or (total is not None and len(out) >= total):
            return out
        page += 1


def list_gateways() -> Op[list[dict[str, Any]]]:
    """Every gateway of the account."""
    return _list_gen()


def _update_gen(gateway_id: str, settings: dict[str, Any]) -> Generator[Effect, Any, dict[str, Any]]:
    current: dict[str, Any] = yield get_gateway(gateway_id)
    body = {**REQUIRED_DEFAULTS, **{k: v for k, v in current.items() if k in SETTINGS}, **settings}
    updated: dict[str, Any] = yield Call(request("PUT", gateway_path(gateway_id), json=body), _gateway)
    return updated


def update_gateway(id: str, **settings: Any) -> Op[dict[str, Any]]:
    """Change some settings and keep the others (the API replaces the whole object, so the current
    settings are read first and merged)."""
    gateway_id = check_gateway_id(id)
    return _update_gen(gateway_id, check_settings(settings))


def _nothing(raw: RawResponse) -> None:
    unwrap(raw)


def delete_gateway(id: str) -> Call[None]:
    """Delete a gateway (its logs go with it)."""
    return Call(request("DELETE", gateway_path(check_gateway_id(id))), _nothing)
