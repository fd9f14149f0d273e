"""The fast decode of an NDJSON write body: vector values straight to float64, no Python floats.

Decoding 5,000 vectors of 768 numbers with a general JSON parser creates four million Python
floats, which then have to be packed into float32 again: most of a bulk write's CPU. Here each
line's ``values`` array is cut out of the text and parsed by simdjson into a flat float64 buffer;
the rest of the line (id, namespace, metadata) is decoded by orjson exactly as before, with a
random token standing where the array was.

This is only a shortcut. It answers ``None`` for anything it is not certain to decode exactly as
``ndjson_lines`` would: a line it cannot split this way, a JSON error anywhere, a non-number, a
nested array, a wrong length. The caller then runs the general path, which gives the same records
or the same error. The cut is checked rather than trusted: the token must come back as the
object's top-level ``values`` member (the last one, if the key repeats), which no other position
of the array text can produce.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np

try:
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is part of the `local` extra
    _loads = None  # type: ignore[assignment]
try:
    from simdjson import Parser as _Parser
except ImportError:  # pragma: no cover - pysimdjson is part of the `local` extra
    _Parser = None  # type: ignore[assignment,misc]

AVAILABLE = _loads is not None and _Parser is not None

# JSON whitespace only: anything else between the key and the array is an error for orjson too,
# and such a line goes to the general path.
_VALUES_KEY = re.compile(rb'"values"[ \t\r]*:[ \t\r]*\[')
# the bytes that bytes.strip() keeps: a line without one is blank
_NON_BLANK = re.compile(rb"[^ \t\n\r\x0b\x0c]")


@dataclass(frozen=True)
class FastBody:
    objects: list[dict[str, Any]]
    """Each line's object; its ``values`` member is a placeholder string."""
    matrix: np.ndarray
    """Row ``i`` holds line ``i``'s values cast to float32 (as ``array("f")`` casts a float): one
    row per object, ``dimensions`` columns. Values beyond float32 range come out infinite."""


def decode_fast(data: bytes, dimensions: int, max_lines: int) -> FastBody | None:
    """Every non-blank line of ``data`` decoded, or ``None`` if any line needs the general path
    (``max_lines`` lines at most: beyond that the general path has an error to give)."""
    if not AVAILABLE:
        return None
    with np.errstate(over="ignore"):
        return _decode(data, dimensions, max_lines)


def _decode(data: bytes, dimensions: int, max_lines: int) -> FastBody | None:
    token = secrets.token_hex(16)
    placeholder = b'"' + token.encode("ascii") + b'"'
    parser = _Parser()
    # untouched rows cost no memory: the pages are only mapped when written
    matrix = np.empty((max_lines, dimensions), dtype=np.float32)
    objects: list[dict[str, Any]] = []
    find, size = data.find, len(data)
    pos = 0
    while pos <= size:
        end = find(b"\n", pos)
        if end < 0:
            end = size
        if _NON_BLANK.search(data, pos, end) is None:
            pos = end + 1
            continue
        row = len(objects)
        if row == max_lines:
            return None
        try:
            found = _split(data, pos, end, placeholder, token)
            if found is None:
                return None
            obj, start, close = found
            if not _numbers(parser, data[start:close + 1], matrix[row]):
                return None
        except Exception:  # any failure at all means: let the general path decide
            return None
        objects.append(obj)
        pos = end + 1
    return FastBody(objects, matrix[:len(objects)])


def _split(data: bytes, pos: int, end: int, placeholder: bytes,
           token: str) -> tuple[dict[str, Any], int, int] | None:
    """The line ``data[pos:end]`` decoded with its top-level ``values`` array left out, and where
    that array's text starts and ends. Each ``"values": [`` of the line is tried in turn (an
    earlier one may belong to a nested object) until the placeholder comes back as the member."""
    for match in _VALUES_KEY.finditer(data, pos, end):
        start = match.end() - 1
        close = data.find(b"]", start, end)
        if close < 0:
            return None
        # a second "[" means a nested array, whose numbers simdjson would flatten
        if data.find(b"[", start + 1, close) >= 0:
            continue
        try:
            obj = _loads(data[pos:start].lstrip() + placeholder + data[close + 1:end].rstrip())
        except ValueError:
            continue
        if type(obj) is dict and obj.get("values") == token:
            return obj, start, close
    return None


def _numbers(parser: Any, array_text: bytes, out: np.ndarray) -> bool:
    """Parse a JSON array of exactly ``len(out)`` numbers into ``out``."""
    # Kept apart so the simdjson array proxy is gone before the parser is used again (it refuses
    # to parse while a proxy of the previous document is alive).
    array = parser.parse(array_text)
    if len(array) != len(out):
        return False
    # raises for strings, booleans, null and objects; integers convert as float() would
    wide = np.frombuffer(array.as_buffer(of_type="d"), dtype=np.float64)
    if len(wide) != len(out):
        return False
    out[:] = wide  # the float32 cast: round to nearest, infinite beyond float32 range
    return True
