"""The live model catalog: ``GET /ai/models/search``."""

from __future__ import annotations

from typing import Any

from ..errors import CloudflareError
from ..http import ApiRequest, Call, RawResponse, unwrap
from . import checks


def _parse(resp: RawResponse) -> list[dict[str, Any]]:
    result = unwrap(resp)
    if not isinstance(result, list):
        raise CloudflareError(f"expected a list of models, got {str(result)[:200]}")
    return [dict(m) for m in result if isinstance(m, dict)]


def search_models(*, search: str | None = None, task: str | None = None, author: str | None = None,
                  page: int | None = None, per_page: int | None = None) -> Call[list[dict[str, Any]]]:
    """Models in the account's catalog; ``task`` is a task name such as ``Text Generation``."""
    if page is not None:
        checks.int_range("page", page, 1, None)
    if per_page is not None:
        checks.int_range("per_page", per_page, 1, None)
    params = {"search": search, "task": task, "author": author, "page": page, "per_page": per_page}
    return Call(ApiRequest(method="GET", path="/ai/models/search", params=params), _parse)
