"""The core clients: one pooled connection set, config, default gateway, and the product resources."""

from __future__ import annotations

from types import TracebackType
from typing import Any, TypeVar

import httpx

from .config import CloudflareConfig
from .gateway import Gateway
from .http import AsyncTransport, Runnable, StreamCall, SyncTransport
from .http.retry import RetryPolicy

T = TypeVar("T")


def _resolve(config: CloudflareConfig | None, gateway: Gateway | str | None,
             overrides: dict[str, Any]) -> tuple[CloudflareConfig, Gateway | None]:
    if config is None:
        config = CloudflareConfig.resolve(**overrides)
    elif any(v is not None for v in overrides.values()):
        config = config.model_copy(update={k: v for k, v in CloudflareConfig.resolve(
            **overrides, environ={}).model_dump().items() if overrides.get(k) is not None})
    gw = Gateway.coerce(gateway) if gateway is not None else (
        Gateway(id=config.gateway_id) if config.gateway_id else None)
    return config, gw


class _ClientBase:
    config: CloudflareConfig
    gateway: Gateway | None

    def __repr__(self) -> str:
        gw = f", gateway={self.gateway.id!r}" if self.gateway else ""
        return (f"{type(self).__name__}(account_id={self.config.account_id!r}, "
                f"base_url={self.config.base_url!r}{gw})")


class CloudflareClient(_ClientBase):
    """Synchronous client for Workers AI, Vectorize, Workers KV and AI Gateway.

    Arguments override environment variables (``CLOUDFLARE_ACCOUNT_ID``, ``CLOUDFLARE_API_TOKEN``,
    ``CLOUDFLARE_BASE_URL``, ...). Credentials are checked at the first request. Pass ``transport``
    (any ``httpx.BaseTransport``, e.g. the local emulator's) or a ready ``http_client``.
    """

    def __init__(self, *, account_id: str | None = None, api_token: str | None = None,
                 vectorize_api_token: str | None = None, base_url: str | None = None,
                 gateway_base_url: str | None = None, gateway: Gateway | str | None = None,
                 timeout: float | None = None, max_retries: int | None = None,
                 http_client: httpx.Client | None = None, transport: httpx.BaseTransport | None = None,
                 config: CloudflareConfig | None = None, retry_policy: RetryPolicy | None = None) -> None:
        from .ai_gateway import AIGatewayAPI
        from .kv import KV
        from .vectorize import Vectorize
        from .workers_ai import WorkersAI

        self.config, self.gateway = _resolve(config, gateway, dict(
            account_id=account_id, api_token=api_token, vectorize_api_token=vectorize_api_token,
            base_url=base_url, gateway_base_url=gateway_base_url, timeout=timeout, max_retries=max_retries))
        self.transport = SyncTransport(self.config, http_client=http_client, transport=transport,
                                       gateway=self.gateway, policy=retry_policy)
        self._transport_arg = transport
        self._retry_policy = retry_policy
        self.workers_ai = WorkersAI(self.transport)
        self.vectorize = Vectorize(self.transport)
        self.kv = KV(self.transport)
        self.ai_gateway = AIGatewayAPI(self.transport)

    def to_async(self) -> AsyncCloudflareClient:
        """An async client with the same configuration, gateway and retry policy. A transport given to
        this client is shared when it also serves async clients (as the emulator's does)."""
        shared = self._transport_arg if isinstance(self._transport_arg, httpx.AsyncBaseTransport) else None
        return AsyncCloudflareClient(config=self.config, gateway=self.gateway, transport=shared,
                                     retry_policy=self._retry_policy)

    def run(self, op: Runnable[T]) -> T:
        """Send any operation built with cf_core's builders."""
        return self.transport.run(op)

    def stream(self, call: StreamCall[T]) -> Any:
        return self.transport.stream(call)

    @property
    def stats(self) -> dict[str, Any]:
        """Requests sent, retries and their reasons, errors seen."""
        return self.transport.stats.snapshot()

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> CloudflareClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class AsyncCloudflareClient(_ClientBase):
    """Asynchronous twin of :class:`CloudflareClient` (same arguments, awaitable methods)."""

    def __init__(self, *, account_id: str | None = None, api_token: str | None = None,
                 vectorize_api_token: str | None = None, base_url: str | None = None,
                 gateway_base_url: str | None = None, gateway: Gateway | str | None = None,
                 timeout: float | None = None, max_retries: int | None = None,
                 http_client: httpx.AsyncClient | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 config: CloudflareConfig | None = None, retry_policy: RetryPolicy | None = None) -> None:
        from .ai_gateway import AsyncAIGatewayAPI
        from .kv import AsyncKV
        from .vectorize import AsyncVectorize
        from .workers_ai import AsyncWorkersAI

        self.config, self.gateway = _resolve(config, gateway, dict(
            account_id=account_id, api_token=api_token, vectorize_api_token=vectorize_api_token,
            base_url=base_url, gateway_base_url=gateway_base_url, timeout=timeout, max_retries=max_retries))
        self.transport = AsyncTransport(self.config, http_client=http_client, transport=transport,
                                        gateway=self.gateway, policy=retry_policy)
        self._transport_arg = transport
        self._retry_policy = retry_policy
        self.workers_ai = AsyncWorkersAI(self.transport)
        self.vectorize = AsyncVectorize(self.transport)
        self.kv = AsyncKV(self.transport)
        self.ai_gateway = AsyncAIGatewayAPI(self.transport)

    def to_sync(self) -> CloudflareClient:
        """A sync client with the same configuration, gateway and retry policy (the transport is shared
        when it also serves sync clients)."""
        shared = self._transport_arg if isinstance(self._transport_arg, httpx.BaseTransport) else None
        return CloudflareClient(config=self.config, gateway=self.gateway, transport=shared,
                                retry_policy=self._retry_policy)

    async def run(self, op: Runnable[T]) -> T:
        return await self.transport.run(op)

    def stream(self, call: StreamCall[T]) -> Any:
        return self.transport.stream(call)

    @property
    def stats(self) -> dict[str, Any]:
        return self.transport.stats.snapshot()

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def __aenter__(self) -> AsyncCloudflareClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
