"""The gateway logs API: list (paging, filters, order, search), get, request/response, edit, delete."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cf_core.catalog import info, usd_for_neurons
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN

GW = f"/v1/{TEST_ACCOUNT}/log-gw"
OPENAI = f"{GW}/openai/chat/completions"
BASE = f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways"
LOGS = f"{BASE}/log-gw/logs"
KEY = {"authorization": "Bearer sk-test"}
API_AUTH = {"authorization": f"Bearer {TEST_TOKEN}"}


def _chat(content: str, model: str = "gpt-4o-mini") -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": content}]}


def _send(client: httpx.Client, content: str, model: str = "gpt-4o-mini", **headers: str) -> httpx.Response:
    return client.post(OPENAI, json=_chat(content, model), headers={**KEY, **headers})


def _list(client: httpx.Client, **params: str) -> dict[str, object]:
    r = client.get(LOGS, params=params, headers=API_AUTH)
    assert r.status_code == 200, r.text
    result: dict[str, object] = r.json()
    return result


def _ids(client: httpx.Client, **params: str) -> list[str]:
    return [e["id"] for e in _list(client, **params)["result"]]  # type: ignore[attr-defined]


@pytest.fixture
def five(emu_origin_client: httpx.Client) -> list[str]:
    """Five log entries, oldest first: three successes (one cached), two failures."""
    ids = [
        _send(emu_origin_client, "alpha", **{"cf-aig-metadata": '{"user": "ann", "tier": "gold"}'}),
        _send(emu_origin_client, "beta", "error-500", **{"cf-aig-metadata": '{"user": "bob"}'}),
        _send(emu_origin_client, "gamma", **{"cf-aig-cache-ttl": "100", "cf-aig-event-id": "ev-9"}),
        _send(emu_origin_client, "gamma", **{"cf-aig-cache-ttl": "100"}),
        _send(emu_origin_client, "delta", "error-429"),
    ]
    return [r.headers["cf-aig-log-id"] for r in ids]


def test_list_newest_first_with_result_info(emu_origin_client: httpx.Client, five: list[str]) -> None:
    body = _list(emu_origin_client)
    assert [e["id"] for e in body["result"]] == five[::-1]  # type: ignore[attr-defined]
    assert body["result_info"] == {"page": 1, "per_page": 20, "count": 5, "total_count": 5}
    first = body["result"][0]  # type: ignore[index]
    for field in ("id", "created_at", "provider", "model", "path", "duration", "success", "cached",
                  "status_code", "tokens_in", "tokens_out", "cost", "metadata", "step", "event_id"):
        assert field in first
    assert datetime.fromisoformat(first["created_at"].replace("Z", "+00:00")).tzinfo is not None


def test_pagination(emu_origin_client: httpx.Client, five: list[str]) -> None:
    pages = [_ids(emu_origin_client, page=str(p), per_page="2", direction="asc") for p in (1, 2, 3, 4)]
    assert pages == [five[0:2], five[2:4], five[4:5], []]
    info_ = _list(emu_origin_client, page="3", per_page="2")["result_info"]
    assert info_ == {"page": 3, "per_page": 2, "count": 1, "total_count": 5}


def test_filters_success_cached_model(emu_origin_client: httpx.Client, five: list[str]) -> None:
    assert set(_ids(emu_origin_client, success="false")) == {five[1], five[4]}
    assert _ids(emu_origin_client, cached="true") == [five[3]]
    assert _ids(emu_origin_client, model="error-429") == [five[4]]
    assert len(_ids(emu_origin_client, provider="openai")) == 5
    assert _ids(emu_origin_client, provider="workers-ai") == []


def test_metadata_search_and_structured_filters(emu_origin_client: httpx.Client, five: list[str]) -> None:
    assert _ids(emu_origin_client, search="gold") == [five[0]]
    assert _ids(emu_origin_client, search="ev-9") == [five[2]]
    as_json = json.dumps([{"key": "metadata.value", "operator": "eq", "value": ["bob"]}])
    assert _ids(emu_origin_client, filters=as_json) == [five[1]]
    bracket = {"filters[0][key]": "metadata.key", "filters[0][operator]": "eq", "filters[0][value][]": "tier"}
    assert _ids(emu_origin_client, **bracket) == [five[0]]
    dotted = {"filters.key": "event_id", "filters.operator": "eq", "filters.value": "ev-9"}
    assert _ids(emu_origin_client, **dotted) == [five[2]]
    tokens = json.dumps([{"key": "tokens_in", "operator": "gt", "value": [0]}])
    assert set(_ids(emu_origin_client, filters=tokens)) == {five[0], five[2], five[3]}


def test_token_and_date_ranges(emu_origin_client: httpx.Client, five: list[str]) -> None:
    assert set(_ids(emu_origin_client, min_tokens_in="1")) == {five[0], five[2], five[3]}
    assert set(_ids(emu_origin_client, max_total_tokens="0")) == {five[1], five[4]}
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    assert _ids(emu_origin_client, start_date=later) == []
    assert len(_ids(emu_origin_client, start_date=earlier, end_date=later)) == 5


def test_order_by_model(emu_origin_client: httpx.Client, five: list[str]) -> None:
    models = [e["model"] for e in _list(emu_origin_client, order_by="model", direction="asc")["result"]]  # type: ignore[attr-defined]
    assert models == sorted(models)


@pytest.mark.parametrize("params", [
    {"cached": "maybe"}, {"order_by": "cost"}, {"direction": "sideways"}, {"min_cost": "lots"},
    {"start_date": "yesterday"}, {"page": "0"}, {"filters": "[{\"key\": \"nope\", \"operator\": \"eq\", \"value\": [1]}]"},
    {"filters": "[{\"key\": \"model\", \"operator\": \"like\", \"value\": [\"x\"]}]"}, {"filters": "{oops"},
])
def test_bad_list_parameters(emu_origin_client: httpx.Client, five: list[str], params: dict[str, str]) -> None:
    r = emu_origin_client.get(LOGS, params=params, headers=API_AUTH)
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == 7001


def test_get_one_log_with_heads(emu_origin_client: httpx.Client, five: list[str]) -> None:
    r = emu_origin_client.get(f"{LOGS}/{five[0]}", headers=API_AUTH)
    entry = r.json()["result"]
    assert entry["id"] == five[0]
    assert json.loads(entry["request_head"]) == _chat("alpha")
    assert entry["request_head_complete"] is True
    assert entry["request_size"] == len(entry["request_head"].encode())
    assert "alpha" in entry["response_head"]
    assert entry["response_size"] > 0
    # The stored bodies come back as they were, without the v4 envelope.
    assert emu_origin_client.get(f"{LOGS}/{five[0]}/request", headers=API_AUTH).json() == _chat("alpha")
    response = emu_origin_client.get(f"{LOGS}/{five[0]}/response", headers=API_AUTH).json()
    assert response["object"] == "chat.completion"


def test_unknown_log_and_gateway_are_404(emu_origin_client: httpx.Client, five: list[str]) -> None:
    assert emu_origin_client.get(f"{LOGS}/NOPE", headers=API_AUTH).status_code == 404
    assert emu_origin_client.get(f"{BASE}/never-used/logs", headers=API_AUTH).status_code == 404


def test_patch_feedback_score_metadata(emu_origin_client: httpx.Client, five: list[str]) -> None:
    r = emu_origin_client.patch(f"{LOGS}/{five[0]}", headers=API_AUTH,
                                json={"feedback": 1, "score": 87, "metadata": {"reviewed": True}})
    assert r.status_code == 200, r.text
    entry = emu_origin_client.get(f"{LOGS}/{five[0]}", headers=API_AUTH).json()["result"]
    assert (entry["feedback"], entry["score"], json.loads(entry["metadata"])) == (1, 87.0, {"reviewed": True})
    assert _ids(emu_origin_client, feedback="1") == [five[0]]


@pytest.mark.parametrize("body", [
    {"feedback": 2}, {"score": 101}, {"metadata": {"a": [1]}}, {"metadata": {str(i): i for i in range(6)}},
    {"rating": 1},
])
def test_patch_validation(emu_origin_client: httpx.Client, five: list[str], body: dict[str, object]) -> None:
    r = emu_origin_client.patch(f"{LOGS}/{five[0]}", headers=API_AUTH, json=body)
    assert r.status_code == 400


def test_delete_with_filter_and_limit(emu_origin_client: httpx.Client, five: list[str]) -> None:
    failed = json.dumps([{"key": "success", "operator": "eq", "value": [False]}])
    r = emu_origin_client.delete(LOGS, params={"filters": failed}, headers=API_AUTH)
    assert r.status_code == 200 and r.json()["success"] is True
    assert set(_ids(emu_origin_client)) == {five[0], five[2], five[3]}
    emu_origin_client.delete(LOGS, params={"limit": "1", "order_by": "created_at", "order_by_direction": "asc"},
                             headers=API_AUTH)
    assert set(_ids(emu_origin_client)) == {five[2], five[3]}
    emu_origin_client.delete(LOGS, headers=API_AUTH)
    assert _ids(emu_origin_client) == []


def test_workers_ai_log_cost_from_catalog_prices(emu_origin_client: httpx.Client) -> None:
    model = "@cf/meta/llama-3.1-8b-instruct"
    r = emu_origin_client.post(f"{GW}/workers-ai/{model}", json={"prompt": "Say something"}, headers=API_AUTH)
    assert r.status_code == 200, r.text
    usage = r.json()["result"]["usage"]
    entry = emu_origin_client.get(f"{LOGS}/{r.headers['cf-aig-log-id']}", headers=API_AUTH).json()["result"]
    assert (entry["tokens_in"], entry["tokens_out"]) == (usage["prompt_tokens"], usage["completion_tokens"])
    price = info(model).price
    neurons = usage["prompt_tokens"] / 1e6 * (price.neurons_per_m_input_tokens or 0) + \
        usage["completion_tokens"] / 1e6 * (price.neurons_per_m_output_tokens or 0)
    assert entry["cost"] == pytest.approx(usd_for_neurons(neurons))
    assert entry["cost"] > 0
    assert entry["model_type"] == "chat"


def _gateway(client: httpx.Client, gateway_id: str, **settings: object) -> None:
    body = {"id": gateway_id, "cache_ttl": 0, "cache_invalidate_on_update": False, "collect_logs": True,
            "rate_limiting_interval": None, "rate_limiting_limit": None, **settings}
    assert client.post(BASE, headers=API_AUTH, json=body).status_code == 200


@pytest.mark.parametrize(("strategy", "kept"), [("STOP_INSERTING", ["a", "b"]), ("DELETE_OLDEST", ["b", "c"])])
def test_log_management_limit(emu_origin_client: httpx.Client, strategy: str, kept: list[str]) -> None:
    _gateway(emu_origin_client, "small", log_management=2, log_management_strategy=strategy)
    for word in ("a", "b", "c"):
        emu_origin_client.post(f"/v1/{TEST_ACCOUNT}/small/openai/chat/completions", json=_chat(word), headers=KEY)
    logs = emu_origin_client.get(f"{BASE}/small/logs?direction=asc", headers=API_AUTH).json()["result"]
    contents = [emu_origin_client.get(f"{BASE}/small/logs/{e['id']}/request", headers=API_AUTH)
                .json()["messages"][0]["content"] for e in logs]
    assert contents == kept
