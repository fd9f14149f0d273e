"""``python -m benchmarks [--quick] [--latency-ms 50] [--chunks 20000] [--out benchmarks/results]``.

One run, one harness: two loopback emulators with the same per-request latency (one enforcing
Workers AI's per-model rate limits, one not), every contender in its own subprocess, and the
results written as ``results.md`` + ``results.json`` + PNG plots.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from . import calls, ingest, query
from ._harness import LoopbackEmulator
from ._report import write_report

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes (300 chunks, 1,000 vectors, few repetitions): checks the harness, not speed")
    p.add_argument("--latency-ms", type=float, default=50.0, help="per-request latency of the loopback emulator")
    p.add_argument("--chunks", type=int, default=None, help="chunks to ingest (default 20,000; 300 with --quick)")
    p.add_argument("--vectors", type=int, nargs="+", default=None,
                   help="index sizes for the query benchmark (default 10,000 100,000; 1,000 with --quick)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=None,
                   help="ingest runs per contender, the median reported (default 3; 1 with --quick)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where results.md, results.json and plots go")
    p.add_argument("--only", nargs="+", choices=("ingest", "calls", "query"), default=None,
                   help="run only these benchmarks")
    p.add_argument("--in-process", action="store_true",
                   help="run contenders in this process instead of one subprocess each (no memory numbers)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quick = args.quick
    chunks = args.chunks or (300 if quick else 20_000)
    sizes = args.vectors or ([1_000] if quick else [10_000, 100_000])
    only = set(args.only or ("ingest", "calls", "query"))
    started = time.perf_counter()
    results: dict[str, Any] = {
        "settings": {"quick": quick, "latency_ms": args.latency_ms, "chunks": chunks, "vectors": sizes,
                     "seed": args.seed, "in_process": args.in_process, "load_start": os.getloadavg()[0],
                     "repeats": args.repeats or (1 if quick else 3)},
    }
    servers = {"rate_limits_off": LoopbackEmulator(args.latency_ms, rate_limits=False, seed=args.seed),
               "rate_limits_on": LoopbackEmulator(args.latency_ms, rate_limits=True, seed=args.seed)}
    try:
        if "ingest" in only:
            _log("bulk ingest", chunks)
            results["ingest"] = ingest.run(servers, chunks=chunks, seed=args.seed, in_process=args.in_process,
                                           repeats=args.repeats or (1 if quick else 3))
        if "calls" in only:
            _log("per-call overhead and streaming")
            results["calls"] = calls.run(servers["rate_limits_off"].base_url,
                                         calls=30 if quick else 400, warmup=5 if quick else 50,
                                         stream_reps=3 if quick else 25, in_process=args.in_process)
    finally:
        for server in servers.values():
            server.stop()
    if "query" in only:
        _log("query", sizes)
        results["query"] = query.run(sizes, queries=5 if quick else 40, seed=args.seed, in_process=args.in_process)
    results["settings"]["wall_s"] = time.perf_counter() - started
    results["settings"]["load_end"] = os.getloadavg()[0]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    report = write_report(results, args.out)
    print(report)
    return 0


def _log(*what: Any) -> None:
    print("benchmarks:", *what, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
