"""Per-gateway rate limiting: ``limit`` requests per ``interval`` seconds, fixed or sliding window."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Counts admitted requests; :meth:`admit` answers ``None`` or the seconds until one is allowed."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # fixed: key -> (window index, count)
        self._logs: dict[str, deque[float]] = {}  # sliding: key -> admission times

    def admit(self, key: str, limit: int, interval_s: int, technique: str) -> float | None:
        now = self._clock()
        with self._lock:
            if technique == "sliding":
                times = self._logs.setdefault(key, deque())
                while times and times[0] <= now - interval_s:
                    times.popleft()
                if len(times) >= limit:
                    return max(times[0] + interval_s - now, 0.001)
                times.append(now)
                return None
            window = math.floor(now / interval_s)
            current, count = self._windows.get(key, (window, 0))
            if current != window:
                count = 0
            if count >= limit:
                return max((window + 1) * interval_s - now, 0.001)
            self._windows[key] = (window, count + 1)
            return None

    def forget(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)
            self._logs.pop(key, None)
