"""Vectorize v2 query: metrics and score order, topK caps, returned fields, namespaces, query by id."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import numpy as np
import pytest

from cf_core.local import Emulator

BASE = "/accounts/acc-test/vectorize/v2/indexes"
VECTORS = {"a": [1.0, 0.0, 0.0], "b": [0.8, 0.6, 0.0], "c": [0.0, 1.0, 0.0], "d": [-1.0, 0.0, 0.0],
           "e": [3.0, 0.5, 0.0]}


def make(client: httpx.Client, metric: str, name: str = "q") -> str:
    assert client.post(BASE, json={"name": name, "config": {"dimensions": 3, "metric": metric}}).status_code == 201
    rows = [{"id": k, "values": v, "metadata": {"label": k.upper()}} for k, v in VECTORS.items()]
    rows[1]["namespace"] = "left"
    rows[2]["namespace"] = "left"
    body = "\n".join(json.dumps(r) for r in rows)
    assert client.post(f"{BASE}/{name}/upsert", content=body).status_code == 200
    return f"{BASE}/{name}"


def query(client: httpx.Client, index: str, **body: Any) -> dict[str, Any]:
    body.setdefault("vector", [1.0, 0.2, 0.0])
    resp = client.post(f"{index}/query", json=body)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()["result"]
    return result


def error_of(resp: httpx.Response) -> tuple[int, str]:
    assert resp.status_code == 400, resp.text
    err = resp.json()["errors"][0]
    return err["code"], err["message"]


def expected(metric: str, q: list[float]) -> list[tuple[str, float]]:
    qv = np.array(q, dtype=np.float64)
    out = []
    for vid, v in VECTORS.items():
        x = np.array(v, dtype=np.float32).astype(np.float64)
        if metric == "cosine":
            s = float(x @ qv / (np.linalg.norm(x) * np.linalg.norm(qv)))
        elif metric == "euclidean":
            s = float(np.linalg.norm(x - qv))
        else:
            s = float(-(x @ qv))
        out.append((vid, s))
    return sorted(out, key=lambda t: -t[1] if metric == "cosine" else t[1])


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot-product"])
def test_scores_and_order_per_metric(emu_client: httpx.Client, metric: str) -> None:
    index = make(emu_client, metric)
    result = query(emu_client, index, topK=5)
    want = expected(metric, [1.0, 0.2, 0.0])
    assert [m["id"] for m in result["matches"]] == [vid for vid, _ in want]
    for match, (_, score) in zip(result["matches"], want, strict=True):
        assert match["score"] == pytest.approx(score, rel=1e-6, abs=1e-6)
    scores = [m["score"] for m in result["matches"]]
    if metric == "cosine":
        assert scores == sorted(scores, reverse=True)  # highest first
    else:
        assert scores == sorted(scores)  # distance / negative dot product: lowest first
    if metric == "dot-product":
        assert result["matches"][0]["id"] == "e" and result["matches"][0]["score"] < 0


def test_identical_vector_scores(emu_client: httpx.Client) -> None:
    cos = make(emu_client, "cosine", "c1")
    euc = make(emu_client, "euclidean", "e1")
    assert query(emu_client, cos, vector=[0.8, 0.6, 0.0], topK=1)["matches"][0]["score"] == pytest.approx(1.0)
    top = query(emu_client, euc, vector=[0.8, 0.6, 0.0], topK=1)["matches"][0]
    assert top["id"] == "b" and top["score"] == pytest.approx(0.0, abs=1e-7)


def test_default_topk_is_5_and_fields_are_minimal(emu_client: httpx.Client) -> None:
    index = make(emu_client, "cosine")
    emu_client.post(f"{index}/upsert", content=b'{"id":"f","values":[0,0,1]}')
    result = query(emu_client, index)
    assert result["count"] == 5 == len(result["matches"])
    plain = next(m for m in result["matches"] if m["id"] == "a")
    assert set(plain) == {"id", "score"}
    with_ns = next(m for m in result["matches"] if m["id"] == "b")
    assert set(with_ns) == {"id", "score", "namespace"} and with_ns["namespace"] == "left"


def test_return_values_and_all_metadata(emu_client: httpx.Client) -> None:
    index = make(emu_client, "cosine")
    top = query(emu_client, index, vector=[1, 0, 0], topK=1, returnValues=True, returnMetadata="all")["matches"][0]
    assert top["id"] == "a" and top["values"] == [1.0, 0.0, 0.0] and top["metadata"] == {"label": "A"}


def test_indexed_metadata_without_metadata_indexes_is_empty(emu_client: httpx.Client) -> None:
    index = make(emu_client, "cosine")
    top = query(emu_client, index, topK=1, returnMetadata="indexed")["matches"][0]
    assert top["metadata"] == {} and "values" not in top


def test_topk_limits(emu_client: httpx.Client, emulator: Emulator) -> None:
    index = make(emu_client, "cosine")
    assert query(emu_client, index, topK=100)["count"] == 5
    assert query(emu_client, index, topK=50, returnValues=True)["count"] == 5
    code, message = error_of(emu_client.post(f"{index}/query", json={"vector": [1, 0, 0], "topK": 51,
                                                                      "returnValues": True}))
    assert code == 40025
    assert message == ("VECTOR_QUERY_ERROR (code = 40025): with returnValues=true or returnMetadata=all, "
                       "max top K is 50, but got 51")
    code, _ = error_of(emu_client.post(f"{index}/query", json={"vector": [1, 0, 0], "topK": 100,
                                                                "returnMetadata": "all"}))
    assert code == 40025
    # indexed metadata does not lower the cap
    assert query(emu_client, index, topK=100, returnMetadata="indexed")["count"] == 5
    emulator.config.topk_cap_with_values = 20  # the documented value
    assert "max top K is 20, but got 21" in error_of(
        emu_client.post(f"{index}/query", json={"vector": [1, 0, 0], "topK": 21, "returnValues": True}))[1]
    for bad in (0, 101, -1):
        assert error_of(emu_client.post(f"{index}/query", json={"vector": [1, 0, 0], "topK": bad}))[0] == 40024
    for bad_type in (2.5, "5", True):
        assert error_of(emu_client.post(f"{index}/query", json={"vector": [1, 0, 0], "topK": bad_type}))[0] == 40026
    assert query(emu_client, index, topK=2.0)["count"] == 2  # an integral float, as the SDK types allow


def test_return_metadata_must_be_a_known_string(emu_client: httpx.Client) -> None:
    index = make(emu_client, "cosine")
    code, message = error_of(emu_client.post(f"{index}/query", json={"vector": [1, 0, 0], "returnMetadata": True}))
    assert code == 40026
    assert message == ("VECTOR_QUERY_ERROR (code = 40026): Failed to parse the request body as JSON: "
                       "returnMetadata: expected value")
    code, message = error_of(emu_client.post(f"{index}/query", json={"vector": [1, 0, 0], "returnMetadata": "some"}))
    assert code == 40026 and "`some`" in message
    assert error_of(emu_client.post(f"{index}/query", json={"vector": [1, 0, 0], "returnValues": "yes"}))[0] == 40026


def test_query_dimension_mismatch_is_40006(emu_client: httpx.Client) -> None:
    index = make(emu_client, "cosine")
    code, message = error_of(emu_client.post(f"{index}/query", json={"vector": [1, 0]}))
    assert code == 40006
    assert message == ("VECTOR_QUERY_ERROR (code = 40006): invalid query vector, expected 3 dimensions, "
                       "and got 2 dimensions")
    assert error_of(emu_client.post(f"{index}/query", json={"vector": []}))[0] == 40006


@pytest.mark.parametrize(("body", "code"), [
    (b"not json", 40026), (b"[1,2,3]", 40026), (b"{}", 40026), (b'{"vector":"abc"}', 40026),
    (b'{"vector":[1,true,0]}', 40026), (b'{"vector":[1,NaN,0]}', 40029),
    (b'{"vector":[1,0,0],"vectorId":"a"}', 40026), (b'{"vector":[1,0,0],"namespace":5}', 40026),
    (b'{"vectorId":""}', 40026), (b'{"vector":[1e39,0,0]}', 40029),
])
def test_bad_query_bodies(emu_client: httpx.Client, body: bytes, code: int) -> None:
    index = make(emu_client, "cosine")
    got, message = error_of(emu_client.post(f"{index}/query", content=body))
    assert got == code and message.startswith(f"VECTOR_QUERY_ERROR (code = {code}): ")


def test_namespace_restricts_the_search(emu_client: httpx.Client) -> None:
    index = make(emu_client, "cosine")
    result = query(emu_client, index, namespace="left", topK=10)
    assert [m["id"] for m in result["matches"]] == ["b", "c"]
    assert all(m["namespace"] == "left" for m in result["matches"])
    assert query(emu_client, index, namespace="nowhere")["count"] == 0


def test_query_by_vector_id(emu_client: httpx.Client) -> None:
    index = make(emu_client, "euclidean")
    result = emu_client.post(f"{index}/query", json={"vectorId": "c", "topK": 2}).json()["result"]
    assert result["matches"][0] == {"id": "c", "score": 0.0, "namespace": "left"}
    assert result["matches"][1]["id"] == "b"
    code, _ = error_of(emu_client.post(f"{index}/query", json={"vectorId": "zzz"}))
    assert code == 40028


def test_empty_index_answers_no_matches(emu_client: httpx.Client) -> None:
    emu_client.post(BASE, json={"name": "empty", "config": {"dimensions": 3, "metric": "cosine"}})
    result = query(emu_client, f"{BASE}/empty", filter={"x": 1})
    assert result == {"count": 0, "matches": []}


def test_zero_query_vector_with_cosine_is_finite(emu_client: httpx.Client) -> None:
    index = make(emu_client, "cosine")
    result = query(emu_client, index, vector=[0, 0, 0])
    assert all(m["score"] == 0.0 for m in result["matches"])
    assert all(math.isfinite(m["score"]) for m in result["matches"])


def test_exact_top_k_on_a_larger_random_index(emu_client: httpx.Client) -> None:
    """Compares with a float64 brute force, so a ranking shortcut that loses true neighbours fails."""
    rng = np.random.default_rng(7)
    data = rng.normal(size=(3000, 16)).astype(np.float32)
    emu_client.post(BASE, json={"name": "big", "config": {"dimensions": 16, "metric": "euclidean"}})
    body = "\n".join(json.dumps({"id": f"r{i}", "values": row.tolist(), "namespace": "odd" if i % 2 else None})
                     for i, row in enumerate(data))
    assert emu_client.post(f"{BASE}/big/upsert", content=body).status_code == 200
    q = rng.normal(size=16)
    dist = np.linalg.norm(data.astype(np.float64) - q, axis=1)
    want = [f"r{i}" for i in np.argsort(dist)[:100]]
    got = query(emu_client, f"{BASE}/big", vector=q.tolist(), topK=100)
    assert [m["id"] for m in got["matches"]] == want
    odd = [i for i in np.argsort(dist) if i % 2][:10]
    got_odd = query(emu_client, f"{BASE}/big", vector=q.tolist(), topK=10, namespace="odd")
    assert [m["id"] for m in got_odd["matches"]] == [f"r{i}" for i in odd]


def test_results_follow_every_write(emu_client: httpx.Client) -> None:
    """Queries between writes must not serve a stale cached matrix."""
    index = make(emu_client, "euclidean")
    assert query(emu_client, index, vector=[5, 5, 5], topK=1)["matches"][0]["id"] == "e"
    emu_client.post(f"{index}/upsert", content=b'{"id":"near","values":[5,5,5]}')
    assert query(emu_client, index, vector=[5, 5, 5], topK=1)["matches"][0]["id"] == "near"
    emu_client.post(f"{index}/upsert", content=b'{"id":"near","values":[-9,-9,-9]}')
    assert query(emu_client, index, vector=[5, 5, 5], topK=1)["matches"][0]["id"] == "e"
    emu_client.post(f"{index}/delete_by_ids", json={"ids": ["e"]})
    assert query(emu_client, index, vector=[5, 5, 5], topK=1)["matches"][0]["id"] == "b"
    assert "e" not in [m["id"] for m in query(emu_client, index, topK=10)["matches"]]


def test_namespace_cache_follows_writes(emu_client: httpx.Client) -> None:
    index = make(emu_client, "cosine")
    assert [m["id"] for m in query(emu_client, index, namespace="left")["matches"]] == ["b", "c"]
    emu_client.post(f"{index}/upsert", content=b'{"id":"c","values":[0,1,0]}')  # leaves the namespace
    assert [m["id"] for m in query(emu_client, index, namespace="left")["matches"]] == ["b"]


def test_equal_scores_keep_first_write_order(emu_client: httpx.Client) -> None:
    emu_client.post(BASE, json={"name": "ties", "config": {"dimensions": 2, "metric": "dot-product"}})
    body = "\n".join(json.dumps({"id": vid, "values": [1, 1]}) for vid in ("zeta", "alpha", "mid"))
    emu_client.post(f"{BASE}/ties/upsert", content=body)
    emu_client.post(f"{BASE}/ties/upsert", content=b'{"id":"zeta","values":[1,1],"metadata":{"again":true}}')
    result = query(emu_client, f"{BASE}/ties", vector=[0, 1], topK=3)
    assert [m["id"] for m in result["matches"]] == ["zeta", "alpha", "mid"]
    assert {m["score"] for m in result["matches"]} == {-1.0}
