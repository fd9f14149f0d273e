"""AI Gateway: gateway management, logs, and the universal (fallback) endpoint.

Routing ordinary calls through a gateway is :class:`cf_core.gateway.Gateway`'s job; this package
is the gateway's own API.
"""

from __future__ import annotations

from .._facade import AsyncResource, SyncResource, async_call, sync_call
from . import logs, management, universal
from .types import FallbackStep, GatewayLog, StepConfig, UniversalResult


class AIGatewayAPI(SyncResource):
    """AI Gateway operations, sent synchronously."""

    create_gateway = sync_call(management.create_gateway)
    get_gateway = sync_call(management.get_gateway)
    list_gateways = sync_call(management.list_gateways)
    update_gateway = sync_call(management.update_gateway)
    delete_gateway = sync_call(management.delete_gateway)
    list_logs = sync_call(logs.list_logs)
    get_log = sync_call(logs.get_log)
    universal = sync_call(universal.universal)


class AsyncAIGatewayAPI(AsyncResource):
    """AI Gateway operations, awaited."""

    create_gateway = async_call(management.create_gateway)
    get_gateway = async_call(management.get_gateway)
    list_gateways = async_call(management.list_gateways)
    update_gateway = async_call(management.update_gateway)
    delete_gateway = async_call(management.delete_gateway)
    list_logs = async_call(logs.list_logs)
    get_log = async_call(logs.get_log)
    universal = async_call(universal.universal)


__all__ = ["AIGatewayAPI", "AsyncAIGatewayAPI", "FallbackStep", "GatewayLog", "StepConfig", "UniversalResult"]
