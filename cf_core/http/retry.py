"""The retry policy shared by the sync and async transports: what to retry and how long to wait."""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from ..errors import (
    APIConnectionError,
    APIError,
    CapacityError,
    CloudflareError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TimeoutError,
)

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0
PERMANENT_CODES = frozenset({3002})
"""Codes whose status is retryable in general but whose cause will not go away (3002: a Vectorize
index of that name already exists, answered 409)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay_s: float = 0.25
    max_delay_s: float = 8.0
    jitter: float = 0.25
    """Fraction of the delay added or removed at random, so concurrent clients do not retry in step."""

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        """``attempt`` counts from 0 for the first try."""
        if attempt >= self.max_retries:
            return False
        if isinstance(error, QuotaExceededError):
            return False  # the daily allocation does not come back within a retry
        if isinstance(error, CapacityError | RateLimitError | ServerError | TimeoutError | APIConnectionError):
            return True
        if isinstance(error, APIError):
            return error.status in RETRY_STATUSES and error.code not in PERMANENT_CODES
        return False

    def delay(self, error: BaseException, attempt: int, rng: random.Random) -> float:
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after >= 0:
            return min(float(retry_after), MAX_RETRY_AFTER_S)
        backoff = min(self.max_delay_s, self.base_delay_s * (2 ** attempt))
        return float(max(0.0, backoff * (1 + self.jitter * (2 * rng.random() - 1))))


def connection_error(exc: httpx.TransportError) -> CloudflareError:
    """Translate httpx's transport failures into ours (timeouts are TimeoutError, the rest connection errors)."""
    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError(f"request timed out ({type(exc).__name__}): {exc}")
    return APIConnectionError(f"connection failed ({type(exc).__name__}): {exc}")
