"""AI Gateway values: log entries, universal-endpoint steps and results."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ..errors import InvalidInputError
from ..gateway import MAX_ATTEMPTS, MAX_RETRY_DELAY_MS, GatewayInfo

SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "cf-aig-authorization", "x-goog-api-key"})
"""Step headers treated as secrets wherever they are given."""


class GatewayLog(BaseModel):
    """One gateway log entry (list view; the single-log view adds sizes and body heads)."""

    model_config = ConfigDict(frozen=True)

    id: str
    created_at: datetime | None = None
    provider: str | None = None
    model: str | None = None
    model_type: str | None = None
    path: str | None = None
    duration: float | None = None
    """Milliseconds."""
    success: bool | None = None
    cached: bool | None = None
    status_code: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    custom_cost: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Parsed from the JSON string the list view carries."""
    request_type: str | None = None
    request_content_type: str | None = None
    response_content_type: str | None = None
    step: int | None = None
    event_id: str | None = None
    feedback: int | None = None
    score: float | None = None
    request_size: int | None = None
    response_size: int | None = None
    request_head: str | None = None
    response_head: str | None = None
    request_head_complete: bool | None = None
    response_head_complete: bool | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> dict[str, Any]:
        if value is None or value == "":
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return {"_raw": value}
        return dict(value) if isinstance(value, Mapping) else {"_raw": value}

    @classmethod
    def from_wire(cls, raw: Mapping[str, Any]) -> GatewayLog:
        known = {k: v for k, v in raw.items() if k in cls.model_fields and k != "raw"}
        return cls(**known, raw=dict(raw))


class StepConfig(BaseModel):
    """A universal step's retry and timeout settings (the step's ``config`` object)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    request_timeout_ms: int | None = Field(default=None, alias="requestTimeout", ge=1)
    max_attempts: int | None = Field(default=None, alias="maxAttempts", ge=1, le=MAX_ATTEMPTS)
    retry_delay_ms: int | None = Field(default=None, alias="retryDelay", ge=0, le=MAX_RETRY_DELAY_MS)
    backoff: Literal["constant", "linear", "exponential"] | None = None

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


def _config(config: StepConfig | Mapping[str, Any] | None) -> StepConfig | None:
    if config is None or isinstance(config, StepConfig):
        return config
    try:
        return StepConfig.model_validate(dict(config))
    except ValueError as exc:
        raise InvalidInputError(f"invalid universal step config: {exc}", field="config",
                                limit={"max_attempts": MAX_ATTEMPTS, "retry_delay_ms": MAX_RETRY_DELAY_MS}) from None


class FallbackStep(BaseModel):
    """One step of a universal-endpoint chain: a provider request tried in order until one succeeds.

    Credentials go in ``secret_headers`` (SecretStr, never shown); an ``Authorization``/``x-api-key``
    given in ``headers`` is moved there. A ``workers-ai`` step without a token gets the one passed to
    ``universal(workers_ai_token=...)``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    provider: str
    endpoint: str
    query: Any = None
    """The body sent to the provider (JSON)."""
    headers: dict[str, str] = Field(default_factory=dict)
    secret_headers: dict[str, SecretStr] = Field(default_factory=dict, repr=False)
    config: StepConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_secrets(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        headers = dict(data.get("headers") or {})
        secrets = dict(data.get("secret_headers") or {})
        for name in [n for n in headers if str(n).lower() in SECRET_HEADERS]:
            secrets[name] = headers.pop(name)
        data["headers"], data["secret_headers"] = headers, secrets
        if data.get("config") is not None and not isinstance(data["config"], StepConfig):
            data["config"] = _config(data["config"])
        return data

    @field_validator("provider", "endpoint")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip("/ "):
            raise ValueError("must be a non-empty string")
        return value

    @classmethod
    def workers_ai(cls, model: str, inputs: Mapping[str, Any], *, api_token: str | SecretStr | None = None,
                   config: StepConfig | Mapping[str, Any] | None = None) -> FallbackStep:
        """A Workers AI step: ``model`` (e.g. ``@cf/meta/llama-3.1-8b-instruct``) run with ``inputs``.

        ``api_token=None`` leaves the token to ``universal(workers_ai_token=...)``.
        """
        secrets = {} if api_token is None else {"Authorization": _bearer(api_token)}
        return cls(provider="workers-ai", endpoint=model, query=dict(inputs), secret_headers=secrets,
                   headers={"Content-Type": "application/json"}, config=_config(config))

    @classmethod
    def openai(cls, model: str, messages: list[dict[str, Any]], *, api_key: str | SecretStr,
               config: StepConfig | Mapping[str, Any] | None = None,
               extra: Mapping[str, Any] | None = None) -> FallbackStep:
        """An OpenAI Chat Completions step; ``extra`` adds body fields (temperature, max_tokens...)."""
        body: dict[str, Any] = {"model": model, "messages": list(messages), **dict(extra or {})}
        return cls(provider="openai", endpoint="chat/completions", query=body,
                   headers={"Content-Type": "application/json"},
                   secret_headers={"Authorization": _bearer(api_key)}, config=_config(config))

    def __getstate__(self) -> dict[Any, Any]:
        # Pickles (caches, multiprocessing) must not carry the provider keys: re-supply them after loading.
        state = super().__getstate__()
        return {**state, "__dict__": {**state["__dict__"], "secret_headers": {}}}

    def has_credentials(self) -> bool:
        return any(name.lower() in ("authorization", "x-api-key", "api-key") for name in self.secret_headers)

    def to_wire(self, *, default_token: SecretStr | None = None) -> dict[str, Any]:
        """The step as the gateway wants it, secrets included (only ever used as the request body)."""
        headers = dict(self.headers)
        headers.update({k: v.get_secret_value() for k, v in self.secret_headers.items()})
        if self.provider == "workers-ai" and not self.has_credentials() and default_token is not None:
            headers["Authorization"] = _bearer(default_token).get_secret_value()
        out: dict[str, Any] = {"provider": self.provider, "endpoint": self.endpoint, "headers": headers}
        if self.query is not None:
            out["query"] = self.query
        if self.config is not None:
            out["config"] = self.config.to_wire()
        return out


def _bearer(token: str | SecretStr) -> SecretStr:
    value = token.get_secret_value() if isinstance(token, SecretStr) else token
    if not value:
        raise InvalidInputError("an API token/key must be a non-empty string", field="api_token")
    return SecretStr(value if value.lower().startswith("bearer ") else f"Bearer {value}")


class UniversalResult(BaseModel):
    """The answer of the first universal step that succeeded, and which step that was."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    step: int | None
    """0-based index of the step that answered (``cf-aig-step``)."""
    status: int
    body: Any
    """Parsed JSON, or text, or bytes, as the provider answered (not unwrapped)."""
    headers: dict[str, str]
    gateway: GatewayInfo
