"""Shared fixtures for the LangChain adapter tests (the emulator and the plain core ``client``/``aclient``
come from cf_core.local's pytest plugin): core clients whose requests are recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.local import Emulator, SentRequest, local_async_client, local_client

# -- wire recording (chat-side tests: what was actually sent) ------------------------------------


@dataclass
class Wire:
    """Core clients on the emulator whose requests are recorded, to assert what went on the wire."""

    client: CloudflareClient
    aclient: AsyncCloudflareClient
    requests: list[SentRequest] = field(default_factory=list)

    def bodies(self, path_part: str = "/ai/run/") -> list[dict[str, Any]]:
        return [r.json() for r in self.requests if path_part in r.url.path and r.body]

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def clear(self) -> None:
        self.requests.clear()


@pytest.fixture
def wire(emulator: Emulator) -> Iterator[Wire]:
    log: list[SentRequest] = []
    sync = local_client(emulator, record=log)
    asyn = local_async_client(emulator, record=log)
    yield Wire(sync, asyn, log)
    sync.close()
