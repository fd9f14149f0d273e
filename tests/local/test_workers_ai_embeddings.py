"""Embeddings on ``/ai/run`` (bge family, bge-m3's three forms) and ``/ai/v1/embeddings``."""

from __future__ import annotations

import base64
import importlib.util
import random
import time
from typing import Any

import httpx
import numpy as np
import pytest

from cf_core.local import Emulator
from cf_core.local.workers_ai.engines.embeddings_hash import HashEmbedder

SMALL, BASE, LARGE, M3 = ("@cf/baai/bge-small-en-v1.5", "@cf/baai/bge-base-en-v1.5",
                          "@cf/baai/bge-large-en-v1.5", "@cf/baai/bge-m3")


def run(client: httpx.Client, model: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"/accounts/acc-test/ai/run/{model}", json=body)


def embed(client: httpx.Client, model: str, texts: list[str], **extra: Any) -> np.ndarray:
    resp = run(client, model, {"text": texts, **extra})
    assert resp.status_code == 200, resp.text
    result = resp.json()["result"]
    matrix = np.asarray(result["data"], dtype=np.float64)
    assert result["shape"] == list(matrix.shape)
    return matrix


@pytest.mark.parametrize(("model", "dim"), [(SMALL, 384), (BASE, 768), (LARGE, 1024), (M3, 1024)])
def test_shape_and_unit_length(emu_client: httpx.Client, model: str, dim: int) -> None:
    resp = run(emu_client, model, {"text": ["first text", "second text", "third"]})
    result = resp.json()["result"]
    assert result["shape"] == [3, dim]
    matrix = np.asarray(result["data"])
    assert matrix.shape == (3, dim)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


def test_single_string_and_pooling_echo(emu_client: httpx.Client) -> None:
    result = run(emu_client, BASE, {"text": "just one"}).json()["result"]
    assert result["shape"] == [1, 768] and result["pooling"] == "mean"
    result = run(emu_client, BASE, {"text": "just one", "pooling": "cls"}).json()["result"]
    assert result["pooling"] == "cls"


def test_pooling_modes_are_incompatible_but_each_consistent(emu_client: httpx.Client) -> None:
    texts = ["solar panels on the roof", "solar panels on a roof", "a recipe for lemon cake"]
    mean = embed(emu_client, BASE, texts, pooling="mean")
    cls = embed(emu_client, BASE, texts, pooling="cls")
    assert mean[0] @ mean[1] > 0.5 and cls[0] @ cls[1] > 0.5
    assert mean[0] @ mean[2] < 0.2 and cls[0] @ cls[2] < 0.2
    assert abs(mean[0] @ cls[0]) < 0.5  # same text, different pooling: unrelated vectors
    assert np.array_equal(embed(emu_client, BASE, texts[:1], pooling="cls"), cls[:1])


def test_limits(emu_client: httpx.Client) -> None:
    assert run(emu_client, SMALL, {"text": [f"t{i}" for i in range(100)]}).status_code == 200
    resp = run(emu_client, SMALL, {"text": [f"t{i}" for i in range(101)]})
    assert resp.status_code == 400 and resp.json()["errors"][0]["code"] == 5006
    assert "'/text'" in resp.json()["errors"][0]["message"]
    for bad, path in (({"text": ["ok", ""]}, "'/text/1'"), ({"text": ""}, "'/text'"), ({"text": []}, "'/text'"),
                      ({"text": "x", "pooling": "max"}, "'/pooling'"), ({"text": 5}, "'/text'")):
        resp = run(emu_client, SMALL, bad)
        assert resp.status_code == 400, bad
        assert path in resp.json()["errors"][0]["message"]
    # bge-m3 takes no pooling field.
    assert run(emu_client, M3, {"text": "x", "pooling": "cls"}).status_code == 400


def test_bge_m3_contexts_and_ranking(emu_client: httpx.Client) -> None:
    contexts = [{"text": "Violins have four strings"}, {"text": "Penguins live in Antarctica"},
                {"text": "Trumpets are brass instruments"}]
    result = run(emu_client, M3, {"contexts": contexts}).json()["result"]
    vectors = np.asarray(result["response"])
    assert vectors.shape == (3, 1024) and result["shape"] == [3, 1024]
    text_form = embed(emu_client, M3, [c["text"] for c in contexts])
    assert np.allclose(vectors, text_form)
    ranking = run(emu_client, M3, {"query": "where do penguins live", "contexts": contexts}).json()["result"]
    scores = ranking["response"]
    assert scores[0]["id"] == 1
    assert sorted(r["id"] for r in scores) == [0, 1, 2]
    assert all(0.0 <= r["score"] <= 1.0 for r in scores)
    assert [r["score"] for r in scores] == sorted((r["score"] for r in scores), reverse=True)
    assert run(emu_client, M3, {"query": "x", "contexts": []}).status_code == 400
    assert run(emu_client, M3, {"query": "x"}).status_code == 400


def _documents(n: int, rng: random.Random) -> list[list[str]]:
    syllables = ["ka", "lo", "mi", "ren", "tos", "vu", "zel", "pra", "dun", "shi", "gor", "bel", "nix", "fa"]
    vocab = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(4000)})
    common = ["the", "a", "of", "and", "report", "about", "with", "notes", "on"]
    return [[*rng.sample(vocab, 6), *rng.sample(common, 3)] for _ in range(n)]


def test_retrieval_finds_the_document_sharing_the_query_words(emu_client: httpx.Client) -> None:
    """200 generated documents; each query is two words that occur in exactly one of them. With the
    hashed lexical stand-in that document must rank first (cosine) for at least 90% of queries."""
    rng = random.Random(1234)
    docs = _documents(200, rng)
    texts = [" ".join(rng.sample(words, len(words))) for words in docs]
    matrix = np.vstack([embed(emu_client, BASE, texts[i:i + 100]) for i in range(0, 200, 100)])
    counts: dict[str, int] = {}
    for words in docs:
        for w in set(words):
            counts[w] = counts.get(w, 0) + 1
    queries, targets = [], []
    for i, words in enumerate(docs):
        unique = [w for w in words if counts[w] == 1]
        if len(unique) >= 2:
            queries.append(f"{unique[0]} {unique[1]}")
            targets.append(i)
    assert len(queries) >= 150
    q = embed(emu_client, BASE, queries[:100]) if len(queries) <= 100 else np.vstack(
        [embed(emu_client, BASE, queries[i:i + 100]) for i in range(0, len(queries), 100)])
    best = np.argmax(q @ matrix.T, axis=1)
    hit_rate = float(np.mean(best == np.asarray(targets)))
    print(f"retrieval hit rate {hit_rate:.3f} over {len(queries)} queries")
    assert hit_rate >= 0.9


def test_embedding_100_texts_timing() -> None:
    engine = HashEmbedder()
    texts = [f"short text number {i} about item{i % 13} and colour{i % 7}" for i in range(100)]
    engine.embed(texts, model=BASE, dim=768, pooling="mean")
    start = time.perf_counter()
    out = engine.embed(texts, model=BASE, dim=768, pooling="mean")
    assert out.shape == (100, 768)
    print(f"100 texts embedded in {(time.perf_counter() - start) * 1000:.2f} ms (engine only, warm)")


def test_openai_embeddings_route(emu_client: httpx.Client) -> None:
    resp = emu_client.post("/accounts/acc-test/ai/v1/embeddings", json={"model": BASE, "input": ["alpha beta", "gamma"]})
    assert resp.status_code == 200
    body = resp.json()
    assert body["object"] == "list" and body["model"] == BASE
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert all(d["object"] == "embedding" and len(d["embedding"]) == 768 for d in body["data"])
    assert body["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
    native = embed(emu_client, BASE, ["alpha beta", "gamma"])
    assert np.allclose(np.asarray([d["embedding"] for d in body["data"]]), native)
    single = emu_client.post("/accounts/acc-test/ai/v1/embeddings", json={"model": BASE, "input": "alpha beta"})
    assert np.allclose(single.json()["data"][0]["embedding"], native[0])


def test_openai_embeddings_base64(emu_client: httpx.Client) -> None:
    resp = emu_client.post("/accounts/acc-test/ai/v1/embeddings",
                           json={"model": SMALL, "input": "alpha beta", "encoding_format": "base64"})
    raw = base64.b64decode(resp.json()["data"][0]["embedding"])
    vector = np.frombuffer(raw, dtype="<f4")
    assert vector.shape == (384,)
    assert np.allclose(vector, embed(emu_client, SMALL, ["alpha beta"])[0], atol=1e-6)


def test_openai_embeddings_errors(emu_client: httpx.Client) -> None:
    def err(body: dict[str, Any]) -> tuple[int, int]:
        resp = emu_client.post("/accounts/acc-test/ai/v1/embeddings", json=body)
        payload = resp.json()
        assert payload["success"] is False
        return resp.status_code, payload["errors"][0]["code"]
    assert err({"model": "@cf/baai/nope", "input": "x"}) == (400, 5007)
    assert err({"model": "@cf/meta/llama-3.1-8b-instruct", "input": "x"}) == (400, 5007)
    assert err({"model": BASE, "input": [""]}) == (400, 5006)
    assert err({"model": BASE, "input": ["x"] * 101}) == (400, 5006)
    assert err({"model": BASE}) == (400, 5006)


def test_minilm_engine_missing_is_a_clear_startup_error() -> None:
    from cf_core.local.workers_ai.engines.embeddings_minilm import EngineUnavailable

    if importlib.util.find_spec("sentence_transformers") is None:
        with pytest.raises(EngineUnavailable, match="pip install"):
            Emulator(embedding_engine="minilm")
    with pytest.raises(EngineUnavailable, match="unknown embedding_engine"):
        Emulator(embedding_engine="word2vec")
