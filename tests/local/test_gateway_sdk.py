"""Cloudflare's own Python SDK against the emulator's AI Gateway management and logs API.

The SDK was written against the real service, so it parsing every answer is evidence that the
emulator's shapes (envelope, pagination, field names and types) are wire-faithful.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from cloudflare import Cloudflare, NotFoundError

from cf_core.local import LOCAL_BASE_URL, Emulator, EmulatorTransport
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN


@pytest.fixture
def sdk(emulator: Emulator) -> Iterator[Cloudflare]:
    http = httpx.Client(transport=EmulatorTransport(emulator))
    client = Cloudflare(api_token=TEST_TOKEN, base_url=LOCAL_BASE_URL, http_client=http, max_retries=0)
    yield client
    client.close()


def test_sdk_gateway_crud(sdk: Cloudflare) -> None:
    created = sdk.ai_gateway.create(account_id=TEST_ACCOUNT, id="sdk-gw", cache_invalidate_on_update=False,
                                    cache_ttl=120, collect_logs=True, rate_limiting_interval=60,
                                    rate_limiting_limit=100, rate_limiting_technique="fixed")
    assert created.id == "sdk-gw" and created.cache_ttl == 120
    assert created.created_at.tzinfo is not None
    fetched = sdk.ai_gateway.get("sdk-gw", account_id=TEST_ACCOUNT)
    assert fetched.rate_limiting_limit == 100
    listed = [g.id for g in sdk.ai_gateway.list(account_id=TEST_ACCOUNT)]
    assert listed == ["sdk-gw"]
    updated = sdk.ai_gateway.update("sdk-gw", account_id=TEST_ACCOUNT, cache_invalidate_on_update=True,
                                    cache_ttl=None, collect_logs=False, rate_limiting_interval=None,
                                    rate_limiting_limit=None)
    assert updated.collect_logs is False and updated.cache_ttl is None
    sdk.ai_gateway.delete("sdk-gw", account_id=TEST_ACCOUNT)
    with pytest.raises(NotFoundError):
        sdk.ai_gateway.get("sdk-gw", account_id=TEST_ACCOUNT)


def test_sdk_reads_and_edits_logs(emulator: Emulator, sdk: Cloudflare) -> None:
    with httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator.local") as raw:
        for word in ("one", "two", "three"):
            r = raw.post(f"/v1/{TEST_ACCOUNT}/logged/openai/chat/completions",
                         json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": word}]},
                         headers={"authorization": "Bearer sk", "cf-aig-metadata": f'{{"word": "{word}"}}'})
            assert r.status_code == 200
    page = sdk.ai_gateway.logs.list("logged", account_id=TEST_ACCOUNT, per_page=2, direction="asc")
    assert [e.metadata for e in page.result] == ['{"word":"one"}', '{"word":"two"}']
    every = list(sdk.ai_gateway.logs.list("logged", account_id=TEST_ACCOUNT, per_page=2))
    assert len(every) == 3  # the SDK follows page after page until one comes back empty
    one = sdk.ai_gateway.logs.get(page.result[0].id, account_id=TEST_ACCOUNT, gateway_id="logged")
    assert one.provider == "openai" and one.success and one.request_size and one.request_size > 0
    sdk.ai_gateway.logs.edit(one.id, account_id=TEST_ACCOUNT, gateway_id="logged", feedback=1, score=50)
    request_body = sdk.ai_gateway.logs.request(one.id, account_id=TEST_ACCOUNT, gateway_id="logged")
    assert request_body == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "one"}]}
    gone = sdk.ai_gateway.logs.delete("logged", account_id=TEST_ACCOUNT)
    assert gone.success is True
    assert list(sdk.ai_gateway.logs.list("logged", account_id=TEST_ACCOUNT)) == []
