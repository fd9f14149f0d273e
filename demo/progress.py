"""A tiny progress bar (tqdm is not a dependency): redrawn in place on a terminal, one line per update otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, label: str, total: int | None, *, width: int = 30, stream: TextIO | None = None) -> None:
        self.label, self.total, self.width = label, total, width
        self.stream = stream or sys.stdout
        self.started = time.perf_counter()
        self.done = 0
        self._tty = self.stream.isatty()

    def _line(self) -> str:
        elapsed = time.perf_counter() - self.started
        if not self.total:
            return f"  {self.label} {self.done} ({elapsed:.1f} s)"
        filled = round(self.width * min(self.done, self.total) / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        return f"  {self.label} [{bar}] {self.done}/{self.total} ({elapsed:.1f} s)"

    def update(self, done: int, total: int | None = None) -> None:
        """Matches cf_core.ingest's ``on_progress(written, total)``."""
        self.done = done
        if total is not None:
            self.total = total
        if self._tty:
            self.stream.write("\r" + self._line())
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()
