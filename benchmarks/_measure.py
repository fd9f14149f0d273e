"""Timing and memory helpers.

Memory is the peak resident set of the process during a job minus its resident set just before,
read from ``/proc/self/status`` after resetting the kernel's high-water mark (``clear_refs`` 5), so
imports and input generation before the job do not count. tracemalloc is not used: it slows
Python code several times and would distort the timings it runs beside.
"""

from __future__ import annotations

import re
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

MiB = 1024 * 1024


def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            found = re.search(rf"^{key}:\s+(\d+)\s+kB", fh.read(), re.MULTILINE)
    except OSError:
        return None
    return int(found.group(1)) if found else None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


@dataclass
class Window:
    """What :func:`measure` saw: wall seconds and the peak memory above the starting point."""

    seconds: float = 0.0
    peak_delta_bytes: int | None = None
    notes: list[str] = field(default_factory=list)


@contextmanager
def measure() -> Iterator[Window]:
    window = Window()
    exact = _reset_peak()
    start_rss = _status_kib("VmRSS")
    fallback_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        yield window
    finally:
        window.seconds = time.perf_counter() - started
        if exact and start_rss is not None:
            peak = _status_kib("VmHWM")
            window.peak_delta_bytes = (peak - start_rss) * 1024 if peak is not None else None
        else:
            # Without clear_refs only growth of the lifetime peak is visible (a lower bound).
            window.peak_delta_bytes = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - fallback_start) * 1024
            window.notes.append("peak memory is a lower bound (clear_refs unavailable)")


def per_call_us(fn: Callable[[], Any], *, calls: int, warmup: int, blocks: int = 5) -> dict[str, float]:
    """Microseconds per call over ``calls`` timed calls after ``warmup``, in ``blocks`` blocks.

    ``median`` is the lowest of the blocks' medians: a few seconds of other work on the machine
    (this is a shared 2-core VM) slow one block, not all of them, so they do not decide the number.
    ``p10`` / ``p90`` are over every call.
    """
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    block_medians = []
    clock = time.perf_counter_ns
    size = max(1, calls // blocks)
    for start in range(0, calls, size):
        block = []
        for _ in range(min(size, calls - start)):
            t0 = clock()
            fn()
            block.append((clock() - t0) / 1000.0)
        block_medians.append(statistics.median(block))
        samples += block
    samples.sort()
    return {"median": min(block_medians), "p10": samples[len(samples) // 10],
            "p90": samples[(len(samples) * 9) // 10], "calls": float(calls)}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
