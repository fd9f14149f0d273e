"""Multi-step Vectorize work written once, run by a sync or an async driver.

A *plan* is a generator that yields :class:`Call` values (a core Vectorize method name and its
arguments) and receives each call's result back; it returns the operation's result. The sync
driver runs the calls on ``client.vectorize``, the async one awaits them on the async client, so
the store's logic (two-step queries, delete loops, scans) exists only once.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


Plan = Generator[Call, Any, T]


def call(method: str, *args: Any, **kwargs: Any) -> Call:
    return Call(method, args, kwargs)


def run_sync(resource: Any, plan: Plan[T]) -> T:
    """Run ``plan`` against a sync core resource (``client.vectorize``)."""
    try:
        step = next(plan)
        while True:
            try:
                result = getattr(resource, step.method)(*step.args, **step.kwargs)
            except Exception as exc:  # handed to the plan, which may handle it or let it propagate
                step = plan.throw(exc)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(resource: Any, plan: Plan[T]) -> T:
    """Run ``plan`` against an async core resource (``async_client.vectorize``)."""
    try:
        step = next(plan)
        while True:
            try:
                result = await getattr(resource, step.method)(*step.args, **step.kwargs)
            except Exception as exc:
                step = plan.throw(exc)
            else:
                step = plan.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
