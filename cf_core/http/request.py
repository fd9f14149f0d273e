"""Requests as values: what to send and how to read the answer, free of any I/O.

An operation is written once as a :class:`Call` (one request plus its parser), a :class:`StreamCall`
(one streaming request plus a push parser), or a generator of effects (see ``effects``). The sync and
async transports only send them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic_core import from_json

from ..errors import APIError
from ..gateway import Gateway, GatewayInfo

T = TypeVar("T")

Product = Literal["ai", "vectorize", "kv", "ai-gateway", "account"]


class _Direct:
    """Sentinel: force a direct call even when the client has a default gateway."""

    def __repr__(self) -> str:
        return "DIRECT"


DIRECT = _Direct()
GatewayArg = Gateway | str | Mapping[str, Any] | _Direct | None


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    """Path under ``{base_url}/accounts/{account_id}`` (e.g. ``/ai/run/@cf/meta/llama-3.1-8b-instruct``)."""
    product: Product = "ai"
    params: Mapping[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    gateway_path: str | None = None
    """Path under ``{gateway_base_url}/{account_id}/{gateway_id}/`` when the call may go through a gateway."""
    gateway: GatewayArg = None
    """Per-call gateway; ``None`` uses the client's default, ``DIRECT`` forces a direct call."""
    gateway_required: bool = False
    timeout: float | None = None
    retry: bool = True


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        try:
            # pydantic-core's parser is several times faster than json.loads on large float arrays.
            return from_json(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            # An answer, but not one Cloudflare sends (a proxy's page, a truncated body): an APIError
            # with the status, never retried (a 2xx may have done its work).
            raise APIError(f"expected JSON from Cloudflare but could not parse it: {exc}; "
                           f"body starts {self.content[:120]!r}", status=self.status) from None

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers.items():
            if key.lower() == name:
                return value
        return None

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def gateway(self) -> GatewayInfo | None:
        return GatewayInfo.from_headers(self.headers)


def unwrap(resp: RawResponse) -> Any:
    """The ``result`` of a v4 envelope (a 200 with ``success: false`` is an error too)."""
    from ..errors import error_from_response

    payload = resp.json()
    if isinstance(payload, dict) and "success" in payload:
        if payload.get("success") is False:
            raise error_from_response(resp.status if resp.status >= 400 else 400, resp.headers, resp.content)
        return payload.get("result")
    return payload


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and the function that turns its successful answer into a ``T``."""

    request: ApiRequest
    parse: Callable[[RawResponse], T]
    ok_statuses: frozenset[int] = frozenset()
    """Non-2xx statuses handed to ``parse`` instead of raising (e.g. 404 for a KV get)."""


class StreamParser(Protocol[T]):
    """Push parser for one stream. Fresh per request; the transports feed it."""

    def feed(self, data: str) -> list[T]:
        """One SSE ``data:`` payload (``[DONE]`` included) -> items to yield."""
        ...

    def end(self) -> list[T]:
        """The stream closed. Raise StreamError if it was incomplete."""
        ...

    def from_body(self, resp: RawResponse) -> list[T]:
        """The server answered with plain JSON instead of a stream: the items it amounts to."""
        ...


@dataclass(frozen=True)
class StreamCall(Generic[T]):
    request: ApiRequest
    parser: Callable[[], StreamParser[T]]
