"""The only I/O in cf_core: a sync and an async transport that send :class:`Call`, :class:`StreamCall`
and effect generators. Everything that is not I/O (URLs, headers, auth, retry decisions, statistics,
driving generators) lives in :class:`TransportBase` and is shared.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import time
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from ..config import CloudflareConfig
from ..errors import APIError, CloudflareError, InvalidInputError, StreamError, error_from_response
from ..gateway import Gateway
from .effects import Gather, Op, Pace, Runnable, Sleep
from .pacing import RequestPacer
from .request import DIRECT, ApiRequest, Call, RawResponse, StreamCall, StreamParser
from .retry import RetryPolicy, connection_error
from .sse import SSEDecoder

log = logging.getLogger("cf_core.http")
T = TypeVar("T")
USER_AGENT = "cf-ai-integrations/0.1 (python)"


@dataclass
class TransportStats:
    """Counters a caller can read to see what the client did (requests, retries and why)."""

    requests: int = 0
    retries: int = 0
    retry_reasons: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note_request(self) -> None:
        with self._lock:
            self.requests += 1

    def note_retry(self, reason: str) -> None:
        with self._lock:
            self.retries += 1
            self.retry_reasons[reason] += 1

    def note_error(self, error: BaseException) -> None:
        with self._lock:
            self.errors[type(error).__name__] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": self.requests, "retries": self.retries,
                    "retry_reasons": dict(self.retry_reasons), "errors": dict(self.errors)}


@dataclass(frozen=True)
class _Prepared:
    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, Any] | None
    content: bytes | None
    timeout: httpx.Timeout


def _reason(error: BaseException) -> str:
    if isinstance(error, APIError) and error.status is not None:
        return f"HTTP {error.status}" + (f" code {error.code}" if error.code else "")
    return type(error).__name__


def _encode_json(value: Any) -> bytes:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except ValueError as exc:  # NaN / infinity have no JSON form
        raise InvalidInputError(f"request body is not valid JSON: {exc}", field="body") from None


class TransportBase:
    """Everything about sending except the sending."""

    def __init__(self, config: CloudflareConfig, *, gateway: Gateway | None = None,
                 policy: RetryPolicy | None = None, seed: int | None = None) -> None:
        self.config = config
        self.gateway = gateway
        self.policy = policy or RetryPolicy(max_retries=config.max_retries)
        self.stats = TransportStats()
        self._rng = random.Random(seed)
        self._pacers: dict[str, RequestPacer] = {}
        self._pacers_lock = threading.Lock()

    def pace_delay(self, pace: Pace) -> float:
        with self._pacers_lock:
            pacer = self._pacers.get(pace.key)
            if pacer is None or pacer.rate * 60.0 != pace.per_minute:
                pacer = self._pacers[pace.key] = RequestPacer(pace.per_minute)
        return pacer.reserve()

    def _timeout(self, seconds: float | None) -> httpx.Timeout:
        total = seconds or self.config.timeout
        return httpx.Timeout(total, connect=min(10.0, total))

    def resolve_gateway(self, req: ApiRequest) -> Gateway | None:
        if req.gateway_path is None or req.gateway is DIRECT:
            return None
        if req.gateway is not None:
            return Gateway.coerce(req.gateway)  # type: ignore[arg-type]
        return self.gateway

    def prepare(self, req: ApiRequest) -> _Prepared:
        account_id, _ = self.config.require_credentials()
        token = self.config.token_for(req.product)
        headers = {"authorization": f"Bearer {token.get_secret_value()}", "user-agent": USER_AGENT}
        gateway = self.resolve_gateway(req)
        if gateway is None and req.gateway_required:
            raise InvalidInputError("this operation needs an AI Gateway: pass gateway= or set "
                                    "CLOUDFLARE_AI_GATEWAY_ID", field="gateway")
        if gateway is not None:
            url = f"{self.config.gateway_base_url}/{account_id}/{gateway.id}"
            if req.gateway_path:
                url += "/" + req.gateway_path.lstrip("/")
            headers.update(gateway.headers())
        else:
            url = f"{self.config.base_url}/accounts/{account_id}{req.path}"
        content = req.content
        if req.json is not None:
            content = _encode_json(req.json)
            headers["content-type"] = "application/json"
        headers.update(req.headers)
        params = {k: _param(v) for k, v in req.params.items() if v is not None} if req.params else None
        return _Prepared(req.method, url, headers, params, content, self._timeout(req.timeout))

    def check(self, raw: RawResponse, ok_statuses: frozenset[int] = frozenset()) -> None:
        if raw.status >= 400 and raw.status not in ok_statuses:
            raise error_from_response(raw.status, raw.headers, raw.content)

    def retry_delay(self, req: ApiRequest, error: CloudflareError, attempt: int,
                    earlier: list[CloudflareError] | None = None) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up and raise.

        ``earlier`` collects the errors retried so far; the error given up on gets them as its
        ``earlier_attempts``.
        """
        self.stats.note_error(error)
        if not req.retry or not self.policy.should_retry(error, attempt):
            if earlier:
                error.earlier_attempts = tuple(earlier)
            return None
        if earlier is not None:
            earlier.append(error)
        delay = self.policy.delay(error, attempt, self._rng)
        reason = _reason(error)
        self.stats.note_retry(reason)
        log.info("retrying %s %s after %s (attempt %d of %d) in %.2f s", req.method, req.path, reason,
                 attempt + 2, self.policy.max_retries + 1, delay)
        return delay

    @staticmethod
    def step(op: Op[Any], value: Any, error: BaseException | None) -> tuple[bool, Any]:
        """Advance an operation generator: ``(True, result)`` when it returned, else ``(False, effect)``."""
        try:
            effect = op.throw(error) if error is not None else op.send(value)
        except StopIteration as stop:
            return True, stop.value
        return False, effect

    def open_stream(self, call: StreamCall[T]) -> tuple[_Prepared, StreamParser[T], SSEDecoder]:
        return self.prepare(call.request), call.parser(), SSEDecoder()

    @staticmethod
    def begin_stream(parser: Any, resp: httpx.Response) -> None:
        """Hand the stream's response headers (gateway info) to a parser with an optional ``begin``."""
        begin = getattr(parser, "begin", None)
        if callable(begin):
            begin(_raw(resp, b""))


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _raw(resp: httpx.Response, content: bytes) -> RawResponse:
    return RawResponse(resp.status_code, dict(resp.headers), content)


class SyncTransport(TransportBase):
    def __init__(self, config: CloudflareConfig, *, http_client: httpx.Client | None = None,
                 transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._owns_client = http_client is None
        self.http = http_client or httpx.Client(
            transport=transport, limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))

    def close(self) -> None:
        if self._owns_client:
            self.http.close()

    def _send_once(self, req: ApiRequest) -> RawResponse:
        p = self.prepare(req)
        self.stats.note_request()
        try:
            resp = self.http.request(p.method, p.url, headers=p.headers, params=p.params, content=p.content,
                                     timeout=p.timeout)
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        return _raw(resp, resp.content)

    def send(self, call: Call[T]) -> T:
        attempt = 0
        earlier: list[CloudflareError] = []
        while True:
            try:
                raw = self._send_once(call.request)
                self.check(raw, call.ok_statuses)
            except CloudflareError as err:
                delay = self.retry_delay(call.request, err, attempt, earlier)
                if delay is None:
                    raise
                time.sleep(delay)
                attempt += 1
                continue
            return call.parse(raw)

    def stream(self, call: StreamCall[T]) -> Iterator[T]:
        attempt = 0
        while True:
            p, parser, decoder = self.open_stream(call)
            started = False
            try:
                self.stats.note_request()
                with self.http.stream(p.method, p.url, headers=p.headers, params=p.params, content=p.content,
                                      timeout=p.timeout) as resp:
                    if resp.status_code >= 400 or "event-stream" not in resp.headers.get("content-type", ""):
                        raw = _raw(resp, resp.read())
                        self.check(raw)
                        yield from parser.from_body(raw)
                        return
                    self.begin_stream(parser, resp)
                    for chunk in resp.iter_bytes():
                        for data in decoder.feed(chunk):
                            started = True
                            yield from parser.feed(data)
                for data in decoder.flush():
                    yield from parser.feed(data)
                yield from parser.end()
                return
            except httpx.TransportError as exc:
                if started:
                    raise StreamError(f"the stream broke before it finished: {exc}") from exc
                err: CloudflareError = connection_error(exc)
            except APIError as api_err:
                err = api_err
            delay = self.retry_delay(call.request, err, attempt)
            if delay is None:
                raise err
            time.sleep(delay)
            attempt += 1

    def run(self, op: Runnable[T]) -> T:
        if isinstance(op, Call):
            return self.send(op)
        value: Any = None
        error: BaseException | None = None
        while True:
            done, item = self.step(op, value, error)
            if done:
                return item  # type: ignore[no-any-return]
            value, error = None, None
            try:
                value = self._perform(item)
            except Exception as exc:
                error = exc

    def _perform(self, effect: Any) -> Any:
        if isinstance(effect, Call):
            return self.send(effect)
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        if isinstance(effect, Pace):
            delay = self.pace_delay(effect)
            if delay > 0:
                time.sleep(delay)
            return None
        if isinstance(effect, Gather):
            return self._gather(effect)
        raise TypeError(f"unknown effect {effect!r}")

    def _gather(self, g: Gather) -> list[Any]:
        def one(item: Any) -> Any:
            if not g.return_exceptions:
                return self.run(item)
            try:
                return self.run(item)
            except Exception as exc:
                return exc

        if len(g.items) <= 1 or g.limit <= 1:
            return [one(item) for item in g.items]
        with ThreadPoolExecutor(max_workers=min(g.limit, len(g.items))) as pool:
            return list(pool.map(one, g.items))


class AsyncTransport(TransportBase):
    def __init__(self, config: CloudflareConfig, *, http_client: httpx.AsyncClient | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self._given = http_client
        self._transport = transport
        # httpx's connection pool belongs to the event loop that opened its connections; frameworks
        # (LlamaIndex's sync wrappers, notebooks) run one client on several loops, so keep one pool per loop.
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = \
            weakref.WeakKeyDictionary()
        self._pools_lock = threading.Lock()

    @property
    def http(self) -> httpx.AsyncClient:
        """The caller's client if one was given, else this event loop's pooled client."""
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        with self._pools_lock:
            client = self._pools.get(loop)
            if client is None or client.is_closed:
                client = httpx.AsyncClient(transport=self._transport,
                                           limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
                self._pools[loop] = client
        return client

    async def aclose(self) -> None:
        """Close this loop's pool (pools of loops that have ended are dropped with them)."""
        if self._given is not None:
            return
        client = self._pools.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def _send_once(self, req: ApiRequest) -> RawResponse:
        p = self.prepare(req)
        self.stats.note_request()
        try:
            resp = await self.http.request(p.method, p.url, headers=p.headers, params=p.params,
                                           content=p.content, timeout=p.timeout)
        except httpx.TransportError as exc:
            raise connection_error(exc) from exc
        return _raw(resp, resp.content)

    async def send(self, call: Call[T]) -> T:
        attempt = 0
        earlier: list[CloudflareError] = []
        while True:
            try:
                raw = await self._send_once(call.request)
                self.check(raw, call.ok_statuses)
            except CloudflareError as err:
                delay = self.retry_delay(call.request, err, attempt, earlier)
                if delay is None:
                    raise
                await asyncio.sleep(delay)
                attempt += 1
                continue
            return call.parse(raw)

    async def stream(self, call: StreamCall[T]) -> AsyncIterator[T]:
        attempt = 0
        while True:
            p, parser, decoder = self.open_stream(call)
            started = False
            try:
                self.stats.note_request()
                async with self.http.stream(p.method, p.url, headers=p.headers, params=p.params,
                                            content=p.content, timeout=p.timeout) as resp:
                    if resp.status_code >= 400 or "event-stream" not in resp.headers.get("content-type", ""):
                        raw = _raw(resp, await resp.aread())
                        self.check(raw)
                        for item in parser.from_body(raw):
                            yield item
                        return
                    self.begin_stream(parser, resp)
                    async for chunk in resp.aiter_bytes():
                        for data in decoder.feed(chunk):
                            started = True
                            for item in parser.feed(data):
                                yield item
                for data in decoder.flush():
                    for item in parser.feed(data):
                        yield item
                for item in parser.end():
                    yield item
                return
            except httpx.TransportError as exc:
                if started:
                    raise StreamError(f"the stream broke before it finished: {exc}") from exc
                err: CloudflareError = connection_error(exc)
            except APIError as api_err:
                err = api_err
            delay = self.retry_delay(call.request, err, attempt)
            if delay is None:
                raise err
            await asyncio.sleep(delay)
            attempt += 1

    async def run(self, op: Runnable[T]) -> T:
        if isinstance(op, Call):
            return await self.send(op)
        value: Any = None
        error: BaseException | None = None
        while True:
            done, item = self.step(op, value, error)
            if done:
                return item  # type: ignore[no-any-return]
            value, error = None, None
            try:
                value = await self._perform(item)
            except Exception as exc:
                error = exc

    async def _perform(self, effect: Any) -> Any:
        if isinstance(effect, Call):
            return await self.send(effect)
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
            return None
        if isinstance(effect, Pace):
            delay = self.pace_delay(effect)
            if delay > 0:
                await asyncio.sleep(delay)
            return None
        if isinstance(effect, Gather):
            return await self._gather(effect)
        raise TypeError(f"unknown effect {effect!r}")

    async def _gather(self, g: Gather) -> list[Any]:
        semaphore = asyncio.Semaphore(max(1, g.limit))

        async def one(item: Any) -> Any:
            async with semaphore:
                return await self.run(item)

        return list(await asyncio.gather(*(one(item) for item in g.items), return_exceptions=g.return_exceptions))
