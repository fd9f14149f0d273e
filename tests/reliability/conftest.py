"""Fixtures for the reliability tests: the emulator served on loopback, core clients on it with a
fast retry policy, and a log capture of the client's retry messages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from rel_support import socket_async_client, socket_client

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.local import Emulator
from cf_core.local.server import RunningServer, running_server


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    emu = Emulator(seed=5)
    yield emu
    emu.close()


@pytest.fixture
def server(emulator: Emulator) -> Iterator[RunningServer]:
    """The test's emulator served by uvicorn on 127.0.0.1 (real sockets: drops and timeouts are real)."""
    with running_server(emulator) as running:
        yield running


@pytest.fixture
def sclient(server: RunningServer) -> Iterator[CloudflareClient]:
    with socket_client(server) as client:
        yield client


@pytest.fixture
async def saclient(server: RunningServer) -> AsyncIterator[AsyncCloudflareClient]:
    async with socket_async_client(server) as client:
        yield client


@pytest.fixture
def retry_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captures the core transport's INFO lines (one per retry)."""
    caplog.set_level(logging.INFO, logger="cf_core.http")
    return caplog
