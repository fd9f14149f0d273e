"""Requests to ``/vectorize/v2/indexes`` (product ``vectorize``, so a separate Vectorize token applies)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..http import ApiRequest

BASE = "/vectorize/v2/indexes"


def index_path(name: str, suffix: str = "") -> str:
    return f"{BASE}/{quote(name, safe='')}{suffix}"


def request(method: str, path: str, *, json: Any = None, content: bytes | None = None,
            params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> ApiRequest:
    return ApiRequest(method, path, product="vectorize", json=json, content=content, params=params,
                      headers=dict(headers or {}))
