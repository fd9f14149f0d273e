"""Vectorize v2 metadata filters and metadata indexes: operators, types, nesting, index rules."""

from __future__ import annotations

import json
from typing import Any

import httpx
import numpy as np
import pytest

from cf_core.local import Emulator

BASE = "/accounts/acc-test/vectorize/v2/indexes"
INDEX = f"{BASE}/f"
DOCS: list[dict[str, Any]] = [
    {"id": "m1", "values": [1, 0, 0], "metadata": {"genre": "sci-fi", "year": 1999, "good": True,
                                                   "pandas": {"nice": 42}, "tags": ["x"]}},
    {"id": "m2", "values": [0.9, 0.1, 0], "metadata": {"genre": "fantasy", "year": 2005, "good": False,
                                                       "pandas": {"nice": 7}}},
    {"id": "m3", "values": [0.8, 0.2, 0], "metadata": {"genre": "drama", "year": 1990, "good": True}},
    {"id": "m4", "values": [0.7, 0.3, 0], "metadata": {"genre": "network", "year": "1999", "good": 1}},
    {"id": "m5", "values": [0.6, 0.4, 0], "metadata": {"year": 2020.5}},
    {"id": "m6", "values": [0.5, 0.5, 0], "namespace": "ns", "metadata": {"genre": "sci-fi", "year": 2001}},
]
PROPS = {"genre": "string", "year": "number", "good": "boolean", "pandas.nice": "number"}


def upsert(client: httpx.Client, docs: list[dict[str, Any]], index: str = INDEX) -> None:
    resp = client.post(f"{index}/upsert", content="\n".join(json.dumps(d) for d in docs))
    assert resp.status_code == 200, resp.text


def create_mdi(client: httpx.Client, prop: str, kind: str, index: str = INDEX) -> httpx.Response:
    return client.post(f"{index}/metadata_index/create", json={"propertyName": prop, "indexType": kind})


@pytest.fixture
def indexed(emu_client: httpx.Client) -> httpx.Client:
    """An index whose metadata indexes exist before the vectors are written."""
    emu_client.post(BASE, json={"name": "f", "config": {"dimensions": 3, "metric": "cosine"}})
    for prop, kind in PROPS.items():
        assert create_mdi(emu_client, prop, kind).status_code == 200
    upsert(emu_client, DOCS)
    return emu_client


def ids(client: httpx.Client, flt: Any, index: str = INDEX, **extra: Any) -> list[str]:
    resp = client.post(f"{index}/query", json={"vector": [1, 0, 0], "topK": 100, "filter": flt, **extra})
    assert resp.status_code == 200, resp.text
    return sorted(m["id"] for m in resp.json()["result"]["matches"])


def filter_error(client: httpx.Client, flt: Any) -> str:
    resp = client.post(f"{INDEX}/query", json={"vector": [1, 0, 0], "filter": flt})
    assert resp.status_code == 400, resp.text
    err = resp.json()["errors"][0]
    assert err["code"] == 40027
    message: str = err["message"]
    assert message.startswith("VECTOR_QUERY_ERROR (code = 40027): invalid metadata filter: ")
    return message


@pytest.mark.parametrize(("flt", "want"), [
    ({"genre": "sci-fi"}, ["m1", "m6"]),
    ({"genre": {"$eq": "drama"}}, ["m3"]),
    ({"genre": {"$ne": "sci-fi"}}, ["m2", "m3", "m4"]),  # m5 has no genre: not matched by $ne
    ({"genre": {"$in": ["drama", "fantasy", "none"]}}, ["m2", "m3"]),
    ({"genre": {"$nin": ["drama", "fantasy"]}}, ["m1", "m4", "m6"]),
    ({"year": {"$lt": 1999}}, ["m3"]),
    ({"year": {"$lte": 1999}}, ["m1", "m3"]),
    ({"year": {"$gt": 2005}}, ["m5"]),
    ({"year": {"$gte": 2005}}, ["m2", "m5"]),
    ({"year": {"$gte": 1990, "$lt": 2005}}, ["m1", "m3", "m6"]),
    ({"year": {"$gt": 1990, "$lte": 2005}}, ["m1", "m2", "m6"]),
    ({"year": 1999}, ["m1"]),  # m4's "1999" is a string: not in the number index
    ({"year": 2020.5}, ["m5"]),
    ({"year": {"$in": [1990, 2005]}}, ["m2", "m3"]),
    ({"good": True}, ["m1", "m3"]),  # m4's 1 is a number, not true
    ({"good": {"$ne": True}}, ["m2"]),
    ({"genre": {"$gte": "net", "$lt": "neu"}}, ["m4"]),  # string range as prefix search
    ({"genre": {"$gt": "drama"}}, ["m1", "m2", "m4", "m6"]),
    ({"genre": {"$lte": "fantasy"}}, ["m2", "m3"]),
    ({"pandas.nice": 42}, ["m1"]),
    ({"pandas.nice": {"$lt": 50}}, ["m1", "m2"]),
    ({"genre": "sci-fi", "year": {"$gt": 2000}}, ["m6"]),  # implicit AND
    ({"genre": "sci-fi", "good": True, "year": 1999, "pandas.nice": 42}, ["m1"]),
    ({"genre": "sci-fi", "good": False}, []),
    ({"year": "1999"}, []),
    ({"genre": None}, []),
])
def test_operators(indexed: httpx.Client, flt: dict[str, Any], want: list[str]) -> None:
    assert ids(indexed, flt) == want


def test_filter_and_namespace_combine(indexed: httpx.Client) -> None:
    assert ids(indexed, {"genre": "sci-fi"}, namespace="ns") == ["m6"]
    assert ids(indexed, {"genre": "drama"}, namespace="ns") == []


def test_filter_applies_before_top_k(indexed: httpx.Client) -> None:
    resp = indexed.post(f"{INDEX}/query", json={"vector": [1, 0, 0], "topK": 1, "filter": {"genre": "drama"}})
    assert [m["id"] for m in resp.json()["result"]["matches"]] == ["m3"]


def test_unindexed_property_matches_nothing_when_strict(indexed: httpx.Client) -> None:
    upsert(indexed, [{"id": "t1", "values": [1, 1, 1], "metadata": {"color": "red"}}])
    assert ids(indexed, {"color": "red"}) == []
    assert ids(indexed, {"pandas": {"$ne": "x"}}) == []


def test_lenient_mode_sees_all_metadata(indexed: httpx.Client, emulator: Emulator) -> None:
    upsert(indexed, [{"id": "t1", "values": [1, 1, 1], "metadata": {"color": "red", "deep": {"er": {"x": True}}}}])
    emulator.config.strict_metadata_index = False
    assert ids(indexed, {"color": "red"}) == ["t1"]
    assert ids(indexed, {"deep.er.x": True}) == ["t1"]
    assert ids(indexed, {"year": "1999"}) == ["m4"]  # no index type restriction
    assert ids(indexed, {"tags": "x"}) == []  # arrays are not compared by any operator
    upsert(indexed, [{"id": "t2", "values": [1, 1, 1], "metadata": {"color": None}}])
    assert ids(indexed, {"color": None}) == ["t2"]
    assert ids(indexed, {"color": {"$ne": None}}) == ["t1"]
    emulator.config.strict_metadata_index = True
    assert ids(indexed, {"color": "red"}) == []


def test_vectors_written_before_the_metadata_index_are_not_in_it(emu_client: httpx.Client) -> None:
    emu_client.post(BASE, json={"name": "f", "config": {"dimensions": 3, "metric": "cosine"}})
    upsert(emu_client, DOCS)
    assert create_mdi(emu_client, "genre", "string").status_code == 200
    assert ids(emu_client, {"genre": "sci-fi"}) == []
    upsert(emu_client, [DOCS[0]])  # re-upsert one of them
    assert ids(emu_client, {"genre": "sci-fi"}) == ["m1"]
    # an insert of an existing id is ignored, so it does not index the vector either
    emu_client.post(f"{INDEX}/insert", content=json.dumps(DOCS[5]))
    assert ids(emu_client, {"genre": "sci-fi"}) == ["m1"]
    emulator_free = emu_client.post(f"{INDEX}/query", json={"vector": [1, 0, 0], "topK": 10,
                                                            "returnMetadata": "indexed"}).json()["result"]
    by_id = {m["id"]: m["metadata"] for m in emulator_free["matches"]}
    assert by_id["m1"] == {"genre": "sci-fi"} and by_id["m2"] == {}


def test_deleting_a_metadata_index_forgets_its_entries(indexed: httpx.Client) -> None:
    resp = indexed.post(f"{INDEX}/metadata_index/delete", json={"propertyName": "genre"})
    assert resp.status_code == 200 and "mutationId" in resp.json()["result"]
    assert ids(indexed, {"genre": "sci-fi"}) == []
    assert create_mdi(indexed, "genre", "string").status_code == 200
    assert ids(indexed, {"genre": "sci-fi"}) == []  # old vectors are not back in the new index


def test_string_index_keeps_64_bytes_cut_at_a_character_boundary(emu_client: httpx.Client) -> None:
    emu_client.post(BASE, json={"name": "f", "config": {"dimensions": 3, "metric": "cosine"}})
    create_mdi(emu_client, "title", "string")
    base = "a" * 63
    upsert(emu_client, [
        {"id": "s1", "values": [1, 0, 0], "metadata": {"title": base + "X-first"}},
        {"id": "s2", "values": [1, 0, 0], "metadata": {"title": base + "X-second"}},
        {"id": "s3", "values": [1, 0, 0], "metadata": {"title": base + "é-two-byte"}},  # é would end at byte 65
        {"id": "s4", "values": [1, 0, 0], "metadata": {"title": base}},
    ])
    assert ids(emu_client, {"title": base + "X"}) == ["s1", "s2"]
    assert ids(emu_client, {"title": base + "X-anything"}) == ["s1", "s2"]  # compared on the prefix
    assert ids(emu_client, {"title": base}) == ["s3", "s4"]  # é did not fit, so s3 indexes 63 bytes
    assert ids(emu_client, {"title": {"$gt": base}}) == ["s1", "s2"]
    resp = emu_client.post(f"{INDEX}/query", json={"vector": [1, 0, 0], "topK": 10, "returnMetadata": "indexed"})
    meta = {m["id"]: m["metadata"] for m in resp.json()["result"]["matches"]}
    assert meta["s1"] == {"title": base + "X"} and meta["s3"] == {"title": base}
    full = emu_client.post(f"{INDEX}/query", json={"vector": [1, 0, 0], "topK": 10, "returnMetadata": "all"})
    assert {m["id"]: m["metadata"] for m in full.json()["result"]["matches"]}["s1"] == {"title": base + "X-first"}


def test_indexed_metadata_is_nested_and_typed(indexed: httpx.Client) -> None:
    resp = indexed.post(f"{INDEX}/query", json={"vector": [1, 0, 0], "topK": 10, "returnMetadata": "indexed"})
    meta = {m["id"]: m["metadata"] for m in resp.json()["result"]["matches"]}
    assert meta["m1"] == {"genre": "sci-fi", "year": 1999, "good": True, "pandas": {"nice": 42}}
    assert meta["m4"] == {"genre": "network"}  # "1999" and 1 do not fit number/boolean indexes


@pytest.mark.parametrize(("flt", "fragment"), [
    ({}, "non-empty object"),
    ([{"a": 1}], "non-empty object"),
    ("genre", "non-empty object"),
    ({"": 1}, "must not be empty"),
    ({'ge"nre': 1}, "must not contain"),
    ({"$genre": 1}, 'must not start with "$"'),
    ({"k" * 513: 1}, "the limit is 512"),
    ({"genre": {"$like": "x"}}, "unknown operator '$like'"),
    ({"genre": {}}, "operator object is empty"),
    ({"genre": {"$in": "x"}}, "$in takes an array"),
    ({"genre": {"$nin": [["x"]]}}, "$nin takes an array"),
    ({"genre": {"$eq": ["x"]}}, "$eq takes a string"),
    ({"genre": {"$ne": {"a": 1}}}, "$ne takes a string"),
    ({"genre": ["x", "y"]}, "a bare value"),
    ({"year": {"$gt": True}}, "$gt takes a string or a number"),
    ({"year": {"$lt": None}}, "$lt takes a string or a number"),
    ({"year": {"$gt": 1, "$gte": 2}}, "cannot be combined"),
    ({"year": {"$lt": 1, "$lte": 2}}, "cannot be combined"),
    ({"year": {"$eq": 1, "$ne": 2}}, "cannot be combined"),
    ({"year": {"$gt": 1, "$lt": 5, "$ne": 3}}, "cannot be combined"),
    ({"year": {"$gt": 1, "$lt": "z"}}, "strings with strings"),
    ({"k": "x" * 2040}, "less than 2048 bytes"),
])
def test_invalid_filters(indexed: httpx.Client, flt: Any, fragment: str) -> None:
    assert fragment in filter_error(indexed, flt)


def test_filter_size_limit_boundary(indexed: httpx.Client) -> None:
    padding = 2047 - len('{"k":""}')
    assert ids(indexed, {"k": "x" * padding}) == []  # 2047 bytes: accepted
    filter_error(indexed, {"k": "x" * (padding + 1)})  # 2048 bytes: rejected


def test_key_of_512_characters_is_accepted(indexed: httpx.Client) -> None:
    assert ids(indexed, {"k" * 512: 1}) == []


def test_metadata_index_endpoints(emu_client: httpx.Client) -> None:
    emu_client.post(BASE, json={"name": "f", "config": {"dimensions": 3, "metric": "cosine"}})
    assert emu_client.get(f"{INDEX}/metadata_index/list").json()["result"] == {"metadataIndexes": []}
    resp = create_mdi(emu_client, "genre", "string")
    assert resp.status_code == 200 and len(resp.json()["result"]["mutationId"]) == 36
    create_mdi(emu_client, "year", "number")
    listed = emu_client.get(f"{INDEX}/metadata_index/list").json()["result"]["metadataIndexes"]
    assert listed == [{"propertyName": "genre", "indexType": "string"}, {"propertyName": "year", "indexType": "number"}]
    info = emu_client.get(f"{INDEX}/info").json()["result"]
    assert info["processedUpToMutation"] != resp.json()["result"]["mutationId"]  # the second one is last

    def code(resp: httpx.Response) -> int:
        assert resp.status_code == 400, resp.text
        return int(resp.json()["errors"][0]["code"])

    assert code(create_mdi(emu_client, "genre", "number")) == 3011
    assert code(create_mdi(emu_client, "x", "date")) == 3010
    assert code(create_mdi(emu_client, "", "string")) == 3010
    assert code(create_mdi(emu_client, "$x", "string")) == 3010
    assert code(create_mdi(emu_client, "a..b", "string")) == 3010
    assert code(emu_client.post(f"{INDEX}/metadata_index/delete", json={"propertyName": "nope"})) == 3013
    for i in range(8):
        assert create_mdi(emu_client, f"p{i}", "boolean").status_code == 200
    limit = create_mdi(emu_client, "eleventh", "string")
    assert code(limit) == 3012 and "10" in limit.json()["errors"][0]["message"]
    emu_client.post(f"{INDEX}/metadata_index/delete", json={"propertyName": "p0"})
    assert create_mdi(emu_client, "eleventh", "string").status_code == 200


@pytest.mark.parametrize("selective", [True, False])
def test_filtering_a_larger_index_matches_brute_force(emu_client: httpx.Client, selective: bool) -> None:
    """Covers both search paths: gathering a small selection and masking a large one."""
    rng = np.random.default_rng(3)
    n = 2000
    data = rng.normal(size=(n, 8)).astype(np.float32)
    cats = rng.integers(0, 10, size=n)
    emu_client.post(BASE, json={"name": "f", "config": {"dimensions": 8, "metric": "dot-product"}})
    create_mdi(emu_client, "cat", "number")
    upsert(emu_client, [{"id": f"v{i}", "values": data[i].tolist(), "metadata": {"cat": int(cats[i])}}
                        for i in range(n)])
    flt = {"cat": {"$in": [3]}} if selective else {"cat": {"$ne": 3}}
    keep = cats == 3 if selective else cats != 3
    q = rng.normal(size=8)
    scores = -(data.astype(np.float64) @ q)
    order = [i for i in np.argsort(scores) if keep[i]][:20]
    resp = emu_client.post(f"{INDEX}/query", json={"vector": q.tolist(), "topK": 20, "filter": flt})
    got = resp.json()["result"]["matches"]
    assert [m["id"] for m in got] == [f"v{i}" for i in order]
    assert [m["score"] for m in got] == pytest.approx([scores[i] for i in order], rel=1e-5)
