"""AI Gateway management, logs and the universal endpoint over the wire (sync and async).

The universal steps are answered by the emulator's stand-in providers; these tests check the wire
(what was sent, which step answered, what the logs recorded), not model output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cf_core import Gateway
from cf_core.ai_gateway import FallbackStep, GatewayLog
from cf_core.errors import (
    AuthenticationError,
    GatewayAuthenticationError,
    InvalidInputError,
    NotFoundError,
)
from cf_core.http import DIRECT
from cf_core.local import (
    LOCAL_ACCOUNT_ID,
    LOCAL_API_TOKEN,
    LOCAL_GATEWAY_BASE_URL,
    Emulator,
    local_client,
)

Dual = Any  # tests/core/conftest.py's Dual
MODEL = "@cf/meta/llama-3.1-8b-instruct"
MESSAGES = [{"role": "user", "content": "What is Cloudflare?"}]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Only the local token is accepted, so a step with another token fails with 401."""
    emu = Emulator(tokens={LOCAL_API_TOKEN})
    yield emu
    emu.close()


def wai(token: str = LOCAL_API_TOKEN, **kwargs: Any) -> FallbackStep:
    return FallbackStep.workers_ai(MODEL, {"messages": MESSAGES}, api_token=token, **kwargs)


# -- management -------------------------------------------------------------------------------


async def test_gateway_crud(dual: Dual) -> None:
    created = await dual.ai_gateway.create_gateway("gw-1", cache_ttl=300, rate_limiting_technique="sliding")
    assert created["id"] == "gw-1" and created["cache_ttl"] == 300 and created["collect_logs"] is True
    assert created["rate_limiting_technique"] == "sliding"
    assert (await dual.ai_gateway.get_gateway("gw-1"))["cache_ttl"] == 300
    await dual.ai_gateway.create_gateway("gw-2")
    assert sorted(g["id"] for g in await dual.ai_gateway.list_gateways()) == ["gw-1", "gw-2"]
    updated = await dual.ai_gateway.update_gateway("gw-1", collect_logs=False)
    # the other settings survive an update (the API replaces the object; the core merges first)
    assert updated["collect_logs"] is False and updated["cache_ttl"] == 300
    assert updated["rate_limiting_technique"] == "sliding"
    await dual.ai_gateway.delete_gateway("gw-2")
    with pytest.raises(NotFoundError):
        await dual.ai_gateway.get_gateway("gw-2")
    assert [g["id"] for g in await dual.ai_gateway.list_gateways()] == ["gw-1"]


@pytest.mark.parametrize("call", [
    lambda g: g.create_gateway("bad id"),
    lambda g: g.create_gateway("x" * 65),
    lambda g: g.create_gateway("ok", cache_tll=60),
    lambda g: g.create_gateway("ok", rate_limiting_technique="leaky"),
    lambda g: g.update_gateway("gw", log_management_strategy="KEEP"),
    lambda g: g.list_logs("gw", sucess=True),
    lambda g: g.list_logs("gw", per_page=51),
    lambda g: g.list_logs("gw", order_by="cost"),
    lambda g: g.list_logs("gw", filters=[{"key": "model", "operator": "like", "value": ["x"]}]),
    lambda g: g.get_log("gw", ""),
    lambda g: g.universal([]),
    lambda g: g.universal([{"provider": "openai"}], gateway="gw"),
    lambda g: g.universal([wai()], gateway=None),
    lambda g: g.universal([wai()], gateway=DIRECT),
])
async def test_local_checks_send_nothing(dual: Dual, call: Any) -> None:
    sent, served = dual.sent, dual.served
    with pytest.raises(InvalidInputError):
        await call(dual.ai_gateway)
    assert (dual.sent, dual.served) == (sent, served)


# -- universal endpoint -----------------------------------------------------------------------


async def test_universal_first_step_answers(dual: Dual) -> None:
    result = await dual.ai_gateway.universal([wai(), FallbackStep.openai("gpt-4o-mini", MESSAGES, api_key="sk-1")],
                                             gateway="gw-u")
    assert result.step == 0 and result.status == 200 and result.gateway.step == 0
    assert result.gateway.provider == "workers-ai" and result.gateway.log_id
    assert result.body["success"] is True and isinstance(result.body["result"]["response"], str)
    assert result.headers["cf-aig-step"] == "0"


async def test_universal_falls_back_and_reports_the_step(dual: Dual) -> None:
    steps = [wai(token="revoked-token", config={"maxAttempts": 1}),
             FallbackStep.openai("gpt-4o-mini", MESSAGES, api_key="sk-test", extra={"temperature": 0})]
    result = await dual.ai_gateway.universal(steps, gateway=Gateway(id="gw-f", metadata={"team": "search"}))
    assert result.step == 1 and result.gateway.provider == "openai"
    assert result.body["object"] == "chat.completion" and result.body["choices"][0]["message"]["role"] == "assistant"
    logs = await dual.ai_gateway.list_logs("gw-f", order_by="created_at", order_by_direction="asc")
    assert [(log.step, log.success, log.provider) for log in logs] == [(0, False, "workers-ai"), (1, True, "openai")]
    assert logs[0].status_code == 401 and all(log.metadata == {"team": "search"} for log in logs)


async def test_universal_with_every_step_failing_raises(dual: Dual) -> None:
    with pytest.raises(AuthenticationError):
        await dual.ai_gateway.universal([wai(token="nope"), wai(token="nope-either")], gateway="gw-x")


async def test_universal_takes_workers_ai_token_for_steps_without_one(dual: Dual) -> None:
    step = FallbackStep.workers_ai(MODEL, {"messages": MESSAGES})
    result = await dual.ai_gateway.universal([step], gateway="gw-t", workers_ai_token=LOCAL_API_TOKEN)
    assert result.step == 0 and result.body["success"] is True


async def test_universal_uses_the_client_default_gateway(emulator: Emulator) -> None:
    with local_client(emulator, gateway="gw-default") as c:
        result = c.ai_gateway.universal([wai()])
    assert result.step == 0
    with local_client(emulator) as c:
        assert [log.id for log in c.ai_gateway.list_logs("gw-default")] == [result.gateway.log_id]


async def test_authenticated_gateway(dual: Dual) -> None:
    await dual.ai_gateway.create_gateway("gw-auth", authentication=True)
    with pytest.raises(GatewayAuthenticationError):
        await dual.ai_gateway.universal([wai()], gateway="gw-auth")
    ok = await dual.ai_gateway.universal([wai()], gateway=Gateway(id="gw-auth", auth_token=LOCAL_API_TOKEN))
    assert ok.step == 0


def test_universal_wire_body(recorder: Any) -> None:
    with local_client(recorder.emulator, record=recorder.sent) as c:
        c.ai_gateway.universal([FallbackStep.workers_ai(MODEL, {"prompt": "hi"}, config={"requestTimeout": 5000}),
                                FallbackStep.openai("gpt-4o-mini", MESSAGES, api_key="sk-wire")],
                               gateway=Gateway(id="gw-w", cache_ttl=60), workers_ai_token="cf-token")
    sent = recorder.last
    assert str(sent.url) == f"{LOCAL_GATEWAY_BASE_URL}/{LOCAL_ACCOUNT_ID}/gw-w"
    assert sent.headers["cf-aig-cache-ttl"] == "60"
    body = json.loads(sent.body)
    assert body == [
        {"provider": "workers-ai", "endpoint": MODEL, "query": {"prompt": "hi"}, "config": {"requestTimeout": 5000},
         "headers": {"Content-Type": "application/json", "Authorization": "Bearer cf-token"}},
        {"provider": "openai", "endpoint": "chat/completions", "query": {"model": "gpt-4o-mini", "messages": MESSAGES},
         "headers": {"Content-Type": "application/json", "Authorization": "Bearer sk-wire"}},
    ]


# -- logs -------------------------------------------------------------------------------------


async def test_logs_filters_and_detail(dual: Dual) -> None:
    await dual.ai_gateway.universal([wai()], gateway=Gateway(id="gw-l", metadata={"user": "u1", "n": 1}))
    await dual.ai_gateway.universal([wai(token="bad"), FallbackStep.openai("gpt-4o-mini", MESSAGES, api_key="k")],
                                    gateway=Gateway(id="gw-l", metadata={"user": "u2"}))
    every = await dual.ai_gateway.list_logs("gw-l")
    assert len(every) == 3 and all(isinstance(log, GatewayLog) for log in every)
    assert {log.request_type for log in every} == {"universal"}
    failed = await dual.ai_gateway.list_logs("gw-l", success=False)
    assert [(log.provider, log.status_code) for log in failed] == [("workers-ai", 401)]
    by_provider = await dual.ai_gateway.list_logs("gw-l", provider="openai")
    assert [log.model for log in by_provider] == ["gpt-4o-mini"]
    u1 = await dual.ai_gateway.list_logs("gw-l", filters=[{"key": "metadata.value", "operator": "eq", "value": ["u1"]}])
    assert len(u1) == 1 and u1[0].metadata == {"user": "u1", "n": 1}
    either = await dual.ai_gateway.list_logs(
        "gw-l", filters=[{"key": "provider", "operator": "eq", "value": ["openai", "workers-ai"]}], success=True)
    assert len(either) == 2
    paged = await dual.ai_gateway.list_logs("gw-l", per_page=2, page=2)
    assert len(paged) == 1

    detail = await dual.ai_gateway.get_log("gw-l", u1[0].id)
    assert detail.id == u1[0].id and detail.request_size and detail.request_head
    assert json.loads(detail.request_head) == {"messages": MESSAGES}
    assert detail.created_at is not None and detail.duration is not None
    assert detail.raw["id"] == u1[0].id
    with pytest.raises(NotFoundError):
        await dual.ai_gateway.get_log("gw-l", "no-such-log")
