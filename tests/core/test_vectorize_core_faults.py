"""A bulk upsert that fails part-way (faults injected by the emulator, no client retries) reports exactly
which ids were stored, and running it again completes the job without duplicates."""

from __future__ import annotations

from typing import Any

import pytest

from cf_core.errors import PartialWriteError, ServerError
from cf_core.local import FaultConfig

Dual = Any  # tests/core/conftest.py's Dual

N, BATCH = 40, 5


@pytest.fixture
def client_options() -> dict[str, Any]:
    return {"max_retries": 0}


def data() -> list[dict[str, Any]]:
    return [{"id": f"doc-{i:03d}", "values": [float(i % 7) + 1.0, 2.0, float(i)], "metadata": {"n": i}}
            for i in range(N)]


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_partial_failure_is_exact_and_rerun_completes(dual: Dual, concurrency: int) -> None:
    await dual.vectorize.create_index("idx", dimensions=3)
    dual.emulator.faults.configure(FaultConfig(error_rates={500: 0.5}, paths="/upsert", seed=11))
    with pytest.raises(PartialWriteError) as err:
        await dual.vectorize.upsert("idx", data(), batch_size=BATCH, concurrency=concurrency)
    e = err.value
    injected = dual.emulator.faults.injected.get("500", 0)
    assert 0 < injected < N // BATCH  # some batches succeeded, some failed
    assert len(e.failed_ids) == injected * BATCH and len(e.written_ids) == N - injected * BATCH
    assert sorted(e.written_ids + e.failed_ids) == [d["id"] for d in data()]
    assert isinstance(e.__cause__, ServerError) and len(e.mutation_ids) == N // BATCH - injected

    dual.emulator.faults.configure(FaultConfig())
    stored = await dual.vectorize.all_vector_ids("idx", page_size=7)
    assert sorted(stored) == sorted(e.written_ids)  # exactly what the error said was written

    again = await dual.vectorize.upsert("idx", data(), batch_size=BATCH, concurrency=concurrency, wait=True)
    assert again.ids == [d["id"] for d in data()]
    stats = await dual.vectorize.index_info("idx")
    assert stats.vector_count == N
    ids = await dual.vectorize.all_vector_ids("idx", page_size=9)
    assert len(ids) == len(set(ids)) == N
    got = await dual.vectorize.get_by_ids("idx", ["doc-000", "doc-039"])
    assert [(v.id, v.metadata) for v in got] == [("doc-000", {"n": 0}), ("doc-039", {"n": 39})]


async def test_every_batch_failing_raises_the_service_error(dual: Dual) -> None:
    await dual.vectorize.create_index("idx", dimensions=3)
    dual.emulator.faults.configure(FaultConfig(error_rates={500: 1.0}, paths="/upsert", seed=1))
    with pytest.raises(ServerError):
        await dual.vectorize.upsert("idx", data()[:10], batch_size=5)
    dual.emulator.faults.configure(FaultConfig())
    assert (await dual.vectorize.index_info("idx")).vector_count == 0
