"""How a LangChain component gets its cf_core clients.

Every component (chat model, embeddings, vector store, tools, cache) mixes in
:class:`CloudflareClientMixin`. It holds the connection settings as pydantic fields, accepts
ready-made core clients (``client=`` / ``async_client=``, e.g. the local emulator's), and builds the
clients lazily, once per instance, so missing credentials are reported at the first request, not at
construction (LangChain rebuilds models without keys in several places).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    model_validator,
)

from cf_core import AsyncCloudflareClient, CloudflareClient, Gateway
from cf_core.config import ACCOUNT_ENV, BASE_URL_ENV, GATEWAY_ID_ENV, TOKEN_ENV

__all__ = ["CloudflareClientMixin"]


def _from_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value and value.strip():
            return value.strip()
    return None


class CloudflareClientMixin(BaseModel):
    """Connection settings and lazily built, cached core clients.

    Environment variables (``CLOUDFLARE_ACCOUNT_ID``, ``CLOUDFLARE_API_TOKEN`` and the ``CF_*``
    aliases the core reads) fill ``account_id`` / ``api_token`` when they are not passed. The
    token is a :class:`~pydantic.SecretStr` and never appears in repr, str or serialised forms.
    """

    # hide_input_in_errors (inherited by every component): a validation error must not echo a token
    # given under a wrong name (``cloudflare_api_token=...`` is refused as an unknown field).
    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, hide_input_in_errors=True)

    account_id: str | None = None
    """Cloudflare account id (env ``CLOUDFLARE_ACCOUNT_ID`` / ``CF_ACCOUNT_ID``)."""
    api_token: SecretStr | None = Field(
        default=None, repr=False, validation_alias=AliasChoices("api_token", "api_key"))
    """API token (alias ``api_key``; env ``CLOUDFLARE_API_TOKEN`` / ``CF_API_TOKEN`` / ``CF_AI_API_TOKEN``)."""
    base_url: str | None = None
    """API base URL, e.g. ``https://api.cloudflare.com/client/v4`` (env ``CLOUDFLARE_BASE_URL``)."""
    ai_gateway: str | Gateway | None = None
    """Route calls through this AI Gateway: a gateway id or a :class:`cf_core.Gateway` with options
    (env ``CLOUDFLARE_AI_GATEWAY_ID``)."""
    timeout: float | None = None
    """Seconds per request (``None``: the core default)."""
    max_retries: int | None = None
    """Retries for 408/409/429/5xx and connection errors (``None``: the core default)."""
    client: CloudflareClient | None = Field(default=None, exclude=True, repr=False)
    """A ready sync core client (e.g. ``cf_core.local.local_client()``); built from the fields if unset."""
    async_client: AsyncCloudflareClient | None = Field(default=None, exclude=True, repr=False)
    """A ready async core client; built from the fields (or from ``client``'s config) if unset."""

    _built_sync: CloudflareClient | None = PrivateAttr(default=None)
    _built_async: AsyncCloudflareClient | None = PrivateAttr(default=None)
    _client_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @model_validator(mode="before")
    @classmethod
    def _fill_from_env(cls, data: Any) -> Any:
        # Read the environment at construction so the attributes show what will be used; nothing
        # is *required* here: the core raises a clear ConfigurationError at the first request.
        if not isinstance(data, Mapping):
            return data
        values = dict(data)
        if values.get("account_id") is None:
            values["account_id"] = _from_env(ACCOUNT_ENV)
        if values.get("api_token") is None and values.get("api_key") is None:
            token = _from_env(TOKEN_ENV)
            if token is not None:
                values["api_token"] = token
        if values.get("base_url") is None:
            values["base_url"] = _from_env(BASE_URL_ENV)
        if values.get("ai_gateway") is None:
            values["ai_gateway"] = _from_env(GATEWAY_ID_ENV)
        return values

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        # Copies share the core clients (connection pools are not copyable, nor worth copying).
        memo = {} if memo is None else memo
        for shared in (self.client, self.async_client, self._built_sync, self._built_async):
            if shared is not None:
                memo.setdefault(id(shared), shared)
        memo.setdefault(id(self._client_lock), threading.Lock())
        return super().__deepcopy__(memo)

    def _gateway(self) -> Gateway | None:
        """This component's gateway (``None``: whatever the core client's default is)."""
        return Gateway.coerce(self.ai_gateway) if self.ai_gateway is not None else None

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "api_token": self.api_token.get_secret_value() if self.api_token is not None else None,
            "base_url": self.base_url,
            "gateway": self._gateway(),
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }

    def _sync_client(self) -> CloudflareClient:
        """The injected sync client, or one built once from this component's settings."""
        if self.client is not None:
            return self.client
        built = self._built_sync
        if built is not None:  # no lock once built: this runs on every call
            return built
        with self._client_lock:
            if self._built_sync is None:
                if self.async_client is not None:
                    # The twin of the async client the user gave (same settings, shared transport).
                    self._built_sync = self.async_client.to_sync()
                else:
                    self._built_sync = CloudflareClient(**self._client_kwargs())
            return self._built_sync

    def _async_client(self) -> AsyncCloudflareClient:
        """The injected async client, or one built once from this component's settings."""
        if self.async_client is not None:
            return self.async_client
        built = self._built_async
        if built is not None:
            return built
        with self._client_lock:
            if self._built_async is None:
                if self.client is not None:
                    self._built_async = self.client.to_async()
                else:
                    self._built_async = AsyncCloudflareClient(**self._client_kwargs())
            return self._built_async
