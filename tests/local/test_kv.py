"""Workers KV against the emulator, over raw httpx: namespaces, values, metadata, expiry, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from cf_core.local import LOCAL_BASE_URL, Emulator, EmulatorTransport
from tests.support import FakeClock

BASE = "/accounts/acc-test/storage/kv/namespaces"
HEADERS = {"authorization": "Bearer test-token-0123456789"}


@pytest.fixture
def ns(emu_client: httpx.Client) -> str:
    resp = emu_client.post(BASE, json={"title": "cache"})
    assert resp.status_code == 200, resp.text
    return f"{BASE}/{resp.json()['result']['id']}"


def error_of(resp: httpx.Response, status: int) -> tuple[int, str]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["success"] is False
    return body["errors"][0]["code"], body["errors"][0]["message"]


def test_create_and_list_namespaces(emu_client: httpx.Client) -> None:
    created = emu_client.post(BASE, json={"title": "one"}).json()["result"]
    assert set(created) == {"id", "title", "supports_url_encoding"} and created["title"] == "one"
    assert len(created["id"]) == 32
    for i in range(6):
        emu_client.post(BASE, json={"title": f"t{i}"})
    listed = emu_client.get(BASE).json()
    assert [n["title"] for n in listed["result"]] == ["one"] + [f"t{i}" for i in range(6)]
    assert listed["result_info"] == {"page": 1, "per_page": 20, "count": 7, "total_count": 7, "total_pages": 1}
    page2 = emu_client.get(BASE, params={"page": 2, "per_page": 5}).json()
    assert [n["title"] for n in page2["result"]] == ["t4", "t5"]
    assert page2["result_info"]["total_pages"] == 2
    assert emu_client.get(f"{BASE}/{created['id']}").json()["result"] == created


def test_namespace_errors(emu_client: httpx.Client) -> None:
    emu_client.post(BASE, json={"title": "dup"})
    code, message = error_of(emu_client.post(BASE, json={"title": "dup"}), 400)
    assert code == 10014 and message == "a namespace with this account ID and title already exists"
    assert error_of(emu_client.post(BASE, json={}), 400)[0] == 10019
    assert error_of(emu_client.post(BASE, content=b"nope"), 400)[0] == 10019
    assert error_of(emu_client.get(BASE, params={"per_page": 1000}), 400)[0] == 10026
    assert error_of(emu_client.get(f"{BASE}/missing/values/k"), 404)[0] == 10013
    assert error_of(emu_client.put(f"{BASE}/missing/values/k", content=b"v"), 404)[0] == 10013


def test_put_get_delete_raw_value(emu_client: httpx.Client, ns: str) -> None:
    payload = bytes(range(256)) * 4
    resp = emu_client.put(f"{ns}/values/blob", content=payload)
    assert resp.status_code == 200 and resp.json()["success"] is True
    got = emu_client.get(f"{ns}/values/blob")
    assert got.status_code == 200 and got.content == payload
    assert got.headers["content-type"] == "application/octet-stream"
    assert emu_client.get(f"{ns}/metadata/blob").json()["result"] is None
    assert emu_client.delete(f"{ns}/values/blob").status_code == 200
    code, _ = error_of(emu_client.get(f"{ns}/values/blob"), 404)
    assert code == 10009
    assert emu_client.delete(f"{ns}/values/blob").status_code == 200  # deleting again is fine


def test_multipart_value_and_metadata(emu_client: httpx.Client, ns: str) -> None:
    resp = emu_client.put(f"{ns}/values/doc", files={"value": ("blob", b"\x00hello")},
                          data={"metadata": json.dumps({"model": "m", "n": 3})})
    assert resp.status_code == 200, resp.text
    assert emu_client.get(f"{ns}/values/doc").content == b"\x00hello"
    assert emu_client.get(f"{ns}/metadata/doc").json()["result"] == {"model": "m", "n": 3}
    # a later PUT without metadata replaces value and metadata together
    emu_client.put(f"{ns}/values/doc", content=b"v2")
    assert emu_client.get(f"{ns}/metadata/doc").json()["result"] is None


def test_multipart_errors(emu_client: httpx.Client, ns: str) -> None:
    assert error_of(emu_client.put(f"{ns}/values/d", files={"other": ("x", b"1")}), 400)[0] == 10012
    bad_meta = emu_client.put(f"{ns}/values/d", files={"value": ("x", b"1")}, data={"metadata": "{not json"})
    assert error_of(bad_meta, 400)[0] == 10012
    big_meta = emu_client.put(f"{ns}/values/d", files={"value": ("x", b"1")},
                              data={"metadata": json.dumps({"k": "x" * 1100})})
    assert error_of(big_meta, 400)[0] == 10012


@pytest.mark.parametrize("key", ["a/b/c", "with space", "q?uery&x=1", "percent%41", "ünï©ødé", "#hash"])
def test_keys_with_special_characters(emu_client: httpx.Client, ns: str, key: str) -> None:
    from urllib.parse import quote

    url = f"{ns}/values/{quote(key, safe='')}"
    assert emu_client.put(url, content=key.encode()).status_code == 200
    assert emu_client.get(url).content == key.encode()
    listed = emu_client.get(f"{ns}/keys").json()["result"]
    assert [k["name"] for k in listed] == [key]


def test_key_rules(emu_client: httpx.Client, ns: str) -> None:
    assert emu_client.put(f"{ns}/values/{'k' * 512}", content=b"v").status_code == 200
    code, message = error_of(emu_client.put(f"{ns}/values/{'k' * 513}", content=b"v"), 400)
    assert code == 10016 and "512" in message
    assert error_of(emu_client.put(f"{ns}/values/{'é' * 257}", content=b"v"), 400)[0] == 10016  # 514 bytes
    for dots in ("%2E", "%2E%2E"):
        assert error_of(emu_client.put(f"{ns}/values/{dots}", content=b"v"), 400)[0] == 10016


def test_value_size_limit(emu_client: httpx.Client, ns: str) -> None:
    limit = 25 * 1024 * 1024
    assert emu_client.put(f"{ns}/values/max", content=b"x" * limit).status_code == 200
    code, message = error_of(emu_client.put(f"{ns}/values/over", content=b"x" * (limit + 1)), 413)
    assert code == 10011 and str(limit) in message


def test_expiration_ttl_and_absolute(emu_client: httpx.Client, ns: str, emulator: Emulator) -> None:
    clock = FakeClock()
    emulator.components["kv"].clock = clock
    assert emu_client.put(f"{ns}/values/ttl", content=b"1", params={"expiration_ttl": 60}).status_code == 200
    at = int(clock.now) + 120
    assert emu_client.put(f"{ns}/values/abs", content=b"2", params={"expiration": at}).status_code == 200
    # when both are given the TTL wins
    both = emu_client.put(f"{ns}/values/both", content=b"3", params={"expiration": at, "expiration_ttl": "300.0"})
    assert both.status_code == 200
    assert emu_client.get(f"{ns}/values/ttl").headers["expiration"] == str(int(clock.now) + 60)
    keys = {k["name"]: k for k in emu_client.get(f"{ns}/keys").json()["result"]}
    assert keys["abs"]["expiration"] == at and keys["both"]["expiration"] == int(clock.now) + 300
    clock.now += 60
    assert error_of(emu_client.get(f"{ns}/values/ttl"), 404)[0] == 10009
    assert error_of(emu_client.get(f"{ns}/metadata/ttl"), 404)[0] == 10009
    assert emu_client.get(f"{ns}/values/abs").content == b"2"
    clock.now += 60
    assert emu_client.get(f"{ns}/values/abs").status_code == 404
    assert [k["name"] for k in emu_client.get(f"{ns}/keys").json()["result"]] == ["both"]


@pytest.mark.parametrize("params", [{"expiration_ttl": "59"}, {"expiration_ttl": "0"}, {"expiration_ttl": "soon"},
                                    {"expiration": "1"}, {"expiration_ttl": "nan"}])
def test_bad_expiration(emu_client: httpx.Client, ns: str, params: dict[str, str]) -> None:
    code, _ = error_of(emu_client.put(f"{ns}/values/k", content=b"v", params=params), 400)
    assert code == 10032
    assert emu_client.get(f"{ns}/values/k").status_code == 404


def test_list_keys_with_prefix_and_cursor(emu_client: httpx.Client, ns: str) -> None:
    for i in range(25):
        emu_client.put(f"{ns}/values/p-{i:02d}", content=b"v")
    emu_client.put(f"{ns}/values/other", content=b"v")
    first = emu_client.get(f"{ns}/keys", params={"prefix": "p-", "limit": 10}).json()
    assert [k["name"] for k in first["result"]] == [f"p-{i:02d}" for i in range(10)]
    cursor = first["result_info"]["cursor"]
    assert cursor and first["result_info"]["count"] == 10
    names = [k["name"] for k in first["result"]]
    while cursor:
        page = emu_client.get(f"{ns}/keys", params={"prefix": "p-", "limit": 10, "cursor": cursor}).json()
        names += [k["name"] for k in page["result"]]
        cursor = page["result_info"]["cursor"]
    assert names == [f"p-{i:02d}" for i in range(25)]
    assert error_of(emu_client.get(f"{ns}/keys", params={"limit": 5}), 400)[0] == 10026


def test_delete_namespace(emu_client: httpx.Client, ns: str) -> None:
    emu_client.put(f"{ns}/values/k", content=b"v")
    assert emu_client.delete(ns).status_code == 200
    assert emu_client.get(f"{ns}/values/k").status_code == 404
    assert emu_client.get(BASE).json()["result"] == []


def test_namespaces_are_per_account(emu_client: httpx.Client, ns: str) -> None:
    other = ns.replace("acc-test", "someone-else")
    assert error_of(emu_client.get(f"{other}/values/k"), 404)[0] == 10013
    assert emu_client.get("/accounts/someone-else/storage/kv/namespaces").json()["result"] == []


def test_kv_survives_a_restart(tmp_path: Path) -> None:
    emu = Emulator(data_dir=tmp_path)
    with httpx.Client(transport=EmulatorTransport(emu), base_url=LOCAL_BASE_URL, headers=HEADERS) as client:
        ns_id = client.post(BASE, json={"title": "keep"}).json()["result"]["id"]
        client.put(f"{BASE}/{ns_id}/values/k", files={"value": ("v", b"kept")}, data={"metadata": '{"a":1}'})
    emu.close()
    assert (tmp_path / "kv.sqlite3").exists()
    emu2 = Emulator(data_dir=tmp_path)
    with httpx.Client(transport=EmulatorTransport(emu2), base_url=LOCAL_BASE_URL, headers=HEADERS) as client:
        assert client.get(f"{BASE}/{ns_id}/values/k").content == b"kept"
        assert client.get(f"{BASE}/{ns_id}/metadata/k").json()["result"] == {"a": 1}
        assert [n["title"] for n in client.get(BASE).json()["result"]] == ["keep"]
    emu2.close()


def test_over_loopback(emu_server: object) -> None:
    from cf_core.local.server import RunningServer

    assert isinstance(emu_server, RunningServer)
    with httpx.Client(base_url=emu_server.base_url, headers=HEADERS) as client:
        ns_id = client.post(BASE, json={"title": "wire"}).json()["result"]["id"]
        assert client.put(f"{BASE}/{ns_id}/values/a%2Fb%20c%25", content=b"slash").status_code == 200
        assert client.get(f"{BASE}/{ns_id}/values/a%2Fb%20c%25").content == b"slash"
        assert [k["name"] for k in client.get(f"{BASE}/{ns_id}/keys").json()["result"]] == ["a/b c%"]


def test_huge_expiration_is_a_400_not_a_crash(emu_client) -> None:  # type: ignore[no-untyped-def]
    ns = emu_client.post("/accounts/a/storage/kv/namespaces", json={"title": "big"}).json()["result"]["id"]
    for query in ("expiration_ttl=1180591620717411303424", "expiration=1180591620717411303424"):
        resp = emu_client.put(f"/accounts/a/storage/kv/namespaces/{ns}/values/k?{query}", content=b"v")
        assert resp.status_code == 400, query
        assert "out of range" in resp.json()["errors"][0]["message"]
