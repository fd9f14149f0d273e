"""Workers KV over the wire (sync and async) against the emulator, and the local checks before sending."""

from __future__ import annotations

import time
from typing import Any

import pytest

import cf_core.kv as kv_module
from cf_core.errors import InvalidInputError, NotFoundError
from cf_core.local import local_client

Dual = Any  # tests/core/conftest.py's Dual


async def test_namespaces(dual: Dual, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kv_module, "NAMESPACES_PER_PAGE", 5)  # the emulator's smallest page: forces 3 pages
    created = [await dual.kv.create_namespace(f"ns-{i}") for i in range(12)]
    assert created[0].title == "ns-0" and created[0].id
    before = dual.sent
    listed = await dual.kv.list_namespaces()
    assert [n.id for n in listed] == [n.id for n in created]
    assert dual.sent - before == 3
    await dual.kv.delete_namespace(created[0].id)
    assert len(await dual.kv.list_namespaces()) == 11


async def test_put_get_delete(dual: Dual) -> None:
    ns = (await dual.kv.create_namespace("cache")).id
    assert await dual.kv.get(ns, "k") is None
    await dual.kv.put(ns, "k", b"\x00\xffraw")
    assert await dual.kv.get(ns, "k") == b"\x00\xffraw"
    await dual.kv.put(ns, "k", "ünïcode text")
    assert await dual.kv.get(ns, "k") == "ünïcode text".encode()
    await dual.kv.delete(ns, "k")
    assert await dual.kv.get(ns, "k") is None
    await dual.kv.delete(ns, "k")  # deleting a missing key is fine


@pytest.mark.parametrize("key", ["a/b", "q?x=1#frag", "sp ace%20", "../up", "ключ", "." * 3, "x" * 512])
async def test_special_keys_round_trip(dual: Dual, key: str) -> None:
    ns = (await dual.kv.create_namespace("keys")).id
    await dual.kv.put(ns, key, key)
    assert await dual.kv.get(ns, key) == key.encode()
    page = await dual.kv.list_keys(ns)
    assert [k.name for k in page.keys] == [key]


async def test_missing_namespace_is_an_error_not_a_missing_key(dual: Dual) -> None:
    with pytest.raises(NotFoundError) as err:
        await dual.kv.get("no-such-namespace", "k")
    assert err.value.code == 10013


async def test_metadata_and_expiry(dual: Dual) -> None:
    ns = (await dual.kv.create_namespace("meta")).id
    await dual.kv.put(ns, "with-meta", b"v", metadata={"model": "@cf/x", "n": 2}, expiration_ttl=120)
    assert await dual.kv.get(ns, "with-meta") == b"v"
    assert await dual.kv.get_metadata(ns, "with-meta") == {"model": "@cf/x", "n": 2}
    assert await dual.kv.get_metadata(ns, "missing") is None
    await dual.kv.put(ns, "plain", b"p")
    assert await dual.kv.get_metadata(ns, "plain") is None
    key = (await dual.kv.list_keys(ns, prefix="with")).keys[0]
    assert key.metadata == {"model": "@cf/x", "n": 2}
    assert key.expiration is not None and abs(key.expiration - (time.time() + 120)) < 5
    # a PUT replaces value, metadata and expiry together
    await dual.kv.put(ns, "with-meta", b"w")
    replaced = (await dual.kv.list_keys(ns, prefix="with")).keys[0]
    assert replaced.metadata is None and replaced.expiration is None


async def test_expired_keys_read_as_missing(dual: Dual) -> None:
    ns = (await dual.kv.create_namespace("ttl")).id
    await dual.kv.put(ns, "short", b"1", expiration_ttl=60)
    await dual.kv.put(ns, "absolute", b"2", expiration=int(time.time()) + 90)
    await dual.kv.put(ns, "forever", b"3")
    state = dual.emulator.components["kv"]
    state.clock = lambda: time.time() + 75
    assert await dual.kv.get(ns, "short") is None
    assert await dual.kv.get(ns, "absolute") == b"2"
    state.clock = lambda: time.time() + 100
    assert await dual.kv.get(ns, "absolute") is None
    assert await dual.kv.get(ns, "forever") == b"3"


async def test_list_keys_pages(dual: Dual) -> None:
    ns = (await dual.kv.create_namespace("many")).id
    for i in range(25):
        await dual.kv.put(ns, f"p:{i:02d}", b"x")
    await dual.kv.put(ns, "other", b"x")
    first = await dual.kv.list_keys(ns, prefix="p:", limit=10)
    assert [k.name for k in first.keys] == [f"p:{i:02d}" for i in range(10)] and first.cursor
    names = [k.name for k in first.keys]
    cursor = first.cursor
    while cursor:
        page = await dual.kv.list_keys(ns, prefix="p:", limit=10, cursor=cursor)
        names += [k.name for k in page.keys]
        cursor = page.cursor
    assert names == [f"p:{i:02d}" for i in range(25)]


@pytest.mark.parametrize("call,field", [
    (lambda kv, ns: kv.put(ns, "k", b"v", expiration_ttl=59), "expiration_ttl"),
    (lambda kv, ns: kv.put(ns, "k", b"v", expiration_ttl=60.5), "expiration_ttl"),
    (lambda kv, ns: kv.put(ns, "k", b"v", expiration=int(time.time()) + 30), "expiration"),
    (lambda kv, ns: kv.put(ns, "k", b"v", metadata={"x": "y" * 1100}), "metadata"),
    (lambda kv, ns: kv.put(ns, "k", b"v", metadata={"x": float("nan")}), "metadata"),
    (lambda kv, ns: kv.put(ns, "k", 12), "value"),
    (lambda kv, ns: kv.put(ns, ".", b"v"), "key"),
    (lambda kv, ns: kv.get(ns, ".."), "key"),
    (lambda kv, ns: kv.delete(ns, ""), "key"),
    (lambda kv, ns: kv.put(ns, "é" * 257, b"v"), "key"),
    (lambda kv, ns: kv.get("", "k"), "namespace_id"),
    (lambda kv, ns: kv.list_keys(ns, limit=5), "limit"),
    (lambda kv, ns: kv.create_namespace("  "), "title"),
])
async def test_local_checks_send_nothing(dual: Dual, call: Any, field: str) -> None:
    ns = (await dual.kv.create_namespace("guarded")).id
    await dual.kv.put(ns, "k", b"original")
    sent, served = dual.sent, dual.served
    with pytest.raises(InvalidInputError) as err:
        await call(dual.kv, ns)
    assert err.value.field == field
    assert (dual.sent, dual.served) == (sent, served)
    assert await dual.kv.get(ns, "k") == b"original"


def test_value_size_limit_checked_locally() -> None:
    with pytest.raises(InvalidInputError) as err:
        kv_module.put("ns", "k", b"\x00" * (25 * 1024 * 1024 + 1))
    assert err.value.limit == 25 * 1024 * 1024


def test_wire_forms(recorder: Any) -> None:
    """A plain PUT sends the raw bytes with the TTL as a query parameter; with metadata it is multipart."""
    with local_client(recorder.emulator, record=recorder.sent) as c:
        ns = c.kv.create_namespace("wire").id
        c.kv.put(ns, "a/b c", b"raw", expiration_ttl=300)
        raw_put = recorder.last
        c.kv.put(ns, "m", b"val", metadata={"k": "v"})
        multipart = recorder.last
    assert raw_put.method == "PUT" and raw_put.body == b"raw"
    assert raw_put.url.raw_path.decode().endswith(f"/storage/kv/namespaces/{ns}/values/a%2Fb%20c?expiration_ttl=300")
    assert multipart.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="value"' in multipart.body and b'name="metadata"' in multipart.body
    assert b'{"k":"v"}' in multipart.body and b"\r\n\r\nval\r\n" in multipart.body
