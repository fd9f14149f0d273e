"""LangChain ``Document`` <-> Vectorize vector mapping, and the checks made before anything is sent.

A document's text is stored in the vector's metadata under a reserved key (``text_key``) so that a
search returns the passage without a second store; that key is removed again on the way back, so
metadata round-trips exactly (no injected ``namespace``/``values``/``text`` keys).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.documents import Document

from cf_core import InvalidInputError
from cf_core.vectorize.filters import validate_filter
from cf_core.vectorize.types import Match, Vector

__all__ = [
    "AddPlan",
    "doc_from_vector",
    "docs_from_matches",
    "plan_add",
    "prepare_filter",
    "vectors_for",
]


@dataclass(frozen=True)
class AddPlan:
    """What an add will write: texts, final ids (given or generated) and the stored metadata."""

    texts: list[str]
    ids: list[str]
    metadatas: list[dict[str, Any]]
    """User metadata plus the text under the reserved key: exactly what goes to Vectorize."""


def plan_add(texts: Iterable[str], metadatas: Sequence[Mapping[str, Any] | None] | None,
             ids: Sequence[str | None] | None, text_key: str) -> AddPlan:
    """Validate an add and fill in what is missing (a uuid4 for every id not given)."""
    text_list = list(texts)
    n = len(text_list)
    for i, text in enumerate(text_list):
        if not isinstance(text, str):
            raise InvalidInputError(f"texts[{i}] must be a string, got {type(text).__name__}",
                                    field="texts", item=i)
    if metadatas is not None and len(metadatas) != n:
        raise InvalidInputError(f"got {len(metadatas)} metadatas for {n} texts; give one per text",
                                field="metadatas", limit=n)
    if ids is not None and len(ids) != n:
        raise InvalidInputError(f"got {len(ids)} ids for {n} texts; give one per text", field="ids", limit=n)
    final_ids = [str(i) if i else str(uuid.uuid4()) for i in (ids or [None] * n)]
    seen: set[str] = set()
    for i, vid in enumerate(final_ids):
        if vid in seen:
            # Vectorize would silently keep only one of them.
            raise InvalidInputError(f"ids[{i}] {vid!r} appears more than once in one add", field="ids", item=i)
        seen.add(vid)
    stored = []
    for i, text in enumerate(text_list):
        meta = dict(metadatas[i] or {}) if metadatas is not None else {}
        if text_key in meta:
            raise InvalidInputError(
                f"metadatas[{i}] uses the key {text_key!r}, which this store reserves for the document "
                "text; rename that key or choose another text_key", field="metadata", item=i)
        meta[text_key] = text
        stored.append(meta)
    return AddPlan(text_list, final_ids, stored)


def vectors_for(plan: AddPlan, start: int, values: Sequence[Sequence[float]],
                namespace: str | None) -> list[Vector]:
    """The vectors for ``plan`` items ``start .. start + len(values)`` (their embeddings in order)."""
    return [Vector(id=plan.ids[start + j], values=list(vec), metadata=plan.metadatas[start + j],
                   namespace=namespace)
            for j, vec in enumerate(values)]


def doc_from_vector(vid: str, metadata: Mapping[str, Any] | None, text_key: str) -> Document:
    """A Document from a stored vector: the reserved key becomes ``page_content``, the rest metadata."""
    meta = dict(metadata or {})
    text = meta.pop(text_key, "")
    return Document(id=vid, page_content=text if isinstance(text, str) else str(text), metadata=meta)


def docs_from_matches(matches: Sequence[Match], text_key: str) -> list[tuple[Document, float]]:
    return [(doc_from_vector(m.id, m.metadata, text_key), m.score) for m in matches]


def prepare_filter(filter: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Vectorize's own filter language passes through unchanged after the core's validation.

    Keys are metadata paths (``"a.b"`` for nested), values a bare value ($eq) or ``{"$op": v}`` with
    ``$eq $ne $in $nin $lt $lte $gt $gte``. Only properties with a metadata index are filterable.
    """
    if filter is None:
        return None
    return validate_filter(filter)
