"""The ``cf-aig-*`` request headers (and universal-step ``config``), parsed and validated.

Precedence, as documented: a universal step's own ``cf-aig-*`` headers and ``config`` override the
request's headers, which override the gateway's settings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import invalid
from .settings import MAX_CACHE_TTL_S, GatewaySettings

MIN_CACHE_TTL_S = 60
CUSTOM_KEY_DEFAULT_TTL_S = 300
"""A custom cache key on a gateway without caching lives 5 minutes (documented)."""
MAX_METADATA_ENTRIES = 5
MAX_ATTEMPTS = 5
MAX_RETRY_DELAY_MS = 5000
BACKOFFS = ("constant", "linear", "exponential")

Scalar = str | int | float | bool


@dataclass
class RequestOptions:
    cache_ttl_s: int = 0
    skip_cache: bool = False
    cache_key: str | None = None
    metadata: dict[str, Scalar] = field(default_factory=dict)
    collect_log: bool = True
    collect_log_payload: bool = True
    request_timeout_ms: float | None = None
    max_attempts: int = 1
    retry_delay_ms: float = 0.0
    backoff: str = "constant"
    event_id: str | None = None
    custom_cost: dict[str, float] | None = None

    def retry_sleep_s(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        base = self.retry_delay_ms / 1000.0
        if self.backoff == "linear":
            return base * retry
        if self.backoff == "exponential":
            return base * float(2 ** (retry - 1))
        return base


def aig_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The gateway-control headers of ``headers`` (names lower-cased)."""
    out = {}
    for name, value in headers.items():
        low = name.lower()
        if low.startswith("cf-aig-") or low in ("cf-cache-ttl", "cf-skip-cache"):
            out[low] = str(value)
    return out


def _bool(name: str, text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise invalid(f"{name}: expected true or false, got {text!r}")


def _int(name: str, text: str, lo: int, hi: int | None) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise invalid(f"{name}: expected an integer, got {text!r}") from None
    if value < lo or (hi is not None and value > hi):
        limit = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise invalid(f"{name}: must be {limit}, got {value}")
    return value


def clean_metadata(raw: Any, name: str = "cf-aig-metadata") -> dict[str, Scalar]:
    """Keep the first five entries whose values are strings, numbers or booleans."""
    if not isinstance(raw, dict):
        raise invalid(f"{name}: expected a JSON object")
    out: dict[str, Scalar] = {}
    for key, value in raw.items():
        if len(out) >= MAX_METADATA_ENTRIES:
            break
        if isinstance(value, bool | str) or (isinstance(value, int | float) and math.isfinite(value)):
            out[str(key)] = value
    return out


def _json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise invalid(f"{name}: not valid JSON") from None


def _custom_cost(text: str) -> dict[str, float]:
    data = _json("cf-aig-custom-cost", text)
    per_token = {"per_token_in", "per_token_out"}
    if not isinstance(data, dict) or not data or not (set(data) == {"total_cost"} or set(data) <= per_token):
        raise invalid('cf-aig-custom-cost: expected {"per_token_in":..,"per_token_out":..} or {"total_cost":..}')
    out = {}
    for key, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise invalid(f"cf-aig-custom-cost: {key} must be a non-negative number")
        out[key] = float(value)
    return out


def parse_options(gateway: GatewaySettings, headers: Mapping[str, str],
                  config: Mapping[str, Any] | None = None) -> RequestOptions:
    """Options for one provider request. ``headers`` hold the already-merged ``cf-aig-*`` headers."""
    opts = RequestOptions(
        cache_ttl_s=gateway.cache_ttl or 0,
        collect_log=gateway.collect_logs,
        max_attempts=gateway.retry_max_attempts or 1,
        retry_delay_ms=float(gateway.retry_delay or 0),
        backoff=gateway.retry_backoff or "constant",
    )
    h = dict(headers)
    for old, new in (("cf-cache-ttl", "cf-aig-cache-ttl"), ("cf-skip-cache", "cf-aig-skip-cache")):
        if old in h and new not in h:
            h[new] = h[old]
    explicit_ttl = "cf-aig-cache-ttl" in h
    if explicit_ttl:
        ttl = _int("cf-aig-cache-ttl", h["cf-aig-cache-ttl"], 0, None)
        # Documented range 60 s .. 1 month; 0 switches caching off for this request.
        opts.cache_ttl_s = 0 if ttl == 0 else min(max(ttl, MIN_CACHE_TTL_S), MAX_CACHE_TTL_S)
    if "cf-aig-skip-cache" in h:
        opts.skip_cache = _bool("cf-aig-skip-cache", h["cf-aig-skip-cache"])
    if "cf-aig-cache-key" in h:
        key = h["cf-aig-cache-key"].strip()
        if not key or len(key) > 1024:
            raise invalid("cf-aig-cache-key: must be 1 to 1024 characters")
        opts.cache_key = key
        if not explicit_ttl and opts.cache_ttl_s == 0:
            opts.cache_ttl_s = CUSTOM_KEY_DEFAULT_TTL_S
    if "cf-aig-metadata" in h:
        opts.metadata = clean_metadata(_json("cf-aig-metadata", h["cf-aig-metadata"]))
    if "cf-aig-collect-log" in h:
        opts.collect_log = _bool("cf-aig-collect-log", h["cf-aig-collect-log"])
    if "cf-aig-collect-log-payload" in h:
        opts.collect_log_payload = _bool("cf-aig-collect-log-payload", h["cf-aig-collect-log-payload"])
    if "cf-aig-request-timeout" in h:
        opts.request_timeout_ms = _int("cf-aig-request-timeout", h["cf-aig-request-timeout"], 1, None)
    if "cf-aig-max-attempts" in h:
        opts.max_attempts = _int("cf-aig-max-attempts", h["cf-aig-max-attempts"], 1, MAX_ATTEMPTS)
    if "cf-aig-retry-delay" in h:
        opts.retry_delay_ms = _int("cf-aig-retry-delay", h["cf-aig-retry-delay"], 0, MAX_RETRY_DELAY_MS)
    if "cf-aig-backoff" in h:
        backoff = h["cf-aig-backoff"].strip().lower()
        if backoff not in BACKOFFS:
            raise invalid(f"cf-aig-backoff: must be one of {', '.join(BACKOFFS)}, got {h['cf-aig-backoff']!r}")
        opts.backoff = backoff
    if "cf-aig-event-id" in h:
        event = h["cf-aig-event-id"].strip()
        if len(event) > 256:
            raise invalid("cf-aig-event-id: at most 256 characters")
        opts.event_id = event or None
    if "cf-aig-custom-cost" in h:
        opts.custom_cost = _custom_cost(h["cf-aig-custom-cost"])
    if config:
        _apply_step_config(opts, config)
    return opts


def _config_number(key: str, value: Any, lo: float, hi: float | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(f"config.{key}: expected a number")
    if value < lo or (hi is not None and value > hi):
        limit = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        raise invalid(f"config.{key}: must be {limit}, got {value}")
    return float(value)


def _apply_step_config(opts: RequestOptions, config: Mapping[str, Any]) -> None:
    for key, value in config.items():
        if key == "requestTimeout":
            opts.request_timeout_ms = _config_number(key, value, 1, None)
        elif key == "maxAttempts":
            number = _config_number(key, value, 1, MAX_ATTEMPTS)
            if not number.is_integer():
                raise invalid("config.maxAttempts: expected an integer")
            opts.max_attempts = int(number)
        elif key == "retryDelay":
            opts.retry_delay_ms = _config_number(key, value, 0, MAX_RETRY_DELAY_MS)
        elif key == "backoff":
            if value not in BACKOFFS:
                raise invalid(f"config.backoff: must be one of {', '.join(BACKOFFS)}, got {value!r}")
            opts.backoff = str(value)
        else:
            raise invalid(f"config.{key}: unknown setting (known: requestTimeout, maxAttempts, retryDelay, backoff)")
