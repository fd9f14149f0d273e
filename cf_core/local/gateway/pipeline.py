"""One provider request through a gateway: cache, upstream faults, timeout, retries and the log.

Upstream faults: every provider call meets the emulator's fault settings for its own path (see
:meth:`Upstream.fault_path`), so ``paths: "/ai/run/"`` makes Workers AI fail behind the gateway while
the gateway host itself answers. With the default scope ``"/"`` a gateway request meets two
independent fault decisions: one on the way in (the client's hop) and one for its provider call.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..faults import FaultPlan
from ..wire import DropConnection, EmuRequest, EmuResponse
from . import providers, usage
from .cache import cache_key
from .errors import REQUEST_TIMEOUT, UPSTREAM_UNREACHABLE, gateway_error
from .logs import MAX_PAYLOAD_BYTES, LogEntry, payload
from .options import RequestOptions
from .settings import GatewaySettings

if TYPE_CHECKING:
    from .state import GatewayState


@dataclass
class Call:
    account: str
    gateway: GatewaySettings
    upstream: providers.Upstream
    options: RequestOptions
    request_type: str
    step: int = 0
    authenticated: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.account, self.gateway.id


@dataclass
class Outcome:
    response: EmuResponse
    success: bool
    cached: bool
    log_id: str | None


def _retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


def _injected_error(state: GatewayState, call: Call, plan: FaultPlan) -> EmuResponse:
    up = call.upstream
    if up.provider == "workers-ai":
        fake = EmuRequest(up.method, up.fault_path(call.account), {}, {}, b"")
        return state.emulator.respond(fake, plan)
    from .openai_standin import openai_error

    status = plan.error_status or 500
    resp = openai_error(status, "Injected fault", type_="server_error" if status >= 500 else "rate_limit_error")
    if plan.retry_after_s is not None:
        resp.headers["retry-after"] = f"{plan.retry_after_s:g}"
    return resp


def _timeout(call: Call) -> EmuResponse:
    return gateway_error(408, REQUEST_TIMEOUT,
                         f"Request to {call.upstream.provider} timed out after "
                         f"{call.options.request_timeout_ms:g} ms").to_response()


def _close(resp: EmuResponse) -> None:
    closer = getattr(resp.body, "close", None)
    if callable(closer):
        closer()


def _attempt(state: GatewayState, call: Call) -> EmuResponse:
    up = call.upstream
    plan = state.emulator.faults.plan(up.fault_path(call.account))
    timeout_s = call.options.request_timeout_ms / 1000.0 if call.options.request_timeout_ms else None
    if plan.delay_s:
        if timeout_s is not None and plan.delay_s > timeout_s:
            time.sleep(timeout_s)
            return _timeout(call)
        time.sleep(plan.delay_s)
    if plan.drop:
        return gateway_error(502, UPSTREAM_UNREACHABLE,
                             f"The connection to {up.provider} was closed before a response").to_response()
    if plan.error_status is not None:
        return _injected_error(state, call, plan)
    started = time.monotonic()
    try:
        resp = providers.call(state.emulator, call.account, up, state.new_id)
    except DropConnection:
        return gateway_error(502, UPSTREAM_UNREACHABLE,
                             f"The connection to {up.provider} was closed before a response").to_response()
    if timeout_s is not None and time.monotonic() - started + plan.delay_s > timeout_s:
        _close(resp)
        return _timeout(call)
    return resp


def execute(state: GatewayState, call: Call) -> Outcome:
    up, opts = call.upstream, call.options
    cacheable = opts.cache_ttl_s > 0 and not opts.skip_cache and not up.stream_requested
    ckey = None
    if cacheable:
        ckey = cache_key(f"{call.account}/{call.gateway.id}", up.method, f"{up.provider}/{up.endpoint}",
                         up.query, up.body, up.headers, opts.cache_key)
        hit = state.cache(call.key).get(ckey)
        if hit is not None:
            resp = EmuResponse(hit.status, dict(hit.headers), hit.body)
            entry = _record(state, call, resp, 0, cached=True, tokens=(hit.extra.get("tokens_in"),
                                                                        hit.extra.get("tokens_out")))
            return Outcome(_decorate(resp, call, entry, "HIT"), True, True, entry.id if entry else None)
    started = time.monotonic()
    resp = _attempt(state, call)
    for retry in range(1, opts.max_attempts):
        if 200 <= resp.status < 300 or not _retryable(resp.status):
            break
        _close(resp)
        time.sleep(opts.retry_sleep_s(retry))
        resp = _attempt(state, call)
    duration_ms = int((time.monotonic() - started) * 1000)
    success = 200 <= resp.status < 300
    if not isinstance(resp.body, bytes | bytearray):
        entry = _record(state, call, resp, duration_ms, cached=False, tokens=(None, None))
        if entry is not None:
            resp.body = _tap(state, call, entry.id, resp.body, started)
        return Outcome(_decorate(resp, call, entry, "MISS"), success, False, entry.id if entry else None)
    body = bytes(resp.body)
    tokens = _tokens(call, body)
    entry = _record(state, call, resp, duration_ms, cached=False, tokens=tokens)
    if success and cacheable and ckey is not None:
        state.cache(call.key).put(ckey, resp.status, resp.headers, body, opts.cache_ttl_s,
                                  {"tokens_in": tokens[0], "tokens_out": tokens[1]})
    return Outcome(_decorate(resp, call, entry, "MISS"), success, False, entry.id if entry else None)


def _tokens(call: Call, body: bytes) -> tuple[int | None, int | None]:
    tin, tout = usage.tokens_from_json(body)
    if tin is None and usage.model_type(call.upstream.provider, call.upstream.model,
                                        call.upstream.endpoint) == "embedding":
        tin = usage.estimate_input_tokens(call.upstream.body)
    return tin, tout


def _decorate(resp: EmuResponse, call: Call, entry: LogEntry | None, cache_status: str) -> EmuResponse:
    resp.headers["cf-aig-cache-status"] = cache_status
    resp.headers["cf-aig-provider"] = call.upstream.provider
    if call.upstream.model:
        resp.headers["cf-aig-model"] = call.upstream.model
    if entry is not None:
        resp.headers["cf-aig-log-id"] = entry.id
    if call.options.event_id:
        resp.headers["cf-aig-event-id"] = call.options.event_id
    return resp


def _cost(call: Call, tokens_in: int | None, tokens_out: int | None, cached: bool) -> float:
    if call.options.custom_cost is not None:
        return usage.custom_cost(call.options.custom_cost, tokens_in, tokens_out)
    if cached or call.upstream.provider != "workers-ai":
        return 0.0
    return usage.workers_ai_cost(call.upstream.model, tokens_in, tokens_out)


def _record(state: GatewayState, call: Call, resp: EmuResponse, duration_ms: int, *, cached: bool,
            tokens: tuple[Any, Any]) -> LogEntry | None:
    if not call.options.collect_log:
        return None
    up, opts = call.upstream, call.options
    body = resp.body if isinstance(resp.body, bytes | bytearray) else None
    keep = opts.collect_log_payload
    entry = LogEntry(
        id=state.new_id(), seq=state.next_seq(), created_at=state.wall_clock(), provider=up.provider,
        model=up.model, path=up.endpoint, request_type=call.request_type, step=call.step,
        model_type=usage.model_type(up.provider, up.model, up.endpoint), duration=duration_ms,
        success=200 <= resp.status < 300, cached=cached, status_code=resp.status,
        tokens_in=tokens[0], tokens_out=tokens[1], cost=_cost(call, tokens[0], tokens[1], cached),
        custom_cost=opts.custom_cost is not None, metadata=dict(opts.metadata), event_id=opts.event_id,
        authentication=call.authenticated, request_content_type=up.headers.get("content-type"),
        response_content_type=resp.headers.get("content-type"), request_size=len(up.body),
        response_size=len(body) if body is not None else 0,
        request_body=payload(up.body) if keep else None,
        response_body=payload(bytes(body)) if keep and body is not None else None,
    )
    stored = state.logs(call.key).add(entry, call.gateway.log_management, call.gateway.log_management_strategy)
    return entry if stored else None


def record_rejection(state: GatewayState, call: Call, resp: EmuResponse) -> LogEntry | None:
    """Log a request the gateway answered itself (rate limited), never forwarded."""
    return _record(state, call, resp, 0, cached=False, tokens=(None, None))


def _tap(state: GatewayState, call: Call, log_id: str, chunks: Iterator[bytes], started: float) -> Iterator[bytes]:
    """Pass a stream through; when it ends, complete its log entry (tokens, size, duration)."""
    seen: list[bytes] = []
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size <= MAX_PAYLOAD_BYTES:
                seen.append(chunk)
            yield chunk
    finally:
        tokens_in, tokens_out = usage.tokens_from_sse(seen)
        cost = _cost(call, tokens_in, tokens_out, cached=False)
        keep = call.options.collect_log_payload
        duration = int((time.monotonic() - started) * 1000)

        def complete(entry: LogEntry) -> None:
            entry.tokens_in, entry.tokens_out, entry.cost = tokens_in, tokens_out, cost
            entry.response_size, entry.duration = size, duration
            entry.response_body = b"".join(seen) if keep else None

        state.logs(call.key).update(log_id, complete)
