"""Writing and deleting vectors: NDJSON batches, concurrency, partial-failure bookkeeping, waiting.

A write is validated completely before anything is sent, split into batches of at most 5000 vectors
and sent with bounded concurrency. If some batches fail, :class:`PartialWriteError` lists exactly
the ids of the batches that were accepted and of those that were not; running the same upsert again
completes the job (an upsert of the same id replaces it, so nothing is duplicated).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic_core import to_json

from ..errors import APIError, PartialWriteError
from ..http import Call, Effect, Gather, Op, RawResponse, unwrap
from . import validation as V
from ._paths import index_path, request
from .mutations import recorded, wait_op
from .types import MutationResult, Vector

NDJSON = "application/x-ndjson"
WriteKind = Literal["insert", "upsert"]

_fast_dumps: Callable[..., bytes] | None
try:
    from orjson import OPT_APPEND_NEWLINE as _ORJSON_LINE
    from orjson import dumps as _fast_dumps
except ImportError:  # pragma: no cover - orjson is optional
    _fast_dumps, _ORJSON_LINE = None, 0
DEFAULT_POLL_INTERVAL_S = 0.2


def encode_ndjson(vectors: Sequence[Vector]) -> bytes:
    """One compact JSON object per line, UTF-8, newline-terminated.

    Values were checked finite when the vectors were validated; pydantic-core's encoder writes float
    arrays several times faster than the json module, which matters at 5000 x 768 floats per batch.
    """
    return encode_wire_ndjson([v.to_wire() for v in vectors])


def _encode_line(obj: dict[str, Any]) -> bytes:
    if _fast_dumps is not None:
        try:
            return _fast_dumps(obj, option=_ORJSON_LINE)
        except TypeError:  # what orjson refuses (ints past 64 bits, odd keys) pydantic-core writes
            pass
    return to_json(obj) + b"\n"


def encode_wire_ndjson(objects: Sequence[dict[str, Any]]) -> bytes:
    """:func:`encode_ndjson` of vectors already in their wire form (see ``Vector.to_wire``).

    orjson, when installed (LangChain's langsmith and the ``local`` extra bring it), writes a line
    about twice as fast as pydantic-core; either gives valid compact JSON of the same values.
    """
    return b"".join([_encode_line(obj) for obj in objects])


def mutation_id(raw: RawResponse) -> str:
    result = unwrap(raw)
    mid = result.get("mutationId") if isinstance(result, dict) else None
    if not isinstance(mid, str) or not mid:
        raise APIError(f"expected a mutationId in the answer, got {result!r}", status=raw.status)
    return mid


def write_call(kind: WriteKind, index: str, batch: Sequence[Vector]) -> Call[str]:
    return write_wire_call(kind, index, [v.to_wire() for v in batch])


def write_wire_call(kind: WriteKind, index: str, batch: Sequence[dict[str, Any]]) -> Call[str]:
    """:func:`write_call` for vectors already validated and in their wire form."""
    return write_ndjson_call(kind, index, encode_wire_ndjson(batch))


def write_ndjson_call(kind: WriteKind, index: str, body: bytes) -> Call[str]:
    """A write of an NDJSON body built and validated by the caller (the bulk ingest's)."""
    return Call(request("POST", index_path(index, f"/{kind}"), content=body, headers={"content-type": NDJSON}),
                mutation_id)


@dataclass(frozen=True)
class WritePlan:
    kind: WriteKind
    index: str
    batches: list[list[Vector]]
    concurrency: int
    wait: bool
    wait_timeout: float


def plan_write(kind: WriteKind, index: str, vectors: Sequence[Vector | Any], dimensions: int | None,
               batch_size: int, concurrency: int, wait: bool, wait_timeout: float) -> WritePlan:
    V.check_index_name(index)
    V.check_batch(batch_size, concurrency)
    timeout = V.check_timeout(wait_timeout, "wait_timeout")
    checked = V.coerce_vectors(vectors, dimensions=dimensions)
    batches = [checked[i:i + batch_size] for i in range(0, len(checked), batch_size)]
    return WritePlan(kind, index, batches, concurrency, bool(wait), timeout)


def _ids(batch: Sequence[Vector]) -> list[str]:
    return [v.id for v in batch]


def run_write(plan: WritePlan) -> Generator[Effect, Any, MutationResult]:
    batches = plan.batches
    if not batches:
        return MutationResult()
    # Waiting needs one mutation accepted after all the others: send the last batch on its own.
    fence = batches[-1] if plan.wait and len(batches) > 1 else None
    head = batches[:-1] if fence is not None else batches
    outcomes: list[Any] = list((yield Gather([recorded(write_call(plan.kind, plan.index, b)) for b in head],
                                             limit=plan.concurrency, return_exceptions=True)))
    if fence is not None:
        if any(isinstance(o, BaseException) for o in outcomes):
            outcomes.append(None)  # not attempted: the write already failed part-way
        else:
            try:
                outcomes.append((yield from recorded(write_call(plan.kind, plan.index, fence))))
            except Exception as exc:
                outcomes.append(exc)
    written: list[str] = []
    failed: list[str] = []
    mutation_ids: list[str] = []
    errors: list[BaseException] = []
    for batch, outcome in zip(batches, outcomes, strict=True):
        if isinstance(outcome, str):
            written.extend(_ids(batch))
            mutation_ids.append(outcome)
        else:
            failed.extend(_ids(batch))
            if isinstance(outcome, BaseException):
                errors.append(outcome)
    if errors:
        if not written:
            raise errors[0]
        ok = len(batches) - sum(1 for o in outcomes if not isinstance(o, str))
        raise PartialWriteError(
            f"Vectorize {plan.kind} into {plan.index!r} failed part-way: {len(written)} vectors in {ok} of "
            f"{len(batches)} batches were accepted, {len(failed)} were not (see .written_ids / .failed_ids). "
            f"First error: {errors[0]}. Running the same {plan.kind} again completes the write without duplicates.",
            written_ids=written, failed_ids=failed, mutation_ids=mutation_ids, cause=errors[0])
    if plan.wait:
        yield from wait_op(plan.index, mutation_ids[-1], plan.wait_timeout, DEFAULT_POLL_INTERVAL_S)
    return MutationResult(mutation_ids=mutation_ids, ids=written)


def upsert(index: str, vectors: Sequence[Vector | Any], *, dimensions: int | None = None,
           batch_size: int = V.MAX_BATCH_SIZE, concurrency: int = 2, wait: bool = False,
           wait_timeout: float = 60.0) -> Op[MutationResult]:
    """Insert or replace vectors (a replaced vector loses its old values, metadata and namespace).

    Validated locally first; sent as NDJSON in batches of ``batch_size`` (<= 5000), ``concurrency`` at a
    time. ``wait=True`` returns once the write is visible to queries (``MutationTimeoutError`` after
    ``wait_timeout`` s). A failure part-way raises :class:`PartialWriteError`.
    """
    return run_write(plan_write("upsert", index, vectors, dimensions, batch_size, concurrency, wait, wait_timeout))


def insert(index: str, vectors: Sequence[Vector | Any], *, dimensions: int | None = None,
           batch_size: int = V.MAX_BATCH_SIZE, concurrency: int = 2, wait: bool = False,
           wait_timeout: float = 60.0) -> Op[MutationResult]:
    """Insert vectors; an id that already exists keeps its stored vector (first write wins).

    Same batching, waiting and error reporting as :func:`upsert`.
    """
    return run_write(plan_write("insert", index, vectors, dimensions, batch_size, concurrency, wait, wait_timeout))


def _delete_gen(index: str, ids: list[str], wait: bool, timeout: float) -> Generator[Effect, Any, MutationResult]:
    if not ids:
        return MutationResult()
    mid = yield from recorded(Call(request("POST", index_path(index, "/delete_by_ids"), json={"ids": ids}),
                                   mutation_id))
    if wait:
        yield from wait_op(index, mid, timeout, DEFAULT_POLL_INTERVAL_S)
    return MutationResult(mutation_ids=[mid], ids=ids)


def delete_by_ids(index: str, ids: Sequence[str], *, wait: bool = False,
                  wait_timeout: float = 60.0) -> Op[MutationResult]:
    """Delete vectors by id (ids that do not exist are ignored). An empty list sends nothing."""
    V.check_index_name(index)
    checked = list(dict.fromkeys(V.check_ids(ids)))
    timeout = V.check_timeout(wait_timeout, "wait_timeout")
    return _delete_gen(index, checked, bool(wait), timeout)


def _metadata_index_gen(index: str, path: str, body: dict[str, Any], wait: bool,
                        timeout: float) -> Generator[Effect, Any, str]:
    mid = yield from recorded(Call(request("POST", index_path(index, path), json=body), mutation_id))
    if wait:
        yield from wait_op(index, mid, timeout, DEFAULT_POLL_INTERVAL_S)
    return mid


def create_metadata_index(index: str, property_name: str, index_type: str, *, wait: bool = False,
                          wait_timeout: float = 60.0) -> Op[str]:
    """Make a metadata property filterable (``string``, ``number`` or ``boolean``); returns the mutation id.

    Only vectors written after the index is processed are in it: pass ``wait=True`` before writing.
    """
    V.check_index_name(index)
    body = {"propertyName": V.check_property_name(property_name), "indexType": V.check_index_type(index_type)}
    return _metadata_index_gen(index, "/metadata_index/create", body, bool(wait),
                               V.check_timeout(wait_timeout, "wait_timeout"))


def delete_metadata_index(index: str, property_name: str, *, wait: bool = False,
                          wait_timeout: float = 60.0) -> Op[str]:
    """Drop a metadata index; returns the mutation id."""
    V.check_index_name(index)
    body = {"propertyName": V.check_property_name(property_name)}
    return _metadata_index_gen(index, "/metadata_index/delete", body, bool(wait),
                               V.check_timeout(wait_timeout, "wait_timeout"))


__all__ = ["create_metadata_index", "delete_by_ids", "delete_metadata_index", "encode_ndjson",
           "insert", "upsert"]
