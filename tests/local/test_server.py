"""The loopback server: binds 127.0.0.1 by default and answers many concurrent connections correctly."""

from __future__ import annotations

import asyncio
import inspect
import json

import httpx

from cf_core.local import Emulator
from cf_core.local.__main__ import build_parser
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN
from cf_core.local.server import RunningServer, is_loopback, start_server

AUTH = {"authorization": f"Bearer {TEST_TOKEN}"}
CONCURRENCY = 64


def test_defaults_bind_loopback_only() -> None:
    assert inspect.signature(start_server).parameters["host"].default == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


def test_running_server_listens_on_127_0_0_1(emu_server: RunningServer) -> None:
    assert emu_server.host == "127.0.0.1"
    sockets = [sock for srv in emu_server._server.servers for sock in srv.sockets]  # type: ignore[attr-defined]
    assert sockets and all(sock.getsockname()[0] == "127.0.0.1" for sock in sockets)
    assert emu_server.base_url.endswith("/client/v4") and emu_server.gateway_base_url.endswith("/v1")


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


async def test_64_concurrent_health_checks(emu_server: RunningServer) -> None:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=emu_server.origin, limits=limits) as client:
        responses = await asyncio.gather(*(client.get("/_emulator/health") for _ in range(CONCURRENCY)))
    assert [r.status_code for r in responses] == [200] * CONCURRENCY
    assert all(r.json()["ok"] is True for r in responses)


async def test_64_concurrent_gateway_calls_each_get_their_own_answer(emu_server: RunningServer) -> None:
    """Each request quotes a distinct message; every answer must quote its own one."""
    url = f"/v1/{TEST_ACCOUNT}/conc/openai/chat/completions"
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=emu_server.origin, limits=limits,
                                 headers={"authorization": "Bearer sk"}) as client:
        async def one(i: int) -> tuple[int, httpx.Response]:
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"message number {i}"}]}
            return i, await client.post(url, json=body)

        results = await asyncio.gather(*(one(i) for i in range(CONCURRENCY)))
    for i, r in results:
        assert r.status_code == 200
        assert f'"message number {i}"' in r.json()["choices"][0]["message"]["content"]
    log_ids = {r.headers["cf-aig-log-id"] for _, r in results}
    assert len(log_ids) == CONCURRENCY


async def test_64_concurrent_workers_ai_calls_match_in_process_answers(emulator: Emulator,
                                                                      emu_server: RunningServer) -> None:
    url = f"/client/v4/accounts/{TEST_ACCOUNT}/ai/run/@cf/baai/bge-small-en-v1.5"
    texts = [f"document {i} about topic {i % 7}" for i in range(CONCURRENCY)]
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=emu_server.origin, limits=limits, headers=AUTH) as client:
        responses = await asyncio.gather(*(client.post(url, json={"text": [t]}) for t in texts))
    assert [r.status_code for r in responses] == [200] * CONCURRENCY
    # The stand-in embedding is deterministic: the same text embedded again must match exactly.
    from cf_core.local import EmulatorTransport

    with httpx.Client(transport=EmulatorTransport(emulator), base_url="http://e", headers=AUTH) as local:
        for text, r in zip(texts[:8], responses[:8], strict=True):
            again = local.post(url, json={"text": [text]}).json()["result"]["data"]
            assert r.json()["result"]["data"] == again


def test_stream_over_the_socket(emu_server: RunningServer) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "stream"}], "stream": True}
    with httpx.Client(base_url=emu_server.origin) as client, client.stream(
            "POST", f"/v1/{TEST_ACCOUNT}/s/openai/chat/completions", json=body,
            headers={"authorization": "Bearer sk"}) as r:
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    assert json.loads(lines[0][6:])["object"] == "chat.completion.chunk"
