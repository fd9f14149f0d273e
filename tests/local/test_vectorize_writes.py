"""Vectorize v2 writes (NDJSON and multipart), their limits, get/delete by ids and list cursors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

BASE = "/accounts/acc-test/vectorize/v2/indexes"


@pytest.fixture
def index(emu_client: httpx.Client) -> str:
    resp = emu_client.post(BASE, json={"name": "w", "config": {"dimensions": 3, "metric": "cosine"}})
    assert resp.status_code == 201
    return f"{BASE}/w"


def ndjson(*vectors: dict[str, Any]) -> bytes:
    return "\n".join(json.dumps(v) for v in vectors).encode()


def write(client: httpx.Client, index: str, op: str, body: bytes, **params: str) -> httpx.Response:
    return client.post(f"{index}/{op}", content=body, params=params, headers={"content-type": "application/x-ndjson"})


def get(client: httpx.Client, index: str, *ids: str) -> list[dict[str, Any]]:
    resp = client.post(f"{index}/get_by_ids", json={"ids": list(ids)})
    assert resp.status_code == 200
    result: list[dict[str, Any]] = resp.json()["result"]
    return result


def error_of(resp: httpx.Response) -> tuple[int, str]:
    assert resp.status_code == 400, resp.text
    err = resp.json()["errors"][0]
    return err["code"], err["message"]


def count(client: httpx.Client, index: str) -> int:
    return int(client.get(f"{index}/info").json()["result"]["vectorCount"])


def test_ndjson_insert_returns_mutation_id_and_stores(emu_client: httpx.Client, index: str) -> None:
    resp = write(emu_client, index, "insert", ndjson(
        {"id": "a", "values": [1, 0, 0], "metadata": {"k": "v", "n": {"x": 1}}},
        {"id": "b", "values": [0.1, 0.2, 0.3], "namespace": "ns"}) + b"\n\n")
    assert resp.status_code == 200
    mid = resp.json()["result"]["mutationId"]
    assert isinstance(mid, str) and len(mid) == 36
    got = get(emu_client, index, "b", "missing", "a")
    assert [v["id"] for v in got] == ["b", "a"]  # request order, missing ids simply absent
    assert got[0]["namespace"] == "ns" and got[0]["metadata"] == {}
    assert got[0]["values"] == pytest.approx([0.1, 0.2, 0.3], rel=1e-6)
    assert got[0]["values"][0] != 0.1  # stored as float32, returned widened
    assert got[1]["metadata"] == {"k": "v", "n": {"x": 1}} and "namespace" not in got[1]


def test_body_without_content_type_is_read_as_ndjson(emu_client: httpx.Client, index: str) -> None:
    resp = emu_client.post(f"{index}/upsert", content=ndjson({"id": "a", "values": [1, 2, 3]}))
    assert resp.status_code == 200 and count(emu_client, index) == 1


def test_multipart_vectors_part(emu_client: httpx.Client, index: str) -> None:
    body = ndjson({"id": "m1", "values": [1, 2, 3]}, {"id": "m2", "values": [3, 2, 1], "metadata": {"a": True}})
    resp = emu_client.post(f"{index}/insert", files={"vectors": ("vectors.ndjson", body, "application/x-ndjson")})
    assert resp.status_code == 200, resp.text
    assert [v["id"] for v in get(emu_client, index, "m1", "m2")] == ["m1", "m2"]
    assert get(emu_client, index, "m2")[0]["metadata"] == {"a": True}


def test_multipart_with_extra_fields_and_crlf_lines(emu_client: httpx.Client, index: str) -> None:
    body = b'{"id":"c1","values":[1,2,3]}\r\n{"id":"c2","values":[1,2,4]}\r\n'
    resp = emu_client.post(f"{index}/upsert", data={"note": "ignored"},
                           files={"vectors": ("v.ndjson", body, "application/x-ndjson")})
    assert resp.status_code == 200 and count(emu_client, index) == 2


def test_multipart_without_vectors_part(emu_client: httpx.Client, index: str) -> None:
    resp = emu_client.post(f"{index}/insert", files={"other": ("v.ndjson", b'{"id":"a","values":[1,2,3]}')})
    code, message = error_of(resp)
    assert code == 40002 and '"vectors"' in message


def test_malformed_multipart(emu_client: httpx.Client, index: str) -> None:
    resp = emu_client.post(f"{index}/insert", content=b"garbage",
                           headers={"content-type": "multipart/form-data; boundary=xyz"})
    assert error_of(resp)[0] == 40002


def test_unparsable_line_errors_by_default(emu_client: httpx.Client, index: str) -> None:
    body = b'{"id":"ok","values":[1,2,3]}\n{not json\n'
    code, message = error_of(write(emu_client, index, "insert", body))
    assert code == 40002 and "line 2" in message and message.startswith("VECTOR_INSERT_ERROR (code = 40002): ")
    assert count(emu_client, index) == 0  # nothing of a rejected batch is written
    code, _ = error_of(write(emu_client, index, "insert", body, **{"unparsable-behavior": "error"}))
    assert code == 40002


def test_unparsable_line_discarded_on_request(emu_client: httpx.Client, index: str) -> None:
    body = b'{"id":"ok","values":[1,2,3]}\n{not json\n[1,2]\n{"id":"ok2","values":[3,2,1]}'
    resp = write(emu_client, index, "insert", body, **{"unparsable-behavior": "discard"})
    assert resp.status_code == 200
    assert [v["id"] for v in get(emu_client, index, "ok", "ok2")] == ["ok", "ok2"]


def test_unknown_unparsable_behavior(emu_client: httpx.Client, index: str) -> None:
    resp = write(emu_client, index, "insert", ndjson({"id": "a", "values": [1, 2, 3]}), **{"unparsable-behavior": "skip"})
    assert error_of(resp)[0] == 40002


def test_empty_body(emu_client: httpx.Client, index: str) -> None:
    assert error_of(write(emu_client, index, "insert", b"\n \n"))[0] == 40001


def test_insert_keeps_existing_vector(emu_client: httpx.Client, index: str) -> None:
    write(emu_client, index, "insert", ndjson({"id": "a", "values": [1, 0, 0], "namespace": "n1", "metadata": {"v": 1}}))
    write(emu_client, index, "insert", ndjson({"id": "a", "values": [0, 1, 0], "metadata": {"v": 2}},
                                              {"id": "b", "values": [0, 0, 1]}))
    a, b = get(emu_client, index, "a", "b")
    assert a["values"] == [1, 0, 0] and a["metadata"] == {"v": 1} and a["namespace"] == "n1"
    assert b["id"] == "b"


def test_insert_first_write_wins_inside_one_batch(emu_client: httpx.Client, index: str) -> None:
    write(emu_client, index, "insert", ndjson({"id": "a", "values": [1, 0, 0]}, {"id": "a", "values": [0, 1, 0]}))
    assert get(emu_client, index, "a")[0]["values"] == [1, 0, 0]


def test_upsert_replaces_values_metadata_and_namespace_whole(emu_client: httpx.Client, index: str) -> None:
    write(emu_client, index, "upsert", ndjson({"id": "a", "values": [1, 0, 0], "namespace": "n1",
                                               "metadata": {"keep": "no", "v": 1}}))
    write(emu_client, index, "upsert", ndjson({"id": "a", "values": [0, 1, 0], "metadata": {"v": 2}}))
    (a,) = get(emu_client, index, "a")
    assert a["values"] == [0, 1, 0] and a["metadata"] == {"v": 2} and "namespace" not in a
    write(emu_client, index, "upsert", ndjson({"id": "a", "values": [0, 0, 1], "namespace": "n2"},
                                              {"id": "a", "values": [1, 1, 1]}))  # last in a batch wins
    (a,) = get(emu_client, index, "a")
    assert a["values"] == [1, 1, 1] and a["metadata"] == {} and "namespace" not in a
    assert count(emu_client, index) == 1


def test_dimension_mismatch_is_40012(emu_client: httpx.Client, index: str) -> None:
    code, message = error_of(write(emu_client, index, "upsert", ndjson({"id": "doc-1", "values": [1, 2]})))
    assert code == 40012
    assert message == ('VECTOR_INSERT_ERROR (code = 40012): invalid vector for id="doc-1", '
                       "expected 3 dimensions, and got 2 dimensions")


@pytest.mark.parametrize("values", ["[1, NaN, 2]", "[1, Infinity, 2]", "[1, -Infinity, 2]", "[1, 1e39, 2]"])
def test_non_finite_values(emu_client: httpx.Client, index: str, values: str) -> None:
    body = ('{"id":"a","values":' + values + "}").encode()
    assert error_of(write(emu_client, index, "upsert", body))[0] == 40010


@pytest.mark.parametrize(("vector", "code"), [
    ({"id": "x" * 65, "values": [1, 2, 3]}, 40005),
    ({"id": "é" * 33, "values": [1, 2, 3]}, 40005),  # 66 bytes, 33 characters
    ({"id": "", "values": [1, 2, 3]}, 40005),
    ({"id": 7, "values": [1, 2, 3]}, 40005),
    ({"values": [1, 2, 3]}, 40005),
    ({"id": "a"}, 40004),
    ({"id": "a", "values": [1, "2", 3]}, 40004),
    ({"id": "a", "values": [1, True, 3]}, 40004),
    ({"id": "a", "values": [1, 2, 3], "namespace": "n" * 65}, 40007),
    ({"id": "a", "values": [1, 2, 3], "namespace": ""}, 40007),
    ({"id": "a", "values": [1, 2, 3], "namespace": 3}, 40007),
    ({"id": "a", "values": [1, 2, 3], "metadata": "text"}, 40008),
    ({"id": "a", "values": [1, 2, 3], "metadata": {"": 1}}, 40008),
    ({"id": "a", "values": [1, 2, 3], "metadata": {"a.b": 1}}, 40008),
    ({"id": "a", "values": [1, 2, 3], "metadata": {'q"uote': 1}}, 40008),
    ({"id": "a", "values": [1, 2, 3], "metadata": {"$op": 1}}, 40008),
    ({"id": "a", "values": [1, 2, 3], "metadata": {"ok": {"$nested": 1}}}, 40008),
    ({"id": "a", "values": [1, 2, 3], "metadata": {"big": "x" * 10240}}, 40009),
])
def test_vector_limits(emu_client: httpx.Client, index: str, vector: dict[str, Any], code: int) -> None:
    got_code, message = error_of(write(emu_client, index, "upsert", ndjson(vector)))
    assert got_code == code
    assert message.startswith(f"VECTOR_INSERT_ERROR (code = {code}): ")
    assert count(emu_client, index) == 0


def test_limits_at_the_boundary_are_accepted(emu_client: httpx.Client, index: str) -> None:
    meta = {"big": "x" * (10240 - len('{"big":""}'))}  # exactly 10 KiB as compact JSON
    resp = write(emu_client, index, "upsert", ndjson({"id": "i" * 64, "values": [1, 2, 3], "namespace": "n" * 64,
                                                      "metadata": meta}))
    assert resp.status_code == 200, resp.text
    assert count(emu_client, index) == 1


def test_5000_vectors_per_request(emu_client: httpx.Client, index: str) -> None:
    body = b"\n".join(b'{"id":"v%d","values":[1,2,3]}' % i for i in range(5001))
    code, message = error_of(write(emu_client, index, "insert", body))
    assert code == 40003 and "5001" in message and "5000" in message
    body = b"\n".join(b'{"id":"v%d","values":[1,2,3]}' % i for i in range(5000))
    assert write(emu_client, index, "insert", body).status_code == 200
    assert count(emu_client, index) == 5000


def test_delete_by_ids(emu_client: httpx.Client, index: str) -> None:
    write(emu_client, index, "upsert", ndjson(*({"id": f"v{i}", "values": [i, 1, 1]} for i in range(5))))
    resp = emu_client.post(f"{index}/delete_by_ids", json={"ids": ["v1", "v3", "nope"]})
    assert resp.status_code == 200
    mid = resp.json()["result"]["mutationId"]
    info = emu_client.get(f"{index}/info").json()["result"]
    assert info["vectorCount"] == 3 and info["processedUpToMutation"] == mid
    assert [v["id"] for v in get(emu_client, index, "v0", "v1", "v2", "v3", "v4")] == ["v0", "v2", "v4"]


@pytest.mark.parametrize("body", [{}, {"ids": "a"}, {"ids": [1]}, []])
def test_get_and_delete_by_ids_validate_body(emu_client: httpx.Client, index: str, body: object) -> None:
    assert error_of(emu_client.post(f"{index}/get_by_ids", json=body))[0] == 40030
    assert error_of(emu_client.post(f"{index}/delete_by_ids", json=body))[0] == 40031


def test_list_with_cursor_pages_a_snapshot(emu_client: httpx.Client, index: str) -> None:
    write(emu_client, index, "upsert", ndjson(*({"id": f"id-{i:02d}", "values": [1, 2, 3]} for i in range(25))))
    first = emu_client.get(f"{index}/list", params={"count": 10}).json()["result"]
    assert first["count"] == 10 and first["totalCount"] == 25 and first["isTruncated"] is True
    assert [v["id"] for v in first["vectors"]] == [f"id-{i:02d}" for i in range(10)]
    assert first["nextCursor"] and first["cursorExpirationTimestamp"].endswith("Z")
    # writes after the first page do not change the pages of this listing
    write(emu_client, index, "upsert", ndjson({"id": "id-00a", "values": [1, 2, 3]}))
    emu_client.post(f"{index}/delete_by_ids", json={"ids": ["id-15"]})
    seen = [v["id"] for v in first["vectors"]]
    cursor = first["nextCursor"]
    while cursor:
        page = emu_client.get(f"{index}/list", params={"count": 10, "cursor": cursor}).json()["result"]
        assert page["totalCount"] == 25
        seen += [v["id"] for v in page["vectors"]]
        cursor = page["nextCursor"]
    assert seen == [f"id-{i:02d}" for i in range(25)]
    assert page["isTruncated"] is False and page["cursorExpirationTimestamp"] is None
    fresh = emu_client.get(f"{index}/list", params={"count": 1000}).json()["result"]
    assert fresh["totalCount"] == 25 and "id-00a" in [v["id"] for v in fresh["vectors"]]


def test_list_default_count_and_limits(emu_client: httpx.Client, index: str) -> None:
    write(emu_client, index, "upsert", b"\n".join(b'{"id":"v%04d","values":[1,2,3]}' % i for i in range(150)))
    default = emu_client.get(f"{index}/list").json()["result"]
    assert default["count"] == 100 and default["isTruncated"] is True
    for bad in ("0", "1001", "ten"):
        assert error_of(emu_client.get(f"{index}/list", params={"count": bad}))[0] == 40032
    assert error_of(emu_client.get(f"{index}/list", params={"cursor": "made-up"}))[0] == 40033


def test_list_empty_index(emu_client: httpx.Client, index: str) -> None:
    page = emu_client.get(f"{index}/list").json()["result"]
    assert page == {"count": 0, "totalCount": 0, "isTruncated": False, "nextCursor": None,
                    "cursorExpirationTimestamp": None, "vectors": []}


def test_list_cursor_expires(emu_client: httpx.Client, index: str, emulator: Any) -> None:
    state = emulator.components["vectorize"]
    now = [1_000_000.0]
    state.clock = lambda: now[0]
    write(emu_client, index, "upsert", ndjson(*({"id": f"v{i}", "values": [1, 2, 3]} for i in range(3))))
    cursor = emu_client.get(f"{index}/list", params={"count": 1}).json()["result"]["nextCursor"]
    assert emu_client.get(f"{index}/list", params={"count": 1, "cursor": cursor}).status_code == 200
    now[0] += 3601
    assert error_of(emu_client.get(f"{index}/list", params={"count": 1, "cursor": cursor}))[0] == 40033


def test_record_shape_with_null_namespace_and_empty_metadata(emu_client: httpx.Client, index: str) -> None:
    """The shape langchain-cloudflare writes: ``namespace: null``, ``metadata: {}``, extra fields."""
    body = ndjson({"id": "lc", "values": [1, 2, 3], "namespace": None, "metadata": {}, "text": "ignored"})
    resp = emu_client.post(f"{index}/upsert", content=body, headers={"content-type": "application/x-ndjson"})
    assert resp.status_code == 200, resp.text
    (got,) = get(emu_client, index, "lc")
    assert got == {"id": "lc", "values": [1.0, 2.0, 3.0], "metadata": {}}


def test_hand_built_multipart_with_quoted_boundary_and_preamble(emu_client: httpx.Client, index: str) -> None:
    boundary = "b0und;ary"
    body = (b"preamble to ignore\r\n"
            b"--b0und;ary\r\n"
            b'Content-Disposition: form-data; name="meta"\r\n\r\n'
            b"not vectors\r\n"
            b"--b0und;ary\r\n"
            b'Content-Disposition: form-data; name="vectors"; filename="vectors.ndjson"\r\n'
            b"Content-Type: application/x-ndjson\r\n\r\n"
            b'{"id":"h1","values":[1,2,3]}\n{"id":"h2","values":[4,5,6]}\r\n'
            b"--b0und;ary--\r\n")
    resp = emu_client.post(f"{index}/upsert", content=body,
                           headers={"content-type": f'multipart/form-data; boundary="{boundary}"'})
    assert resp.status_code == 200, resp.text
    assert [v["id"] for v in get(emu_client, index, "h1", "h2")] == ["h1", "h2"]
    no_boundary = emu_client.post(f"{index}/upsert", content=body, headers={"content-type": "multipart/form-data"})
    assert error_of(no_boundary)[0] == 40002
