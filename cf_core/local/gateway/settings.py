"""A gateway's settings (the management API's object) and their validation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import mgmt_invalid

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_ID_LENGTH = 64
MAX_GATEWAYS_PER_ACCOUNT = 10
MAX_CACHE_TTL_S = 30 * 24 * 3600
MAX_STORED_LOGS = 10_000_000

# Fields that must be present on create and update (the SDK marks them Required; null is allowed
# where the type is Optional).
REQUIRED = ("cache_invalidate_on_update", "cache_ttl", "collect_logs", "rate_limiting_interval",
            "rate_limiting_limit")
# Accepted, stored and echoed, but with no effect in the emulator.
PASSTHROUGH = ("byok_only", "dlp", "guardrails", "log_classification", "otel", "spend_limits",
               "store_id", "stripe", "workers_ai_billing_mode", "zdr")


@dataclass
class GatewaySettings:
    id: str
    cache_invalidate_on_update: bool = False
    cache_ttl: int | None = 0
    collect_logs: bool = True
    rate_limiting_interval: int | None = None
    rate_limiting_limit: int | None = None
    rate_limiting_technique: str = "fixed"
    authentication: bool = False
    log_management: int | None = None
    log_management_strategy: str | None = None
    logpush: bool = False
    logpush_public_key: str | None = None
    retry_backoff: str | None = None
    retry_delay: int | None = None
    retry_max_attempts: int | None = None
    created_at: str = ""
    modified_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate_limited(self) -> bool:
        return bool(self.rate_limiting_limit) and bool(self.rate_limiting_interval)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "cache_invalidate_on_update": self.cache_invalidate_on_update,
            "cache_ttl": self.cache_ttl,
            "collect_logs": self.collect_logs,
            "created_at": self.created_at,
            "modified_at": self.modified_at,
            "rate_limiting_interval": self.rate_limiting_interval,
            "rate_limiting_limit": self.rate_limiting_limit,
            "rate_limiting_technique": self.rate_limiting_technique,
            "authentication": self.authentication,
            "is_default": self.id == "default",
            "log_management": self.log_management,
            "log_management_strategy": self.log_management_strategy,
            "logpush": self.logpush,
            "logpush_public_key": self.logpush_public_key,
            "retry_backoff": self.retry_backoff,
            "retry_delay": self.retry_delay,
            "retry_max_attempts": self.retry_max_attempts,
        }
        out.update(self.extra)
        return out


def check_id(gateway_id: Any) -> str:
    if not isinstance(gateway_id, str) or not gateway_id:
        raise mgmt_invalid("id: a non-empty string is required")
    if len(gateway_id) > MAX_ID_LENGTH:
        raise mgmt_invalid(f"id: at most {MAX_ID_LENGTH} characters, got {len(gateway_id)}")
    if not ID_PATTERN.match(gateway_id):
        raise mgmt_invalid("id: only letters, digits, '-' and '_' are allowed")
    return gateway_id


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise mgmt_invalid(f"{name}: expected a boolean, got {type(value).__name__}")
    return value


def _int(name: str, value: Any, lo: int, hi: int, *, nullable: bool = True) -> int | None:
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or (isinstance(value, float) and not value.is_integer()):
        raise mgmt_invalid(f"{name}: expected an integer{' or null' if nullable else ''}")
    if not lo <= value <= hi:
        raise mgmt_invalid(f"{name}: must be between {lo} and {hi}, got {value}")
    return int(value)


def _choice(name: str, value: Any, choices: tuple[str, ...], *, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if value not in choices:
        raise mgmt_invalid(f"{name}: must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def apply_body(settings: GatewaySettings, body: dict[str, Any], *, creating: bool) -> None:
    """Validate ``body`` (a create or update payload) and write it onto ``settings``."""
    missing = [name for name in REQUIRED if name not in body]
    if missing:
        raise mgmt_invalid(f"missing required field(s): {', '.join(missing)}")
    known = set(REQUIRED) | set(PASSTHROUGH) | {
        "id", "rate_limiting_technique", "authentication", "log_management", "log_management_strategy",
        "logpush", "logpush_public_key", "retry_backoff", "retry_delay", "retry_max_attempts"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise mgmt_invalid(f"unknown field(s): {', '.join(unknown)}")
    if not creating and "id" in body and body["id"] != settings.id:
        raise mgmt_invalid("id: cannot be changed by an update")
    s = settings
    s.cache_invalidate_on_update = _bool("cache_invalidate_on_update", body["cache_invalidate_on_update"])
    s.cache_ttl = _int("cache_ttl", body["cache_ttl"], 0, MAX_CACHE_TTL_S)
    s.collect_logs = _bool("collect_logs", body["collect_logs"])
    s.rate_limiting_interval = _int("rate_limiting_interval", body["rate_limiting_interval"], 1, 86_400)
    s.rate_limiting_limit = _int("rate_limiting_limit", body["rate_limiting_limit"], 0, 10_000_000)
    if "rate_limiting_technique" in body:
        s.rate_limiting_technique = _choice("rate_limiting_technique", body["rate_limiting_technique"],
                                            ("fixed", "sliding")) or "fixed"
    if "authentication" in body:
        s.authentication = _bool("authentication", body["authentication"])
    if "log_management" in body:
        s.log_management = _int("log_management", body["log_management"], 1, MAX_STORED_LOGS)
    if "log_management_strategy" in body:
        s.log_management_strategy = _choice("log_management_strategy", body["log_management_strategy"],
                                            ("STOP_INSERTING", "DELETE_OLDEST"))
    if "logpush" in body:
        s.logpush = _bool("logpush", body["logpush"])
    if "logpush_public_key" in body:
        key = body["logpush_public_key"]
        if key is not None and not isinstance(key, str):
            raise mgmt_invalid("logpush_public_key: expected a string or null")
        s.logpush_public_key = key
    if "retry_backoff" in body:
        s.retry_backoff = _choice("retry_backoff", body["retry_backoff"], ("constant", "linear", "exponential"))
    if "retry_delay" in body:
        s.retry_delay = _int("retry_delay", body["retry_delay"], 0, 60_000)
    if "retry_max_attempts" in body:
        s.retry_max_attempts = _int("retry_max_attempts", body["retry_max_attempts"], 1, 5)
    for name in PASSTHROUGH:
        if name in body:
            s.extra[name] = body[name]
