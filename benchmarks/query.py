"""Query: filtered similarity search in the emulator at 10,000 and 100,000 vectors of 768 dimensions.

The vectors are written straight into the emulator's store (loading them is not what is measured),
after the metadata indexes exist, as Vectorize requires. Each query is timed three ways:
- ``floor``: one numpy float32 matrix-vector product over all the vectors (the issue's floor);
- ``engine``: the emulator's query handler (filter columns + search + answer) with no HTTP;
- ``cf_core``: ``client.vectorize.query`` through the in-process transport (validation, JSON both
  ways, routing), i.e. what a test or demo using the emulator pays per query.
The engine's answer is checked against brute force over the filtered rows.
"""

from __future__ import annotations

import json
import time
from typing import Any

from . import _data as D
from ._measure import median

FILTER = {"category": {"$eq": "c3"}, "year": {"$gte": 2000}}
TOP_K = 10


def _timed(fn: Any, reps: int) -> tuple[float, Any]:
    samples, result = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return median(samples), result


def _load(emulator: Any, account: str, index: str, matrix: Any, categories: Any, years: Any) -> None:
    from cf_core.local.vectorize.limits import VectorRecord

    state = emulator.components["vectorize"]
    row = state.index_for_write(account, index)
    records = [VectorRecord(id=f"v{i:06d}", values=matrix[i].tobytes(), namespace=None,
                            metadata=json.dumps({"category": f"c{categories[i]}", "year": int(years[i])},
                                                separators=(",", ":")))
               for i in range(len(matrix))]
    for start in range(0, len(records), 5000):
        state.write(row, records[start:start + 5000], replace=True)
    state.flush()


def _one_size(n: int, queries: int, seed: int) -> dict[str, Any]:
    import numpy as np

    from cf_core.local import LOCAL_ACCOUNT_ID, Emulator, local_client
    from cf_core.local.vectorize.query import parse_query, run_query

    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((n, D.DIMENSIONS), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    categories = rng.integers(0, 10, n)
    years = rng.integers(1990, 2025, n)
    qs = rng.standard_normal((queries, D.DIMENSIONS), dtype=np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    q_lists = [q.tolist() for q in qs]

    emulator = Emulator()
    client = local_client(emulator)
    index = f"query-{n}"
    client.vectorize.create_index(index, dimensions=D.DIMENSIONS, metric="cosine")
    client.vectorize.create_metadata_index(index, "category", "string", wait=True)
    client.vectorize.create_metadata_index(index, "year", "number", wait=True)
    _load(emulator, LOCAL_ACCOUNT_ID, index, matrix, categories, years)

    t0 = time.perf_counter()
    client.vectorize.query(index, q_lists[0], top_k=TOP_K, filter=FILTER)
    cold_ms = (time.perf_counter() - t0) * 1000  # builds the snapshot and the filter columns

    state = emulator.components["vectorize"]
    body = {"vector": q_lists[0], "topK": TOP_K, "filter": FILTER}
    it = iter(range(10**9))

    def floor() -> Any:
        return matrix @ qs[next(it) % queries]

    def engine(flt: dict[str, Any] | None) -> Any:
        i = next(it) % queries
        ctx = state.query_context(LOCAL_ACCOUNT_ID, index)
        req = parse_query({**body, "vector": q_lists[i], "filter": flt}, emulator.config.topk_cap_with_values)
        return run_query(ctx, req, strict=True)

    def via_core(flt: dict[str, Any] | None) -> Any:
        return client.vectorize.query(index, q_lists[next(it) % queries], top_k=TOP_K, filter=flt)

    floor()
    floor_ms, _ = _timed(floor, queries)
    engine_ms, _ = _timed(lambda: engine(FILTER), queries)
    engine_nofilter_ms, _ = _timed(lambda: engine(None), queries)
    core_ms, _ = _timed(lambda: via_core(FILTER), queries)
    core_nofilter_ms, _ = _timed(lambda: via_core(None), queries)

    # correctness: the engine's top-k equals brute force over the rows the filter allows
    allowed = np.flatnonzero((categories == 3) & (years >= 2000))
    scores = matrix[allowed] @ qs[0]
    expected = {f"v{allowed[j]:06d}" for j in np.argsort(-scores)[:TOP_K]}
    got = {m.id for m in client.vectorize.query(index, q_lists[0], top_k=TOP_K, filter=FILTER).matches}
    client.close()
    emulator.close()
    return {"vectors": n, "dims": D.DIMENSIONS, "selected": len(allowed), "floor_ms": floor_ms,
            "engine_ms": engine_ms, "engine_nofilter_ms": engine_nofilter_ms, "core_ms": core_ms,
            "core_nofilter_ms": core_nofilter_ms, "cold_ms": cold_ms, "correct": got == expected}


def worker(p: dict[str, Any]) -> dict[str, Any]:
    return {"sizes": [_one_size(n, p["queries"], p["seed"]) for n in p["sizes"]]}


def run(sizes: list[int], *, queries: int, seed: int, in_process: bool) -> dict[str, Any]:
    from ._harness import run_task

    # One BLAS thread for floor and emulator alike: a matrix-vector product is memory-bound, and on a
    # busy 2-core machine waking a second BLAS thread makes single queries jitter by milliseconds.
    return run_task("query", {"sizes": sizes, "queries": queries, "seed": seed}, in_process=in_process,
                    env_overrides={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
