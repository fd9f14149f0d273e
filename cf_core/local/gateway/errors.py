"""Error answers of the AI Gateway emulator, in one place so their codes are easy to audit.

The gateway host answers its own failures with ``{"success": false, "error": [{code, message}]}``
(singular ``error``), which is what has been observed for code 2009. Only 2009 is confirmed; the
other gateway-host codes below are this emulator's choices (UNCONFIRMED), picked in the same 20xx
range. The management API (``/client/v4/.../ai-gateway``) uses the ordinary v4 envelope.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..wire import ApiError

# Gateway host (singular ``error`` key).
INVALID_REQUEST = 2001  # UNCONFIRMED: malformed header value, universal body or compat model
RATE_LIMITED = 2003  # UNCONFIRMED code (third-party code checks for "2003"); HTTP 429 is documented
UPSTREAM_UNREACHABLE = 2005  # UNCONFIRMED: the provider's connection broke
REQUEST_TIMEOUT = 2007  # UNCONFIRMED: cf-aig-request-timeout / requestTimeout exceeded
UNSUPPORTED_PROVIDER = 2008  # UNCONFIRMED: a provider the emulator has no stand-in for
UNAUTHORIZED = 2009  # observed: {"success":false,"error":[{"code":2009,"message":"Unauthorized"}]}
GATEWAY_NOT_FOUND = 2010  # UNCONFIRMED: gateway id unusable (too long, or the account is full)

# Management API (v4 ``errors`` envelope). All UNCONFIRMED.
MGMT_INVALID = 7001
MGMT_NOT_FOUND = 7002
MGMT_DUPLICATE = 7004
MGMT_LIMIT = 7005


def gateway_error(status: int, code: int, message: str,
                  headers: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(status, code, message, headers=headers, singular_key=True)


def invalid(message: str) -> ApiError:
    return gateway_error(400, INVALID_REQUEST, message)


def mgmt_invalid(message: str) -> ApiError:
    return ApiError(400, MGMT_INVALID, message)
