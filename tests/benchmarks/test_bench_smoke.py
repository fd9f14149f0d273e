"""Smoke run of ``benchmarks/``: the harness works end to end and writes its report.

No timing is asserted anywhere (timings on a shared CI machine mean nothing); what is checked is
that every contender completed its job correctly (all chunks arrived, answers came back, search
results match brute force) and that the report and plots were written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import _data as D  # noqa: E402
from benchmarks import calls, ingest  # noqa: E402
from benchmarks.__main__ import main  # noqa: E402
from benchmarks._harness import LoopbackEmulator, run_task  # noqa: E402


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bench")
    assert main(["--quick", "--in-process", "--latency-ms", "2", "--chunks", "150", "--out", str(out)]) == 0
    return out


def test_every_ingest_contender_delivers_every_chunk(quick_run: Path) -> None:
    results = json.loads((quick_run / "results.json").read_text())
    rows = results["ingest"]
    ran = {(r["mode"], r["contender"]) for r in rows}
    assert {("rate_limits_off", c.key) for c in ingest.CONTENDERS} <= ran
    assert {("rate_limits_on", key) for key in ingest.RATE_LIMITED} <= ran
    for row in rows:
        assert "error" not in row, row
        assert row["complete"] and row["arrived"] == 150, row
        # every contender embedded through the emulator (but the framework floor, which sends nothing),
        # and the writers wrote through it
        if row["contender"] == "llamaindex_floor":
            assert row["requests"]["total"] == 0
            continue
        assert row["requests"].get("ai/run", 0) >= 2
        assert (row["requests"].get("vectorize", 0) >= 1) == ingest.BY_KEY[row["contender"]].writes


def test_every_library_answers_the_same_request(quick_run: Path) -> None:
    rows = {r["library"]: r for r in json.loads((quick_run / "results.json").read_text())["calls"]}
    assert set(rows) == {lib.key for lib in calls.LIBRARIES}
    for key, row in rows.items():
        assert "error" not in row, row
        per_call = row["per_call"]
        assert set(per_call["us"]) >= {"embed"}
        if key == "emulator":
            continue
        # bodies as the emulator received them: the same model input for every library
        assert per_call["bodies"]["embed"] == "text"
        if "chat" in per_call["bodies"]:
            assert per_call["bodies"]["chat"].startswith("messages")
            stream = row["streaming"]
            assert stream["pieces"] > 0 and stream["chars"] > 0


def test_query_matches_brute_force(quick_run: Path) -> None:
    sizes = json.loads((quick_run / "results.json").read_text())["query"]["sizes"]
    assert [s["vectors"] for s in sizes] == [1_000]
    assert all(s["correct"] for s in sizes)


def test_report_and_plots_are_written(quick_run: Path) -> None:
    report = (quick_run / "results.md").read_text()
    for heading in ("## Targets", "## 1. Bulk ingest", "## 2. Per-call overhead", "## 3. Streaming", "## 4. Query"):
        assert heading in report
    assert "failed:" not in report
    for plot in ("ingest.png", "overhead.png", "streaming.png", "query.png"):
        assert (quick_run / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_subprocess_worker_reports_its_job() -> None:
    """The real runs put each contender in its own process; check that path once."""
    server = LoopbackEmulator(latency_ms=0, rate_limits=False)
    try:
        from cf_core import CloudflareClient

        with CloudflareClient(account_id="smoke", api_token=D.TOKEN, base_url=server.base_url) as admin:
            admin.vectorize.create_index("smoke", dimensions=D.DIMENSIONS, metric="cosine")
        result = run_task("ingest", {"contender": "cf_core", "base_url": server.base_url, "account": "smoke",
                                     "index": "smoke", "chunks": 40, "seed": 1}, in_process=False, timeout_s=120)
        assert "error" not in result, result
        assert result["count"] == 40 and result["seconds"] > 0
        assert result["peak_delta_bytes"] is not None
        assert sorted(server.stored_ids("smoke", "smoke")) == D.chunks(40, 1)[0]
    finally:
        server.stop()


def test_repeated_ingest_reports_the_median_run_and_every_run() -> None:
    server = LoopbackEmulator(0.0, rate_limits=False)
    try:
        rows = ingest.run({"rate_limits_off": server}, chunks=120, seed=1, in_process=True,
                          contenders=["cf_core"], repeats=3)
    finally:
        server.stop()
    [row] = rows
    assert row["complete"] and len(row["runs_s"]) == 3
    assert row["seconds"] == sorted(row["runs_s"])[1]  # the median run's own numbers
