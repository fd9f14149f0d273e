"""Run the emulator on a loopback port, in a background thread or in the foreground."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .asgi import EmulatorApp, quiet_intentional_drops
from .emulator import Emulator


@dataclass
class RunningServer:
    emulator: Emulator
    host: str
    port: int
    _server: object
    _thread: threading.Thread

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for ``CLOUDFLARE_BASE_URL``."""
        return f"{self.origin}/client/v4"

    @property
    def gateway_base_url(self) -> str:
        """Value for ``CLOUDFLARE_AI_GATEWAY_BASE_URL``."""
        return f"{self.origin}/v1"

    def stop(self, graceful: bool = False) -> None:
        """Stop serving. By default requests still in flight (an injected slow answer, say) are cut
        rather than waited for; ``graceful=True`` lets them finish (up to 10 s)."""
        self._server.should_exit = True  # type: ignore[attr-defined]
        if not graceful:
            self._server.force_exit = True  # type: ignore[attr-defined]
        self._thread.join(timeout=10)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it every answer on a kept-alive connection waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _config(emulator: Emulator, host: str, port: int, log_level: str) -> object:
    import uvicorn

    config = uvicorn.Config(EmulatorApp(emulator), host=host, port=port, log_level=log_level,
                            lifespan="off", access_log=False, timeout_keep_alive=30, limit_concurrency=None)
    # uvicorn configures its loggers when the Config is built; the filter goes on afterwards.
    quiet_intentional_drops()
    return config


def start_server(emulator: Emulator | None = None, host: str = "127.0.0.1", port: int = 0,
                 log_level: str = "warning") -> RunningServer:
    """Start on ``host:port`` (0 picks a free port) in a daemon thread and wait until it accepts."""
    import uvicorn

    emulator = emulator or Emulator()
    sock = _bind(host, port)
    server = uvicorn.Server(_config(emulator, host, sock.getsockname()[1], log_level))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="cf-emulator")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the emulator server did not start")
        time.sleep(0.01)
    return RunningServer(emulator, host, sock.getsockname()[1], server, thread)


@contextlib.contextmanager
def running_server(emulator: Emulator | None = None, host: str = "127.0.0.1", port: int = 0) -> Iterator[RunningServer]:
    server = start_server(emulator, host, port)
    try:
        yield server
    finally:
        server.stop()


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket on ``host:port`` (0 picks a free port), for :func:`serve_forever`."""
    return _bind(host, port)


def serve_forever(emulator: Emulator, host: str, port: int, sock: socket.socket | None = None) -> None:
    """Serve in the foreground until SIGINT/SIGTERM; pass ``sock`` from :func:`bind` to know the port first."""
    import uvicorn

    sock = sock or _bind(host, port)
    bound_port = sock.getsockname()[1]
    uvicorn.Server(_config(emulator, host, bound_port, "info")).run(sockets=[sock])  # type: ignore[arg-type]
