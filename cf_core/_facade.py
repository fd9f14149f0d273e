"""Turn operation builders into sync and async client methods without writing any method twice.

``chat = sync_call(ops.chat)`` on a sync resource and ``chat = async_call(ops.chat)`` on its async
twin give both the builder's exact signature and docstring; the only difference is who sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from .http import AsyncTransport, Runnable, StreamCall, SyncTransport

P = ParamSpec("P")
T = TypeVar("T")


class SyncResource:
    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport


class AsyncResource:
    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport


def _named(method: Any, build: Callable[..., Any]) -> Any:
    method.__name__ = build.__name__
    method.__qualname__ = build.__qualname__
    method.__doc__ = build.__doc__
    method.__wrapped__ = build
    return method


def sync_call(build: Callable[P, Runnable[T]]) -> Callable[Concatenate[SyncResource, P], T]:
    def method(self: SyncResource, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._transport.run(build(*args, **kwargs))

    return _named(method, build)  # type: ignore[no-any-return]


def async_call(build: Callable[P, Runnable[T]]) -> Callable[Concatenate[AsyncResource, P], Awaitable[T]]:
    async def method(self: AsyncResource, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._transport.run(build(*args, **kwargs))

    return _named(method, build)  # type: ignore[no-any-return]


def sync_stream(build: Callable[P, StreamCall[T]]) -> Callable[Concatenate[SyncResource, P], Iterator[T]]:
    def method(self: SyncResource, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        return self._transport.stream(build(*args, **kwargs))

    return _named(method, build)  # type: ignore[no-any-return]


def async_stream(build: Callable[P, StreamCall[T]]) -> Callable[Concatenate[AsyncResource, P], AsyncIterator[T]]:
    def method(self: AsyncResource, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        return self._transport.stream(build(*args, **kwargs))

    return _named(method, build)  # type: ignore[no-any-return]
