"""Map cf_core's typed errors onto LangChain's model error types.

LangChain asks integrations to raise its ``Model*Error`` classes, as subclasses that also inherit
from the provider's own error type. So each mapped error here is an instance of *both* the
original cf_core class (``RateLimitError``, ``CapacityError``, ...: the same attributes, ``status``,
``code``, ``request_id``, ``retry_after``) and the LangChain class (``ModelRateLimitError``...). Code
catching either keeps working. The combined classes are built once at import, named after the core
class and registered in this module, so they pickle.

Errors LangChain has no type for (local ``InvalidInputError``, guardrails/DLP blocks, conflicts)
are raised unchanged, except input found to overflow the context window (locally or by the
service), which also becomes a ``ContextOverflowError``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from langchain_core import exceptions as lc

from cf_core import errors as cf

__all__ = ["CloudflareContextOverflowError", "CloudflareInputContextOverflowError", "map_errors", "to_langchain_error", "wrap_aiter", "wrap_iter"]

T = TypeVar("T")

# Order matters: the first core class found in an error's MRO decides the LangChain type.
_LC_TYPE: tuple[tuple[type[cf.CloudflareError], type[lc.ModelError]], ...] = (
    (cf.AuthenticationError, lc.ModelAuthenticationError),
    (cf.PermissionDeniedError, lc.ModelPermissionDeniedError),
    (cf.NotFoundError, lc.ModelNotFoundError),
    (cf.RateLimitError, lc.ModelRateLimitError),
    (cf.TimeoutError, lc.ModelTimeoutError),
    (cf.ServerError, lc.ModelAPIError),
    (cf.BadRequestError, lc.ModelInvalidRequestError),
    (cf.PayloadTooLargeError, lc.ModelInvalidRequestError),
    (cf.APIConnectionError, lc.ModelConnectionError),
    (cf.StreamError, lc.ModelAPIError),
)
_UNMAPPED: tuple[type[cf.CloudflareError], ...] = (
    cf.GuardrailsError, cf.DLPError, cf.ConflictError, cf.InvalidInputError, cf.ConfigurationError,
    cf.MutationTimeoutError, cf.PartialWriteError,
)

_COMBINED: dict[type[cf.CloudflareError], type[cf.CloudflareError]] = {}


def _lc_type_for(core_cls: type[cf.CloudflareError]) -> type[lc.ModelError] | None:
    if issubclass(core_cls, _UNMAPPED):
        return None
    for core_base, lc_type in _LC_TYPE:
        if issubclass(core_cls, core_base):
            return lc_type
    return None


def _register(name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> type[cf.CloudflareError]:
    cls = type(name, bases, {"__module__": __name__, "__qualname__": name, **attrs})
    globals()[name] = cls
    return cls


def _build() -> None:
    for value in list(vars(cf).values()):
        if not (isinstance(value, type) and issubclass(value, cf.CloudflareError)):
            continue
        lc_type = _lc_type_for(value)
        if lc_type is None:
            continue
        attrs: dict[str, Any] = {"__doc__": f"{value.__doc__ or ''}\n\nAlso a LangChain ``{lc_type.__name__}``."}
        if issubclass(value, cf.QuotaExceededError):
            attrs["is_retryable"] = False  # the daily allocation does not come back within a retry
        _COMBINED[value] = _register(f"Model{value.__name__}", (value, lc_type), attrs)


_build()

CloudflareContextOverflowError = _register(
    "CloudflareContextOverflowError", (cf.BadRequestError, lc.ContextOverflowError),
    {"__doc__": "The input is longer than the model's context window (HTTP 400)."})

CloudflareInputContextOverflowError = _register(
    "CloudflareInputContextOverflowError", (cf.InvalidInputError, lc.ContextOverflowError),
    {"__doc__": "The input is far longer than the model's context window (found before sending)."})

_CONTEXT_OVERFLOW = re.compile(
    r"context (length|window)|maximum context|too many (input )?tokens|prompt is too long|"
    r"input (is )?too long|exceeds? the (model'?s? )?(maximum|max|context)", re.I)


def to_langchain_error(exc: BaseException) -> BaseException:
    """The LangChain-typed twin of a cf_core error (same attributes), or ``exc`` itself."""
    if not isinstance(exc, cf.CloudflareError) or isinstance(exc, lc.ModelError):
        return exc
    target: type[cf.CloudflareError] | None
    overflow = bool(_CONTEXT_OVERFLOW.search(exc.message or ""))
    if type(exc) is cf.BadRequestError and overflow:
        target = CloudflareContextOverflowError
    elif type(exc) is cf.InvalidInputError and overflow:
        target = CloudflareInputContextOverflowError
    else:
        target = _COMBINED.get(type(exc))
    if target is None:
        return exc
    new = target.__new__(target)
    Exception.__init__(new, exc.message)
    new.__dict__.update(exc.__dict__)
    return new


@contextmanager
def map_errors() -> Iterator[None]:
    """Re-raise cf_core errors as their LangChain-typed twins (chained to the original)."""
    try:
        yield
    except cf.CloudflareError as exc:
        mapped = to_langchain_error(exc)
        if mapped is exc:
            raise
        raise mapped from exc


def wrap_iter(source: Iterator[T]) -> Iterator[T]:
    """Iterate ``source`` with errors mapped (streams fail while being read, not when opened)."""
    with map_errors():
        yield from source


async def wrap_aiter(source: AsyncIterator[T]) -> AsyncIterator[T]:
    with map_errors():
        async for item in source:
            yield item
