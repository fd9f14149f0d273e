"""The gateway's response cache: identical requests within the TTL answer from here.

Only complete (non-streamed) 2xx answers are stored. Like Cloudflare's, the cache is volatile: two
simultaneous identical requests may both miss.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_ENTRIES = 2048
MAX_CACHEABLE_BYTES = 25 * 1024 * 1024
"""Cloudflare's documented cacheable request size."""

# Headers that change what the provider answers, so they belong in the key. The provider
# credential is hashed in too, so different callers never share an entry.
_KEY_HEADERS = ("authorization", "x-api-key", "content-type", "accept")


@dataclass
class CachedResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    expires_at: float
    extra: dict[str, Any] = field(default_factory=dict)
    """What the log of a HIT needs: model, tokens, step..."""


def cache_key(scope: str, method: str, path: str, query: Mapping[str, str], body: bytes,
              headers: Mapping[str, str], custom_key: str | None) -> str:
    """Key of a provider request; a ``cf-aig-cache-key`` replaces everything but the gateway."""
    digest = hashlib.sha256(scope.encode())
    if custom_key is not None:
        digest.update(b"\0custom\0" + custom_key.encode())
        return digest.hexdigest()
    digest.update(f"\0{method.upper()}\0{path}\0".encode())
    for k in sorted(query):
        digest.update(f"{k}={query[k]}\0".encode())
    lower = {k.lower(): v for k, v in headers.items()}
    for name in _KEY_HEADERS:
        digest.update(f"{name}:{lower.get(name, '')}\0".encode())
    digest.update(body)
    return digest.hexdigest()


class ResponseCache:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, CachedResponse] = OrderedDict()

    def get(self, key: str) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, status: int, headers: Mapping[str, str], body: bytes, ttl_s: float,
            extra: Mapping[str, Any]) -> None:
        if ttl_s <= 0 or len(body) > MAX_CACHEABLE_BYTES:
            return
        entry = CachedResponse(status, dict(headers), body, self._clock() + ttl_s, dict(extra))
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
