"""Per-model requests-per-minute limits (reference 4.2), sliding 60-second window, thread-safe.

Enabled with ``EmulatorConfig(rate_limits=True)``; the limit is the catalog's ``rate_limit_rpm``.
Each (account, model) pair has its own window. Every request that names a known model counts,
whether or not it then passes validation (UNCONFIRMED: Cloudflare's accounting is not documented).

Over the limit the answer is HTTP 429 with a ``Retry-After`` header (whole seconds until the oldest
request in the window leaves it, at least 1) and code 971 (UNCONFIRMED: that is the code of
Cloudflare's general API rate limiter, "please wait and consider throttling"; the Workers AI
per-model code is not documented, and 3040 means "out of capacity", not a rate limit).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from ..wire import ApiError

RATE_LIMIT_CODE = 971
WINDOW_S = 60.0


class RateLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, account: str, model: str, limit: int | None) -> None:
        """Count one request, or raise the 429 answer when ``limit`` are already in the window."""
        if not limit:
            return
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault((account, model), deque())
            while hits and hits[0] <= now - WINDOW_S:
                hits.popleft()
            if len(hits) >= limit:
                wait = max(1, math.ceil(hits[0] + WINDOW_S - now))
                raise ApiError(429, RATE_LIMIT_CODE,
                               f"AiError: rate limited: {model} allows {limit} requests per minute; "
                               f"retry in {wait} s", headers={"retry-after": str(wait)})
            hits.append(now)

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()
