"""AI Gateway request headers: metadata, event id, log collection, timeouts, retries, custom cost."""

from __future__ import annotations

import json

import httpx
import pytest

from cf_core.local import Emulator, FaultConfig
from cf_core.local.gateway.options import RequestOptions
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN

GW = f"/v1/{TEST_ACCOUNT}/hdr-gw"
OPENAI = f"{GW}/openai/chat/completions"
LOGS = f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways/hdr-gw/logs"
KEY = {"authorization": "Bearer sk-test"}
API_AUTH = {"authorization": f"Bearer {TEST_TOKEN}"}


def _chat(content: str = "hi", model: str = "gpt-4o-mini") -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": content}]}


def _log(client: httpx.Client, log_id: str) -> dict[str, object]:
    r = client.get(f"{LOGS}/{log_id}", headers=API_AUTH)
    assert r.status_code == 200, r.text
    result: dict[str, object] = r.json()["result"]
    return result


def test_metadata_is_logged_first_five_scalar_entries(emu_origin_client: httpx.Client) -> None:
    meta = {"user": "u-1", "nested": {"no": 1}, "n": 3, "flag": True, "none": None, "a": "x", "b": 2.5,
            "c": "dropped: sixth scalar"}
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={**KEY, "cf-aig-metadata": json.dumps(meta)})
    entry = _log(emu_origin_client, r.headers["cf-aig-log-id"])
    assert isinstance(entry["metadata"], str)
    assert json.loads(entry["metadata"]) == {"user": "u-1", "n": 3, "flag": True, "a": "x", "b": 2.5}


def test_bad_metadata_is_rejected(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={**KEY, "cf-aig-metadata": "{not json"})
    assert r.status_code == 400
    assert "cf-aig-metadata" in r.json()["error"][0]["message"]


def test_event_id_is_echoed_and_logged(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={**KEY, "cf-aig-event-id": "trace-42"})
    assert r.headers["cf-aig-event-id"] == "trace-42"
    assert _log(emu_origin_client, r.headers["cf-aig-log-id"])["event_id"] == "trace-42"


def test_no_event_id_header_without_one(emu_origin_client: httpx.Client) -> None:
    assert "cf-aig-event-id" not in emu_origin_client.post(OPENAI, json=_chat(), headers=KEY).headers


def test_collect_log_false_writes_no_log(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={**KEY, "cf-aig-collect-log": "false"})
    assert r.status_code == 200
    assert "cf-aig-log-id" not in r.headers
    assert emu_origin_client.get(LOGS, headers=API_AUTH).json()["result"] == []


def test_collect_log_header_overrides_gateway_setting(emu_origin_client: httpx.Client) -> None:
    base = f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways"
    emu_origin_client.post(base, headers=API_AUTH, json={
        "id": "quiet", "cache_ttl": 0, "cache_invalidate_on_update": False, "collect_logs": False,
        "rate_limiting_interval": None, "rate_limiting_limit": None})
    url = f"/v1/{TEST_ACCOUNT}/quiet/openai/chat/completions"
    assert "cf-aig-log-id" not in emu_origin_client.post(url, json=_chat(), headers=KEY).headers
    forced = emu_origin_client.post(url, json=_chat(), headers={**KEY, "cf-aig-collect-log": "true"})
    assert "cf-aig-log-id" in forced.headers
    assert len(emu_origin_client.get(f"{base}/quiet/logs", headers=API_AUTH).json()["result"]) == 1


def test_collect_log_payload_false_keeps_entry_without_bodies(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={**KEY, "cf-aig-collect-log-payload": "false"})
    log_id = r.headers["cf-aig-log-id"]
    assert _log(emu_origin_client, log_id)["request_head"] is None
    assert emu_origin_client.get(f"{LOGS}/{log_id}/request", headers=API_AUTH).status_code == 404


def test_request_timeout_on_slow_provider(emulator: Emulator, emu_origin_client: httpx.Client) -> None:
    """The provider call meets an injected 5 s delay; the 20 ms timeout answers first (408, 2007)."""
    emulator.faults.configure(FaultConfig(slow_rate=1.0, slow_ms=5000, paths="/_upstream/openai/", seed=1))
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={**KEY, "cf-aig-request-timeout": "20"})
    assert r.status_code == 408
    assert r.json()["error"][0]["code"] == 2007
    entry = _log(emu_origin_client, r.headers["cf-aig-log-id"])
    assert entry["success"] is False and entry["status_code"] == 408


def test_max_attempts_retries_through_a_429_burst(emulator: Emulator, emu_origin_client: httpx.Client) -> None:
    emulator.faults.configure(FaultConfig(burst_429=2, paths="/_upstream/openai/", seed=1))
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={
        **KEY, "cf-aig-max-attempts": "3", "cf-aig-retry-delay": "1", "cf-aig-backoff": "exponential"})
    assert r.status_code == 200, r.text
    assert emulator.faults.snapshot()["429"] == 2


def test_without_retries_the_provider_429_reaches_the_client(emulator: Emulator,
                                                              emu_origin_client: httpx.Client) -> None:
    emulator.faults.configure(FaultConfig(burst_429=1, retry_after_s=7, paths="/_upstream/openai/", seed=1))
    r = emu_origin_client.post(OPENAI, json=_chat(), headers=KEY)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "7"


def test_client_errors_are_not_retried(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(OPENAI, json=_chat(model="error-400"), headers={**KEY, "cf-aig-max-attempts": "5"})
    assert r.status_code == 400
    logs = emu_origin_client.get(LOGS, headers=API_AUTH).json()["result"]
    assert len(logs) == 1 and logs[0]["status_code"] == 400


@pytest.mark.parametrize(("header", "value"), [
    ("cf-aig-max-attempts", "6"), ("cf-aig-max-attempts", "0"), ("cf-aig-retry-delay", "5001"),
    ("cf-aig-backoff", "random"), ("cf-aig-request-timeout", "0"), ("cf-aig-collect-log", "perhaps"),
    ("cf-aig-custom-cost", '{"per_token_in": -1}'),
])
def test_out_of_range_header_values_are_rejected(emu_origin_client: httpx.Client, header: str, value: str) -> None:
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={**KEY, header: value})
    assert r.status_code == 400
    assert r.json() == {"success": False, "error": [{"code": 2001, "message": r.json()["error"][0]["message"]}]}
    assert header in r.json()["error"][0]["message"]


def test_backoff_schedules() -> None:
    delays = {b: [RequestOptions(retry_delay_ms=100, backoff=b).retry_sleep_s(i) for i in (1, 2, 3)]
              for b in ("constant", "linear", "exponential")}
    assert delays == {"constant": [0.1, 0.1, 0.1], "linear": [0.1, 0.2, 0.30000000000000004],
                      "exponential": [0.1, 0.2, 0.4]}


def test_custom_cost_per_token(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={
        **KEY, "cf-aig-custom-cost": json.dumps({"per_token_in": 0.5, "per_token_out": 2})})
    usage = r.json()["usage"]
    entry = _log(emu_origin_client, r.headers["cf-aig-log-id"])
    assert entry["custom_cost"] is True
    assert entry["cost"] == pytest.approx(usage["prompt_tokens"] * 0.5 + usage["completion_tokens"] * 2)


def test_custom_cost_total(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(OPENAI, json=_chat(), headers={**KEY, "cf-aig-custom-cost": '{"total_cost": 0.25}'})
    assert _log(emu_origin_client, r.headers["cf-aig-log-id"])["cost"] == 0.25
