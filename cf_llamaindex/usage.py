"""Usage and cost reporting: every Workers AI call made by this package inside ``track_usage()``.

    from cf_llamaindex import track_usage

    with track_usage() as usage:
        index.as_query_engine(llm=llm).query("...")
    usage.totals()      # requests, tokens, neurons, estimated USD, gateway cache hits
    usage.by_model()

A component's own ``usage_tracker=`` option records its calls too, in or out of the block. Blocks
nest (each one counts what ran inside it) and follow asyncio tasks started inside them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from cf_core.gateway import GatewayInfo
from cf_core.usage import ModelUsage, UsageTracker
from cf_core.workers_ai import Usage

__all__ = ["ModelUsage", "UsageTracker", "active_trackers", "record", "track_usage"]

_ACTIVE: ContextVar[tuple[UsageTracker, ...]] = ContextVar("cf_llamaindex_usage", default=())


@contextmanager
def track_usage() -> Iterator[UsageTracker]:
    """Count every call made in this block (and the tasks it starts) in a fresh tracker."""
    tracker = UsageTracker()
    token = _ACTIVE.set((*_ACTIVE.get(), tracker))
    try:
        yield tracker
    finally:
        _ACTIVE.reset(token)


def active_trackers() -> tuple[UsageTracker, ...]:
    return _ACTIVE.get()


def record(model: str, usage: Usage | None, gateway: GatewayInfo | None,
           own: UsageTracker | None = None) -> None:
    """Record one call in ``own`` (a component's tracker) and in every enclosing ``track_usage``."""
    for tracker in (own, *_ACTIVE.get()):
        if tracker is not None:
            tracker.record(model, usage, gateway)
