"""The text progress bar the adapters draw with ``show_progress=True``."""

from __future__ import annotations

import io
from collections.abc import Generator
from typing import Any

import pytest

from cf_core.progress import ProgressBar, with_progress_bar


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_outside_a_terminal_each_update_is_its_own_line() -> None:
    out = io.StringIO()
    bar = ProgressBar("ingest", 4, width=4, stream=out)
    bar.update(1, 4)
    bar.update(4, 4)
    bar.close()
    lines = out.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == ["  ingest [#...] 1/4", "  ingest [####] 4/4"]
    assert "\r" not in out.getvalue()


def test_on_a_terminal_the_bar_is_redrawn_in_place_and_ends_the_line() -> None:
    out = _Tty()
    with ProgressBar("ingest", None, stream=out) as bar:
        bar.update(2, None)
        bar.update(5, 10)  # a total learnt late is used from then on
    text = out.getvalue()
    assert text.startswith("\r  ingest 2 (") and "\r  ingest [" in text and "5/10" in text
    assert text.endswith("\n") and text.count("\n") == 1


def test_with_progress_bar_feeds_the_operation_and_closes_the_bar_on_failure(
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = _Tty()
    monkeypatch.setattr("sys.stderr", out)

    def op(report: Any) -> Generator[str, Any, int]:
        answer = yield "step"
        report(1, 2)
        if answer == "boom":
            raise RuntimeError("failed part-way")
        return 7

    gen = with_progress_bar("job", 2, op)
    assert next(gen) == "step"
    with pytest.raises(StopIteration) as done:
        gen.send("ok")
    assert done.value.value == 7 and "1/2" in out.getvalue() and out.getvalue().endswith("\n")

    out.seek(0)
    out.truncate()
    gen = with_progress_bar("job", 2, op)
    next(gen)
    with pytest.raises(RuntimeError):
        gen.send("boom")
    assert out.getvalue().endswith("\n")  # closed although the operation raised


def test_without_a_stderr_the_bar_draws_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", None)
    with ProgressBar("quiet", 2) as bar:
        bar.update(1, 2)  # no stream to write to (pythonw): nothing happens, nothing raises
    assert bar.done == 1
