"""64 concurrent async callers sharing one client get correct, uncrossed answers, over the loopback
socket, while the emulator injects 500/503/429 answers and dropped connections (so retries run
concurrently too).

Each caller owns a unique code word: its chat answer must quote its own code and no other, its
stream must carry only its own, its embedding must equal the one computed alone, its Vectorize
query must find its own vector first, and its KV value must come back as written. The stand-in
chat engine quotes the context it is given, so these tests check routing on the wire, not model
quality.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage
from rel_support import CHAT_MODEL, DIMS, EMBED_MODEL

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.local import Emulator, FaultConfig, local_client
from cf_core.local.server import RunningServer
from cf_langchain import ChatCloudflareWorkersAI, CloudflareWorkersAIEmbeddings
from cf_llamaindex import CloudflareWorkersAI, CloudflareWorkersAIEmbedding

CALLERS = 64
CODE = re.compile(r"zq\d+x")
INDEX = "conc"


def code(i: int) -> str:
    return f"zq{i * 37 + 1000}x"


def prompt(i: int) -> str:
    return f"Caller {i} is here. The code word is {code(i)}. What is the code word?"


def text(i: int) -> str:
    return f"passage {i} about the {code(i)} subject and topic {i % 9}"


def faults() -> FaultConfig:
    return FaultConfig(error_rates={500: 0.05, 503: 0.05, 429: 0.05}, retry_after_s=0.01, drop_rate=0.02, seed=17)


def own_code_only(answer: str, i: int) -> None:
    assert CODE.findall(answer) == [code(i)], (i, answer)


async def run_all(task: Callable[[int], Awaitable[Any]]) -> list[Any]:
    """All callers at once (gathered, so they overlap on the shared client's connection pool)."""
    return list(await asyncio.gather(*(task(i) for i in range(CALLERS))))


@pytest.fixture
def reference(emulator: Emulator) -> list[list[float]]:
    """Each caller's embedding computed alone, in process, one at a time."""
    with local_client(emulator) as c:
        return [c.workers_ai.embed(EMBED_MODEL, text(i)).vectors[0] for i in range(CALLERS)]


async def test_core_client_shared_by_64_callers(emulator: Emulator, server: RunningServer, sclient: CloudflareClient,
                                               saclient: AsyncCloudflareClient,
                                               reference: list[list[float]]) -> None:
    sclient.vectorize.create_index(INDEX, dimensions=DIMS)
    sclient.vectorize.upsert(INDEX, [{"id": f"c{i}", "values": reference[i], "metadata": {"caller": i}}
                                     for i in range(CALLERS)], wait=True)
    namespace = sclient.kv.create_namespace("conc").id
    emulator.faults.configure(faults())

    async def caller(i: int) -> None:
        answer = await saclient.workers_ai.chat(CHAT_MODEL, [{"role": "user", "content": prompt(i)}])
        own_code_only(answer.text, i)
        streamed = [c.text async for c in saclient.workers_ai.stream_chat(
            CHAT_MODEL, [{"role": "user", "content": prompt(i)}])]
        assert "".join(streamed) == answer.text
        embedded = await saclient.workers_ai.embed(EMBED_MODEL, text(i))
        assert embedded.vectors[0] == pytest.approx(reference[i], abs=1e-6)
        found = await saclient.vectorize.query(INDEX, embedded.vectors[0], top_k=3, return_metadata="all")
        assert found.matches[0].id == f"c{i}" and found.matches[0].metadata == {"caller": i}
        await saclient.kv.put(namespace, f"key-{i}", f"value of caller {i}")
        assert await saclient.kv.get(namespace, f"key-{i}") == f"value of caller {i}".encode()

    await run_all(caller)
    injected = emulator.faults.snapshot()
    assert sum(injected.values()) > 0 and saclient.stats["retries"] >= sum(injected.values())


async def test_langchain_models_shared_by_64_callers(emulator: Emulator, sclient: CloudflareClient,
                                                     saclient: AsyncCloudflareClient,
                                                     reference: list[list[float]]) -> None:
    llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, client=sclient, async_client=saclient)
    embeddings = CloudflareWorkersAIEmbeddings(model=EMBED_MODEL, client=sclient, async_client=saclient)
    emulator.faults.configure(faults())

    async def caller(i: int) -> None:
        message = await llm.ainvoke(prompt(i))
        own_code_only(str(message.content), i)
        chunks = [str(c.content) async for c in llm.astream(prompt(i))]
        own_code_only("".join(chunks), i)
        assert await embeddings.aembed_query(text(i)) == pytest.approx(reference[i], abs=1e-6)

    await run_all(caller)
    assert saclient.stats["retries"] > 0


async def test_llamaindex_models_shared_by_64_callers(emulator: Emulator, sclient: CloudflareClient,
                                                      saclient: AsyncCloudflareClient,
                                                      reference: list[list[float]]) -> None:
    llm = CloudflareWorkersAI(model=CHAT_MODEL, client=sclient, async_client=saclient)
    embed = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=sclient, async_client=saclient)
    emulator.faults.configure(faults())

    async def caller(i: int) -> None:
        response = await llm.achat([ChatMessage(role="user", content=prompt(i))])
        own_code_only(response.message.content or "", i)
        completion = await llm.acomplete(prompt(i))
        own_code_only(completion.text, i)
        streamed = [r.delta or "" async for r in await llm.astream_chat([ChatMessage(role="user", content=prompt(i))])]
        own_code_only("".join(streamed), i)
        assert await embed.aget_query_embedding(text(i)) == pytest.approx(reference[i], abs=1e-6)

    await run_all(caller)
    assert saclient.stats["retries"] > 0
