"""Fault injection: latency, error rates per status, 429 bursts, dropped connections, slow answers,
streams cut part-way.

Decisions come from one seeded random generator so a run with the same seed and the same request
order injects the same faults. The plan is computed by the emulator and carried out by whichever
front end serves the request (in-process transport or ASGI), because only they can sleep or drop.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from typing import Any

MAX_DELAY_MS = 600_000.0


@dataclass
class FaultConfig:
    latency_ms: float = 0.0
    """Added to every request (stands in for the network to Cloudflare)."""
    error_rates: dict[int, float] = field(default_factory=dict)
    """HTTP status -> fraction of requests answered with it (429 answers carry Retry-After)."""
    retry_after_s: float = 1.0
    drop_rate: float = 0.0
    """Fraction of requests whose connection is cut before a complete answer."""
    slow_rate: float = 0.0
    slow_ms: float = 0.0
    """Fraction of requests delayed by ``slow_ms`` more (to outlast a client's timeout)."""
    burst_429: int = 0
    """The next N requests get 429 with Retry-After, then normal service resumes."""
    seed: int | None = None
    paths: str = "/"
    """Only requests whose path contains this string are affected (the admin API never is)."""
    stream_cut_rate: float = 0.0
    """Fraction of streaming answers whose connection is cut after ``stream_cut_after`` events
    (drawn separately from the faults above, and only affecting answers that stream)."""
    stream_cut_after: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms, "error_rates": {str(k): v for k, v in self.error_rates.items()},
            "retry_after_s": self.retry_after_s, "drop_rate": self.drop_rate, "slow_rate": self.slow_rate,
            "slow_ms": self.slow_ms, "burst_429": self.burst_429, "seed": self.seed, "paths": self.paths,
            "stream_cut_rate": self.stream_cut_rate, "stream_cut_after": self.stream_cut_after,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        """Build from JSON-like data; raises ValueError naming the bad setting."""
        if not isinstance(data, dict):
            raise ValueError("fault settings must be a JSON object")
        cfg = cls()
        for key, value in data.items():
            if key == "error_rates":
                if not isinstance(value, dict):
                    raise ValueError("error_rates: expected an object of STATUS -> fraction")
                rates = {}
                for status, rate in value.items():
                    try:
                        code = int(status)
                    except (TypeError, ValueError):
                        raise ValueError(f"error_rates: {status!r} is not an HTTP status") from None
                    rates[code] = _number(f"error_rates.{status}", rate, 0.0, 1.0)
                cfg.error_rates = rates
            elif key in ("latency_ms", "slow_ms"):
                setattr(cfg, key, _number(key, value, 0.0, MAX_DELAY_MS))
            elif key in ("drop_rate", "slow_rate", "stream_cut_rate"):
                setattr(cfg, key, _number(key, value, 0.0, 1.0))
            elif key == "retry_after_s":
                cfg.retry_after_s = _number(key, value, 0.0, 86_400.0)
            elif key == "burst_429":
                cfg.burst_429 = int(_number(key, value, 0, 1_000_000, integer=True))
            elif key == "stream_cut_after":
                cfg.stream_cut_after = int(_number(key, value, 0, 1_000_000, integer=True))
            elif key == "seed":
                cfg.seed = None if value is None else int(_number(key, value, -(2**63), 2**63, integer=True))
            elif key == "paths":
                if not isinstance(value, str):
                    raise ValueError("paths: expected a string")
                cfg.paths = value
            else:
                raise ValueError(f"unknown fault setting {key!r}")
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Check ranges (also for configs built in Python); raises ValueError naming the setting."""
        for status, rate in self.error_rates.items():
            if not 400 <= int(status) <= 599:
                raise ValueError(f"error_rates: status {status} is not between 400 and 599")
            _number(f"error_rates.{status}", rate, 0.0, 1.0)
        _number("latency_ms", self.latency_ms, 0.0, MAX_DELAY_MS)
        _number("slow_ms", self.slow_ms, 0.0, MAX_DELAY_MS)
        _number("drop_rate", self.drop_rate, 0.0, 1.0)
        _number("slow_rate", self.slow_rate, 0.0, 1.0)
        _number("retry_after_s", self.retry_after_s, 0.0, 86_400.0)
        _number("burst_429", self.burst_429, 0, 1_000_000, integer=True)
        _number("stream_cut_rate", self.stream_cut_rate, 0.0, 1.0)
        _number("stream_cut_after", self.stream_cut_after, 0, 1_000_000, integer=True)
        total = sum(self.error_rates.values()) + self.drop_rate + self.slow_rate
        if total > 1.0 + 1e-9:
            raise ValueError(f"error_rates + drop_rate + slow_rate add up to {total:g}, more than 1")


def _number(name: str, value: Any, lo: float, hi: float, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    if integer and value != int(value):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name}: must be between {lo:g} and {hi:g}, got {value!r}")
    return float(value)


@dataclass
class FaultPlan:
    delay_s: float = 0.0
    error_status: int | None = None
    retry_after_s: float | None = None
    drop: bool = False
    cut_stream_after: int | None = None
    """Cut a streaming answer after this many body chunks (one SSE event each)."""


class Faults:
    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}
        """Faults injected so far, by kind: ``latency``, ``slow``, ``drop`` or an HTTP status."""
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        config.validate()
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.injected)

    def note(self, kind: str) -> None:
        """Count a fault applied outside :meth:`plan` (a stream cut, known only once the answer streams)."""
        with self._lock:
            self._count(kind)

    def plan(self, path: str) -> FaultPlan:
        plan = FaultPlan()
        with self._lock:
            cfg = self.config
            if cfg.paths not in path:
                return plan
            # Drawn first and only when enabled, so configs without it keep their fault sequences.
            if cfg.stream_cut_rate > 0 and self._rng.random() < cfg.stream_cut_rate:
                plan.cut_stream_after = cfg.stream_cut_after
            if cfg.latency_ms > 0:
                plan.delay_s = cfg.latency_ms / 1000.0
                self._count("latency")
            if cfg.burst_429 > 0:
                cfg.burst_429 -= 1
                plan.error_status, plan.retry_after_s = 429, cfg.retry_after_s
                self._count("429")
                return plan
            roll = self._rng.random()
            edge = 0.0
            for status, rate in sorted(cfg.error_rates.items()):
                edge += rate
                if roll < edge:
                    plan.error_status = status
                    plan.retry_after_s = cfg.retry_after_s if status == 429 else None
                    self._count(str(status))
                    return plan
            edge += cfg.drop_rate
            if roll < edge:
                plan.drop = True
                self._count("drop")
                return plan
            edge += cfg.slow_rate
            if roll < edge:
                plan.delay_s += cfg.slow_ms / 1000.0
                self._count("slow")
        return plan

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1
