"""Requests to the management and logs API (``/ai-gateway/gateways``, product ``ai-gateway``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..errors import InvalidInputError
from ..http import ApiRequest

BASE = "/ai-gateway/gateways"
MAX_ID_CHARS = 64
_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def check_gateway_id(gateway_id: Any, field: str = "id") -> str:
    if not isinstance(gateway_id, str) or not gateway_id:
        raise InvalidInputError(f"{field} must be a non-empty string, got {gateway_id!r}", field=field)
    if len(gateway_id) > MAX_ID_CHARS:
        raise InvalidInputError(f"{field} {gateway_id[:40]!r}... is {len(gateway_id)} characters; the limit is "
                                f"{MAX_ID_CHARS}", field=field, limit=MAX_ID_CHARS, item=gateway_id)
    if not _ID.match(gateway_id):
        raise InvalidInputError(f"{field} {gateway_id!r} may only contain letters, digits, '-' and '_'",
                                field=field, item=gateway_id)
    return gateway_id


def gateway_path(gateway_id: str, suffix: str = "") -> str:
    return f"{BASE}/{quote(gateway_id, safe='')}{suffix}"


def request(method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> ApiRequest:
    return ApiRequest(method, path, product="ai-gateway", json=json, params=params)
