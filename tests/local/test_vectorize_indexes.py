"""Vectorize v2 index management against the emulator, over raw httpx."""

from __future__ import annotations

import httpx
import pytest

from cf_core.local import Emulator

BASE = "/accounts/acc-test/vectorize/v2/indexes"


def _create(client: httpx.Client, name: str, **config: object) -> httpx.Response:
    return client.post(BASE, json={"name": name, "description": "d", "config": config or {"dimensions": 3, "metric": "cosine"}})


def _error(resp: httpx.Response) -> tuple[int, str]:
    body = resp.json()
    assert body["success"] is False and body["result"] is None
    return body["errors"][0]["code"], body["errors"][0]["message"]


def test_create_returns_201_with_index_object(emu_client: httpx.Client) -> None:
    resp = _create(emu_client, "docs", dimensions=768, metric="euclidean")
    assert resp.status_code == 201
    body = resp.json()
    assert body["success"] is True and body["errors"] == []
    idx = body["result"]
    assert idx["name"] == "docs" and idx["description"] == "d"
    assert idx["config"] == {"dimensions": 768, "metric": "euclidean"}
    assert idx["created_on"].endswith("Z") and idx["modified_on"] == idx["created_on"]


@pytest.mark.parametrize(("preset", "dims"), [("@cf/baai/bge-small-en-v1.5", 384), ("@cf/baai/bge-base-en-v1.5", 768),
                                              ("@cf/baai/bge-large-en-v1.5", 1024),
                                              ("openai/text-embedding-ada-002", 1536),
                                              ("cohere/embed-multilingual-v2.0", 768)])
def test_create_from_preset(emu_client: httpx.Client, preset: str, dims: int) -> None:
    resp = emu_client.post(BASE, json={"name": "p", "config": {"preset": preset}})
    assert resp.status_code == 201
    assert resp.json()["result"]["config"] == {"dimensions": dims, "metric": "cosine"}
    assert emu_client.get(f"{BASE}/p/info").json()["result"]["dimensions"] == dims


def test_duplicate_name_is_3002(emu_client: httpx.Client) -> None:
    assert _create(emu_client, "dup").status_code == 201
    resp = _create(emu_client, "dup")
    assert resp.status_code == 400
    code, message = _error(resp)
    assert code == 3002 and "vectorize.index.duplicate_name" in message and '"dup"' in message


@pytest.mark.parametrize("body", [
    {"name": "x", "config": {"dimensions": 0, "metric": "cosine"}},
    {"name": "x", "config": {"dimensions": 1537, "metric": "cosine"}},
    {"name": "x", "config": {"dimensions": 3.5, "metric": "cosine"}},
    {"name": "x", "config": {"dimensions": 3, "metric": "manhattan"}},
    {"name": "x", "config": {"preset": "@cf/unknown/model"}},
    {"name": "x", "config": {"preset": "@cf/baai/bge-base-en-v1.5", "dimensions": 3}},
    {"name": "x"},
    {"name": "x", "config": {"dimensions": 3, "metric": "cosine"}, "description": 5},
])
def test_invalid_config_is_rejected(emu_client: httpx.Client, body: dict[str, object]) -> None:
    resp = emu_client.post(BASE, json=body)
    assert resp.status_code == 400
    code, message = _error(resp)
    assert code == 3001 and message.startswith("vectorize.index.invalid_config - ")


def test_max_dimensions_is_accepted(emu_client: httpx.Client) -> None:
    assert _create(emu_client, "big", dimensions=1536, metric="dot-product").status_code == 201


@pytest.mark.parametrize("name", ["", "a" * 65, "has space", "slash/name", "-lead"])
def test_invalid_index_names(emu_client: httpx.Client, name: str) -> None:
    resp = emu_client.post(BASE, json={"name": name, "config": {"dimensions": 3, "metric": "cosine"}})
    assert resp.status_code == 400
    assert _error(resp)[0] == 3004


def test_name_of_64_bytes_is_accepted(emu_client: httpx.Client) -> None:
    assert _create(emu_client, "n" * 64).status_code == 201


def test_get_list_delete(emu_client: httpx.Client) -> None:
    _create(emu_client, "one")
    _create(emu_client, "two", dimensions=5, metric="dot-product")
    assert [i["name"] for i in emu_client.get(BASE).json()["result"]] == ["one", "two"]
    got = emu_client.get(f"{BASE}/two").json()["result"]
    assert got["config"] == {"dimensions": 5, "metric": "dot-product"}
    resp = emu_client.delete(f"{BASE}/one")
    assert resp.status_code == 200 and resp.json() == {"result": None, "success": True, "errors": [], "messages": []}
    assert [i["name"] for i in emu_client.get(BASE).json()["result"]] == ["two"]


def test_indexes_are_per_account(emu_client: httpx.Client) -> None:
    _create(emu_client, "mine")
    assert emu_client.get("/accounts/other/vectorize/v2/indexes").json()["result"] == []
    assert emu_client.get("/accounts/other/vectorize/v2/indexes/mine").status_code == 400


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("DELETE", ""), ("GET", "/info"),
                                                ("POST", "/query"), ("POST", "/insert"), ("GET", "/list"),
                                                ("GET", "/metadata_index/list"), ("POST", "/get_by_ids")])
def test_missing_index_is_3000_with_http_400(emu_client: httpx.Client, method: str, suffix: str) -> None:
    kwargs: dict[str, object] = {}
    if method == "POST":
        kwargs["json"] = {"vector": [1, 2, 3], "ids": ["a"]}
    resp = emu_client.request(method, f"{BASE}/ghost{suffix}", **kwargs)  # type: ignore[arg-type]
    assert resp.status_code == 400
    code, message = _error(resp)
    assert code == 3000
    assert message == 'vectorize.index.not_found - Index name "ghost"'


def test_deleted_name_can_be_reused_without_old_vectors(emu_client: httpx.Client) -> None:
    _create(emu_client, "reuse")
    emu_client.post(f"{BASE}/reuse/upsert", content=b'{"id":"a","values":[1,2,3]}')
    emu_client.delete(f"{BASE}/reuse")
    assert _create(emu_client, "reuse", dimensions=2, metric="cosine").status_code == 201
    info = emu_client.get(f"{BASE}/reuse/info").json()["result"]
    assert info == {"dimensions": 2, "vectorCount": 0}


def test_info_before_and_after_a_mutation(emu_client: httpx.Client) -> None:
    _create(emu_client, "inf")
    assert emu_client.get(f"{BASE}/inf/info").json()["result"] == {"dimensions": 3, "vectorCount": 0}
    mid = emu_client.post(f"{BASE}/inf/insert", content=b'{"id":"a","values":[1,2,3]}').json()["result"]["mutationId"]
    info = emu_client.get(f"{BASE}/inf/info").json()["result"]
    assert info["vectorCount"] == 1 and info["processedUpToMutation"] == mid
    assert info["processedUpToDatetime"].endswith("Z")


def test_unknown_token_is_rejected_before_vectorize(emulator: Emulator) -> None:
    from cf_core.local import LOCAL_BASE_URL, EmulatorTransport

    emulator.config.tokens = {"good"}
    with httpx.Client(transport=EmulatorTransport(emulator), base_url=LOCAL_BASE_URL,
                      headers={"authorization": "Bearer bad"}) as client:
        resp = client.get(BASE)
    assert resp.status_code == 401 and resp.json()["errors"][0]["code"] == 10000
