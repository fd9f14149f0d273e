"""Universal-endpoint steps as values: secrets stay hidden, configs are validated, wire form is exact (pure)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from pydantic import SecretStr

from cf_core.ai_gateway import FallbackStep, GatewayLog, StepConfig
from cf_core.ai_gateway.logs import log_params
from cf_core.ai_gateway.universal import universal
from cf_core.errors import InvalidInputError

SECRET = "sk-very-secret-123"


def shown(step: FallbackStep) -> list[str]:
    return [repr(step), str(step), step.model_dump_json(), str(step.model_dump()), repr(step.secret_headers)]


@pytest.mark.parametrize("step", [
    FallbackStep.openai("gpt-4o-mini", [{"role": "user", "content": "hi"}], api_key=SECRET),
    FallbackStep.workers_ai("@cf/x", {"prompt": "p"}, api_token=SECRET),
    FallbackStep(provider="anthropic", endpoint="v1/messages", query={}, headers={"x-api-key": SECRET}),
    FallbackStep.model_validate({"provider": "groq", "endpoint": "chat/completions",
                                 "headers": {"Authorization": f"Bearer {SECRET}", "X-Trace": "t1"}}),
])
def test_secrets_never_shown(step: FallbackStep) -> None:
    for text in shown(step):
        assert SECRET not in text
    assert SECRET in str(step.to_wire())  # ... but they are sent


def test_secret_headers_are_moved_out_of_plain_headers() -> None:
    step = FallbackStep.model_validate({"provider": "groq", "endpoint": "chat/completions",
                                        "headers": {"Authorization": "Bearer k", "X-Trace": "t1"}})
    assert step.headers == {"X-Trace": "t1"}
    assert isinstance(step.secret_headers["Authorization"], SecretStr)
    assert step.to_wire()["headers"] == {"X-Trace": "t1", "Authorization": "Bearer k"}


def test_bearer_prefix_added_once() -> None:
    a = FallbackStep.openai("m", [], api_key="k").to_wire()["headers"]["Authorization"]
    b = FallbackStep.openai("m", [], api_key="Bearer k").to_wire()["headers"]["Authorization"]
    assert a == b == "Bearer k"
    with pytest.raises(InvalidInputError):
        FallbackStep.openai("m", [], api_key="")


def test_config_aliases_and_limits() -> None:
    step = FallbackStep.workers_ai("@cf/x", {}, api_token="t",
                                   config={"requestTimeout": 1000, "maxAttempts": 2, "retryDelay": 500,
                                           "backoff": "constant"})
    assert step.to_wire()["config"] == {"requestTimeout": 1000, "maxAttempts": 2, "retryDelay": 500,
                                        "backoff": "constant"}
    typed = StepConfig(max_attempts=3, backoff="exponential")
    assert typed.to_wire() == {"maxAttempts": 3, "backoff": "exponential"}
    for bad in ({"maxAttempts": 6}, {"retryDelay": 5001}, {"backoff": "random"}, {"retries": 2}):
        with pytest.raises(InvalidInputError) as err:
            FallbackStep.workers_ai("@cf/x", {}, api_token="t", config=bad)
        assert err.value.field == "config"


def test_mapping_steps_are_validated_with_their_position() -> None:
    with pytest.raises(InvalidInputError) as err:
        universal([FallbackStep.openai("m", [], api_key="k"), {"provider": "openai", "endpoint": ""}],
                  gateway="gw")
    assert err.value.item == 1 and "steps[1].endpoint" in str(err.value)


def test_workers_ai_default_token_is_only_used_when_missing() -> None:
    own = FallbackStep.workers_ai("@cf/x", {}, api_token="own")
    bare = FallbackStep.workers_ai("@cf/x", {})
    default = SecretStr("shared")
    assert own.to_wire(default_token=default)["headers"]["Authorization"] == "Bearer own"
    assert bare.to_wire(default_token=default)["headers"]["Authorization"] == "Bearer shared"
    assert "Authorization" not in bare.to_wire()["headers"]


def test_steps_pickle_without_their_secrets() -> None:
    """Like CloudflareConfig and Gateway, a pickled step drops its keys (re-supply them after loading)."""
    step = FallbackStep.openai("m", [], api_key=SECRET)
    data = pickle.dumps(step)
    assert SECRET.encode() not in data
    again = pickle.loads(data)
    assert not again.has_credentials() and "Authorization" not in again.to_wire()["headers"]
    assert {k: v for k, v in again.to_wire().items() if k != "headers"} == \
        {k: v for k, v in step.to_wire().items() if k != "headers"}


def test_gateway_log_parses_metadata_string() -> None:
    log = GatewayLog.from_wire({"id": "l1", "metadata": '{"user":"u1","n":2}', "created_at": "2026-01-01T00:00:00.000Z",
                                "duration": 12, "success": True, "step": 1, "future_field": "x"})
    assert log.metadata == {"user": "u1", "n": 2} and log.step == 1 and log.raw["future_field"] == "x"
    assert GatewayLog.from_wire({"id": "l2", "metadata": None}).metadata == {}
    assert GatewayLog.from_wire({"id": "l3", "metadata": "not json"}).metadata == {"_raw": "not json"}


@pytest.mark.parametrize("filters,expected", [
    ({"success": True, "min_duration": 10}, {"success": True, "min_duration": 10}),
    ({"filters": [{"key": "model", "value": ["a", "b"]}]},
     {"filters[0][key]": "model", "filters[0][operator]": "eq", "filters[0][value][0]": "a",
      "filters[0][value][1]": "b"}),
    ({"provider": None}, {}),
])
def test_log_query_parameters(filters: dict[str, Any], expected: dict[str, Any]) -> None:
    assert log_params(filters) == expected


def test_log_dates_become_utc_iso() -> None:
    from datetime import datetime, timedelta, timezone

    when = datetime(2026, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert log_params({"start_date": when}) == {"start_date": "2026-05-01T10:00:00Z"}
