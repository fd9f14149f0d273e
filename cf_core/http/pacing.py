"""Client-side request pacing that keeps bulk work under a per-minute rate limit.

A token bucket holding ``per_minute`` tokens and refilling at ``per_minute / 60`` per second admits
the same traffic as a 60-second sliding window of ``per_minute`` requests (Workers AI's limits), so a
paced client never meets a 429 from its own bulk work and wastes no time below the limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RequestPacer:
    def __init__(self, per_minute: float, *, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else per_minute)
        self._tokens = self.capacity
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take one slot; return how long to wait before using it (0 when one is free now)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate
