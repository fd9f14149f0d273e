"""AI Gateway routing: a :class:`Gateway` value any Workers AI call can carry, and what it reports back."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .errors import InvalidInputError

MAX_METADATA_ENTRIES = 5
MAX_ATTEMPTS = 5
MAX_RETRY_DELAY_MS = 5000
MIN_CACHE_TTL_S = 60
MAX_CACHE_TTL_S = 30 * 24 * 3600


class Gateway(BaseModel):
    """Route calls through an AI Gateway and set its per-request options (the ``cf-aig-*`` headers)."""

    # hide_input_in_errors: a validation error must not echo a token given under a wrong name.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    id: str
    auth_token: SecretStr | None = Field(default=None, repr=False)
    """For an authenticated gateway: sent as ``cf-aig-authorization``."""
    cache_ttl: int | None = None
    skip_cache: bool | None = None
    cache_key: str | None = None
    metadata: dict[str, str | int | float | bool] | None = None
    collect_log: bool | None = None
    request_timeout_ms: int | None = None
    max_attempts: int | None = None
    retry_delay_ms: int | None = None
    backoff: Literal["constant", "linear", "exponential"] | None = None
    event_id: str | None = None

    def __getstate__(self) -> dict[Any, Any]:
        from .config import _without_secrets

        return _without_secrets(super().__getstate__(), ("auth_token",))

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not value or len(value) > 64 or "/" in value:
            raise ValueError("gateway id must be 1-64 characters without '/'")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(value) > MAX_METADATA_ENTRIES:
            raise ValueError(f"gateway metadata takes at most {MAX_METADATA_ENTRIES} entries, got {len(value)}")
        return value

    @field_validator("cache_ttl")
    @classmethod
    def _ttl(cls, value: int | None) -> int | None:
        if value is not None and value != 0 and not MIN_CACHE_TTL_S <= value <= MAX_CACHE_TTL_S:
            raise ValueError(f"cache_ttl must be 0 or {MIN_CACHE_TTL_S}..{MAX_CACHE_TTL_S} seconds, got {value}")
        return value

    @field_validator("max_attempts")
    @classmethod
    def _attempts(cls, value: int | None) -> int | None:
        if value is not None and not 1 <= value <= MAX_ATTEMPTS:
            raise ValueError(f"max_attempts must be 1..{MAX_ATTEMPTS}, got {value}")
        return value

    @field_validator("retry_delay_ms")
    @classmethod
    def _delay(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= MAX_RETRY_DELAY_MS:
            raise ValueError(f"retry_delay_ms must be 0..{MAX_RETRY_DELAY_MS}, got {value}")
        return value

    @classmethod
    def coerce(cls, value: Gateway | str | Mapping[str, Any]) -> Gateway:
        """Accept a Gateway, a gateway id, or a mapping of its fields; bad values raise InvalidInputError."""
        if isinstance(value, Gateway):
            return value
        try:
            if isinstance(value, str):
                return cls(id=value)
            return cls(**dict(value))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'gateway'}: {e['msg']}" for e in exc.errors())
            raise InvalidInputError(f"invalid AI Gateway settings: {problems}", field="gateway") from None

    def headers(self) -> dict[str, str]:
        h: dict[str, str] = {}
        if self.auth_token is not None:
            h["cf-aig-authorization"] = f"Bearer {self.auth_token.get_secret_value()}"
        if self.cache_ttl is not None:
            h["cf-aig-cache-ttl"] = str(self.cache_ttl)
        if self.skip_cache is not None:
            h["cf-aig-skip-cache"] = _bool(self.skip_cache)
        if self.cache_key is not None:
            h["cf-aig-cache-key"] = self.cache_key
        if self.metadata:
            h["cf-aig-metadata"] = json.dumps(self.metadata, separators=(",", ":"))
        if self.collect_log is not None:
            h["cf-aig-collect-log"] = _bool(self.collect_log)
        if self.request_timeout_ms is not None:
            h["cf-aig-request-timeout"] = str(self.request_timeout_ms)
        if self.max_attempts is not None:
            h["cf-aig-max-attempts"] = str(self.max_attempts)
        if self.retry_delay_ms is not None:
            h["cf-aig-retry-delay"] = str(self.retry_delay_ms)
        if self.backoff is not None:
            h["cf-aig-backoff"] = self.backoff
        if self.event_id is not None:
            h["cf-aig-event-id"] = self.event_id
        return h


def _bool(value: bool) -> str:
    return "true" if value else "false"


class GatewayInfo(BaseModel):
    """What the gateway reported about one answer (all ``None`` when the call did not go through one)."""

    model_config = ConfigDict(frozen=True)

    cache_status: str | None = None
    step: int | None = None
    log_id: str | None = None
    model: str | None = None
    provider: str | None = None
    event_id: str | None = None

    @property
    def cache_hit(self) -> bool:
        return (self.cache_status or "").upper() == "HIT"

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> GatewayInfo | None:
        lower = {k.lower(): v for k, v in headers.items()}
        if not any(k.startswith("cf-aig-") for k in lower):
            return None
        step = lower.get("cf-aig-step")
        return cls(cache_status=lower.get("cf-aig-cache-status"),
                   step=int(step) if step and step.isdigit() else None,
                   log_id=lower.get("cf-aig-log-id"), model=lower.get("cf-aig-model"),
                   provider=lower.get("cf-aig-provider"), event_id=lower.get("cf-aig-event-id"))
