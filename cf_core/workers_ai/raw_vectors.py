"""Embedding vectors as JSON text, for bulk paths that only forward them to a Vectorize write.

Turning 100 x 768 JSON numbers into Python floats and back into JSON costs more CPU (and memory)
than the request itself. When the answer has the plain ``{"result": {..., "data": [[...], ...]}}``
form, :func:`raw_rows` slices each vector's JSON text out of the body without parsing the numbers;
the rows are copied verbatim into the NDJSON write, so Vectorize receives exactly what the model
sent. Anything unexpected falls back to a full parse, re-encoded row by row.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic_core import to_json

from ..errors import CloudflareError
from ..http import Call, GatewayArg, RawResponse
from . import checks
from .embeddings import _parse_vectors, embed_batch

_SPACE = b" \t\r\n"
_NUMBER_TEXT = b"0123456789+-.eE," + _SPACE
"""Everything a JSON array of numbers may hold between its brackets (null, strings, nested values not)."""


def raw_rows(content: bytes, count: int) -> list[bytes] | None:
    """The ``count`` rows of ``result.data`` as JSON arrays of numbers, or ``None`` if the body is
    not exactly that shape (then the caller parses it fully)."""
    if b'"success":false' in content or b'"success": false' in content:
        return None
    key = content.find(b'"data":')
    if key < 0 or content.find(b'"data":', key + 1) >= 0:
        return None
    pos = key + len(b'"data":')
    while pos < len(content) and content[pos] in _SPACE:
        pos += 1
    if content[pos:pos + 1] != b"[":
        return None
    pos += 1
    rows: list[bytes] = []
    commas = -1
    for _ in range(count):
        start = content.find(b"[", pos)
        end = content.find(b"]", start + 1)
        if start < 0 or end < 0 or content[pos:start].strip(_SPACE + b","):
            return None
        row = content[start:end + 1]
        inner = row[1:-1]
        if not inner.strip(_SPACE) or inner.translate(None, _NUMBER_TEXT):
            return None
        row_commas = inner.count(b",")
        if commas >= 0 and row_commas != commas:
            return None  # rows of different lengths: let the full parse report it
        commas = row_commas
        rows.append(row)
        pos = end + 1
    rest = content[pos:].lstrip(_SPACE)
    if rest[:1] != b"]":
        return None
    return rows


def _parse_raw(model: str, count: int, resp: RawResponse) -> list[bytes]:
    rows = raw_rows(resp.content, count)
    if rows is not None:
        return rows
    vectors: list[Any] = _parse_vectors(model, count, resp)
    try:
        return [to_json(v) for v in vectors]
    except Exception as exc:  # e.g. a non-finite number: not something Vectorize could store
        raise CloudflareError(f"{model} returned vectors that cannot be written to Vectorize: {exc}") from None


def embed_batch_raw(model: str, texts: list[str], *, pooling: str | None = None,
                    gateway: GatewayArg = None) -> Call[list[bytes]]:
    """One embeddings request whose vectors come back as JSON text (one ``bytes`` per text, in order)."""
    call = embed_batch(model, texts, pooling=pooling, gateway=gateway)  # validates the input, builds the request
    return Call(call.request, partial(_parse_raw, checks.model_id(model), len(texts)))
