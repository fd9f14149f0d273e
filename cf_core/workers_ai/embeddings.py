"""Embeddings: texts split into batches of at most the model's ``max_batch_size`` (100), sent
concurrently under a limit, vectors returned in input order.

Reads both output forms: ``{"shape", "data", "pooling"}`` (bge, bge-m3 text form) and bge-m3's
``{"response": [[...]], ...}`` contexts form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from .. import catalog
from ..catalog import ModelInfo
from ..errors import CloudflareError, InvalidInputError
from ..http import ApiRequest, Call, GatewayArg, Gather, Op, RawResponse, Runnable, unwrap
from ..usage import estimate_usd, usage_from_payload
from . import checks
from .types import EmbeddingResult, Usage

DEFAULT_MAX_BATCH = 100

_fast_loads: Callable[[bytes], Any] | None
try:  # parses an answer's 100 x 768 numbers ~1.5x faster than pydantic-core (an optional dependency)
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson comes with the `local` extra
    _fast_loads = None


def max_batch(model_info: ModelInfo) -> int:
    return model_info.max_batch_size or DEFAULT_MAX_BATCH


def check_texts(texts: Any) -> list[str]:
    items = [texts] if isinstance(texts, str) else texts
    if isinstance(items, bytes | Mapping) or not isinstance(items, Sequence):
        raise InvalidInputError(f"texts must be a string or a list of strings, got {type(texts).__name__}",
                                field="texts", item=type(texts).__name__)
    if not items:
        raise InvalidInputError("texts must not be empty (at least 1 text)", field="texts", limit=1)
    out = list(items)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise InvalidInputError(f"texts[{i}] must be a string, got {type(text).__name__}", field=f"texts[{i}]",
                                    item=i)
        if not text:
            raise InvalidInputError(f"texts[{i}] is empty; every text needs at least 1 character",
                                    field=f"texts[{i}]", limit=1, item=i)
    return out


def check_pooling(model_info: ModelInfo, pooling: Any) -> str | None:
    if pooling is None:
        return None
    options = model_info.pooling_options
    if options and pooling not in options:
        raise InvalidInputError(f"pooling must be one of {list(options)}, got {pooling!r}", field="pooling",
                                limit=list(options), item=pooling)
    if not options and model_info.known:
        raise InvalidInputError(f"{model_info.id} takes no pooling option (it always uses "
                                f"{model_info.default_pooling or 'its own'} pooling)", field="pooling", item=pooling)
    if not isinstance(pooling, str):
        raise InvalidInputError("pooling must be a string", field="pooling", item=pooling)
    return pooling


def _result(resp: RawResponse) -> Any:
    """``unwrap(resp)``, with a successful answer parsed by orjson when it is installed.

    Anything else (an error envelope, no envelope, JSON orjson refuses such as NaN literals) goes
    through ``unwrap`` and its parser, which decide exactly as before. orjson reads integers past 64
    bits as floats; in a vector those become floats anyway.
    """
    if _fast_loads is not None:
        try:
            payload = _fast_loads(resp.content)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and payload.get("success") is True:
            return payload.get("result")
    return unwrap(resp)


def _vectors_of(model: str, count: int, result: Any) -> list[list[float]]:
    """The vectors of an unwrapped answer, checked for shape (one per text) but not value by value."""
    if not isinstance(result, Mapping):
        raise CloudflareError(f"unexpected embeddings answer from {model}: {str(result)[:200]}")
    vectors = result.get("data")
    if vectors is None:
        vectors = result.get("response")
    if not isinstance(vectors, list) or not all(isinstance(v, list) for v in vectors):
        raise CloudflareError(f"embeddings answer from {model} has no vectors (keys: {sorted(result)})")
    if len(vectors) != count:
        raise CloudflareError(f"{model} returned {len(vectors)} vectors for {count} texts")
    return vectors


def _parse(model: str, count: int, pooling: str | None, default_pooling: str | None,
           resp: RawResponse) -> EmbeddingResult:
    result = _result(resp)
    vecs = _vectors_of(model, count, result)  # EmbeddingResult's validation coerces any integer to float
    dim = len(vecs[0]) if vecs else 0
    found = result.get("pooling")
    return EmbeddingResult(model=model, vectors=vecs, shape=(len(vecs), dim),
                           pooling=found if isinstance(found, str) else (pooling or default_pooling),
                           usage=usage_from_payload(model, result.get("usage")), gateway=resp.gateway)


def _parse_vectors(model: str, count: int, resp: RawResponse) -> list[list[float]]:
    vecs = _vectors_of(model, count, _result(resp))
    if len(set(map(len, vecs))) > 1:
        raise CloudflareError(f"{model} returned vectors of different lengths")
    return vecs


def embed_batch(model: str, texts: str | Sequence[str], *, pooling: str | None = None,
                gateway: GatewayArg = None) -> Call[EmbeddingResult]:
    """One request embedding at most the model's batch size (100) of texts."""
    model = checks.model_id(model)
    info = catalog.info(model)
    checks.task(info, "Text Embeddings", "embed")
    items = check_texts(texts)
    limit = max_batch(info)
    if len(items) > limit:
        raise InvalidInputError(f"one embeddings request takes at most {limit} texts, got {len(items)}; use "
                                f"embed() to batch", field="texts", limit=limit, item=len(items))
    pool = check_pooling(info, pooling)
    body: dict[str, Any] = {"text": items}
    if pool is not None:
        body["pooling"] = pool
    request = ApiRequest(method="POST", path=f"/ai/run/{model}", gateway_path=f"workers-ai/{model}", json=body,
                         gateway=checks.gateway(gateway))
    return Call(request, partial(_parse, model, len(items), pool, info.default_pooling))


def sum_usage(parts: Sequence[Usage | None]) -> Usage | None:
    """The usage of several separate requests together (``None`` if any is unknown)."""
    if not parts or any(u is None for u in parts):
        return None
    usages = [u for u in parts if u is not None]
    neurons = [u.neurons for u in usages]
    total_neurons = None if any(n is None for n in neurons) else sum(n for n in neurons if n is not None)
    # Separate requests, so their counts add up (unlike the events of one stream).
    return Usage(prompt_tokens=sum(u.prompt_tokens for u in usages),
                 completion_tokens=sum(u.completion_tokens for u in usages),
                 total_tokens=sum(u.total_tokens for u in usages), neurons=total_neurons,
                 estimated_usd=None if total_neurons is None else estimate_usd(total_neurons))


def _gather(model: str, calls: list[Call[EmbeddingResult]], concurrency: int) -> Op[EmbeddingResult]:
    results: list[EmbeddingResult] = yield Gather(calls, limit=concurrency)
    vectors = [v for r in results for v in r.vectors]
    dims = {r.shape[1] for r in results}
    if len(dims) > 1:
        raise CloudflareError(f"{model} returned vectors of different sizes across batches: {sorted(dims)}")
    # Every part was validated when parsed: validating the joined vectors again would copy them all.
    return EmbeddingResult.model_construct(model=model, vectors=vectors, shape=(len(vectors), dims.pop()),
                                           pooling=results[0].pooling, usage=sum_usage([r.usage for r in results]),
                                           gateway=results[0].gateway)


def embed(model: str, texts: str | Sequence[str], *, pooling: str | None = None, batch_size: int = 100,
          concurrency: int = 4, gateway: GatewayArg = None) -> Runnable[EmbeddingResult]:
    """Embed any number of texts: batches of <= ``batch_size`` (max 100), ``concurrency`` at a time, in order."""
    model = checks.model_id(model)
    info = catalog.info(model)
    checks.task(info, "Text Embeddings", "embed")
    items = check_texts(texts)
    size = checks.int_range("batch_size", batch_size, 1, max_batch(info))
    limit = checks.int_range("concurrency", concurrency, 1, None)
    check_pooling(info, pooling)
    calls = [embed_batch(model, items[i:i + size], pooling=pooling, gateway=gateway)
             for i in range(0, len(items), size)]
    if len(calls) == 1:
        return calls[0]
    return _gather(model, calls, limit)
