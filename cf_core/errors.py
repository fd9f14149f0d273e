"""One exception hierarchy for every Cloudflare failure, built from HTTP status and Cloudflare code.

Every error carries ``status``, ``code``, ``message`` and ``request_id`` when the service gave them.
Errors found locally, before anything is sent, are :class:`InvalidInputError` (also a ``ValueError``)
and name the field and the limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


class CloudflareError(Exception):
    """Base of every error raised by cf_core.

    ``earlier_attempts`` holds the errors of the attempts the transport retried before this one
    (empty when the request was tried once): a conflict after a timed-out attempt may be that
    attempt's own success, whose answer was lost.
    """

    earlier_attempts: tuple[CloudflareError, ...] = ()

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None,
                 request_id: str | None = None, errors: Sequence[Mapping[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id
        self.errors = list(errors or [])

    def __str__(self) -> str:
        parts = [self.message]
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.request_id:
            details.append(f"request id {self.request_id}")
        if details:
            parts.append(f"({', '.join(details)})")
        return " ".join(parts)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep keyword-only attributes through pickling (multiprocessing, caches).
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[CloudflareError], message: str, state: dict[str, Any]) -> CloudflareError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class ConfigurationError(CloudflareError):
    """Missing or invalid configuration (credentials, base URL...), found before any request."""


class InvalidInputError(CloudflareError, ValueError):
    """Bad input found locally, before sending: names the field, the limit and the offending item."""

    def __init__(self, message: str, *, field: str | None = None, limit: Any = None, item: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.limit = limit
        self.item = item


class APIError(CloudflareError):
    """The service answered with an error."""


class BadRequestError(APIError):
    """HTTP 400: the request was rejected (5006 schema validation, Vectorize VECTOR_* errors...)."""


class AuthenticationError(APIError):
    """HTTP 401 / code 10000: the API token is missing, wrong or expired."""


class PermissionDeniedError(APIError):
    """HTTP 403: the token is valid but lacks a permission, or a model licence was not accepted (5016)."""


class NotFoundError(APIError):
    """No such model (5007, 3042), index (3000), KV key, gateway or route."""


class ConflictError(APIError):
    """HTTP 409 / duplicate names (Vectorize 3002)."""


class PayloadTooLargeError(APIError):
    """HTTP 413 / code 3006."""


class RateLimitError(APIError):
    """HTTP 429: too many requests. ``retry_after`` is the server's hint in seconds, if any."""

    retry_after: float | None = None


class CapacityError(RateLimitError):
    """Code 3040: Workers AI is temporarily out of capacity. Retried automatically."""


class QuotaExceededError(RateLimitError):
    """Codes 3036 / 4006: the daily free neuron allocation is used up. Never retried."""


class TimeoutError(APIError):
    """The request timed out (client-side, HTTP 408, or codes 3007 / 3008)."""


class ServerError(APIError):
    """HTTP 5xx from Cloudflare."""


class APIConnectionError(CloudflareError):
    """The connection failed or was dropped before a complete answer."""


class StreamError(CloudflareError):
    """A stream ended before its terminator or carried an error event: the output is incomplete."""


class GatewayError(APIError):
    """An AI Gateway-specific failure."""


class GatewayAuthenticationError(GatewayError, AuthenticationError):
    """Code 2009: the gateway is authenticated and ``cf-aig-authorization`` was missing or wrong."""


class GatewayRateLimitError(GatewayError, RateLimitError):
    """The gateway's own rate limit (HTTP 429 from the gateway)."""


class GuardrailsError(GatewayError):
    """Codes 2016 (prompt blocked) / 2017 (response blocked) by the gateway's guardrails."""


class DLPError(GatewayError):
    """Codes 2029 (request blocked) / 2030 (response blocked) by data loss prevention."""


class MutationTimeoutError(CloudflareError):
    """A Vectorize mutation was not processed within the wait limit. The write itself was accepted."""

    def __init__(self, message: str, *, mutation_id: str, waited_s: float) -> None:
        super().__init__(message)
        self.mutation_id = mutation_id
        self.waited_s = waited_s


class PartialWriteError(CloudflareError):
    """A bulk write failed part-way: ``written_ids`` were accepted, ``failed_ids`` were not.

    Calling the same operation again (an upsert) completes the job without duplicates.
    """

    def __init__(self, message: str, *, written_ids: Sequence[str], failed_ids: Sequence[str],
                 mutation_ids: Sequence[str] = (), cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.written_ids = list(written_ids)
        self.failed_ids = list(failed_ids)
        self.mutation_ids = list(mutation_ids)
        self.__cause__ = cause


_BY_CODE: dict[int, type[APIError]] = {
    10000: AuthenticationError, 9109: AuthenticationError, 9106: AuthenticationError,
    5006: BadRequestError, 5004: BadRequestError, 3003: BadRequestError, 3039: BadRequestError,
    5007: NotFoundError, 3042: NotFoundError, 3000: NotFoundError, 10009: NotFoundError, 7003: NotFoundError,
    5016: PermissionDeniedError, 5018: PermissionDeniedError, 3023: PermissionDeniedError,
    3041: PermissionDeniedError,
    3002: ConflictError,
    3006: PayloadTooLargeError,
    3007: TimeoutError, 3008: TimeoutError,
    3036: QuotaExceededError, 4006: QuotaExceededError,
    3040: CapacityError,
    2009: GatewayAuthenticationError, 2003: GatewayRateLimitError,
    2016: GuardrailsError, 2017: GuardrailsError, 2029: DLPError, 2030: DLPError,
}

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
    405: BadRequestError, 408: TimeoutError, 409: ConflictError, 413: PayloadTooLargeError,
    422: BadRequestError, 424: GatewayError, 429: RateLimitError,
}

REQUEST_ID_HEADERS = ("cf-ai-req-id", "cf-ray", "cf-aig-log-id", "x-request-id")


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        import datetime as _dt

        seconds = (when - _dt.datetime.now(_dt.UTC)).total_seconds()
    return max(0.0, seconds)


def _describe_body(body: bytes, content_type: str) -> str:
    text = body[:300].decode("utf-8", "replace").strip()
    if "html" in content_type or text.lower().startswith(("<!doctype", "<html")):
        return "a non-JSON (HTML) error page, probably from a proxy in front of Cloudflare"
    if not text:
        return "an empty body"
    return f"a non-JSON body: {text[:200]!r}"


def error_from_response(status: int, headers: Mapping[str, str], body: bytes) -> APIError:
    """Build the typed error for an HTTP error answer (v4 envelope, gateway ``error`` key, or not JSON)."""
    lower = {k.lower(): v for k, v in headers.items()}
    content_type = lower.get("content-type", "")
    errors: list[dict[str, Any]] = []
    try:
        payload = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    if isinstance(payload, dict):
        raw = payload.get("errors") or payload.get("error") or []
        if isinstance(raw, dict):  # OpenAI-style {"error": {...}}
            raw = [raw]
        if isinstance(raw, str):
            raw = [{"message": raw}]
        errors = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
    code: int | None = None
    message = ""
    if errors:
        first = errors[0]
        raw_code = first.get("code")
        code = raw_code if isinstance(raw_code, int) else _int_or_none(raw_code)
        message = str(first.get("message") or first.get("error") or "")
    if not message:
        message = f"HTTP {status} with {_describe_body(body, content_type)}" if payload is None \
            else f"HTTP {status} error"
    cls = _BY_CODE.get(code) if code is not None else None
    if cls is None and "VECTOR_" in message:
        cls = BadRequestError
    if cls is None:
        cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    if cls is RateLimitError and status == 429 and code is None and "gateway" in message.lower():
        cls = GatewayRateLimitError
    err = cls(message, status=status, code=code, request_id=_request_id(lower), errors=errors)
    if isinstance(err, RateLimitError):
        err.retry_after = parse_retry_after(lower.get("retry-after"))
    return err


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
