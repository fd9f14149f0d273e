"""Subprocess entry point: ``python -m benchmarks._worker TASK PARAMS_JSON`` prints one result line."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from . import calls, ingest, query
from ._harness import RESULT_PREFIX

TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ingest": ingest.worker,
    "calls": calls.worker,
    "query": query.worker,
}


def main(argv: list[str]) -> int:
    task, params = argv[0], json.loads(argv[1])
    try:
        result = TASKS[task](params)
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"}
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
