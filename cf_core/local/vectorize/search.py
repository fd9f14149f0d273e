"""Exact nearest-neighbour search over an immutable in-memory snapshot of one index.

A :class:`Snapshot` is built from SQLite after a mutation changed the index and then reused by
every query until the next one: the float32 matrix, squared norms, namespace codes, and (lazily)
parsed metadata, filter columns and per-namespace sub-matrices. Queries rank candidates with one
float32 matrix-vector product, then re-score the few best exactly in float64.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .columns import Column, IndexedProperty, build_column, lenient_values, strict_values
from .store import StoredVector

# Below this fraction of the index a selection is gathered into a smaller matrix; above it the
# whole matrix is scored and the rest masked out, which is cheaper than copying most of it.
GATHER_FRACTION = 0.3
_NS_CACHE_SIZE = 8
_EPS = np.float32(1e-30)


@dataclass(frozen=True)
class Match:
    row: int
    score: float


@dataclass(frozen=True)
class _Subset:
    rows: np.ndarray
    matrix: np.ndarray
    sqnorm: np.ndarray
    inv_norm: np.ndarray


class Snapshot:
    def __init__(self, dimensions: int, vectors: Sequence[StoredVector]) -> None:
        n = len(vectors)
        self.ids = [v.id for v in vectors]
        self.row_of = {vid: i for i, vid in enumerate(self.ids)}
        blob = b"".join(v.vals for v in vectors)
        self.matrix = np.frombuffer(blob, dtype=np.float32).reshape(n, dimensions) if n else \
            np.zeros((0, dimensions), dtype=np.float32)
        self.sqnorm = np.einsum("ij,ij->i", self.matrix, self.matrix)
        self.inv_norm = (1.0 / np.maximum(np.sqrt(self.sqnorm), _EPS)).astype(np.float32)
        self.namespaces = [v.namespace for v in vectors]
        ns_names = sorted({ns for ns in self.namespaces if ns is not None})
        self._ns_code = {ns: i for i, ns in enumerate(ns_names)}
        self.ns_codes = np.array([-1 if ns is None else self._ns_code[ns] for ns in self.namespaces],
                                 dtype=np.int32)
        self._metadata_raw = [v.metadata for v in vectors]
        self.written_seq = np.array([v.written_seq for v in vectors], dtype=np.int64)
        self._lock = threading.Lock()
        self._metadata: list[dict[str, Any] | None] | None = None
        self._columns: dict[tuple[str, IndexedProperty | None], Column] = {}
        self._subsets: OrderedDict[str, _Subset] = OrderedDict()

    def __len__(self) -> int:
        return len(self.ids)

    # -- lazily built, shared by all queries on this snapshot ---------------------------------

    def metadata(self) -> list[dict[str, Any] | None]:
        with self._lock:
            if self._metadata is None:
                self._metadata = [json.loads(m) if m is not None else None for m in self._metadata_raw]
            return self._metadata

    def metadata_at(self, row: int) -> dict[str, Any] | None:
        """One row's metadata, without parsing every row's (as a query's few matches need)."""
        with self._lock:
            if self._metadata is not None:
                return self._metadata[row]
        raw = self._metadata_raw[row]
        parsed: dict[str, Any] | None = json.loads(raw) if raw is not None else None
        return parsed

    def column(self, path: str, prop: IndexedProperty | None) -> Column:
        """Values at ``path``: through metadata index ``prop`` (strict), or raw when ``prop`` is None."""
        key = (path, prop)
        with self._lock:
            cached = self._columns.get(key)
        if cached is not None:
            return cached
        metas = self.metadata()
        values = strict_values(metas, self.written_seq, prop) if prop else lenient_values(metas, path)
        col = build_column(values)
        with self._lock:
            self._columns[key] = col
        return col

    def namespace_mask(self, namespace: str) -> np.ndarray:
        code = self._ns_code.get(namespace)
        if code is None:
            return np.zeros(len(self.ids), dtype=bool)
        mask: np.ndarray = self.ns_codes == code
        return mask

    def _namespace_subset(self, namespace: str) -> _Subset:
        with self._lock:
            hit = self._subsets.get(namespace)
            if hit is not None:
                self._subsets.move_to_end(namespace)
                return hit
        rows = np.flatnonzero(self.namespace_mask(namespace))
        subset = _Subset(rows, self.matrix[rows], self.sqnorm[rows], self.inv_norm[rows])
        with self._lock:
            self._subsets[namespace] = subset
            while len(self._subsets) > _NS_CACHE_SIZE:
                self._subsets.popitem(last=False)
        return subset

    # -- search -------------------------------------------------------------------------------

    def search(self, query: np.ndarray, metric: str, top_k: int, namespace: str | None = None,
               allowed: np.ndarray | None = None) -> list[Match]:
        """Best ``top_k`` rows (best first) among the namespace and ``allowed`` mask, if given."""
        n = len(self.ids)
        if n == 0 or top_k <= 0:
            return []
        q = np.ascontiguousarray(query, dtype=np.float32)
        if namespace is not None:
            ns_mask = self.namespace_mask(namespace)
            if allowed is None and ns_mask.sum() < GATHER_FRACTION * n:
                sub = self._namespace_subset(namespace)
                return self._rank(sub.rows, sub.matrix, sub.sqnorm, sub.inv_norm, q, metric, top_k, None)
            allowed = ns_mask if allowed is None else ns_mask & allowed
        if allowed is not None:
            count = int(allowed.sum())
            if count == 0:
                return []
            if count < GATHER_FRACTION * n:
                rows = np.flatnonzero(allowed)
                return self._rank(rows, self.matrix[rows], self.sqnorm[rows], self.inv_norm[rows],
                                  q, metric, top_k, None)
        return self._rank(None, self.matrix, self.sqnorm, self.inv_norm, q, metric, top_k, allowed)

    def _rank(self, rows: np.ndarray | None, matrix: np.ndarray, sqnorm: np.ndarray, inv_norm: np.ndarray,
              q: np.ndarray, metric: str, top_k: int, allowed: np.ndarray | None) -> list[Match]:
        dots = matrix @ q
        # "badness": lower is better for every metric (constant terms of the query dropped)
        if metric == "cosine":
            bad = -(dots * inv_norm)
        elif metric == "euclidean":
            bad = sqnorm - 2.0 * dots
        else:
            bad = -dots
        available = len(bad)
        if allowed is not None:
            bad[~allowed] = np.inf
            available = int(allowed.sum())
        k = min(top_k, available)
        # take a margin of extra candidates so float32 rounding cannot push a true top-k row out
        want = min(available, k + max(16, k))
        if want < len(bad):
            cand = np.argpartition(bad, want - 1)[:want]
        else:
            cand = np.arange(len(bad))
        if allowed is not None:
            cand = cand[np.isfinite(bad[cand])]
        real_rows = cand if rows is None else rows[cand]
        scores = exact_scores(self.matrix[real_rows], q, metric)
        key = -scores if metric == "cosine" else scores
        # ties go to the vector written first (rows are in first-write order)
        order = sorted(range(len(real_rows)), key=lambda i: (key[i], int(real_rows[i])))[:k]
        return [Match(int(real_rows[i]), float(scores[i])) for i in order]


def exact_scores(vectors: np.ndarray, query: np.ndarray, metric: str) -> np.ndarray:
    """Float64 scores as Vectorize reports them: cosine similarity, L2 distance, negative dot."""
    x = vectors.astype(np.float64)
    q = query.astype(np.float64)
    if metric == "euclidean":
        diff = x - q
        return np.asarray(np.sqrt(np.einsum("ij,ij->i", diff, diff)))
    dots = x @ q
    if metric == "dot-product":
        return np.asarray(-dots)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x)) * float(np.sqrt(q @ q))
    return np.asarray(np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0))
