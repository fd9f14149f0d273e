"""The universal endpoint: steps tried in order, fallback on errors, faults and timeouts, cf-aig-step.

Provider steps are made to fail on purpose with the stand-in openai model ``error-<status>`` or with
the emulator's fault settings scoped to the upstream's path (both documented in the README).
"""

from __future__ import annotations

import httpx
import pytest

from cf_core.local import Emulator, FaultConfig
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN

GW = f"/v1/{TEST_ACCOUNT}/uni"
LOGS = f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways/uni/logs"
API_AUTH = {"authorization": f"Bearer {TEST_TOKEN}"}
LLAMA = "@cf/meta/llama-3.1-8b-instruct"


def openai_step(model: str = "gpt-4o-mini", content: str = "hi", **extra: object) -> dict[str, object]:
    return {"provider": "openai", "endpoint": "chat/completions",
            "headers": {"Authorization": "Bearer sk-test", "Content-Type": "application/json"},
            "query": {"model": model, "messages": [{"role": "user", "content": content}]}, **extra}


def workers_ai_step(**extra: object) -> dict[str, object]:
    return {"provider": "workers-ai", "endpoint": LLAMA,
            "headers": {"Authorization": f"Bearer {TEST_TOKEN}", "Content-Type": "application/json"},
            "query": {"messages": [{"role": "user", "content": "What is Cloudflare?"}]}, **extra}


def _logs(client: httpx.Client) -> list[dict[str, object]]:
    result: list[dict[str, object]] = client.get(f"{LOGS}?direction=asc", headers=API_AUTH).json()["result"]
    return result


def test_first_step_answers(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(GW, json=[openai_step(), openai_step("error-500")])
    assert r.status_code == 200, r.text
    assert r.headers["cf-aig-step"] == "0"
    assert r.json()["object"] == "chat.completion"
    assert [entry["step"] for entry in _logs(emu_origin_client)] == [0]


def test_falls_back_to_next_step_on_error(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(GW, json=[openai_step("error-503"), openai_step("error-429"), openai_step("gpt-4o")])
    assert r.status_code == 200
    assert r.headers["cf-aig-step"] == "2"
    assert r.json()["model"] == "gpt-4o"
    logs = _logs(emu_origin_client)
    assert [(e["step"], e["status_code"], e["success"]) for e in logs] == [
        (0, 503, False), (1, 429, False), (2, 200, True)]
    assert all(e["request_type"] == "universal" for e in logs)
    assert r.headers["cf-aig-log-id"] == logs[-1]["id"]


def test_openai_failure_falls_back_to_workers_ai(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(GW, json=[openai_step("error-500"), workers_ai_step()])
    assert r.status_code == 200, r.text
    assert r.headers["cf-aig-step"] == "1"
    assert r.headers["cf-aig-provider"] == "workers-ai"
    assert r.json()["success"] is True  # the Workers AI envelope, passed through


def test_all_steps_fail_answers_last_error(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(GW, json=[openai_step("error-500"), openai_step("error-502")])
    assert r.status_code == 502
    assert r.headers["cf-aig-step"] == "1"
    assert "error-502" in r.json()["error"]["message"]


def test_injected_upstream_fault_falls_through(emulator: Emulator, emu_origin_client: httpx.Client) -> None:
    """Faults scoped to Workers AI's run path hit the gateway's upstream call, not the gateway host."""
    emulator.faults.configure(FaultConfig(error_rates={503: 1.0}, paths="/ai/run/", seed=1))
    r = emu_origin_client.post(GW, json=[workers_ai_step(), openai_step()])
    assert r.status_code == 200
    assert r.headers["cf-aig-step"] == "1"
    assert emulator.faults.snapshot() == {"503": 1}
    first = _logs(emu_origin_client)[0]
    assert (first["provider"], first["status_code"]) == ("workers-ai", 503)


def test_dropped_upstream_connection_falls_through(emulator: Emulator, emu_origin_client: httpx.Client) -> None:
    emulator.faults.configure(FaultConfig(drop_rate=1.0, paths="/_upstream/openai/chat/completions", seed=1))
    r = emu_origin_client.post(GW, json=[openai_step(), workers_ai_step()])
    assert r.status_code == 200, r.text
    assert r.headers["cf-aig-step"] == "1"
    assert _logs(emu_origin_client)[0]["status_code"] == 502


def test_step_request_timeout_falls_through(emulator: Emulator, emu_origin_client: httpx.Client) -> None:
    emulator.faults.configure(FaultConfig(slow_rate=1.0, slow_ms=5000, paths="/_upstream/openai/", seed=1))
    r = emu_origin_client.post(GW, json=[openai_step(config={"requestTimeout": 20}), workers_ai_step()])
    assert r.status_code == 200
    assert r.headers["cf-aig-step"] == "1"
    assert _logs(emu_origin_client)[0]["status_code"] == 408


def test_step_retries_before_falling_through(emulator: Emulator, emu_origin_client: httpx.Client) -> None:
    emulator.faults.configure(FaultConfig(burst_429=1, paths="/_upstream/openai/", seed=1))
    r = emu_origin_client.post(GW, json=[openai_step(config={"maxAttempts": 2, "retryDelay": 1}),
                                         openai_step("second")])
    assert r.headers["cf-aig-step"] == "0"
    assert r.json()["model"] == "gpt-4o-mini"


def test_unsupported_provider_step_falls_through(emu_origin_client: httpx.Client) -> None:
    step = {"provider": "anthropic", "endpoint": "v1/messages", "headers": {"x-api-key": "k"},
            "query": {"model": "claude"}}
    r = emu_origin_client.post(GW, json=[step, openai_step()])
    assert r.headers["cf-aig-step"] == "1"


def test_a_single_step_object_is_accepted(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(GW, json=openai_step())
    assert r.status_code == 200
    assert r.headers["cf-aig-step"] == "0"


def test_step_headers_override_request_headers(emu_origin_client: httpx.Client) -> None:
    step = openai_step()
    step["headers"] = {**step["headers"], "cf-aig-cache-ttl": "120"}  # type: ignore[dict-item]
    # The request says "do not cache"; the step's own header wins.
    first = emu_origin_client.post(GW, json=[step], headers={"cf-aig-cache-ttl": "0"})
    second = emu_origin_client.post(GW, json=[step], headers={"cf-aig-cache-ttl": "0"})
    assert (first.headers["cf-aig-cache-status"], second.headers["cf-aig-cache-status"]) == ("MISS", "HIT")
    assert second.headers["cf-aig-step"] == "0"


def test_request_level_metadata_applies_to_every_step(emu_origin_client: httpx.Client) -> None:
    emu_origin_client.post(GW, json=[openai_step("error-500"), openai_step()],
                           headers={"cf-aig-metadata": '{"run": 7}', "cf-aig-event-id": "ev-1"})
    logs = _logs(emu_origin_client)
    assert [e["metadata"] for e in logs] == ['{"run":7}', '{"run":7}']
    assert [e["event_id"] for e in logs] == ["ev-1", "ev-1"]


@pytest.mark.parametrize(("body", "fragment"), [
    (b"not json", "not valid JSON"),
    (b"[]", "non-empty"),
    (b"42", "array"),
    (b'[{"endpoint": "chat/completions"}]', "steps[0].provider"),
    (b'[{"provider": "openai"}]', "steps[0].endpoint"),
    (b'[{"provider": "openai", "endpoint": "x", "extra": 1}]', "unknown field"),
    (b'[{"provider": "openai", "endpoint": "x", "config": {"maxAttempts": 9}}]', "config.maxAttempts"),
    (b'[{"provider": "openai", "endpoint": "x", "config": {"timeout": 1}}]', "config.timeout"),
    (b'[{"provider": "openai", "endpoint": "x", "headers": {"cf-aig-backoff": "x"}}]', "cf-aig-backoff"),
    (b'[{"provider": "openai", "endpoint": "x", "headers": ["a"]}]', "headers"),
])
def test_malformed_bodies_are_rejected(emu_origin_client: httpx.Client, body: bytes, fragment: str) -> None:
    r = emu_origin_client.post(GW, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    error = r.json()["error"][0]
    assert error["code"] == 2001
    assert fragment in error["message"]


def test_only_post_is_allowed(emu_origin_client: httpx.Client) -> None:
    assert emu_origin_client.get(GW).status_code == 405
