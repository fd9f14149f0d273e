"""Plain-text output: section headings, wrapped paragraphs and small tables."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

WIDTH = 96


class Printer:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._section = 0

    def line(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def wrap(self, text: str, indent: str = "  ", first: str | None = None) -> None:
        self.line(textwrap.fill(" ".join(text.split()), WIDTH, initial_indent=first if first is not None else indent,
                                subsequent_indent=indent))

    def banner(self, lines: Sequence[str]) -> None:
        self.line("=" * WIDTH)
        for text in lines:
            self.wrap(text, indent="  ", first="  ")
        self.line("=" * WIDTH)

    def section(self, title: str) -> None:
        self._section += 1
        self.line()
        heading = f"{self._section}. {title}"
        self.line(heading)
        self.line("-" * len(heading))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> None:
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

        def fmt(cells: Sequence[str]) -> str:
            return indent + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                      for i, (c, w) in enumerate(zip(cells, widths, strict=True)))
        self.line(fmt(header))
        self.line(indent + "  ".join("-" * w for w in widths))
        for row in rows:
            self.line(fmt(row))
