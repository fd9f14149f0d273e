"""Faults over the loopback server: what a real socket client sees."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from cf_core.local import Emulator, FaultConfig
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN
from cf_core.local.server import RunningServer

AUTH = {"authorization": f"Bearer {TEST_TOKEN}"}
LIST = f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def uvicorn_errors() -> Iterator[_Records]:
    handler = _Records()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _client(server: RunningServer, **kwargs: object) -> httpx.Client:
    return httpx.Client(base_url=server.origin, headers=AUTH, **kwargs)  # type: ignore[arg-type]


def test_drop_over_the_socket_breaks_the_response(emulator: Emulator, emu_server: RunningServer,
                                                  uvicorn_errors: _Records) -> None:
    emulator.faults.configure(FaultConfig(drop_rate=1.0, paths="/ai-gateway/", seed=1))
    with _client(emu_server) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            c.get(LIST)
        assert c.get("/_emulator/health").status_code == 200  # the server lives on
    assert emulator.faults.snapshot() == {"drop": 1}
    assert not [m for m in uvicorn_errors.messages if "without completing response" in m]


def test_slow_answer_over_the_socket_raises_read_timeout(emulator: Emulator, emu_server: RunningServer) -> None:
    emulator.faults.configure(FaultConfig(slow_rate=1.0, slow_ms=3000, paths="/ai-gateway/", seed=1))
    with _client(emu_server, timeout=httpx.Timeout(5.0, read=0.1)) as c, pytest.raises(httpx.ReadTimeout):
        c.get(LIST)


def test_error_rate_over_the_socket(emulator: Emulator, emu_server: RunningServer) -> None:
    emulator.faults.configure(FaultConfig(error_rates={429: 1.0}, retry_after_s=4, seed=1))
    with _client(emu_server) as c:
        r = c.get(LIST)
    assert r.status_code == 429 and r.headers["retry-after"] == "4"


def test_admin_faults_over_the_socket(emu_server: RunningServer) -> None:
    with _client(emu_server) as c:
        assert c.post("/_emulator/faults", json={"burst_429": 1}).status_code == 200
        assert [c.get(LIST).status_code for _ in range(2)] == [429, 200]
        assert c.get("/_emulator/stats").json()["result"]["injected"] == {"429": 1}


def test_body_over_limit_over_the_socket() -> None:
    from cf_core.local.server import running_server

    emu = Emulator(max_body_bytes=1024)
    with running_server(emu) as server, _client(server) as c:
        r = c.post(f"/client/v4/accounts/{TEST_ACCOUNT}/ai/run/@cf/meta/llama-3.1-8b-instruct",
                   content=b"{" + b" " * 5000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["errors"][0]["code"] == 3006
