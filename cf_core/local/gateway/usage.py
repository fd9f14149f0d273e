"""Tokens and cost of a provider answer, for the log entry."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from ...catalog import info, usd_for_neurons

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A deterministic stand-in tokenizer (words and punctuation)."""
    return len(_TOKEN.findall(text))


def _usage_of(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    for holder in (data, data.get("result")):
        found = holder.get("usage") if isinstance(holder, dict) else None
        if isinstance(found, dict):
            return found
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value)


def tokens_from_usage(usage: dict[str, Any]) -> tuple[int | None, int | None]:
    tin = _as_int(usage.get("prompt_tokens", usage.get("input_tokens")))
    tout = _as_int(usage.get("completion_tokens", usage.get("output_tokens")))
    return tin, tout


def tokens_from_json(body: bytes) -> tuple[int | None, int | None]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    usage = _usage_of(data)
    return tokens_from_usage(usage) if usage else (None, None)


def tokens_from_sse(chunks: Iterable[bytes]) -> tuple[int | None, int | None]:
    """The last ``usage`` seen in an event stream's ``data:`` lines."""
    found: tuple[int | None, int | None] = (None, None)
    text = b"".join(chunks).decode("utf-8", "replace")
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if not data or data == "[DONE]" or "usage" not in data:
            continue
        try:
            usage = _usage_of(json.loads(data))
        except ValueError:
            continue
        if usage:
            found = tokens_from_usage(usage)
    return found


def estimate_input_tokens(request_body: bytes) -> int | None:
    """For embedding requests (whose answers carry no usage): count the input texts' tokens."""
    try:
        data = json.loads(request_body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    texts = data.get("text", data.get("input"))
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list):
        return None
    return sum(count_tokens(t) for t in texts if isinstance(t, str))


def workers_ai_cost(model: str, tokens_in: int | None, tokens_out: int | None) -> float:
    """USD from the catalog's neuron prices: neurons = in/1e6*rate_in + out/1e6*rate_out."""
    price = info(model).price
    neurons = (tokens_in or 0) / 1e6 * (price.neurons_per_m_input_tokens or 0.0)
    neurons += (tokens_out or 0) / 1e6 * (price.neurons_per_m_output_tokens or 0.0)
    return usd_for_neurons(neurons)


def custom_cost(spec: dict[str, float], tokens_in: int | None, tokens_out: int | None) -> float:
    if "total_cost" in spec:
        return spec["total_cost"]
    return (tokens_in or 0) * spec.get("per_token_in", 0.0) + (tokens_out or 0) * spec.get("per_token_out", 0.0)


def model_type(provider: str, model: str, endpoint: str) -> str | None:
    """UNCONFIRMED labels: Cloudflare's exact ``model_type`` vocabulary is not documented."""
    if provider == "workers-ai" and model:
        task = info(model).task
        return {"Text Generation": "chat", "Text Embeddings": "embedding", "Text-to-Image": "image",
                "Automatic Speech Recognition": "audio"}.get(task, task.lower().replace(" ", "-"))
    if "embeddings" in endpoint:
        return "embedding"
    if "chat/completions" in endpoint:
        return "chat"
    return None
