"""Pytest fixtures for the emulator, in-process and on loopback.

Enable with ``pytest_plugins = ["cf_core.local.pytest_plugin"]`` in a conftest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from .client import LOCAL_BASE_URL, LOCAL_GATEWAY_BASE_URL, local_async_client, local_client
from .emulator import Emulator
from .server import RunningServer, running_server
from .transport import AsyncEmulatorTransport, EmulatorTransport

if TYPE_CHECKING:
    from ..client import AsyncCloudflareClient, CloudflareClient

TEST_ACCOUNT = "acc-test"
TEST_TOKEN = "test-token-0123456789"
LOCAL_ORIGIN = LOCAL_BASE_URL.removesuffix("/client/v4")


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator()
    yield emu
    emu.close()


@pytest.fixture
def client(emulator: Emulator) -> Iterator[CloudflareClient]:
    """A core client on the in-process emulator (the local account and token)."""
    with local_client(emulator) as c:
        yield c


@pytest.fixture
async def aclient(emulator: Emulator) -> AsyncIterator[AsyncCloudflareClient]:
    """The async twin of :func:`client`, on the same emulator."""
    async with local_async_client(emulator) as c:
        yield c


@pytest.fixture
def emu_client(emulator: Emulator) -> Iterator[httpx.Client]:
    """Raw httpx client against the in-process emulator, authenticated, based at ``/client/v4``."""
    with httpx.Client(transport=EmulatorTransport(emulator), base_url=LOCAL_BASE_URL,
                      headers={"authorization": f"Bearer {TEST_TOKEN}"}) as client:
        yield client


@pytest.fixture
async def emu_aclient(emulator: Emulator):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=AsyncEmulatorTransport(emulator), base_url=LOCAL_BASE_URL,
                                 headers={"authorization": f"Bearer {TEST_TOKEN}"}) as client:
        yield client


@pytest.fixture
def emu_gateway_client(emulator: Emulator) -> Iterator[httpx.Client]:
    """Raw httpx client based at the gateway host's ``/v1``."""
    with httpx.Client(transport=EmulatorTransport(emulator), base_url=LOCAL_GATEWAY_BASE_URL,
                      headers={"authorization": f"Bearer {TEST_TOKEN}"}) as client:
        yield client


@pytest.fixture
def emu_origin_client(emulator: Emulator) -> Iterator[httpx.Client]:
    """Raw httpx client based at the emulator's origin (``/client/v4``, ``/v1`` and ``/_emulator``
    all reachable), with no default headers: tests choose their own credentials."""
    with httpx.Client(transport=EmulatorTransport(emulator), base_url=LOCAL_ORIGIN) as client:
        yield client


@pytest.fixture
def emu_server(emulator: Emulator) -> Iterator[RunningServer]:
    """The same emulator served by uvicorn on 127.0.0.1 at a free port."""
    with running_server(emulator) as server:
        yield server
