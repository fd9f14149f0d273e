"""Configuration: arguments first, then environment variables; tokens are secret values."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .errors import ConfigurationError

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_GATEWAY_BASE_URL = "https://gateway.ai.cloudflare.com/v1"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 3

ACCOUNT_ENV = ("CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID")
TOKEN_ENV = ("CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "CF_AI_API_TOKEN")
VECTORIZE_TOKEN_ENV = ("CF_VECTORIZE_API_TOKEN",)
BASE_URL_ENV = ("CLOUDFLARE_BASE_URL",)
GATEWAY_BASE_URL_ENV = ("CLOUDFLARE_AI_GATEWAY_BASE_URL",)
GATEWAY_ID_ENV = ("CLOUDFLARE_AI_GATEWAY_ID", "CF_AI_GATEWAY")
TIMEOUT_ENV = ("CLOUDFLARE_TIMEOUT",)
MAX_RETRIES_ENV = ("CLOUDFLARE_MAX_RETRIES",)

MISSING_CREDENTIALS = (
    "Cloudflare credentials are missing: {missing}. Set CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN "
    "(CF_ACCOUNT_ID / CF_API_TOKEN / CF_AI_API_TOKEN are read too), or pass account_id= and api_token=. "
    "To work offline without an account, use the local emulator: `cf_core.local.local_client()` in "
    "process, or run `python -m cf_core.local serve` and set "
    "CLOUDFLARE_BASE_URL=http://127.0.0.1:8787/client/v4 (any account id and token are accepted)."
)


def _env(names: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    for name in names:
        value = environ.get(name)
        if value:
            return value.strip()
    return None


class CloudflareConfig(BaseModel):
    """Where and how to reach Cloudflare. Immutable; build with :meth:`resolve`."""

    # hide_input_in_errors: a validation error must not echo a token given under a wrong name.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    account_id: str | None = None
    api_token: SecretStr | None = Field(default=None, repr=False)
    vectorize_api_token: SecretStr | None = Field(default=None, repr=False)
    """A separate token for Vectorize; falls back to ``api_token``."""
    base_url: str = DEFAULT_BASE_URL
    gateway_base_url: str = DEFAULT_GATEWAY_BASE_URL
    gateway_id: str | None = None
    """Default AI Gateway for Workers AI calls (``None``: call Workers AI directly)."""
    timeout: float = DEFAULT_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES

    def __getstate__(self) -> dict[Any, Any]:
        # Pickles (caches, multiprocessing) must not carry the tokens; re-supply them after loading.
        return _without_secrets(super().__getstate__(), ("api_token", "vectorize_api_token"))

    @field_validator("base_url", "gateway_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("timeout")
    @classmethod
    def _positive_timeout(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("timeout must be positive (seconds)")
        return value

    @field_validator("max_retries")
    @classmethod
    def _retries(cls, value: int) -> int:
        if not 0 <= value <= 20:
            raise ValueError("max_retries must be between 0 and 20")
        return value

    @classmethod
    def resolve(cls, *, account_id: str | None = None, api_token: str | SecretStr | None = None,
                vectorize_api_token: str | SecretStr | None = None, base_url: str | None = None,
                gateway_base_url: str | None = None, gateway_id: str | None = None,
                timeout: float | None = None, max_retries: int | None = None,
                environ: Mapping[str, str] | None = None) -> CloudflareConfig:
        """Arguments win; anything not given is read from the environment, then defaults."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "account_id": account_id or _env(ACCOUNT_ENV, env),
            "api_token": _secret(api_token) or _secret(_env(TOKEN_ENV, env)),
            "vectorize_api_token": _secret(vectorize_api_token) or _secret(_env(VECTORIZE_TOKEN_ENV, env)),
            "base_url": base_url or _env(BASE_URL_ENV, env) or DEFAULT_BASE_URL,
            "gateway_base_url": gateway_base_url or _env(GATEWAY_BASE_URL_ENV, env) or DEFAULT_GATEWAY_BASE_URL,
            "gateway_id": gateway_id or _env(GATEWAY_ID_ENV, env),
        }
        if timeout is None:
            timeout = _env_number(TIMEOUT_ENV, env, float, DEFAULT_TIMEOUT_S)
        if max_retries is None:
            max_retries = _env_number(MAX_RETRIES_ENV, env, int, DEFAULT_MAX_RETRIES)
        values["timeout"], values["max_retries"] = timeout, max_retries
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigurationError(f"invalid Cloudflare configuration: {problems}") from None

    def require_credentials(self) -> tuple[str, SecretStr]:
        """The account id and token, or one clear :class:`ConfigurationError` naming what is missing."""
        missing = []
        if not self.account_id:
            missing.append("account id (CLOUDFLARE_ACCOUNT_ID)")
        if self.api_token is None or not self.api_token.get_secret_value():
            missing.append("API token (CLOUDFLARE_API_TOKEN)")
        if missing:
            raise ConfigurationError(MISSING_CREDENTIALS.format(missing=" and ".join(missing)))
        assert self.account_id is not None and self.api_token is not None
        return self.account_id, self.api_token

    def token_for(self, product: str) -> SecretStr:
        _, token = self.require_credentials()
        if product == "vectorize" and self.vectorize_api_token is not None:
            return self.vectorize_api_token
        return token

    @property
    def has_credentials(self) -> bool:
        return bool(self.account_id and self.api_token and self.api_token.get_secret_value())


def _env_number(names: tuple[str, ...], environ: Mapping[str, str], kind: type[float] | type[int],
                default: float) -> Any:
    raw = _env(names, environ)
    if raw is None:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigurationError(f"{names[0]} must be a number, got {raw!r}") from None


def _without_secrets(state: dict[Any, Any], names: tuple[str, ...]) -> dict[Any, Any]:
    values = dict(state["__dict__"])
    for name in names:
        values[name] = None
    return {**state, "__dict__": values}


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value if value.get_secret_value() else None
    return SecretStr(value) if value else None
