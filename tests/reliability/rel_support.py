"""Helpers shared by the reliability tests: models, the issue's fault mix, seed pickers, a corpus,
and core clients on the loopback emulator with a fast retry policy."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from cf_core import AsyncCloudflareClient, CloudflareClient, RetryPolicy
from cf_core.local import FaultConfig
from cf_core.local.faults import FaultPlan, Faults
from cf_core.local.server import RunningServer

EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
DIMS = 384
CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct"
ACCOUNT = "rel-account"
TOKEN = "rel-token-0123456789"

FAST_RETRIES = RetryPolicy(max_retries=10, base_delay_s=0.001, max_delay_s=0.02)
"""Enough attempts that the issue's 18% failure mix never outlasts them (0.18**11 per request),
with back-off shrunk so a test spends its time on work, not sleeping."""

SOCKET_TIMEOUT_S = 3.0
"""Client timeout on the loopback server: well above the slowest honest request (a 5,000-vector
NDJSON upsert takes about 1 s), so only injected slowness times out."""
SOCKET_SLOW_MS = 3500.0

FAULT_KINDS = frozenset({"500", "503", "429", "drop", "slow"})


def issue_faults(*, slow_ms: float, seed: int | None = None, paths: str = "/") -> FaultConfig:
    """The issue's mix: 10% HTTP 500/503, 5% 429 with Retry-After, 2% dropped connections and 1%
    answers slower than the client's timeout."""
    return FaultConfig(error_rates={500: 0.05, 503: 0.05, 429: 0.05}, retry_after_s=0.01, drop_rate=0.02,
                       slow_rate=0.01, slow_ms=slow_ms, seed=seed, paths=paths)


def _kind(plan: FaultPlan) -> str | None:
    if plan.drop:
        return "drop"
    if plan.error_status is not None:
        return str(plan.error_status)
    return "slow" if plan.delay_s > 0 else None


def replay(config: FaultConfig, seed: int, count: int, path: str = "/") -> list[str | None]:
    """The fault kinds the first ``count`` requests meet under ``config`` with ``seed`` (None: no fault)."""
    faults = Faults(replace(config, seed=seed))
    return [_kind(faults.plan(path)) for _ in range(count)]


def _first(config: FaultConfig, seed: int, path: str, count: int) -> list[str | None]:
    return replay(config, seed, count, path)


def pick_seed(config: FaultConfig, accept: Callable[[Callable[[int], list[str | None]]], bool],
              path: str = "/") -> int:
    """The smallest seed whose fault sequence ``accept`` likes (it gets ``n -> first n kinds``).

    Faults are drawn in request order from one seeded generator, so which faults a run meets in its
    first requests is fixed by the seed even when concurrent requests interleave differently.
    """
    for seed in range(10_000):
        if accept(partial(_first, config, seed, path)):
            return seed
    raise AssertionError("no seed gives the wanted fault sequence")


def seed_with_every_fault(config: FaultConfig, within: int, max_slow: int = 1) -> int:
    """A seed under which every kind of fault occurs in the first ``within`` requests, and at most
    ``max_slow`` slow answers in the first ``4 * within`` (each costs a whole client timeout)."""
    def accept(first: Callable[[int], list[str | None]]) -> bool:
        kinds = first(4 * within)
        return set(kinds[:within]) >= FAULT_KINDS and kinds.count("slow") <= max_slow
    return pick_seed(config, accept)


def seed_for_outcomes(config: FaultConfig, outcomes: Sequence[bool], path: str = "/") -> int:
    """A seed under which the first requests fail (True) or succeed (False) in exactly this order."""
    return pick_seed(config, lambda first: [k is not None for k in first(len(outcomes))] == list(outcomes), path)


@dataclass(frozen=True)
class Corpus:
    texts: list[str]
    ids: list[str]
    metadatas: list[dict[str, Any]]


TOPICS = ("vectorize", "workers", "gateway", "kv", "durable", "queues", "pages", "r2", "d1", "images",
          "stream", "zaraz", "tunnel")


def corpus(n: int, prefix: str = "doc") -> Corpus:
    """``n`` distinct short documents with unique ids and metadata of several JSON types."""
    texts = [f"Document {i} explains {TOPICS[i % len(TOPICS)]} feature number {i * 7919 % 10007}." for i in range(n)]
    ids = [f"{prefix}-{i:05d}" for i in range(n)]
    metadatas = [{"n": i, "topic": TOPICS[i % len(TOPICS)], "even": i % 2 == 0, "tags": [f"t{i % 5}", "all"]}
                 for i in range(n)]
    return Corpus(texts, ids, metadatas)


def socket_client(server: RunningServer, **overrides: Any) -> CloudflareClient:
    kwargs: dict[str, Any] = {"account_id": ACCOUNT, "api_token": TOKEN, "base_url": server.base_url,
                              "gateway_base_url": server.gateway_base_url, "timeout": SOCKET_TIMEOUT_S,
                              "retry_policy": FAST_RETRIES}
    kwargs.update(overrides)
    return CloudflareClient(**kwargs)


def socket_async_client(server: RunningServer, **overrides: Any) -> AsyncCloudflareClient:
    kwargs: dict[str, Any] = {"account_id": ACCOUNT, "api_token": TOKEN, "base_url": server.base_url,
                              "gateway_base_url": server.gateway_base_url, "timeout": SOCKET_TIMEOUT_S,
                              "retry_policy": FAST_RETRIES}
    kwargs.update(overrides)
    return AsyncCloudflareClient(**kwargs)


def retry_lines(records: Sequence[logging.LogRecord]) -> list[str]:
    """The core transport's log lines announcing a retry."""
    return [r.getMessage() for r in records if r.name == "cf_core.http" and r.getMessage().startswith("retrying")]


RETRY_REASON = {"500": "HTTP 500 code 10001", "503": "HTTP 503 code 10003", "429": "HTTP 429 code 3040",
                "drop": "APIConnectionError", "slow": "TimeoutError"}
"""How the client's stats name the retry caused by each kind of injected fault."""


def assert_every_fault_was_retried(stats: dict[str, Any], injected: dict[str, int],
                                   records: Sequence[logging.LogRecord]) -> None:
    """Each injected fault shows up as a retry, by reason, in the client's stats and logs."""
    reasons = stats["retry_reasons"]
    assert set(injected) >= FAULT_KINDS, f"the seed should inject every kind of fault, got {injected}"
    for kind in FAULT_KINDS:
        if kind == "slow":  # a genuinely slow machine could add a timeout of its own
            assert reasons.get(RETRY_REASON[kind], 0) >= injected[kind], (kind, reasons, injected)
        else:
            assert reasons.get(RETRY_REASON[kind], 0) == injected[kind], (kind, reasons, injected)
    assert stats["retries"] >= sum(injected[k] for k in FAULT_KINDS)
    assert len(retry_lines(records)) == stats["retries"]
