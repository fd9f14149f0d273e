"""AI Gateway: gateway management, logs, and the universal (fallback) endpoint.

Routing ordinary calls through a gateway is :class:`cf_core.gateway.Gateway`'s job; this package
is the gateway's own API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr

from .._facade import AsyncResource, SyncResource, async_call, sync_call
from ..config import CloudflareConfig
from ..http import GatewayArg
from . import logs, management
from .types import FallbackStep, GatewayLog, StepConfig, UniversalResult
from .universal import universal as _universal


def _default_token(config: CloudflareConfig, given: str | SecretStr | None) -> str | SecretStr | None:
    """The caller's token, else the client's own ``ai`` token (None when the client has none: the
    builder then refuses a tokenless workers-ai step, and the transport names the missing credentials)."""
    if given is not None or not config.has_credentials:
        return given
    return config.token_for("ai")


_TOKEN_NOTE = """
    On a client, a ``workers-ai`` step without its own token (and no ``workers_ai_token``) is sent
    with the client's Cloudflare token.
    """


class AIGatewayAPI(SyncResource):
    """AI Gateway operations, sent synchronously."""

    create_gateway = sync_call(management.create_gateway)
    get_gateway = sync_call(management.get_gateway)
    list_gateways = sync_call(management.list_gateways)
    update_gateway = sync_call(management.update_gateway)
    delete_gateway = sync_call(management.delete_gateway)
    list_logs = sync_call(logs.list_logs)
    get_log = sync_call(logs.get_log)

    def universal(self, steps: Sequence[FallbackStep | Mapping[str, Any]], *, gateway: GatewayArg = None,
                  workers_ai_token: str | SecretStr | None = None, timeout: float | None = None) -> UniversalResult:
        return self._transport.run(_universal(steps, gateway=gateway, timeout=timeout,
                                              workers_ai_token=_default_token(self._transport.config,
                                                                              workers_ai_token)))

    universal.__doc__ = (_universal.__doc__ or "") + _TOKEN_NOTE


class AsyncAIGatewayAPI(AsyncResource):
    """AI Gateway operations, awaited."""

    create_gateway = async_call(management.create_gateway)
    get_gateway = async_call(management.get_gateway)
    list_gateways = async_call(management.list_gateways)
    update_gateway = async_call(management.update_gateway)
    delete_gateway = async_call(management.delete_gateway)
    list_logs = async_call(logs.list_logs)
    get_log = async_call(logs.get_log)

    async def universal(self, steps: Sequence[FallbackStep | Mapping[str, Any]], *, gateway: GatewayArg = None,
                        workers_ai_token: str | SecretStr | None = None,
                        timeout: float | None = None) -> UniversalResult:
        return await self._transport.run(_universal(steps, gateway=gateway, timeout=timeout,
                                                    workers_ai_token=_default_token(self._transport.config,
                                                                                    workers_ai_token)))

    universal.__doc__ = (_universal.__doc__ or "") + _TOKEN_NOTE


__all__ = ["AIGatewayAPI", "AsyncAIGatewayAPI", "FallbackStep", "GatewayLog", "StepConfig", "UniversalResult"]
