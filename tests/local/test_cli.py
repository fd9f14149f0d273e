"""``python -m cf_core.local serve`` as a real subprocess on a free loopback port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from cf_core.local.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
LIST = "/client/v4/accounts/acc/ai-gateway/gateways"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(*args: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "cf_core.local", "serve", "--port", str(port), *args],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {(tmp_path / 'server.log').read_text()}")
            try:
                if httpx.get(origin + "/_emulator/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not start within 30 s")
            time.sleep(0.05)
        yield origin
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    # uvicorn shuts down cleanly on SIGTERM, then re-raises the signal (exit status -SIGTERM).
    assert proc.returncode in (0, -signal.SIGTERM), (tmp_path / "server.log").read_text()
    assert "Finished server process" in (tmp_path / "server.log").read_text()


def test_help_shows_loopback_default() -> None:
    out = subprocess.run([sys.executable, "-m", "cf_core.local", "serve", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "default 127.0.0.1" in out.stdout
    assert "--error-rate" in out.stdout and "--token" in out.stdout


def test_serve_answers_and_restricts_tokens(tmp_path: Path) -> None:
    with serving("--seed", "1", "--token", "cli-token", tmp_path=tmp_path) as origin:
        ok = httpx.get(origin + LIST, headers={"authorization": "Bearer cli-token"})
        assert ok.status_code == 200 and ok.json()["success"] is True
        bad = httpx.get(origin + LIST, headers={"authorization": "Bearer other"})
        assert bad.status_code == 401 and bad.json()["errors"][0]["code"] == 10000
        chat = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
        gw = httpx.post(origin + "/v1/acc/gw/openai/chat/completions", json=chat,
                        headers={"authorization": "Bearer sk"})
        assert gw.status_code == 200 and gw.headers["cf-aig-cache-status"] == "MISS"
    banner = (tmp_path / "server.log").read_text()
    assert f"CLOUDFLARE_BASE_URL={origin}/client/v4" in banner


def test_serve_with_error_rate_fails_calls(tmp_path: Path) -> None:
    with serving("--error-rate", "503=1.0", tmp_path=tmp_path) as origin:
        r = httpx.get(origin + LIST, headers={"authorization": "Bearer t"})
        assert r.status_code == 503
        assert r.json()["errors"][0]["code"] == 10003
        assert httpx.get(origin + "/_emulator/health").status_code == 200
        stats = httpx.get(origin + "/_emulator/stats").json()["result"]
        assert stats["injected"] == {"503": 1}


@pytest.mark.parametrize("argv", [
    ["serve", "--error-rate", "503=2"], ["serve", "--error-rate", "abc"], ["serve", "--drop-rate", "-0.1"],
    ["serve", "--port", "70000"], ["serve", "--error-rate", "503=0.6", "--drop-rate", "0.6"],
])
def test_bad_arguments_exit_with_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err
