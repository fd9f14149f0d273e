"""Connection settings shared by every LlamaIndex class here, and the lazily built core clients.

The settings are pydantic fields (so they show in ``to_dict``); the token is a ``SecretStr`` that is
excluded from every serialised form. Core clients are private attributes: injected ones are used
as given, otherwise one of each kind is built on first use, so missing credentials surface at the
first request rather than at construction (the emulator and tests need no account).
"""

from __future__ import annotations

import threading
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_serializer,
    field_validator,
)

from cf_core import AsyncCloudflareClient, CloudflareClient, Gateway
from cf_core.gateway import GatewayInfo
from cf_core.usage import UsageTracker
from cf_core.workers_ai import Usage

from .usage import record

_UNPICKLED = frozenset({"_client", "_async_client", "_client_lock", "_semaphores"})


class CloudflareConnection(BaseModel):
    """Where to reach Cloudflare: credentials, base URL, default AI Gateway, timeout and retries.

    Any value left ``None`` comes from the environment (``CLOUDFLARE_ACCOUNT_ID``,
    ``CLOUDFLARE_API_TOKEN``, ``CLOUDFLARE_BASE_URL``...) when the client is built. Pass ``client=`` /
    ``async_client=`` to share ready core clients (for example ``cf_core.local.local_client()``).
    """

    # hide_input_in_errors: a validation error must not echo a token given under a wrong name.
    model_config = ConfigDict(arbitrary_types_allowed=True, validate_assignment=False, hide_input_in_errors=True)

    account_id: str | None = Field(default=None, description="Cloudflare account id.")
    api_token: SecretStr | None = Field(
        default=None, exclude=True, repr=False, description="API token (never serialised).")
    base_url: str | None = Field(default=None, description="API base URL (e.g. the emulator's).")
    ai_gateway: Gateway | str | None = Field(
        default=None, description="AI Gateway id, or a cf_core.Gateway with per-request options.")
    timeout: float | None = Field(default=None, gt=0, description="Request timeout in seconds.")
    max_retries: int | None = Field(default=None, ge=0, le=20, description="Retries on 429/5xx.")
    usage_tracker: UsageTracker | None = Field(
        default=None, exclude=True, description="Records tokens, neurons and cost of every call.")

    _client: CloudflareClient | None = PrivateAttr(default=None)
    _async_client: AsyncCloudflareClient | None = PrivateAttr(default=None)
    """Given or built once; the core keeps a connection pool per event loop, so LlamaIndex's sync
    paths that run coroutines on fresh loops (``asyncio_run``) can share it."""
    _client_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(self, *, client: CloudflareClient | None = None,
                 async_client: AsyncCloudflareClient | None = None, **data: Any) -> None:
        super().__init__(**data)
        self._client = client
        self._async_client = async_client

    @field_validator("ai_gateway", mode="before")
    @classmethod
    def _coerce_gateway(cls, value: Any) -> Any:
        if value is None or isinstance(value, str | Gateway):
            return value
        return Gateway.coerce(value)

    @field_serializer("ai_gateway")
    def _serialise_gateway(self, value: Gateway | str | None) -> Any:
        # The gateway's own auth token must not leak through to_dict/to_json either.
        if isinstance(value, Gateway):
            return value.model_dump(mode="json", exclude={"auth_token"}, exclude_none=True)
        return value

    def __getstate__(self) -> dict[Any, Any]:
        # Pickles (multiprocessing ingestion, caches) must not carry the token: as in cf_core, it is
        # dropped and comes from the environment (or is set again) after loading. Clients and locks
        # are not pickled either; they are built again on first use.
        private = self.__pydantic_private__ or {}
        self.__pydantic_private__ = {k: v for k, v in private.items() if k not in _UNPICKLED}
        try:
            state = super().__getstate__()
        finally:
            self.__pydantic_private__ = private
        return {**state, "__dict__": {**state["__dict__"], "api_token": None}}

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "api_token": self.api_token.get_secret_value() if self.api_token is not None else None,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }

    # The properties below run on every call: they read the private dict directly, since
    # pydantic's attribute lookup for private attributes costs more than the rest of them.

    @property
    def client(self) -> CloudflareClient:
        """The core client (built once, on first use, from these settings and the environment)."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        client: CloudflareClient | None = private.get("_client")
        if client is None:
            with self._client_lock:
                if self._client is None:
                    given = self._async_client  # same account, URL, token and gateway as the one given
                    self._client = (given.to_sync() if given is not None
                                    else CloudflareClient(**self._client_kwargs()))
                client = self._client
        return client

    @property
    def async_client(self) -> AsyncCloudflareClient:
        """The async core client: the one given, else one built on first use."""
        private: dict[str, Any] = self.__pydantic_private__  # type: ignore[assignment]
        client: AsyncCloudflareClient | None = private.get("_async_client")
        if client is None:
            with self._client_lock:
                if self._async_client is None:
                    given = self._client  # same account, URL, token and gateway as the sync client given
                    self._async_client = (given.to_async() if given is not None
                                          else AsyncCloudflareClient(**self._client_kwargs()))
                client = self._async_client
        return client

    @property
    def gateway_arg(self) -> Gateway | None:
        """The gateway to route each call through (``None``: the core client's default)."""
        if self.ai_gateway is None:
            return None
        return Gateway.coerce(self.ai_gateway)

    def record_usage(self, model: str, usage: Usage | None, gateway: GatewayInfo | None) -> None:
        """Count one call in ``usage_tracker`` and in any enclosing :func:`~cf_llamaindex.track_usage`."""
        record(model, usage, gateway, own=self.usage_tracker)
