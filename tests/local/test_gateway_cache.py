"""AI Gateway caching: TTL header and gateway setting, skip, custom key, expiry, what is never cached."""

from __future__ import annotations

import httpx
import pytest

from cf_core.local import Emulator
from cf_core.local.gateway import GatewayState
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN
from tests.support import FakeClock

GW = f"/v1/{TEST_ACCOUNT}/cache-gw"
OPENAI = f"{GW}/openai/chat/completions"
KEY = {"authorization": "Bearer sk-test"}
API_AUTH = {"authorization": f"Bearer {TEST_TOKEN}"}


def _chat(content: str, model: str = "gpt-4o-mini") -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": content}]}


@pytest.fixture
def clock(emulator: Emulator) -> FakeClock:
    fake = FakeClock(1000.0)
    state: GatewayState = emulator.components["gateway"]
    state.clock = fake
    return fake


def test_ttl_header_gives_miss_then_hit_with_same_body(emu_origin_client: httpx.Client) -> None:
    headers = {**KEY, "cf-aig-cache-ttl": "120"}
    first = emu_origin_client.post(OPENAI, json=_chat("cache me"), headers=headers)
    second = emu_origin_client.post(OPENAI, json=_chat("cache me"), headers=headers)
    assert first.headers["cf-aig-cache-status"] == "MISS"
    assert second.headers["cf-aig-cache-status"] == "HIT"
    assert second.json() == first.json()  # ids included: the stored answer, not a new one
    assert second.headers["cf-aig-log-id"] != first.headers["cf-aig-log-id"]


def test_different_body_misses(emu_origin_client: httpx.Client) -> None:
    headers = {**KEY, "cf-aig-cache-ttl": "120"}
    emu_origin_client.post(OPENAI, json=_chat("one"), headers=headers)
    other = emu_origin_client.post(OPENAI, json=_chat("two"), headers=headers)
    assert other.headers["cf-aig-cache-status"] == "MISS"


def test_different_provider_key_misses(emu_origin_client: httpx.Client) -> None:
    emu_origin_client.post(OPENAI, json=_chat("same"), headers={**KEY, "cf-aig-cache-ttl": "120"})
    other = emu_origin_client.post(OPENAI, json=_chat("same"),
                                   headers={"authorization": "Bearer sk-other", "cf-aig-cache-ttl": "120"})
    assert other.headers["cf-aig-cache-status"] == "MISS"


def test_no_ttl_means_no_cache_on_a_default_gateway(emu_origin_client: httpx.Client) -> None:
    emu_origin_client.post(OPENAI, json=_chat("x"), headers=KEY)
    again = emu_origin_client.post(OPENAI, json=_chat("x"), headers=KEY)
    assert again.headers["cf-aig-cache-status"] == "MISS"


def test_ttl_zero_disables_cache(emu_origin_client: httpx.Client) -> None:
    headers = {**KEY, "cf-aig-cache-ttl": "0"}
    emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers)
    assert emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers).headers["cf-aig-cache-status"] == "MISS"


def test_gateway_cache_ttl_setting_applies_without_header(emu_origin_client: httpx.Client) -> None:
    created = emu_origin_client.post(
        f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways", headers=API_AUTH,
        json={"id": "cached", "cache_ttl": 300, "cache_invalidate_on_update": False, "collect_logs": True,
              "rate_limiting_interval": None, "rate_limiting_limit": None})
    assert created.status_code == 200, created.text
    url = f"/v1/{TEST_ACCOUNT}/cached/openai/chat/completions"
    emu_origin_client.post(url, json=_chat("x"), headers=KEY)
    assert emu_origin_client.post(url, json=_chat("x"), headers=KEY).headers["cf-aig-cache-status"] == "HIT"
    # and a request can still opt out with ttl 0
    assert emu_origin_client.post(url, json=_chat("x"), headers={**KEY, "cf-aig-cache-ttl": "0"}) \
        .headers["cf-aig-cache-status"] == "MISS"


def test_update_with_cache_invalidate_on_update_clears_cache(emu_origin_client: httpx.Client) -> None:
    base = f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways"
    settings = {"cache_ttl": 300, "cache_invalidate_on_update": True, "collect_logs": True,
                "rate_limiting_interval": None, "rate_limiting_limit": None}
    emu_origin_client.post(base, headers=API_AUTH, json={"id": "inv", **settings})
    url = f"/v1/{TEST_ACCOUNT}/inv/openai/chat/completions"
    emu_origin_client.post(url, json=_chat("x"), headers=KEY)
    assert emu_origin_client.post(url, json=_chat("x"), headers=KEY).headers["cf-aig-cache-status"] == "HIT"
    assert emu_origin_client.put(f"{base}/inv", headers=API_AUTH, json=settings).status_code == 200
    assert emu_origin_client.post(url, json=_chat("x"), headers=KEY).headers["cf-aig-cache-status"] == "MISS"


def test_skip_cache_bypasses(emu_origin_client: httpx.Client) -> None:
    headers = {**KEY, "cf-aig-cache-ttl": "120"}
    emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers)
    skipped = emu_origin_client.post(OPENAI, json=_chat("x"), headers={**headers, "cf-aig-skip-cache": "true"})
    assert skipped.headers["cf-aig-cache-status"] == "MISS"
    assert emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers).headers["cf-aig-cache-status"] == "HIT"


def test_deprecated_header_names_still_work(emu_origin_client: httpx.Client) -> None:
    emu_origin_client.post(OPENAI, json=_chat("old"), headers={**KEY, "cf-cache-ttl": "120"})
    hit = emu_origin_client.post(OPENAI, json=_chat("old"), headers={**KEY, "cf-cache-ttl": "120"})
    assert hit.headers["cf-aig-cache-status"] == "HIT"
    skipped = emu_origin_client.post(OPENAI, json=_chat("old"),
                                     headers={**KEY, "cf-cache-ttl": "120", "cf-skip-cache": "true"})
    assert skipped.headers["cf-aig-cache-status"] == "MISS"


def test_custom_cache_key_ignores_body(emu_origin_client: httpx.Client) -> None:
    headers = {**KEY, "cf-aig-cache-key": "greeting"}
    first = emu_origin_client.post(OPENAI, json=_chat("hello"), headers=headers)
    second = emu_origin_client.post(OPENAI, json=_chat("a different question"), headers=headers)
    assert second.headers["cf-aig-cache-status"] == "HIT"
    assert second.json() == first.json()


def test_custom_key_without_gateway_caching_lives_five_minutes(emu_origin_client: httpx.Client,
                                                               clock: FakeClock) -> None:
    headers = {**KEY, "cf-aig-cache-key": "k5"}
    emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers)
    clock.now += 299
    assert emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers).headers["cf-aig-cache-status"] == "HIT"
    clock.now += 2
    assert emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers).headers["cf-aig-cache-status"] == "MISS"


def test_entries_expire_after_ttl(emu_origin_client: httpx.Client, clock: FakeClock) -> None:
    headers = {**KEY, "cf-aig-cache-ttl": "120"}
    emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers)
    clock.now += 119
    assert emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers).headers["cf-aig-cache-status"] == "HIT"
    clock.now += 2
    assert emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers).headers["cf-aig-cache-status"] == "MISS"


def test_ttl_below_minimum_is_raised_to_sixty_seconds(emu_origin_client: httpx.Client, clock: FakeClock) -> None:
    headers = {**KEY, "cf-aig-cache-ttl": "5"}
    emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers)
    clock.now += 30
    assert emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers).headers["cf-aig-cache-status"] == "HIT"
    clock.now += 31
    assert emu_origin_client.post(OPENAI, json=_chat("x"), headers=headers).headers["cf-aig-cache-status"] == "MISS"


def test_errors_are_not_cached(emu_origin_client: httpx.Client) -> None:
    headers = {**KEY, "cf-aig-cache-ttl": "120"}
    for _ in range(2):
        r = emu_origin_client.post(OPENAI, json=_chat("x", "error-500"), headers=headers)
        assert r.status_code == 500
        assert r.headers["cf-aig-cache-status"] == "MISS"


def test_streams_are_not_cached(emu_origin_client: httpx.Client) -> None:
    body = {**_chat("x"), "stream": True}
    headers = {**KEY, "cf-aig-cache-ttl": "120"}
    emu_origin_client.post(OPENAI, json=body, headers=headers)
    assert emu_origin_client.post(OPENAI, json=body, headers=headers).headers["cf-aig-cache-status"] == "MISS"


@pytest.mark.parametrize(("header", "value"), [
    ("cf-aig-cache-ttl", "soon"), ("cf-aig-cache-ttl", "-1"), ("cf-aig-skip-cache", "maybe"),
])
def test_bad_cache_header_values_are_rejected(emu_origin_client: httpx.Client, header: str, value: str) -> None:
    r = emu_origin_client.post(OPENAI, json=_chat("x"), headers={**KEY, header: value})
    assert r.status_code == 400
    assert r.json()["error"][0]["code"] == 2001
    assert header in r.json()["error"][0]["message"]


def test_workers_ai_native_answer_is_cached(emu_origin_client: httpx.Client) -> None:
    url = f"{GW}/workers-ai/@cf/meta/llama-3.1-8b-instruct"
    headers = {**API_AUTH, "cf-aig-cache-ttl": "120"}
    first = emu_origin_client.post(url, json={"prompt": "hello"}, headers=headers)
    second = emu_origin_client.post(url, json={"prompt": "hello"}, headers=headers)
    assert first.status_code == 200, first.text
    assert (first.headers["cf-aig-cache-status"], second.headers["cf-aig-cache-status"]) == ("MISS", "HIT")
    assert second.content == first.content
