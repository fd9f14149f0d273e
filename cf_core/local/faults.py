"""Fault injection: latency, error rates per status, 429 bursts, dropped connections, slow answers.

Decisions come from one seeded random generator so a run with the same seed and the same request
order injects the same faults. The plan is computed by the emulator and carried out by whichever
front end serves the request (in-process transport or ASGI), because only they can sleep or drop.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms, "error_rates": {str(k): v for k, v in self.error_rates.items()},
            "retry_after_s": self.retry_after_s, "drop_rate": self.drop_rate, "slow_rate": self.slow_rate,
            "slow_ms": self.slow_ms, "burst_429": self.burst_429, "seed": self.seed, "paths": self.paths,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        cfg = cls()
        for key, value in data.items():
            if key == "error_rates":
                cfg.error_rates = {int(k): float(v) for k, v in dict(value).items()}
            elif hasattr(cfg, key):
                setattr(cfg, key, value)
            else:
                raise ValueError(f"unknown fault setting {key!r}")
        return cfg


@dataclass
class FaultPlan:
    delay_s: float = 0.0
    error_status: int | None = None
    retry_after_s: float | None = None
    drop: bool = False


class Faults:
    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())
        self.injected: dict[str, int] = {}

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    def plan(self, path: str) -> FaultPlan:
        cfg = self.config
        plan = FaultPlan(delay_s=cfg.latency_ms / 1000.0)
        if cfg.paths not in path:
            return plan
        with self._lock:
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
