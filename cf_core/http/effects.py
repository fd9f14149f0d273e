"""Multi-step operations written once for sync and async.

An operation that needs several requests (batched embeddings, waiting for a mutation, bulk ingest)
is a generator that yields effects and receives their results:

    def embed_all(texts):
        results = yield Gather([embed_call(b) for b in batches(texts)], limit=4)
        return [v for r in results for v in r]

``Call`` runs one request; ``Gather`` runs several (calls or nested operations) concurrently under
a limit, keeping order; ``Sleep`` waits. The transports drive the generator with threads or asyncio.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar, Union

from .request import Call

T = TypeVar("T")


@dataclass(frozen=True)
class Gather:
    items: Sequence[Any]
    """Each a :class:`Call` or an operation generator."""
    limit: int = 4
    return_exceptions: bool = False
    """If true, failures come back in place of results instead of raising the first one."""


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Pace:
    """Wait for a slot under ``per_minute`` requests for ``key`` (shared by everything the client runs)."""

    key: str
    per_minute: float


Effect: TypeAlias = Call[Any] | Gather | Sleep | Pace
Op: TypeAlias = Generator[Effect, Any, T]
Runnable: TypeAlias = Union[Call[T], "Op[T]"]
