"""Request bodies: ``multipart/form-data`` (RFC 7578) and NDJSON.

The multipart parser is deliberately small: it reads a complete in-memory body, which is all the
emulator ever has, and understands the part headers clients send (``Content-Disposition`` with
``name``/``filename``, and ``Content-Type``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class MultipartError(ValueError):
    pass


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type/sub; a=b; c="d"`` into ``("type/sub", {"a": "b", "c": "d"})``."""
    main, _, _rest = value.partition(";")
    params: dict[str, str] = {}
    for m in _PARAM.finditer(value[len(main):]):
        raw = m.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[m.group(1).lower()] = raw
    return main.strip().lower(), params


def boundary_of(content_type_header: str) -> str:
    kind, params = header_params(content_type_header)
    if kind != "multipart/form-data":
        raise MultipartError(f"expected multipart/form-data, got {kind or 'no content type'}")
    boundary = params.get("boundary", "")
    if not boundary:
        raise MultipartError("multipart/form-data without a boundary parameter")
    return boundary


def parse_multipart(body: bytes, content_type_header: str) -> list[Part]:
    """All parts of a ``multipart/form-data`` body, in order."""
    delimiter = b"--" + boundary_of(content_type_header).encode("latin-1")
    start = body.find(delimiter)
    if start < 0:
        raise MultipartError("the multipart boundary does not occur in the body")
    parts: list[Part] = []
    pos = start + len(delimiter)
    while True:
        if body[pos:pos + 2] == b"--":
            return parts
        # the rest of the delimiter line (transport padding is allowed) ends with CRLF
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            raise MultipartError("truncated multipart body")
        header_end = body.find(b"\r\n\r\n", eol)
        if header_end < 0 and body[eol + 2:eol + 4] == b"\r\n":
            header_end = eol
        if header_end < 0:
            raise MultipartError("a multipart part has no header terminator")
        headers = _part_headers(body[eol + 2:header_end])
        data_start = header_end + 4
        nxt = body.find(b"\r\n" + delimiter, data_start)
        if nxt < 0:
            raise MultipartError("a multipart part is not closed by the boundary")
        disposition, params = header_params(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in params:
            raise MultipartError("a multipart part lacks Content-Disposition: form-data; name=...")
        ctype = headers.get("content-type")
        parts.append(Part(params["name"], params.get("filename"), ctype, body[data_start:nxt]))
        pos = nxt + 2 + len(delimiter)


def _part_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(b"\r\n"):
        if not line.strip():
            continue
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        if not sep:
            raise MultipartError(f"malformed multipart part header {line[:60]!r}")
        headers[name.strip().lower()] = value.strip()
    return headers


@dataclass(frozen=True)
class NdjsonLine:
    number: int
    """1-based line number in the body."""
    value: Any
    error: str | None = None


def _loads(line: bytes) -> Any:
    """orjson first (a 5000-vector body parses several times faster); the json module for what orjson
    refuses, such as NaN/Infinity literals, so those reach the non-finite check with its own error."""
    if _orjson_loads is not None:
        try:
            return _orjson_loads(line)
        except ValueError:
            pass
    return json.loads(line)


try:
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - orjson is part of the `local` extra
    _orjson_loads = None  # type: ignore[assignment]


def ndjson_lines(data: bytes) -> Iterator[NdjsonLine]:
    """Decode each non-blank line; undecodable lines come back with ``error`` set."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            yield NdjsonLine(number, _loads(line))
        except (ValueError, UnicodeDecodeError) as exc:
            yield NdjsonLine(number, None, str(exc))


