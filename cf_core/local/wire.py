"""The emulator's request/response values and Cloudflare's v4 envelope.

Handlers are plain functions from :class:`EmuRequest` to :class:`EmuResponse`, free of any web
framework, so the same code serves the in-process httpx transports and the loopback ASGI server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class EmuRequest:
    method: str
    path: str
    """The URL path, percent-decoded (model ids keep their ``@`` and slashes)."""
    query: dict[str, str]
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)
    """Path parameters filled in by the router."""

    @classmethod
    def build(cls, method: str, path: str, query_string: str, headers: Mapping[str, str], body: bytes) -> EmuRequest:
        return cls(
            method=method.upper(),
            path=path,
            query=dict(parse_qsl(query_string, keep_blank_values=True)),
            headers={k.lower(): v for k, v in headers.items()},
            body=body,
        )

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """Parse the body as JSON, answering Cloudflare's 400 on anything malformed."""
        if not self.body:
            raise ApiError(400, 3003, "Request is missing a body")
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, 5006, f"AiError: Bad input: Error: the body is not valid JSON ({exc})") from None

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise ApiError(400, 5006, "AiError: Bad input: Error: Type mismatch of '/', 'object' expected")
        return data


@dataclass
class EmuResponse:
    status: int
    headers: dict[str, str]
    body: bytes | Iterator[bytes] = b""

    @property
    def is_stream(self) -> bool:
        return not isinstance(self.body, bytes | bytearray)


class ApiError(Exception):
    """Raised by a handler to answer with Cloudflare's error envelope."""

    def __init__(self, status: int, code: int, message: str, *, headers: Mapping[str, str] | None = None,
                 singular_key: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.singular_key = singular_key
        """The AI Gateway answers auth failures with ``error`` (singular) holding the array."""

    def to_response(self) -> EmuResponse:
        if self.singular_key:
            payload: dict[str, Any] = {"success": False, "error": [{"code": self.code, "message": self.message}]}
        else:
            payload = {"result": None, "success": False,
                       "errors": [{"code": self.code, "message": self.message}], "messages": []}
        return json_response(payload, status=self.status, headers=self.headers)


class DropConnection(Exception):
    """Raised (also from inside a streaming body) to cut the connection without a complete answer."""


def _numpy_default(value: Any) -> Any:
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


try:  # orjson writes float32 vectors ~30x faster than json: the emulator must not be what a benchmark measures
    import orjson

    _OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS

    def dumps(payload: Any) -> bytes:
        """Compact UTF-8 JSON; numpy arrays are written as lists."""
        try:
            return orjson.dumps(payload, option=_OPTIONS, default=_numpy_default)
        except TypeError:  # integers beyond 64 bits (echoed from a request) are fine for json
            return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_numpy_default).encode()
except ImportError:  # pragma: no cover - orjson is part of the `local` extra
    def dumps(payload: Any) -> bytes:
        """Compact UTF-8 JSON; numpy arrays are written as lists."""
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_numpy_default).encode()


def json_response(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> EmuResponse:
    hdrs = {"content-type": "application/json"}
    hdrs.update(headers or {})
    return EmuResponse(status, hdrs, dumps(payload))


def envelope(result: Any, status: int = 200, headers: Mapping[str, str] | None = None,
             result_info: Mapping[str, Any] | None = None) -> EmuResponse:
    """Cloudflare's v4 success envelope."""
    payload: dict[str, Any] = {"result": result, "success": True, "errors": [], "messages": []}
    if result_info is not None:
        payload["result_info"] = dict(result_info)
    return json_response(payload, status, headers)


def sse_response(events: Iterator[bytes], headers: Mapping[str, str] | None = None) -> EmuResponse:
    hdrs = {"content-type": "text/event-stream", "cache-control": "no-cache"}
    hdrs.update(headers or {})
    return EmuResponse(200, hdrs, events)


def sse_event(payload: Any) -> bytes:
    """One ``data:`` event; ``payload`` ``"[DONE]"`` gives the terminator."""
    data = payload if isinstance(payload, str) else dumps(payload).decode()
    return f"data: {data}\n\n".encode()
