"""Embedding answers parsed by orjson (when installed) give exactly what the general parser gives.

``_result`` takes a fast route only for a ``{"success": true, ...}`` envelope that orjson can read;
everything else (errors, answers without the envelope, JSON orjson refuses) goes through ``unwrap``.
These tests run each body through both and compare results, or the error raised.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from cf_core.errors import APIError, CloudflareError
from cf_core.http import RawResponse, unwrap
from cf_core.local import Emulator, local_client
from cf_core.workers_ai import embeddings as E

MODEL = "@cf/baai/bge-small-en-v1.5"


def resp(content: bytes, status: int = 200) -> RawResponse:
    return RawResponse(status, {"content-type": "application/json"}, content)


def both(content: bytes) -> tuple[Any, Any]:
    """(``_result``, ``unwrap``) of the same body: each a value, or the error's type and message."""
    out = []
    for parse in (E._result, unwrap):
        try:
            out.append(("ok", parse(resp(content))))
        except CloudflareError as err:
            out.append((type(err), str(err)))
    return out[0], out[1]


def envelope(result: Any, success: Any = True, **extra: Any) -> bytes:
    return json.dumps({"result": result, "success": success, "errors": [], "messages": [], **extra}).encode()


rng = random.Random(7)
FLOATS = [[rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(16)] for _ in range(3)]


@pytest.mark.parametrize("content", [
    envelope({"shape": [3, 16], "data": FLOATS, "pooling": "mean"}),
    envelope({"shape": [2, 3], "data": [[0, 1, -2], [3.5, 1e-7, 2.5e10]]}),          # ints stay ints
    envelope({"data": [[1.0, 2.0]], "usage": {"prompt_tokens": 3, "total_tokens": 3}}),
    envelope({"response": [[0.25, 0.5]]}),                                            # bge-m3 form
    envelope(None),
    b'{"result":{"data":[[NaN, 1.0]]},"success":true}',                             # orjson refuses NaN
    b'{"result":{"data":[[1e999]]},"success":true}',
    b'{"result":{"data":[[1.0]]},"success":false,"errors":[{"code":5006,"message":"bad"}],"messages":[]}',
    b'{"data":[[1.0, 2.0]]}',                                                        # no envelope
    b'[[1.0, 2.0]]',
    b'{"result":{"data":[[1.0]]},"success":"yes"}',
    b'{"result": {"data": [[1.0]]}, "success": true, "success": false}',            # last key wins in both
    b'<html>bad gateway</html>',
    b'{"result":{"data":[[1.0,',                                                     # truncated
])
def test_fast_parse_equals_the_general_parse(content: bytes) -> None:
    fast, general = both(content)
    assert repr(fast) == repr(general)  # repr: NaN == NaN, and float vs int shows (1.0 vs 1)
    if fast[0] == "ok" and isinstance(fast[1], dict):
        for key in ("data", "response"):
            for got, want in zip(fast[1].get(key) or [], general[1].get(key) or [], strict=True):
                assert [type(v) for v in got] == [type(v) for v in want]


def test_truncated_answer_is_an_api_error() -> None:
    with pytest.raises(APIError, match="could not parse"):
        E._result(resp(b'{"result":{"data":[[1.0,'))


def test_embed_over_several_requests_returns_validated_floats_in_order() -> None:
    """The joined result of several requests is built without validating again: it must still hold
    the floats each request returned, in input order, and equal what single requests give."""
    texts = [f"text number {i}" for i in range(230)]
    with local_client(Emulator()) as client:
        joined = client.workers_ai.embed(MODEL, texts, batch_size=100, concurrency=3)
        singles = [client.workers_ai.embed(MODEL, texts[i:i + 100]).vectors for i in range(0, 230, 100)]
    assert joined.shape == (230, 384)
    assert joined.vectors == [v for part in singles for v in part]
    assert all(type(x) is float for v in joined.vectors for x in v)
    assert joined == type(joined).model_validate(joined.model_dump())
