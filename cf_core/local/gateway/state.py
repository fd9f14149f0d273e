"""The gateway component's state: gateways per account, their logs, caches and rate limits."""

from __future__ import annotations

import copy
import itertools
import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..wire import ApiError
from .cache import ResponseCache
from .errors import GATEWAY_NOT_FOUND, MGMT_DUPLICATE, MGMT_LIMIT, MGMT_NOT_FOUND, gateway_error
from .logs import LogStore, iso
from .ratelimit import RateLimiter
from .settings import (
    ID_PATTERN,
    MAX_GATEWAYS_PER_ACCOUNT,
    MAX_ID_LENGTH,
    GatewaySettings,
    apply_body,
    check_id,
)

if TYPE_CHECKING:
    from ..emulator import Emulator

Key = tuple[str, str]
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class GatewayState:
    """Thread-safe. ``clock`` (monotonic seconds; drives cache TTLs and rate limits) and
    ``wall_clock`` (epoch seconds; log timestamps) may be replaced by tests."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.clock: Callable[[], float] = time.monotonic
        self.wall_clock: Callable[[], float] = time.time
        self._lock = threading.RLock()
        self._rng = random.Random(f"ai-gateway:{emulator.config.seed}")
        self._seq = itertools.count(1)
        self._gateways: dict[Key, GatewaySettings] = {}
        self._logs: dict[Key, LogStore] = {}
        self._caches: dict[Key, ResponseCache] = {}
        self.limiter = RateLimiter(lambda: self.clock())

    # -- ids --------------------------------------------------------------------------------------

    def new_id(self, prefix: str = "") -> str:
        """A ULID-shaped id drawn from the seeded generator (same seed, same order -> same ids)."""
        with self._lock:
            return prefix + "".join(self._rng.choice(_CROCKFORD) for _ in range(26))

    def next_seq(self) -> int:
        with self._lock:
            return next(self._seq)

    # -- gateways ---------------------------------------------------------------------------------

    def _now_iso(self) -> str:
        return iso(self.wall_clock())

    def resolve(self, account: str, gateway_id: str) -> GatewaySettings:
        """The gateway a URL names, created with defaults on first use (as Cloudflare does for
        ``default``; the emulator extends it to any id so clients need no management call)."""
        with self._lock:
            found = self._gateways.get((account, gateway_id))
            if found is not None:
                return copy.deepcopy(found)
            if len(gateway_id) > MAX_ID_LENGTH or not ID_PATTERN.match(gateway_id):
                raise gateway_error(404, GATEWAY_NOT_FOUND,
                                    f"Gateway id {gateway_id[:80]!r} is invalid (at most {MAX_ID_LENGTH} "
                                    "letters, digits, '-' or '_')")
            if self._count(account) >= MAX_GATEWAYS_PER_ACCOUNT:
                raise gateway_error(404, GATEWAY_NOT_FOUND,
                                    f"Gateway {gateway_id!r} does not exist and the account already has "
                                    f"{MAX_GATEWAYS_PER_ACCOUNT} gateways")
            now = self._now_iso()
            created = GatewaySettings(id=gateway_id, created_at=now, modified_at=now)
            self._gateways[(account, gateway_id)] = created
            return copy.deepcopy(created)

    def _count(self, account: str) -> int:
        return sum(1 for acc, _ in self._gateways if acc == account)

    def create(self, account: str, body: dict[str, Any]) -> GatewaySettings:
        gateway_id = check_id(body.get("id"))
        now = self._now_iso()
        settings = GatewaySettings(id=gateway_id, created_at=now, modified_at=now)
        apply_body(settings, body, creating=True)
        with self._lock:
            if (account, gateway_id) in self._gateways:
                raise ApiError(400, MGMT_DUPLICATE, f"A gateway with id {gateway_id!r} already exists")
            if self._count(account) >= MAX_GATEWAYS_PER_ACCOUNT:
                raise ApiError(400, MGMT_LIMIT, f"An account can have at most {MAX_GATEWAYS_PER_ACCOUNT} gateways")
            self._gateways[(account, gateway_id)] = settings
            return copy.deepcopy(settings)

    def get(self, account: str, gateway_id: str) -> GatewaySettings:
        with self._lock:
            found = self._gateways.get((account, gateway_id))
            if found is None:
                raise ApiError(404, MGMT_NOT_FOUND, f"Gateway {gateway_id[:80]!r} not found")
            return copy.deepcopy(found)

    def update(self, account: str, gateway_id: str, body: dict[str, Any]) -> GatewaySettings:
        with self._lock:
            current = self.get(account, gateway_id)
            apply_body(current, body, creating=False)
            current.modified_at = self._now_iso()
            self._gateways[(account, gateway_id)] = current
            if current.cache_invalidate_on_update:
                self.cache((account, gateway_id)).clear()
            self.limiter.forget(f"{account}/{gateway_id}")
            return copy.deepcopy(current)

    def delete(self, account: str, gateway_id: str) -> GatewaySettings:
        with self._lock:
            gone = self.get(account, gateway_id)
            key = (account, gateway_id)
            del self._gateways[key]
            self._logs.pop(key, None)
            self._caches.pop(key, None)
            self.limiter.forget(f"{account}/{gateway_id}")
            return gone

    def list(self, account: str) -> list[GatewaySettings]:
        with self._lock:
            found = [g for (acc, _), g in self._gateways.items() if acc == account]
            return [copy.deepcopy(g) for g in sorted(found, key=lambda g: (g.created_at, g.id))]

    # -- per-gateway stores -----------------------------------------------------------------------

    def logs(self, key: Key) -> LogStore:
        with self._lock:
            return self._logs.setdefault(key, LogStore())

    def cache(self, key: Key) -> ResponseCache:
        with self._lock:
            found = self._caches.get(key)
            if found is None:
                found = self._caches[key] = ResponseCache(lambda: self.clock())
            return found

    def close(self) -> None:
        with self._lock:
            self._logs.clear()
            self._caches.clear()
