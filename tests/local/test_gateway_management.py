"""Gateway management (CRUD, validation, auto-creation on first use) and per-gateway rate limiting."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from cf_core.local import Emulator
from cf_core.local.gateway import GatewayState
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN
from tests.support import FakeClock

BASE = f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways"
API_AUTH = {"authorization": f"Bearer {TEST_TOKEN}"}
KEY = {"authorization": "Bearer sk-test"}
REQUIRED = {"cache_ttl": 0, "cache_invalidate_on_update": False, "collect_logs": True,
            "rate_limiting_interval": None, "rate_limiting_limit": None}
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _create(client: httpx.Client, gateway_id: str, **settings: object) -> httpx.Response:
    return client.post(BASE, headers=API_AUTH, json={"id": gateway_id, **REQUIRED, **settings})


def test_crud_round_trip(emu_origin_client: httpx.Client) -> None:
    created = _create(emu_origin_client, "prod", cache_ttl=600, authentication=True,
                      rate_limiting_technique="sliding", retry_max_attempts=3)
    assert created.status_code == 200, created.text
    gw = created.json()["result"]
    assert (gw["id"], gw["cache_ttl"], gw["authentication"], gw["rate_limiting_technique"]) == \
        ("prod", 600, True, "sliding")
    assert gw["retry_max_attempts"] == 3
    assert gw["created_at"] == gw["modified_at"]
    assert emu_origin_client.get(f"{BASE}/prod", headers=API_AUTH).json()["result"] == gw
    listed = emu_origin_client.get(BASE, headers=API_AUTH).json()
    assert [g["id"] for g in listed["result"]] == ["prod"]
    assert listed["result_info"]["total_count"] == 1
    updated = emu_origin_client.put(f"{BASE}/prod", headers=API_AUTH, json={**REQUIRED, "cache_ttl": 60})
    assert updated.json()["result"]["cache_ttl"] == 60
    assert updated.json()["result"]["authentication"] is True  # untouched optional fields are kept
    deleted = emu_origin_client.delete(f"{BASE}/prod", headers=API_AUTH)
    assert deleted.status_code == 200 and deleted.json()["result"]["id"] == "prod"
    missing = emu_origin_client.get(f"{BASE}/prod", headers=API_AUTH)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == 7002


def test_list_search_and_paging(emu_origin_client: httpx.Client) -> None:
    for name in ("alpha", "beta", "alphabet"):
        _create(emu_origin_client, name)
    found = emu_origin_client.get(BASE, params={"search": "alpha"}, headers=API_AUTH).json()["result"]
    assert sorted(g["id"] for g in found) == ["alpha", "alphabet"]
    page2 = emu_origin_client.get(BASE, params={"per_page": "2", "page": "2"}, headers=API_AUTH).json()
    assert len(page2["result"]) == 1 and page2["result_info"]["total_count"] == 3


@pytest.mark.parametrize(("body", "fragment"), [
    ({"id": "x" * 65, **REQUIRED}, "at most 64"),
    ({"id": "has space", **REQUIRED}, "letters, digits"),
    ({"id": "ok"}, "missing required"),
    ({"id": "ok", **REQUIRED, "cache_ttl": "60"}, "cache_ttl"),
    ({"id": "ok", **REQUIRED, "collect_logs": "yes"}, "collect_logs"),
    ({"id": "ok", **REQUIRED, "rate_limiting_technique": "leaky"}, "rate_limiting_technique"),
    ({"id": "ok", **REQUIRED, "retry_max_attempts": 9}, "retry_max_attempts"),
    ({"id": "ok", **REQUIRED, "log_management_strategy": "KEEP"}, "log_management_strategy"),
    ({"id": "ok", **REQUIRED, "rate_limit": 5}, "unknown field"),
])
def test_create_validation(emu_origin_client: httpx.Client, body: dict[str, object], fragment: str) -> None:
    r = emu_origin_client.post(BASE, headers=API_AUTH, json=body)
    assert r.status_code == 400
    assert r.json()["success"] is False
    assert fragment in r.json()["errors"][0]["message"]


def test_id_of_exactly_64_characters_is_fine(emu_origin_client: httpx.Client) -> None:
    assert _create(emu_origin_client, "g" * 64).status_code == 200


def test_duplicate_id_is_rejected(emu_origin_client: httpx.Client) -> None:
    assert _create(emu_origin_client, "dup").status_code == 200
    again = _create(emu_origin_client, "dup")
    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == 7004


def test_ten_gateways_per_account(emu_origin_client: httpx.Client) -> None:
    for i in range(10):
        assert _create(emu_origin_client, f"g{i}").status_code == 200
    eleventh = _create(emu_origin_client, "g10")
    assert eleventh.status_code == 400
    assert eleventh.json()["errors"][0]["code"] == 7005
    # another account has its own ten
    other = emu_origin_client.post("/client/v4/accounts/other/ai-gateway/gateways", headers=API_AUTH,
                                   json={"id": "g10", **REQUIRED})
    assert other.status_code == 200


def test_update_cannot_rename(emu_origin_client: httpx.Client) -> None:
    _create(emu_origin_client, "named")
    r = emu_origin_client.put(f"{BASE}/named", headers=API_AUTH, json={"id": "renamed", **REQUIRED})
    assert r.status_code == 400


def test_gateway_used_in_a_url_is_created_with_defaults(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"/v1/{TEST_ACCOUNT}/default/openai/chat/completions", json=CHAT, headers=KEY)
    assert r.status_code == 200
    gw = emu_origin_client.get(f"{BASE}/default", headers=API_AUTH).json()["result"]
    assert gw["is_default"] is True
    assert (gw["collect_logs"], gw["authentication"], gw["cache_ttl"], gw["rate_limiting_limit"]) == \
        (True, False, 0, None)


def test_unusable_gateway_id_in_url(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"/v1/{TEST_ACCOUNT}/{'x' * 65}/openai/chat/completions", json=CHAT, headers=KEY)
    assert r.status_code == 404
    assert r.json()["error"][0]["code"] == 2010


def test_no_auto_creation_past_ten(emu_origin_client: httpx.Client) -> None:
    for i in range(10):
        _create(emu_origin_client, f"g{i}")
    r = emu_origin_client.post(f"/v1/{TEST_ACCOUNT}/eleventh/openai/chat/completions", json=CHAT, headers=KEY)
    assert r.status_code == 404
    assert emu_origin_client.post(f"/v1/{TEST_ACCOUNT}/g3/openai/chat/completions", json=CHAT,
                                  headers=KEY).status_code == 200


def test_gateway_url_endpoint(emu_origin_client: httpx.Client) -> None:
    _create(emu_origin_client, "urls")
    r = emu_origin_client.get(f"{BASE}/urls/url/openai", headers=API_AUTH)
    assert r.json()["result"] == f"http://emulator.local/v1/{TEST_ACCOUNT}/urls/openai"


def test_delete_removes_logs(emu_origin_client: httpx.Client) -> None:
    emu_origin_client.post(f"/v1/{TEST_ACCOUNT}/temp/openai/chat/completions", json=CHAT, headers=KEY)
    assert len(emu_origin_client.get(f"{BASE}/temp/logs", headers=API_AUTH).json()["result"]) == 1
    emu_origin_client.delete(f"{BASE}/temp", headers=API_AUTH)
    emu_origin_client.post(f"/v1/{TEST_ACCOUNT}/temp/openai/chat/completions", json=CHAT, headers=KEY)
    assert len(emu_origin_client.get(f"{BASE}/temp/logs", headers=API_AUTH).json()["result"]) == 1


# -- rate limiting ---------------------------------------------------------------------------------

@pytest.fixture
def clock(emulator: Emulator) -> FakeClock:
    fake = FakeClock(6000.0)  # a multiple of 60: a fixed window starts here
    state: GatewayState = emulator.components["gateway"]
    state.clock = fake
    return fake


def _limited(client: httpx.Client, technique: str) -> str:
    assert _create(client, "limited", rate_limiting_limit=2, rate_limiting_interval=60,
                   rate_limiting_technique=technique).status_code == 200
    return f"/v1/{TEST_ACCOUNT}/limited/openai/chat/completions"


def test_rate_limit_answers_429_and_does_not_forward(emulator: Emulator, emu_origin_client: httpx.Client,
                                                     clock: FakeClock) -> None:
    _limited(emu_origin_client, "fixed")
    url = f"/v1/{TEST_ACCOUNT}/limited/workers-ai/@cf/meta/llama-3.1-8b-instruct"
    codes = [emu_origin_client.post(url, json={"prompt": "x"}, headers=API_AUTH).status_code for _ in range(2)]
    forwarded = emulator.requests["ai/run"]
    r = emu_origin_client.post(url, json={"prompt": "x"}, headers=API_AUTH)
    assert codes == [200, 200]
    assert r.status_code == 429
    assert r.json() == {"success": False, "error": [{"code": 2003, "message": r.json()["error"][0]["message"]}]}
    assert int(r.headers["retry-after"]) == 60
    assert emulator.requests["ai/run"] == forwarded  # never reached Workers AI
    logs = emu_origin_client.get(f"{BASE}/limited/logs", headers=API_AUTH).json()["result"]
    assert logs[0]["status_code"] == 429 and logs[0]["id"] == r.headers["cf-aig-log-id"]


def test_fixed_window_resets_at_the_boundary(emu_origin_client: httpx.Client, clock: FakeClock) -> None:
    url = _limited(emu_origin_client, "fixed")
    clock.now = 6050.0
    assert [emu_origin_client.post(url, json=CHAT, headers=KEY).status_code for _ in range(3)] == [200, 200, 429]
    clock.now = 6061.0  # a new window: the full budget again
    assert [emu_origin_client.post(url, json=CHAT, headers=KEY).status_code for _ in range(3)] == [200, 200, 429]


def test_sliding_window_counts_the_last_interval(emu_origin_client: httpx.Client, clock: FakeClock) -> None:
    url = _limited(emu_origin_client, "sliding")
    clock.now = 6050.0
    assert [emu_origin_client.post(url, json=CHAT, headers=KEY).status_code for _ in range(2)] == [200, 200]
    clock.now = 6061.0  # a fixed window would have reset; the sliding one still holds both requests
    r = emu_origin_client.post(url, json=CHAT, headers=KEY)
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) == 49
    clock.now = 6110.5
    assert emu_origin_client.post(url, json=CHAT, headers=KEY).status_code == 200


def test_rate_limit_applies_to_universal_requests_once(emu_origin_client: httpx.Client, clock: FakeClock) -> None:
    _limited(emu_origin_client, "fixed")
    step = {"provider": "openai", "endpoint": "chat/completions", "headers": KEY,
            "query": {**CHAT, "model": "error-500"}}
    ok = {**step, "query": CHAT}
    url = f"/v1/{TEST_ACCOUNT}/limited"
    statuses = [emu_origin_client.post(url, json=[step, step, ok]).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_rate_limit_and_logs_are_thread_safe(emu_origin_client: httpx.Client, clock: FakeClock) -> None:
    assert _create(emu_origin_client, "busy", rate_limiting_limit=10, rate_limiting_interval=60).status_code == 200
    url = f"/v1/{TEST_ACCOUNT}/busy/openai/chat/completions"

    def one(i: int) -> httpx.Response:
        body = {**CHAT, "messages": [{"role": "user", "content": f"request {i}"}]}
        return emu_origin_client.post(url, json=body, headers=KEY)

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(one, range(40)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [429] * 30
    logs = emu_origin_client.get(f"{BASE}/busy/logs", params={"per_page": "50"}, headers=API_AUTH).json()
    assert logs["result_info"]["total_count"] == 40
    assert len({e["id"] for e in logs["result"]}) == 40
