"""The shared harness: the loopback emulator every contender talks to, and running one contender.

The emulator runs in this (the orchestrating) process, in uvicorn's thread; each contender runs in
its own subprocess (``python -m benchmarks._worker``), so its memory is its own and its CPU work
does not share a GIL with the emulator's. ``in_process=True`` calls the same worker functions
directly instead (fast, for the smoke test; memory numbers are then not meaningful).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cf_core.local import Emulator, EmulatorConfig, FaultConfig
from cf_core.local.server import RunningServer, start_server

RESULT_PREFIX = "BENCH-RESULT "
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class LoopbackEmulator:
    """An emulator served on 127.0.0.1 with a per-request latency, optionally rate limited."""

    latency_ms: float
    rate_limits: bool
    seed: int = 0
    emulator: Emulator = field(init=False)
    server: RunningServer = field(init=False)

    def __post_init__(self) -> None:
        self.emulator = Emulator(EmulatorConfig(rate_limits=self.rate_limits, seed=self.seed,
                                                faults=FaultConfig(latency_ms=self.latency_ms)))
        self._cpu = 0.0
        self.errors: Counter[str] = Counter()
        """Error answers by HTTP status (429s from the rate limiter among them)."""
        self._cpu_lock = threading.Lock()
        respond = self.emulator.respond

        def timed(request: Any, plan: Any = None) -> Any:
            # CPU time of the handler thread: the emulator's own work, not the GIL waits around it.
            started = time.thread_time()
            status = 0
            try:
                answer = respond(request, plan)
                status = answer.status
                return answer
            finally:
                spent = time.thread_time() - started
                with self._cpu_lock:
                    self._cpu += spent
                    if status >= 400:
                        self.errors[str(status)] += 1

        self.emulator.respond = timed  # type: ignore[method-assign]
        self.server = start_server(self.emulator, port=0)

    def error_counts(self) -> Counter[str]:
        with self._cpu_lock:
            return Counter(self.errors)

    def cpu_seconds(self) -> float:
        """CPU seconds the emulator has spent answering requests so far (streamed bodies excluded)."""
        with self._cpu_lock:
            return self._cpu

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def requests(self) -> Counter[str]:
        """Requests the emulator has answered so far, by category (``ai/run``, ``vectorize``...)."""
        return Counter(self.emulator.requests)

    def vectorize_state(self) -> Any:
        return self.emulator.components["vectorize"]

    def stored_ids(self, account: str, index: str) -> list[str]:
        state = self.vectorize_state()
        state.flush()
        with state.lock:
            row = state.store.get_index(account, index)
            return [] if row is None else list(state.store.list_ids(row.uid))

    def drop_index(self, account: str, index: str) -> None:
        """Free the emulator's memory for an index once its contender is done."""
        with contextlib.suppress(Exception):  # already gone: nothing to free
            self.vectorize_state().delete_index(account, index)

    def stop(self) -> None:
        self.server.stop()
        self.emulator.close()


def delta(after: Counter[str], before: Counter[str]) -> dict[str, int]:
    out = {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}
    out["total"] = sum(out.values())
    return out


def run_task(task: str, params: dict[str, Any], *, in_process: bool, timeout_s: float = 900.0,
             env_overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one contender's worker and return its result (``{"error": ...}`` if it failed)."""
    if in_process:
        from ._worker import TASKS

        try:
            return TASKS[task](params)
        except Exception as exc:  # reported in the table, never fatal to the whole run
            return {"error": f"{type(exc).__name__}: {exc}"}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    # Nothing leaves the machine: the anchors' proxies and telemetry stay off.
    env.setdefault("NO_PROXY", "127.0.0.1,localhost")
    env["LANGSMITH_TRACING"] = "false"
    env["LANGCHAIN_TRACING_V2"] = "false"
    env.update(env_overrides or {})
    try:
        proc = subprocess.run([sys.executable, "-m", "benchmarks._worker", task, json.dumps(params)],
                              capture_output=True, text=True, timeout=timeout_s, cwd=ROOT, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout_s:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX):])
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
    return {"error": f"worker exited with {proc.returncode}: " + " | ".join(tail)}
