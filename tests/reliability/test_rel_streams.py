"""A stream that breaks part-way raises a typed error (``StreamError``); nothing is silently truncated,
and nothing is silently resent (a retried stream would repeat text the caller already has).

The break is the emulator's ``stream_cut_rate`` / ``stream_cut_after`` fault: the connection is cut
after N events of a streaming answer, in process (httpx sees ``RemoteProtocolError``) and over the
loopback socket (an incomplete chunked body). A cut before the first event is not "mid-way": the
client may and does retry it, and the caller gets the whole answer once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.exceptions import ModelAPIError
from llama_index.core.base.llms.types import ChatMessage
from rel_support import ACCOUNT, CHAT_MODEL, FAST_RETRIES, TOKEN, socket_async_client, socket_client

from cf_core import AsyncCloudflareClient, CloudflareClient, StreamError
from cf_core.local import Emulator, FaultConfig, local_async_client, local_client
from cf_core.local.faults import Faults
from cf_core.local.server import RunningServer
from cf_langchain import ChatCloudflareWorkersAI
from cf_llamaindex import CloudflareWorkersAI

QUESTION = ("Vectorize stores vectors for search. Workers AI runs models near users. AI Gateway caches and "
            "logs model calls. Tell me about Vectorize, Workers AI and AI Gateway.")
MESSAGES = [{"role": "user", "content": QUESTION}]
CUT_AFTER = 4


def _cut(after: int = CUT_AFTER, rate: float = 1.0, seed: int | None = None) -> FaultConfig:
    return FaultConfig(stream_cut_rate=rate, stream_cut_after=after, seed=seed, paths="/ai/run/")


def _full_text(emulator: Emulator) -> str:
    with local_client(emulator) as c:
        chunks = list(c.workers_ai.stream_chat(CHAT_MODEL, MESSAGES))
    text = "".join(ch.text for ch in chunks)
    assert len(chunks) > CUT_AFTER + 2 and text.startswith("[stand-in]")
    return text


@pytest.fixture(params=["in-process", "socket"])
def clients(request: pytest.FixtureRequest, emulator: Emulator) -> Iterator[tuple[CloudflareClient,
                                                                                  AsyncCloudflareClient]]:
    if request.param == "in-process":
        yield (local_client(emulator, retry_policy=FAST_RETRIES),
               local_async_client(emulator, retry_policy=FAST_RETRIES))
        return
    server: RunningServer = request.getfixturevalue("server")
    with socket_client(server) as c:
        yield c, socket_async_client(server)


def _assert_cut(emulator: Emulator, client: CloudflareClient | AsyncCloudflareClient, got: list[str],
                err: StreamError, full: str) -> None:
    partial = "".join(got)
    assert got and len(got) <= CUT_AFTER
    assert full.startswith(partial) and len(partial) < len(full), "what arrived must be a strict prefix"
    assert "broke" in str(err) or "before" in str(err)
    assert emulator.faults.snapshot() == {"stream_cut": 1}
    assert client.stats["retries"] == 0, "a stream that already yielded must not be resent"


def test_core_stream_cut_midway_raises(emulator: Emulator, clients: tuple[CloudflareClient, Any]) -> None:
    client, _ = clients
    full = _full_text(emulator)
    emulator.faults.configure(_cut())
    got: list[str] = []
    with pytest.raises(StreamError) as caught:
        for chunk in client.workers_ai.stream_chat(CHAT_MODEL, MESSAGES):
            got.append(chunk.text)
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    _assert_cut(emulator, client, got, caught.value, full)


async def test_core_async_stream_cut_midway_raises(emulator: Emulator,
                                                   clients: tuple[Any, AsyncCloudflareClient]) -> None:
    _, aclient = clients
    full = _full_text(emulator)
    emulator.faults.configure(_cut())
    got: list[str] = []
    with pytest.raises(StreamError) as caught:
        async for chunk in aclient.workers_ai.stream_chat(CHAT_MODEL, MESSAGES):
            got.append(chunk.text)
    await aclient.aclose()
    _assert_cut(emulator, aclient, got, caught.value, full)


def test_stream_through_the_gateway_cut_midway_raises(emulator: Emulator, server: RunningServer) -> None:
    full = _full_text(emulator)
    emulator.faults.configure(FaultConfig(stream_cut_rate=1.0, stream_cut_after=CUT_AFTER, paths="/workers-ai/"))
    with socket_client(server, gateway="rel-gw") as client:
        got: list[str] = []
        with pytest.raises(StreamError) as caught:
            for chunk in client.workers_ai.stream_chat(CHAT_MODEL, MESSAGES):
                got.append(chunk.text)
        _assert_cut(emulator, client, got, caught.value, full)


def _seed_cutting_first_attempt_only() -> int:
    for seed in range(1000):
        faults = Faults(_cut(after=0, rate=0.5, seed=seed))
        if [faults.plan("/ai/run/x").cut_stream_after is not None for _ in range(2)] == [True, False]:
            return seed
    raise AssertionError("no seed")


def test_cut_before_the_first_event_is_retried_and_answer_is_whole(
        emulator: Emulator, clients: tuple[CloudflareClient, Any]) -> None:
    client, _ = clients
    full = _full_text(emulator)
    emulator.faults.configure(_cut(after=0, rate=0.5, seed=_seed_cutting_first_attempt_only()))
    text = "".join(ch.text for ch in client.workers_ai.stream_chat(CHAT_MODEL, MESSAGES))
    assert text == full
    assert emulator.faults.snapshot() == {"stream_cut": 1}
    assert client.stats["retry_reasons"] == {"APIConnectionError": 1}


def test_stream_that_ends_cleanly_without_done_raises() -> None:
    """A proxy that closes the stream properly but early (no ``[DONE]``) is a truncation too."""
    events = b'data: {"response": "Hello"}\n\ndata: {"response": " wor"}\n\n'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=events)

    with CloudflareClient(account_id=ACCOUNT, api_token=TOKEN, transport=httpx.MockTransport(handler)) as c:
        got: list[str] = []
        with pytest.raises(StreamError, match=r"\[DONE\]"):
            for chunk in c.workers_ai.stream_chat(CHAT_MODEL, MESSAGES):
                got.append(chunk.text)
    assert "".join(got) == "Hello wor"


# -- through the adapters ----------------------------------------------------------------------------


def test_langchain_stream_cut_midway_raises(emulator: Emulator, clients: tuple[CloudflareClient,
                                                                               AsyncCloudflareClient]) -> None:
    client, aclient = clients
    full = _full_text(emulator)
    llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, client=client, async_client=aclient)
    emulator.faults.configure(_cut())
    got: list[str] = []
    with pytest.raises(StreamError) as caught:
        for chunk in llm.stream(QUESTION):
            got.append(str(chunk.content))
    assert isinstance(caught.value, ModelAPIError)  # LangChain's own type too
    _assert_cut(emulator, client, [g for g in got if g], caught.value, full)


async def test_langchain_astream_cut_midway_raises(emulator: Emulator,
                                                   clients: tuple[CloudflareClient, AsyncCloudflareClient]) -> None:
    client, aclient = clients
    full = _full_text(emulator)
    llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, client=client, async_client=aclient)
    emulator.faults.configure(_cut())
    got: list[str] = []
    with pytest.raises(StreamError) as caught:
        async for chunk in llm.astream(QUESTION):
            got.append(str(chunk.content))
    await aclient.aclose()
    assert isinstance(caught.value, ModelAPIError)
    _assert_cut(emulator, aclient, [g for g in got if g], caught.value, full)


def test_llamaindex_stream_chat_cut_midway_raises(emulator: Emulator,
                                                  clients: tuple[CloudflareClient, AsyncCloudflareClient]) -> None:
    client, aclient = clients
    full = _full_text(emulator)
    llm = CloudflareWorkersAI(model=CHAT_MODEL, client=client, async_client=aclient)
    emulator.faults.configure(_cut())
    got: list[str] = []
    with pytest.raises(StreamError) as caught:
        for response in llm.stream_chat([ChatMessage(role="user", content=QUESTION)]):
            got.append(response.delta or "")
    _assert_cut(emulator, client, [g for g in got if g], caught.value, full)


async def test_llamaindex_astream_complete_cut_midway_raises(
        emulator: Emulator, clients: tuple[CloudflareClient, AsyncCloudflareClient]) -> None:
    client, aclient = clients
    full = _full_text(emulator)
    llm = CloudflareWorkersAI(model=CHAT_MODEL, client=client, async_client=aclient)
    emulator.faults.configure(_cut())
    got: list[str] = []
    with pytest.raises(StreamError) as caught:
        async for response in await llm.astream_complete(QUESTION):
            got.append(response.delta or "")
    await aclient.aclose()
    _assert_cut(emulator, aclient, [g for g in got if g], caught.value, full)
