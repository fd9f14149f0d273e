"""Vectors copied as JSON text from an embeddings answer into a Vectorize write (the bulk ingest path)."""

from __future__ import annotations

import json

import httpx
import pytest

from cf_core.http import RawResponse
from cf_core.local import Emulator, local_client
from cf_core.workers_ai.raw_vectors import _parse_raw, raw_rows

MODEL = "@cf/baai/bge-small-en-v1.5"


def body(data: object, **extra: object) -> bytes:
    return json.dumps({"result": {"shape": [2, 3], "data": data, **extra}, "success": True,
                       "errors": [], "messages": []}).encode()


def test_rows_are_sliced_verbatim() -> None:
    content = b'{"result":{"shape":[2,3],"data":[[0.1,-2e-05,3],[ 4.5 , 6,7 ]],"pooling":"mean"},"success":true}'
    assert raw_rows(content, 2) == [b"[0.1,-2e-05,3]", b"[ 4.5 , 6,7 ]"]


@pytest.mark.parametrize("content", [
    body([[0.1, 0.2, 0.3]]),                           # fewer rows than texts
    body([[0.1, 0.2, 0.3], [0.4, 0.5]]),               # rows of different lengths
    body([[0.1, "x", 0.3], [0.4, 0.5, 0.6]]),          # a string inside a row
    body([[[0.1], 0.2, 0.3], [0.4, 0.5, 0.6]]),        # nested arrays
    body([[], []]),                                    # empty rows
    body([[0.1, None, 0.3], [0.4, 0.5, 0.6]]),         # null inside a row
    body([[0.1, True, 0.3], [0.4, 0.5, 0.6]]),         # a boolean inside a row
    body([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [1, 2, 3]]),  # more rows than texts
    b'{"result":{"response":[[0.1,0.2,0.3],[0.4,0.5,0.6]]},"success":true}',  # another form
    b'{"result":{"data":[[1,2,3],[4,5,6]]},"success":false,"errors":[{"code":1,"message":"x"}]}',
])
def test_anything_unexpected_is_left_to_the_full_parse(content: bytes) -> None:
    assert raw_rows(content, 2) is None


def test_fallback_parses_and_reencodes_other_forms() -> None:
    resp = RawResponse(200, {}, b'{"result":{"response":[[0.5,1],[2,-0.25]]},"success":true}')
    assert _parse_raw(MODEL, 2, resp) == [b"[0.5,1]", b"[2,-0.25]"]


def test_ingested_vectors_equal_the_embeddings() -> None:
    """The copied text must give exactly the vectors the embeddings call returns (float32 round trip)."""
    emu = Emulator()
    texts = [f"line {i} about item {i % 7}" for i in range(130)]
    with local_client(emu) as client:
        client.vectorize.create_index("raw", dimensions=384)
        client.vectorize.ingest("raw", texts, embedding_model=MODEL, ids=[f"r{i}" for i in range(130)],
                                metadatas=[{"i": i, "é": "ü"} for i in range(130)], namespace="ns")
        expected = client.workers_ai.embed(MODEL, texts).vectors
        stored = {v.id: v for v in client.vectorize.get_by_ids("raw", [f"r{i}" for i in range(130)])}
    for i in range(130):
        v = stored[f"r{i}"]
        assert v.values == pytest.approx(expected[i], rel=1e-6, abs=1e-7)
        assert v.metadata == {"i": i, "é": "ü"} and v.namespace == "ns"


def test_malformed_vectors_from_the_service_are_reported() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "/ai/run/" in request.url.path:
            return httpx.Response(200, json={"result": {"data": [[1.0, 2.0], [3.0]]}, "success": True})
        return httpx.Response(200, json={"result": {"mutationId": "m"}, "success": True})

    from cf_core import CloudflareClient, CloudflareError

    with CloudflareClient(account_id="a", api_token="t", transport=httpx.MockTransport(handler)) as client, \
            pytest.raises(CloudflareError, match="different lengths"):
        client.vectorize.ingest("idx", ["a", "b"], embedding_model=MODEL, wait=False)
