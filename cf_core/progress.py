"""A small text progress bar for bulk work (tqdm is not a dependency).

Redrawn in place on a terminal; elsewhere (a log file, a notebook's captured output) one line per
update, so nothing is lost to carriage returns. Its :meth:`ProgressBar.update` has the signature of
:func:`cf_core.ingest`'s ``on_progress(written, total)``, so it can be passed as that callback.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator
from typing import Any, TextIO, TypeVar

T = TypeVar("T")
Y = TypeVar("Y")
ProgressCallback = Callable[[int, int | None], None]
"""Called with (items written so far, total if known)."""


class ProgressBar:
    """``label [#####.....] done/total (elapsed)``, written to ``stream`` (standard error by default)."""

    def __init__(self, label: str, total: int | None = None, *, width: int = 30,
                 stream: TextIO | None = None) -> None:
        self.label, self.total, self.width = label, total, width
        # sys.stderr is None under pythonw and some embedded interpreters: then the bar draws nothing.
        self.stream: TextIO | None = stream or sys.stderr
        self.started = time.perf_counter()
        self.done = 0
        self._tty = self.stream is not None and self.stream.isatty()

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
        if self.stream is None:
            return
        if self._tty:
            self.stream.write("\r" + self._line())
        else:
            self.stream.write(self._line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._tty and self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def with_progress_bar(label: str, total: int | None,
                      run: Callable[[ProgressCallback], Generator[Y, Any, T]]) -> Generator[Y, Any, T]:
    """Run the operation ``run(on_progress)`` builds with a bar as its progress callback, closing the bar
    however the operation ends (the adapters' ``show_progress=True``)."""
    bar = ProgressBar(label, total)
    try:
        result: T = yield from run(bar.update)
    finally:
        bar.close()
    return result
