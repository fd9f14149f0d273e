"""Transport behaviour shared by every operation: retries, Retry-After, timeouts, streams, gateway routing,
concurrency. Over the wire against the emulator where it can inject the fault, with a scripted
httpx.MockTransport where the exact answer sequence matters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

import cf_core.http.transport as transport_mod
from cf_core import (
    DIRECT,
    APIConnectionError,
    AsyncCloudflareClient,
    BadRequestError,
    CloudflareClient,
    Gateway,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    StreamError,
    TimeoutError,
)
from cf_core.http import ApiRequest, Call, Gather, RawResponse, Sleep, StreamCall, unwrap
from cf_core.local import Emulator, FaultConfig, local_async_client, local_client

OK = json.dumps({"result": {"ok": True}, "success": True, "errors": [], "messages": []}).encode()


def fail(status: int, code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"result": None, "success": False, "errors": [{"code": code, "message": f"fail {code}"}], "messages": []}
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class Script:
    """Answers requests from a list, recording what was sent."""

    answers: list[Callable[[httpx.Request], httpx.Response]]
    sent: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.answers[min(len(self.sent) - 1, len(self.answers) - 1)]
        return answer(request)


def ok(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=OK, headers={"content-type": "application/json"})


def make(script: Script, **kw: Any) -> CloudflareClient:
    return CloudflareClient(account_id="acct", api_token="tok", transport=httpx.MockTransport(script), **kw)


PING = Call(ApiRequest("GET", "/ping"), unwrap)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the transport's back-off sleeps instead of waiting."""
    recorded: list[float] = []
    monkeypatch.setattr(transport_mod.time, "sleep", recorded.append)
    return recorded


@pytest.mark.parametrize(("status", "code"), [(408, 3007), (409, 10409), (429, 3040), (500, 10001),
                                              (502, 10002), (503, 10003), (504, 10004)])
def test_retryable_statuses_are_retried(status: int, code: int, sleeps: list[float]) -> None:
    script = Script([lambda r: fail(status, code), ok])
    with make(script) as client:
        assert client.run(PING) == {"ok": True}
        assert len(script.sent) == 2
        assert client.stats["retries"] == 1 and len(sleeps) == 1


def test_retries_stop_at_max_retries(sleeps: list[float]) -> None:
    script = Script([lambda r: fail(503, 10003)])
    with make(script, max_retries=2) as client, pytest.raises(ServerError):
        client.run(PING)
    assert len(script.sent) == 3 and len(sleeps) == 2


@pytest.mark.parametrize(("status", "code", "cls"), [(400, 5006, BadRequestError),
                                                     (429, 4006, QuotaExceededError)])
def test_errors_that_would_fail_again_are_not_retried(status: int, code: int, cls: type[Exception],
                                                      sleeps: list[float]) -> None:
    script = Script([lambda r: fail(status, code)])
    with make(script) as client, pytest.raises(cls):
        client.run(PING)
    assert len(script.sent) == 1 and sleeps == []


def test_retry_after_is_honoured(sleeps: list[float]) -> None:
    script = Script([lambda r: fail(429, 3040, {"retry-after": "3"}), ok])
    with make(script) as client:
        client.run(PING)
    assert sleeps == [3.0]


def test_backoff_grows_without_retry_after(sleeps: list[float]) -> None:
    script = Script([lambda r: fail(500, 10001)] * 4 + [ok])
    with make(script, max_retries=4) as client:
        client.run(PING)
    assert len(sleeps) == 4 and sleeps[3] > sleeps[0]


def test_connection_errors_are_retried_then_typed(sleeps: list[float]) -> None:
    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    script = Script([drop, ok])
    with make(script) as client:
        assert client.run(PING) == {"ok": True}
    script = Script([drop])
    with make(script, max_retries=1) as client, pytest.raises(APIConnectionError):
        client.run(PING)


def test_over_the_wire_429_burst_with_retry_after(sleeps: list[float]) -> None:
    """The emulator answers the next two requests 429 + Retry-After; the client waits as told and succeeds."""
    emu = Emulator(faults=FaultConfig(burst_429=2, retry_after_s=0.5))
    with local_client(emu) as client:
        client.run(Call(ApiRequest("GET", "/vectorize/v2/indexes", product="vectorize"), unwrap))
        assert client.stats["retries"] == 2
        assert client.stats["retry_reasons"] == {"HTTP 429 code 3040": 2}
    assert sleeps == [0.5, 0.5]


def test_over_the_wire_drops_and_timeouts_are_retried(sleeps: list[float]) -> None:
    emu = Emulator(faults=FaultConfig(drop_rate=0.3, slow_rate=0.2, slow_ms=5_000, seed=3))
    with local_client(emu, timeout=0.05, max_retries=10) as client:
        for _ in range(10):
            client.run(Call(ApiRequest("GET", "/vectorize/v2/indexes", product="vectorize"), unwrap))
        reasons = client.stats["retry_reasons"]
    assert reasons.get("APIConnectionError", 0) > 0 and reasons.get("TimeoutError", 0) > 0


async def test_async_retries_and_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    emu = Emulator(faults=FaultConfig(burst_429=1, retry_after_s=0.25))
    async with local_async_client(emu) as client:
        monkeypatch.setattr(transport_mod.asyncio, "sleep", fake_sleep)
        await client.run(Call(ApiRequest("GET", "/vectorize/v2/indexes", product="vectorize"), unwrap))
        assert client.stats["retries"] == 1
    assert waits == [0.25]
    emu.faults.configure(FaultConfig(slow_rate=1.0, slow_ms=10_000))
    async with local_async_client(emu, timeout=0.01, max_retries=0) as client:
        monkeypatch.undo()
        with pytest.raises(TimeoutError):
            await client.run(Call(ApiRequest("GET", "/vectorize/v2/indexes", product="vectorize"), unwrap))


def test_gateway_routing_rewrites_url_and_adds_headers() -> None:
    script = Script([ok])
    gw = Gateway(id="my-gw", auth_token="gw-secret", cache_ttl=3600, skip_cache=False, cache_key="k1",
                 metadata={"user": "u1", "n": 3}, collect_log=True, request_timeout_ms=1500, max_attempts=2,
                 retry_delay_ms=100, backoff="exponential", event_id="ev-1")
    req = ApiRequest("POST", "/ai/run/@cf/meta/llama-3.1-8b-instruct",
                     gateway_path="workers-ai/@cf/meta/llama-3.1-8b-instruct", json={"prompt": "x"}, gateway=gw)
    with make(script) as client:
        client.run(Call(req, unwrap))
        client.run(Call(ApiRequest("GET", "/vectorize/v2/indexes"), unwrap))  # not routable: direct
    sent = script.sent[0]
    assert str(sent.url) == "https://gateway.ai.cloudflare.com/v1/acct/my-gw/workers-ai/@cf/meta/llama-3.1-8b-instruct"
    h = sent.headers
    assert h["authorization"] == "Bearer tok" and h["cf-aig-authorization"] == "Bearer gw-secret"
    assert (h["cf-aig-cache-ttl"], h["cf-aig-skip-cache"], h["cf-aig-cache-key"]) == ("3600", "false", "k1")
    assert json.loads(h["cf-aig-metadata"]) == {"user": "u1", "n": 3}
    assert (h["cf-aig-collect-log"], h["cf-aig-request-timeout"], h["cf-aig-max-attempts"]) == ("true", "1500", "2")
    assert (h["cf-aig-retry-delay"], h["cf-aig-backoff"], h["cf-aig-event-id"]) == ("100", "exponential", "ev-1")
    assert str(script.sent[1].url) == "https://api.cloudflare.com/client/v4/accounts/acct/vectorize/v2/indexes"


def test_default_gateway_and_direct_override() -> None:
    script = Script([ok])
    req = ApiRequest("POST", "/ai/run/m", gateway_path="workers-ai/m", json={})
    with make(script, gateway="default-gw") as client:
        client.run(Call(req, unwrap))
        client.run(Call(ApiRequest("POST", "/ai/run/m", gateway_path="workers-ai/m", json={}, gateway=DIRECT), unwrap))
    assert "/default-gw/workers-ai/m" in str(script.sent[0].url)
    assert str(script.sent[1].url).endswith("/accounts/acct/ai/run/m")


def test_gateway_metadata_limit_is_checked_locally() -> None:
    from cf_core import InvalidInputError

    with pytest.raises(InvalidInputError, match="at most 5"):
        Gateway.coerce({"id": "g", "metadata": {str(i): i for i in range(6)}})


# -- streams ----------------------------------------------------------------------------------


class TextParser:
    """A minimal push parser: yields each data payload; requires [DONE]."""

    def __init__(self) -> None:
        self.done = False

    def feed(self, data: str) -> list[str]:
        if data == "[DONE]":
            self.done = True
            return []
        return [data]

    def end(self) -> list[str]:
        if not self.done:
            raise StreamError("no [DONE]")
        return []

    def from_body(self, resp: RawResponse) -> list[str]:
        return ["json:" + resp.content.decode()]


def sse(body: bytes) -> Callable[[httpx.Request], httpx.Response]:
    return lambda r: httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})


STREAM_REQ = StreamCall(ApiRequest("POST", "/ai/run/m", json={"stream": True}), TextParser)


def test_stream_yields_events_and_falls_back_to_json() -> None:
    with make(Script([sse(b"data: a\n\ndata: b\n\ndata: [DONE]\n\n")])) as client:
        assert list(client.stream(STREAM_REQ)) == ["a", "b"]
    with make(Script([ok])) as client:
        assert list(client.stream(STREAM_REQ)) == ["json:" + OK.decode()]


def test_stream_without_done_raises() -> None:
    with make(Script([sse(b"data: a\n\n")])) as client, pytest.raises(StreamError):
        list(client.stream(STREAM_REQ))


def test_stream_error_status_is_typed_and_retried(sleeps: list[float]) -> None:
    script = Script([lambda r: fail(503, 10003), sse(b"data: z\n\ndata: [DONE]\n\n")])
    with make(script) as client:
        assert list(client.stream(STREAM_REQ)) == ["z"]
    with make(Script([lambda r: fail(400, 5006)])) as client, pytest.raises(BadRequestError):
        list(client.stream(STREAM_REQ))


def test_stream_broken_midway_raises_stream_error() -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            yield b"data: a\n\n"
            raise httpx.ReadError("connection reset")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Broken(), headers={"content-type": "text/event-stream"})

    with make(Script([handler])) as client:
        got: list[str] = []
        with pytest.raises(StreamError, match="broke"):
            for item in client.stream(STREAM_REQ):
                got.append(item)
        assert got == ["a"]


async def test_async_stream() -> None:
    script = Script([sse(b"data: a\n\ndata: [DONE]\n\n")])
    async with AsyncCloudflareClient(account_id="a", api_token="t", transport=httpx.MockTransport(script)) as client:
        assert [x async for x in client.stream(STREAM_REQ)] == ["a"]


# -- effect driver ----------------------------------------------------------------------------


def numbered(i: int) -> Call[int]:
    return Call(ApiRequest("GET", f"/n/{i}"), lambda raw: int(raw.json()["n"]))


def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"n": request.url.path.rsplit("/", 1)[1]})


def fan_out(n: int) -> Any:
    results = yield Gather([numbered(i) for i in range(n)], limit=4)
    yield Sleep(0)
    return sum(results), results


def test_gather_keeps_order_sync() -> None:
    with CloudflareClient(account_id="a", api_token="t", transport=httpx.MockTransport(echo)) as client:
        total, results = client.run(fan_out(20))
    assert results == list(range(20)) and total == sum(range(20))


async def test_gather_keeps_order_async_and_runs_concurrently() -> None:
    active = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1
        return echo(request)

    async with AsyncCloudflareClient(account_id="a", api_token="t", transport=httpx.MockTransport(handler)) as client:
        total, results = await client.run(fan_out(12))
    assert results == list(range(12)) and total == sum(range(12))
    assert 1 < peak <= 4


def test_gather_return_exceptions_and_errors_thrown_into_the_operation() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/3"):
            return fail(400, 5006)
        return echo(request)

    def op() -> Any:
        results = yield Gather([numbered(i) for i in range(5)], limit=2, return_exceptions=True)
        try:
            yield numbered(3)
        except BadRequestError:
            return results, "caught"
        return results, "not caught"

    with CloudflareClient(account_id="a", api_token="t", transport=httpx.MockTransport(handler)) as client:
        results, outcome = client.run(op())
    assert [type(r).__name__ if isinstance(r, Exception) else r for r in results] == [0, 1, 2, "BadRequestError", 4]
    assert outcome == "caught"


def test_rate_limit_error_carries_retry_after() -> None:
    with make(Script([lambda r: fail(429, 3040, {"retry-after": "1.5"})]), max_retries=0) as client, \
            pytest.raises(RateLimitError) as info:
        client.run(PING)
    assert info.value.retry_after == 1.5


def test_own_http_client_is_not_closed() -> None:
    http = httpx.Client(transport=httpx.MockTransport(ok))
    client = CloudflareClient(account_id="a", api_token="t", http_client=http)
    client.run(PING)
    client.close()
    assert not http.is_closed
    http.close()


def test_pacer_admits_a_burst_then_paces_at_the_rate() -> None:
    from cf_core.http import RequestPacer

    now = [0.0]
    pacer = RequestPacer(120, clock=lambda: now[0])  # 2 per second, burst 120
    waits = [pacer.reserve() for _ in range(122)]
    assert waits[:120] == [0.0] * 120
    assert waits[120] == pytest.approx(0.5) and waits[121] == pytest.approx(1.0)
    now[0] = 10.0  # refilled 20 tokens, 2 already owed
    assert pacer.reserve() == 0.0


def test_pace_effect_sleeps_only_when_over_the_rate(sleeps: list[float]) -> None:
    from cf_core.http import Pace

    def op() -> Any:
        for _ in range(3):
            yield Pace("m", per_minute=2)
        return "done"

    with make(Script([ok])) as client:
        assert client.run(op()) == "done"
    assert len(sleeps) == 1 and sleeps[0] > 0  # the first two fit in the burst: no sleep at all


def test_async_client_works_across_event_loops_over_real_sockets() -> None:
    """LlamaIndex and notebooks drive one async client from several event loops in turn."""
    from cf_core.local.server import running_server

    with running_server(Emulator()) as server:
        client = AsyncCloudflareClient(account_id="a", api_token="t", base_url=server.base_url)
        call = Call(ApiRequest("GET", "/vectorize/v2/indexes", product="vectorize"), unwrap)
        for _ in range(3):  # each asyncio.run is a new loop; the previous one is closed
            assert asyncio.run(client.run(call)) == []
        asyncio.run(client.aclose())


async def test_twins_share_configuration_and_a_dual_transport() -> None:
    """A component given only a sync client can still reach the same (in-process) emulator async."""
    emu = Emulator()
    with local_client(emu, gateway="gw", max_retries=1) as sync_client:
        sync_client.vectorize.create_index("twins", dimensions=3)
        twin = sync_client.to_async()
        assert twin.config == sync_client.config and twin.gateway == sync_client.gateway
        assert [i.name for i in await twin.vectorize.list_indexes()] == ["twins"]
        back = twin.to_sync()
        assert back.vectorize.get_index("twins").dimensions == 3
        await twin.aclose()
        back.close()


def test_duplicate_index_conflict_is_not_retried(sleeps: list[float]) -> None:
    script = Script([lambda r: fail(409, 3002)])
    from cf_core import ConflictError

    with make(script) as client, pytest.raises(ConflictError):
        client.run(PING)
    assert len(script.sent) == 1 and sleeps == []
