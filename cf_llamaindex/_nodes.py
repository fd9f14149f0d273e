"""LlamaIndex nodes <-> Vectorize vectors (id = node id, the node itself in the metadata)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from pydantic_core import to_jsonable_python

from cf_core.errors import InvalidInputError

MAX_METADATA_BYTES = 10 * 1024
MAX_ID_BYTES = 64
# node_to_metadata_dict writes the ref doc id three times (also as document_id and doc_id); one copy
# is enough here (filters on the other two names are mapped onto it), which saves bytes against the
# 10 KiB limit.
_DUPLICATE_KEYS = ("document_id", "doc_id")


def metadata_size(metadata: dict[str, Any]) -> int:
    """Bytes of the metadata as Vectorize counts them (compact UTF-8 JSON)."""
    return len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def check_node_id(node: BaseNode) -> str:
    node_id = node.node_id
    size = len(node_id.encode("utf-8"))
    if size > MAX_ID_BYTES:
        raise InvalidInputError(
            f"node id {node_id[:80]!r} is {size} bytes; Vectorize vector ids are limited to {MAX_ID_BYTES} bytes",
            field="node_id", limit=MAX_ID_BYTES, item=node_id)
    return node_id


def _metadata_dict(node: BaseNode) -> dict[str, Any]:
    """``node_to_metadata_dict(node, remove_text=False, flat_metadata=False)`` without the copies of
    the ref doc id under ``document_id`` / ``doc_id``, and without serialising the embedding only to
    drop it: the node is dumped from a shallow copy whose embedding is already ``None``.
    ``_node_content`` is the same JSON document LlamaIndex writes (tests compare them), written
    compactly by pydantic's encoder: about twice as fast as ``json.dumps`` of the dumped dict, and
    fewer bytes against the 10 KiB limit."""
    metadata: dict[str, Any] = to_jsonable_python(node.metadata)
    metadata["_node_content"] = node.model_copy(update={"embedding": None}).model_dump_json()
    metadata["_node_type"] = node.class_name()
    for key in _DUPLICATE_KEYS:  # LlamaIndex would overwrite these (and they are dropped then)
        metadata.pop(key, None)
    metadata["ref_doc_id"] = node.ref_doc_id or "None"
    return metadata


def metadata_too_large(node: BaseNode, metadata: dict[str, Any]) -> InvalidInputError | None:
    """The error naming ``node`` when its metadata is over Vectorize's 10 KiB, else ``None``."""
    size = metadata_size(metadata)
    if size <= MAX_METADATA_BYTES:
        return None
    return InvalidInputError(
        f"node {node.node_id!r}: its metadata (the node's text and JSON included) is {size} bytes, over "
        f"Vectorize's limit of {MAX_METADATA_BYTES} bytes (10 KiB) per vector; use a smaller "
        "chunk_size or fewer/smaller metadata fields", field="metadata", limit=MAX_METADATA_BYTES,
        item=node.node_id)


def node_metadata(node: BaseNode, *, check_size: bool = True) -> dict[str, Any]:
    """The vector metadata for ``node`` (the node itself included), within Vectorize's 10 KiB.

    ``check_size=False`` leaves the size to the core's validation of the write (which measures the
    same compact JSON); the caller then turns its error into this one with :func:`node_error`.
    """
    metadata = _metadata_dict(node)
    if check_size:
        error = metadata_too_large(node, metadata)
        if error is not None:
            raise error
    return metadata


def node_error(err: InvalidInputError, nodes: Sequence[BaseNode],
               metadatas: Sequence[dict[str, Any]]) -> InvalidInputError:
    """The core's per-item metadata-size error as the error naming the node (else ``err`` itself)."""
    position = err.item
    if err.field == "metadata" and err.limit == MAX_METADATA_BYTES and isinstance(position, int) \
            and 0 <= position < len(nodes):
        return metadata_too_large(nodes[position], metadatas[position]) or err
    return err


def node_to_vector(node: BaseNode, namespace: str | None, *, check_size: bool = True) -> dict[str, Any]:
    """The Vectorize vector for ``node``; raises InvalidInputError naming the node for any limit.

    The values are handed over as they are: the core's validation copies them into a fresh list.
    """
    node_id = check_node_id(node)
    embedding = node.embedding
    if embedding is None:
        raise InvalidInputError(f"node {node_id!r} has no embedding; embed nodes before adding them",
                                field="embedding", item=node_id)
    vector: dict[str, Any] = {"id": node_id, "values": embedding,
                              "metadata": node_metadata(node, check_size=check_size)}
    if namespace is not None:
        vector["namespace"] = namespace
    return vector


def vector_to_node(metadata: dict[str, Any] | None, vector_id: str,
                   values: Sequence[float] | None = None) -> BaseNode:
    if not metadata or "_node_content" not in metadata:
        raise ValueError(f"vector {vector_id!r} has no LlamaIndex node in its metadata "
                         "(was it written by another client?)")
    node = metadata_dict_to_node(metadata)
    if values:
        node.embedding = list(values)
    return node


def similarity(metric: str, query: Sequence[float], values: Sequence[float]) -> float:
    """Higher-is-better similarity, on the same scale :func:`similarity_from_score` gives."""
    dot = sum(a * b for a, b in zip(query, values, strict=True))
    if metric == "dot-product":
        return dot
    if metric == "euclidean":
        return 1.0 / (1.0 + math.sqrt(sum((a - b) ** 2 for a, b in zip(query, values, strict=True))))
    norms = math.sqrt(sum(a * a for a in query)) * math.sqrt(sum(b * b for b in values))
    return dot / norms if norms else 0.0


def similarity_from_score(metric: str, score: float) -> float:
    """Vectorize's score as a higher-is-better similarity: cosine similarity, dot product, 1/(1+L2)."""
    if metric == "dot-product":
        return -score  # Vectorize reports the negated dot product
    if metric == "euclidean":
        return 1.0 / (1.0 + max(0.0, score))
    return score
