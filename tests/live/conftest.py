"""Live tests: a real Cloudflare account, reached through the project's public classes.

Every test marked ``live`` is skipped unless ``CLOUDFLARE_ACCOUNT_ID`` and ``CLOUDFLARE_API_TOKEN``
are set. Everything else is read from the environment by the clients themselves
(``CLOUDFLARE_BASE_URL`` may point them at an emulator instead; ``CLOUDFLARE_AI_GATEWAY_ID`` names
the gateway of the cache test, which is skipped without it). Indexes get unique names and are
deleted afterwards, also when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

from cf_core import CloudflareClient, CloudflareError

REQUIRED = ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN")


def _missing() -> list[str]:
    return [name for name in REQUIRED if not os.environ.get(name, "").strip()]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = _missing()
    if not missing:
        return
    skip = pytest.mark.skip(reason=f"live test: set {' and '.join(missing)} to run it")
    for item in items:
        if item.get_closest_marker("live") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def live_client() -> Iterator[CloudflareClient]:
    """A core client configured from the environment only, as a user's would be."""
    with CloudflareClient() as client:
        yield client


@pytest.fixture
def index_name(live_client: CloudflareClient) -> Iterator[str]:
    """A fresh Vectorize index name; the index (if a test created it) is deleted afterwards."""
    name = f"cfai-live-{uuid.uuid4().hex[:12]}"
    yield name
    with contextlib.suppress(CloudflareError):  # never created, or already deleted by the test
        live_client.vectorize.delete_index(name)


@pytest.fixture
def gateway_id() -> str:
    value = os.environ.get("CLOUDFLARE_AI_GATEWAY_ID", "").strip()
    if not value:
        pytest.skip("set CLOUDFLARE_AI_GATEWAY_ID to run the AI Gateway cache test")
    return value
