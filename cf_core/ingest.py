"""Bulk ingest: texts in, vectors written to Vectorize, with embedding and writing overlapped.

The input is read lazily in chunks of up to ``write_batch`` items, so memory stays bounded whatever
its length. A chunk is embedded in requests of up to ``embed_batch`` texts (``concurrency`` at once,
paced under the embedding model's per-minute limit from the catalog) and then written in one NDJSON
upsert while the next chunk is being embedded; when the length is known, the last ``write_batch``
items go in halving chunks so the final write, which nothing overlaps, stays small. Every item is
validated before its chunk sends anything. A failure part-way ends in :class:`PartialWriteError`
listing exactly which ids were written and which were not; running the same ingest again completes
the job (upserts replace, so nothing is duplicated).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic_core import to_json

from . import catalog
from .errors import InvalidInputError, PartialWriteError
from .gc_pause import gc_paused
from .http import GatewayArg, Gather, Op, Pace
from .progress import ProgressCallback
from .vectorize import validation as V
from .vectorize.mutations import recorded, wait_op
from .vectorize.types import MutationResult
from .vectorize.vectors import DEFAULT_POLL_INTERVAL_S, write_ndjson_call
from .workers_ai.embeddings import check_pooling
from .workers_ai.raw_vectors import embed_batch_raw


class _Item(NamedTuple):
    id: str
    text: str
    metadata_json: bytes | None
    """The compact JSON validation measured, carried into the write as it is."""


@dataclass(frozen=True)
class _Settings:
    index: str
    model: str
    namespace: str | None
    text_key: str | None
    embed_batch: int
    embed_concurrency: int
    pooling: str | None
    per_minute: int | None
    gateway: GatewayArg


def _items(texts: Iterable[str], ids: Iterable[str] | None, metadatas: Iterable[Mapping[str, Any] | None] | None,
           text_key: str | None) -> Iterator[_Item]:
    seen: set[str] = set()
    id_iter: Iterator[str | None] = iter(ids) if ids is not None else itertools.repeat(None)
    meta_iter: Iterator[Mapping[str, Any] | None] = iter(metadatas) if metadatas is not None \
        else itertools.repeat(None)
    for position, text in enumerate(texts):
        raw_id = next(id_iter, None)
        meta = next(meta_iter, None)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(f"text #{position} is empty or not a string: every text needs content to embed",
                                    field="texts", item=position)
        vid = V.check_id(raw_id if raw_id is not None else str(uuid.uuid4()), index=position)
        if vid in seen:
            raise InvalidInputError(f"id {vid!r} (item #{position}) appears twice; ids must be unique",
                                    field="ids", item=vid)
        seen.add(vid)
        metadata = meta
        if text_key is not None and (metadata is None or isinstance(metadata, Mapping)):  # else refused below
            if metadata is not None and text_key in metadata:
                raise InvalidInputError(f"metadata of item #{position} ({vid!r}) uses the reserved key {text_key!r}",
                                        field="metadata", item=vid)
            metadata = {**(metadata or {}), text_key: text}
        # Encoded now, while it is checked: a caller changing its dicts later cannot change the write.
        encoded = None if metadata is None else V.metadata_json(metadata, index=position, vid=vid)
        yield _Item(vid, text, encoded)


def _embed_op(items: list[_Item], s: _Settings) -> Op[bytes]:
    """Embed a chunk and return its NDJSON body: each vector's JSON text is copied from the answer
    into the line (see :mod:`cf_core.workers_ai.raw_vectors`), never turned into Python floats."""
    def embed_one(batch: list[_Item]) -> Op[list[bytes]]:
        if s.per_minute:
            yield Pace(f"workers-ai:{s.model}", s.per_minute)
        rows: list[bytes] = yield embed_batch_raw(s.model, [it.text for it in batch], pooling=s.pooling,
                                                  gateway=s.gateway)
        return rows

    batches = [items[i:i + s.embed_batch] for i in range(0, len(items), s.embed_batch)]
    embedded: list[list[bytes]] = yield Gather([embed_one(b) for b in batches], limit=s.embed_concurrency)
    rows = [row for part in embedded for row in part]
    # Items were validated when read; the keys and order are those of Vector.to_wire.
    namespace = b',"namespace":' + to_json(s.namespace) if s.namespace is not None else b""
    lines = []
    for it, row in zip(items, rows, strict=True):
        metadata = b',"metadata":' + it.metadata_json if it.metadata_json is not None else b""
        lines.append(b'{"id":' + to_json(it.id) + b',"values":' + row + metadata + namespace + b"}\n")
    return b"".join(lines)


def _write_op(body: bytes, s: _Settings) -> Op[str]:
    mutation_id: str = yield from recorded(write_ndjson_call("upsert", s.index, body))
    return mutation_id


def _next_chunk_size(remaining: int | None, write_batch: int, s: _Settings) -> int:
    """How many items the next step embeds (and the step after it writes).

    Full ``write_batch`` chunks, except that a long input's last ``write_batch`` items are cut into
    halving pieces: the final write is the one part of the pipeline that nothing overlaps, so it
    is kept near one embedding wave (``embed_batch * concurrency`` texts) instead of a full batch.
    """
    wave = s.embed_batch * s.embed_concurrency
    if remaining is None or remaining > write_batch or remaining <= 2 * wave:
        return write_batch
    half = -(-remaining // 2)
    return -(-half // s.embed_batch) * s.embed_batch  # whole embedding requests


def _run(items: Iterator[_Item], s: _Settings, write_batch: int, wait: bool, wait_timeout: float,
         total: int | None, on_progress: ProgressCallback | None) -> Op[MutationResult]:
    """A two-stage pipeline: each step writes the chunk embedded in the previous step while the next
    chunk is embedded (at full concurrency), so writes hide behind embedding and at most two chunks
    are held in memory. Writes go out one at a time, in order."""
    written: list[str] = []
    failed: list[str] = []
    mutation_ids: list[str] = []
    first_error: BaseException | None = None
    invalid: InvalidInputError | None = None
    pending: tuple[list[_Item], bytes] | None = None  # embedded, not yet written
    consumed = 0
    while True:
        chunk: list[_Item] = []
        if invalid is None:
            try:
                size = _next_chunk_size(None if total is None else total - consumed, write_batch, s)
                with gc_paused():
                    chunk = list(itertools.islice(items, size))
                consumed += len(chunk)
            except InvalidInputError as exc:
                invalid = exc  # write what is already embedded, then report
        if pending is None and not chunk:
            break
        ops: list[Op[Any]] = ([_write_op(pending[1], s)] if pending is not None else []) + \
            ([_embed_op(chunk, s)] if chunk else [])
        outcomes = yield Gather(ops, limit=len(ops), return_exceptions=True)
        if pending is not None:
            done, outcomes = outcomes[0], outcomes[1:]
            if isinstance(done, BaseException):
                failed.extend(it.id for it in pending[0])
                first_error = first_error or done
            else:
                written.extend(it.id for it in pending[0])
                mutation_ids.append(done)
            if on_progress is not None:
                on_progress(len(written), total)
        pending = None
        if chunk:
            if isinstance(outcomes[0], BaseException):
                failed.extend(it.id for it in chunk)
                first_error = first_error or outcomes[0]
            else:
                pending = (chunk, outcomes[0])
    if invalid is not None:
        if not written:
            raise invalid
        raise PartialWriteError(f"ingest into {s.index!r} stopped at an invalid item after {len(written)} "
                                f"items were written: {invalid}", written_ids=written, failed_ids=failed,
                                mutation_ids=mutation_ids, cause=invalid) from invalid
    if first_error is not None:
        if not written:
            raise first_error  # nothing was written: the cause says it all
        raise PartialWriteError(
            f"ingest into {s.index!r} failed part-way: {len(written)} items written, {len(failed)} not "
            f"(see .written_ids / .failed_ids). First error: {first_error}. Running the same ingest again "
            f"completes it without duplicates.", written_ids=written, failed_ids=failed,
            mutation_ids=mutation_ids, cause=first_error)
    if wait and mutation_ids:
        # Writes went out one at a time and Vectorize applies mutations in acceptance order, so once
        # the last one is processed every earlier one is too.
        yield from wait_op(s.index, mutation_ids[-1], wait_timeout, DEFAULT_POLL_INTERVAL_S)
    return MutationResult(mutation_ids=mutation_ids, ids=written)


def ingest(index: str, texts: Iterable[str], *, embedding_model: str, ids: Iterable[str] | None = None,
           metadatas: Iterable[Mapping[str, Any] | None] | None = None, namespace: str | None = None,
           text_key: str | None = None, embed_batch_size: int = 100, write_batch: int = V.MAX_BATCH_SIZE,
           concurrency: int = 16, respect_rate_limits: bool = True, wait: bool = True, wait_timeout: float = 120.0,
           on_progress: ProgressCallback | None = None, pooling: str | None = None,
           gateway: GatewayArg = None) -> Op[MutationResult]:
    """Embed ``texts`` with ``embedding_model`` and upsert them into ``index``, overlapped and bounded.

    ``ids`` default to random UUIDs; ``text_key`` stores each text in its metadata under that key.
    ``pooling`` (``"mean"`` or ``"cls"``, bge models) is sent with every embedding request: use the
    pooling the queries will be embedded with.
    ``concurrency`` bounds embedding requests in flight (16: enough to keep a ~50 ms round trip from
    being the limit, few enough for one connection pool); with ``respect_rate_limits`` they are also
    paced under the model's per-minute limit. ``wait`` returns once everything is queryable.
    ``on_progress(written, total)`` is called after each chunk is written. Lists are validated whole before
    anything is sent; other iterables are validated chunk by chunk as they are read.
    """
    V.check_index_name(index)
    info = catalog.info(embedding_model)
    if info.task != "Text Embeddings":
        raise InvalidInputError(f"{embedding_model} is a {info.task} model, not an embedding model",
                                field="embedding_model")
    max_batch = info.max_batch_size or 100
    if not 1 <= embed_batch_size <= max_batch:
        raise InvalidInputError(f"embed_batch_size must be 1..{max_batch}, got {embed_batch_size}",
                                field="embed_batch_size", limit=max_batch)
    V.check_batch(write_batch, concurrency)
    pooling = check_pooling(info, pooling)
    namespace = V.check_namespace(namespace)
    timeout = V.check_timeout(wait_timeout, "wait_timeout")
    total = len(texts) if isinstance(texts, Sequence) else None
    items: Iterator[_Item] = _items(texts, ids, metadatas, text_key)
    if total is not None:
        with gc_paused():  # many small containers, no cycles (see cf_core.gc_pause)
            materialised = list(items)  # validates every item now, before anything is sent
        if ids is not None and isinstance(ids, Sequence) and len(ids) != total:
            raise InvalidInputError(f"got {total} texts but {len(ids)} ids", field="ids", limit=total)
        items = iter(materialised)
    settings = _Settings(index=index, model=embedding_model, namespace=namespace, text_key=text_key,
                         embed_batch=embed_batch_size, embed_concurrency=concurrency, pooling=pooling,
                         per_minute=info.rate_limit_rpm if respect_rate_limits else None, gateway=gateway)
    return _run(items, settings, write_batch, wait, timeout, total, on_progress)


__all__ = ["ProgressCallback", "ingest"]
