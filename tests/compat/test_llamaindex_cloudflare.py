"""llama-index-embeddings-cloudflare-workersai 0.6.x against the loopback emulator.

The package has no base-URL setting: its URL is the module constant ``API_URL_TEMPLATE``
(``https://api.cloudflare.com/client/v4/accounts/{}/ai/run/{}``), so it is monkeypatched to the
emulator's equivalent, the documented way to redirect it. Sync calls go through ``requests``,
async ones through ``aiohttp`` (``trust_env=True``, so the proxy variables cleared by the fixture
matter). Embeddings are the emulator's lexical stand-in: the checks are dimensions, batching on
the wire and that sync, async, text and query paths agree.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import llama_index.embeddings.cloudflare_workersai.base as cf_base
import pytest
from llama_index.embeddings.cloudflare_workersai import CloudflareEmbedding

if TYPE_CHECKING:
    from conftest import Loopback

ACCOUNT = "acc-compat"
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
EMBED_DIMS = 384
TEXTS = ["The lighthouse on Vela Island is painted cobalt blue.", "Bond yields rose sharply.",
         "A blue lighthouse stands on the island."]


@pytest.fixture(autouse=True)
def _pointed_at_emulator(loopback: Loopback, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_AUTH_TOKEN", raising=False)
    monkeypatch.setattr(cf_base, "API_URL_TEMPLATE", f"{loopback.base_url}/accounts/{{}}/ai/run/{{}}")


def _model(loopback: Loopback, token: str | None = None, batch: int = 10) -> CloudflareEmbedding:
    return CloudflareEmbedding(account_id=ACCOUNT, auth_token=token or loopback.token, model=EMBED_MODEL,
                               embed_batch_size=batch)


def _runs(loopback: Loopback) -> int:
    return loopback.emulator.requests["ai/run"]


def _cos(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_sync_text_query_and_batches(loopback: Loopback) -> None:
    model = _model(loopback, batch=2)
    before = _runs(loopback)
    vectors = model.get_text_embedding_batch(TEXTS)
    assert _runs(loopback) - before == 2  # embed_batch_size=2: three texts in two requests
    assert [len(v) for v in vectors] == [EMBED_DIMS] * 3
    assert model.get_text_embedding(TEXTS[0]) == pytest.approx(vectors[0], abs=1e-6)
    query = model.get_query_embedding("Which lighthouse is blue?")
    assert len(query) == EMBED_DIMS
    assert _cos(query, vectors[0]) > _cos(query, vectors[1])  # lexical stand-in: shared words


async def test_async_text_query_and_batches(loopback: Loopback) -> None:
    model = _model(loopback, batch=2)
    before = _runs(loopback)
    vectors = await model.aget_text_embedding_batch(TEXTS)
    assert _runs(loopback) - before == 2
    assert [len(v) for v in vectors] == [EMBED_DIMS] * 3
    for got, expected in zip(vectors, model.get_text_embedding_batch(TEXTS), strict=True):
        assert got == pytest.approx(expected, abs=1e-6)  # sync and async agree
    assert await model.aget_query_embedding(TEXTS[1]) == pytest.approx(vectors[1], abs=1e-6)


def test_limitation_error_envelope_is_not_recognised(loopback: Loopback) -> None:
    """Package limitation: it detects failure with ``"result" not in response`` and then raises its
    ``RuntimeError("Failed to fetch embeddings")``. Cloudflare's error envelope *does* carry
    ``"result": null`` (here: 401, code 10000 for a wrong token), so the package instead indexes
    ``None`` and fails with a TypeError that hides the API's message."""
    model = _model(loopback, token="not-the-token")
    with pytest.raises(TypeError, match="NoneType"):
        model.get_text_embedding("hello")


async def test_limitation_error_envelope_is_not_recognised_async(loopback: Loopback) -> None:
    model = _model(loopback, token="not-the-token")
    with pytest.raises(TypeError, match="NoneType"):
        await model.aget_text_embedding("hello")
