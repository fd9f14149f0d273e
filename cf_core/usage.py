"""Neurons and dollars per call from the catalog's prices, and a thread-safe usage tracker.

Pricing (reference section 9): ``neurons = in_tokens / 1e6 * rate_in + out_tokens / 1e6 * rate_out``
and ``usd = neurons * usd_per_neuron``. Cached prompt tokens are billed at a model-specific discount
that is not published per model, so they are counted at the full rate (an upper bound).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from .catalog import info, usd_for_neurons

if TYPE_CHECKING:
    from .gateway import GatewayInfo
    from .workers_ai.types import Usage

__all__ = [
    "ModelUsage", "UsageTracker", "estimate_neurons", "estimate_usd", "neurons_for_audio",
    "neurons_for_image", "usage_from_payload",
]


def _tokens_neurons(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    price = info(model).price
    rate_in, rate_out = price.neurons_per_m_input_tokens, price.neurons_per_m_output_tokens
    if rate_in is None and rate_out is None:
        return None
    return (prompt_tokens * (rate_in or 0.0) + completion_tokens * (rate_out or 0.0)) / 1e6


def estimate_neurons(model: str, usage: Usage | None) -> float | None:
    """Neurons of one call: the service's own figure if it gave one, else the catalog's token prices.

    ``None`` when there is no usage or the model has no token price in the catalog.
    """
    if usage is None:
        return None
    if usage.neurons is not None:
        return usage.neurons
    return _tokens_neurons(model, usage.prompt_tokens, usage.completion_tokens)


def estimate_usd(neurons: float) -> float:
    """US dollars for ``neurons`` at the catalog's rate (before the daily free allocation)."""
    return usd_for_neurons(neurons)


def neurons_for_audio(model: str, seconds: float) -> float | None:
    """Neurons of transcribing ``seconds`` of audio with a per-minute priced model."""
    rate = info(model).price.neurons_per_audio_minute
    return None if rate is None else rate * seconds / 60.0


def neurons_for_image(model: str, width: int = 1024, height: int = 1024, steps: int | None = None) -> float | None:
    """Neurons of one image with a per-512x512-tile and per-step priced model."""
    price = info(model).price
    if price.neurons_per_512_tile is None and price.neurons_per_step is None:
        return None
    tiles = -(-width // 512) * -(-height // 512)
    used_steps = steps if steps is not None else (info(model).max_steps or 0)
    return tiles * (price.neurons_per_512_tile or 0.0) + used_steps * (price.neurons_per_step or 0.0)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return round(value)


def usage_from_payload(model: str, payload: Any) -> Usage | None:
    """A :class:`Usage` from a service ``usage`` object (ints or floats), with neurons and USD filled in."""
    from .workers_ai.types import Usage

    if not isinstance(payload, Mapping):
        return None
    prompt, completion = _int(payload.get("prompt_tokens")), _int(payload.get("completion_tokens"))
    total = _int(payload.get("total_tokens")) or prompt + completion
    details = payload.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else payload.get("cached_tokens")
    raw_neurons = payload.get("neurons")
    neurons = float(raw_neurons) if isinstance(raw_neurons, int | float) and not isinstance(raw_neurons, bool) \
        else _tokens_neurons(model, prompt, completion)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total,
                 cached_tokens=_int(cached) if isinstance(cached, int | float) else None,
                 neurons=neurons, estimated_usd=None if neurons is None else estimate_usd(neurons))


class ModelUsage(BaseModel):
    """What one model (or all of them) consumed."""

    model_config = ConfigDict(frozen=True)

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    neurons: float = 0.0
    usd: float = 0.0
    cache_hits: int = 0

    def __add__(self, other: ModelUsage) -> ModelUsage:
        return ModelUsage(**{name: getattr(self, name) + getattr(other, name) for name in type(self).model_fields})


class UsageTracker:
    """Adds up calls per model; safe to share between threads.

    A gateway cache hit is counted as a request with its tokens but no neurons: the model did not run.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_model: dict[str, ModelUsage] = {}

    def record(self, model: str, usage: Usage | None, gateway: GatewayInfo | None = None) -> ModelUsage:
        """Count one call; returns what it added."""
        hit = bool(gateway is not None and gateway.cache_hit)
        neurons = 0.0 if hit else (estimate_neurons(model, usage) or 0.0)
        added = ModelUsage(
            requests=1, cache_hits=int(hit), neurons=neurons, usd=estimate_usd(neurons),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            total_tokens=usage.total_tokens if usage else 0,
        )
        with self._lock:
            self._by_model[model] = self._by_model.get(model, ModelUsage()) + added
        return added

    def totals(self) -> ModelUsage:
        with self._lock:
            values = list(self._by_model.values())
        total = ModelUsage()
        for value in values:
            total = total + value
        return total

    def by_model(self) -> dict[str, ModelUsage]:
        with self._lock:
            return dict(self._by_model)

    def reset(self) -> None:
        with self._lock:
            self._by_model.clear()
