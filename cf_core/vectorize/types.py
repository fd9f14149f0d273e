"""Vectorize values as the core hands them out (pydantic models), and their wire parsing."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Metric = Literal["cosine", "euclidean", "dot-product"]
ReturnMetadata = Literal["none", "indexed", "all"]
MetadataIndexType = Literal["string", "number", "boolean"]
PRESET_CONFIGS: dict[str, tuple[int, Metric]] = {
    "@cf/baai/bge-small-en-v1.5": (384, "cosine"),
    "@cf/baai/bge-base-en-v1.5": (768, "cosine"),
    "@cf/baai/bge-large-en-v1.5": (1024, "cosine"),
    "openai/text-embedding-ada-002": (1536, "cosine"),
    "cohere/embed-multilingual-v2.0": (768, "cosine"),
}


class Vector(BaseModel):
    """One vector: an id (<= 64 bytes), its values, optional metadata and namespace."""

    model_config = ConfigDict(extra="forbid")

    id: str
    values: list[float]
    metadata: dict[str, Any] | None = None
    namespace: str | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "values": self.values}
        if self.metadata is not None:
            out["metadata"] = self.metadata
        if self.namespace is not None:
            out["namespace"] = self.namespace
        return out

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> Vector:
        metadata = raw.get("metadata")
        return cls(id=str(raw["id"]), values=[float(v) for v in raw.get("values") or []],
                   metadata=dict(metadata) if isinstance(metadata, dict) else None,
                   namespace=raw.get("namespace"))


class IndexInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str | None = None
    dimensions: int
    metric: Metric
    created_on: datetime | None = None
    modified_on: datetime | None = None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> IndexInfo:
        config = raw.get("config") or {}
        dimensions, metric = config.get("dimensions"), config.get("metric")
        if dimensions is None and config.get("preset") in PRESET_CONFIGS:  # a config echoed as its preset
            dimensions, metric = PRESET_CONFIGS[config["preset"]]
        return cls(name=raw["name"], description=raw.get("description"),
                   dimensions=int(dimensions or 0), metric=metric or "cosine",
                   created_on=raw.get("created_on"), modified_on=raw.get("modified_on"))


class IndexStats(BaseModel):
    """``/info``: how many vectors, and how far the asynchronous mutations have been processed."""

    model_config = ConfigDict(frozen=True)

    dimensions: int
    vector_count: int
    processed_up_to_mutation: str | None = None
    processed_up_to_datetime: datetime | None = None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> IndexStats:
        return cls(dimensions=int(raw.get("dimensions") or 0), vector_count=int(raw.get("vectorCount") or 0),
                   processed_up_to_mutation=raw.get("processedUpToMutation") or None,
                   processed_up_to_datetime=raw.get("processedUpToDatetime") or None)


class Match(BaseModel):
    """One query match. What ``score`` means depends on the metric (see :mod:`.scores`)."""

    model_config = ConfigDict(frozen=True)

    id: str
    score: float
    values: list[float] | None = None
    metadata: dict[str, Any] | None = None
    namespace: str | None = None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> Match:
        values = raw.get("values")
        metadata = raw.get("metadata")
        return cls(id=str(raw["id"]), score=float(raw["score"]),
                   values=[float(v) for v in values] if isinstance(values, list) else None,
                   metadata=dict(metadata) if isinstance(metadata, dict) else None,
                   namespace=raw.get("namespace"))


class QueryResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    count: int
    matches: list[Match] = Field(default_factory=list)


class MutationResult(BaseModel):
    """What a write or delete did: the mutation ids it got back, and the ids it wrote, in order."""

    model_config = ConfigDict(frozen=True)

    mutation_ids: list[str] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list)

    @property
    def mutation_id(self) -> str | None:
        """The last mutation id (the one to wait for), if any."""
        return self.mutation_ids[-1] if self.mutation_ids else None


class MetadataIndex(BaseModel):
    model_config = ConfigDict(frozen=True)

    property_name: str
    index_type: MetadataIndexType


class VectorIdPage(BaseModel):
    """One page of ``/list``; pass ``next_cursor`` back to get the next one."""

    model_config = ConfigDict(frozen=True)

    ids: list[str]
    count: int
    total_count: int
    is_truncated: bool
    next_cursor: str | None = None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> VectorIdPage:
        ids = [str(v["id"]) for v in raw.get("vectors") or []]
        return cls(ids=ids, count=int(raw.get("count", len(ids))), total_count=int(raw.get("totalCount", 0)),
                   is_truncated=bool(raw.get("isTruncated")), next_cursor=raw.get("nextCursor") or None)
