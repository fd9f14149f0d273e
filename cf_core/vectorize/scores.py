"""What a Vectorize score means for each distance metric, and a [0, 1] relevance made from it.

- ``cosine``: cosine similarity in [-1, 1]; higher is better.
- ``euclidean``: L2 distance, >= 0; lower is better.
- ``dot-product``: Cloudflare returns the *negative* dot product; lower (more negative) is better.
"""

from __future__ import annotations

import math

from ..errors import InvalidInputError
from .types import Metric

METRICS: tuple[Metric, ...] = ("cosine", "euclidean", "dot-product")


def _check(metric: str) -> Metric:
    if metric not in METRICS:
        raise InvalidInputError(f"unknown Vectorize metric {metric!r}; expected one of {', '.join(METRICS)}",
                                field="metric", limit=METRICS)
    return metric


def higher_is_better(metric: str) -> bool:
    """True for cosine (similarity); False for euclidean (distance) and dot-product (negated product)."""
    return _check(metric) == "cosine"


def is_better(metric: str, a: float, b: float) -> bool:
    """Whether score ``a`` ranks strictly before score ``b`` under ``metric``."""
    return a > b if higher_is_better(metric) else a < b


def best_first(metric: str, scores: list[float]) -> list[float]:
    """``scores`` in the order Vectorize ranks them (best first)."""
    return sorted(scores, reverse=higher_is_better(metric))


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def relevance_from_score(metric: str, score: float) -> float:
    """Map a raw score to [0, 1], 1 = identical, preserving the metric's ranking.

    - cosine: ``(1 + s) / 2`` (opposite 0, orthogonal 0.5, identical 1).
    - euclidean: ``1 / (1 + d)`` (distance 0 gives 1, falling towards 0 as vectors move apart).
    - dot-product: ``(1 - s) / 2`` clamped, i.e. ``(1 + dot) / 2``: for unit-length vectors (what embedding
      models produce) this equals the cosine mapping; longer vectors saturate at 0 or 1.
    """
    metric = _check(metric)
    if not math.isfinite(score):
        raise InvalidInputError(f"score must be a finite number, got {score!r}", field="score")
    if metric == "cosine":
        return _clamp((1.0 + score) / 2.0)
    if metric == "euclidean":
        return 1.0 / (1.0 + max(0.0, score))
    return _clamp((1.0 - score) / 2.0)
