"""CloudflareKVCache: hits, TTL on the wire, sharing across instances and restarts, clear, failures."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, Generation
from pydantic import ValidationError

from cf_core import NotFoundError
from cf_core.local import Emulator, local_client
from cf_langchain import ChatCloudflareWorkersAI, CloudflareKVCache

if TYPE_CHECKING:
    from tests.langchain.conftest import Wire

PROMPT = "Lisbon is the capital of Portugal. What is the capital of Portugal?"


def model_calls(wire: Wire) -> int:
    return sum("/ai/run/" in p for p in wire.paths())


def kv_puts(wire: Wire) -> list[Any]:
    return [r for r in wire.requests if r.method == "PUT" and "/storage/kv/" in r.url.path]


@pytest.fixture
def namespace(wire: Wire) -> str:
    return wire.client.kv.create_namespace("llm-cache").id


def make(wire: Wire, namespace: str, **kwargs: Any) -> ChatCloudflareWorkersAI:
    cache = CloudflareKVCache(namespace_id=namespace, client=wire.client, async_client=wire.aclient,
                              **kwargs.pop("cache_args", {}))
    return ChatCloudflareWorkersAI(client=wire.client, async_client=wire.aclient, cache=cache, **kwargs)


def test_second_call_is_served_from_kv(wire: Wire, namespace: str) -> None:
    llm = make(wire, namespace)
    first = llm.invoke(PROMPT)
    second = llm.invoke(PROMPT)
    assert model_calls(wire) == 1
    assert second.content == first.content
    assert second.usage_metadata is not None and second.usage_metadata.get("total_cost") == 0
    assert first.response_metadata["model_name"] == second.response_metadata["model_name"]


def test_ttl_is_sent_and_applied(wire: Wire, namespace: str) -> None:
    make(wire, namespace, cache_args={"ttl": 600}).invoke(PROMPT)
    (put,) = kv_puts(wire)
    assert put.url.params["expiration_ttl"] == "600"
    (key,) = wire.client.kv.list_keys(namespace, prefix="langchain-llm-cache:").keys
    assert key.expiration is not None and abs(key.expiration - (time.time() + 600)) < 30


def test_ttl_below_the_kv_minimum_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 60 seconds"):
        CloudflareKVCache(namespace_id="ns", ttl=10)


def test_different_parameters_do_not_share_entries(wire: Wire, namespace: str) -> None:
    make(wire, namespace, temperature=0).invoke(PROMPT)
    make(wire, namespace, temperature=0.5).invoke(PROMPT)
    make(wire, namespace, model="@cf/mistralai/mistral-small-3.1-24b-instruct").invoke(PROMPT)
    make(wire, namespace, temperature=0).invoke(PROMPT + " Answer briefly.")
    assert model_calls(wire) == 4
    make(wire, namespace, temperature=0).invoke(PROMPT)
    assert model_calls(wire) == 4


def test_shared_between_instances_and_clients(emulator: Emulator) -> None:
    namespace = local_client(emulator).kv.create_namespace("shared").id

    def process() -> ChatCloudflareWorkersAI:
        # Everything new, as in another process: clients, cache object, model object.
        client = local_client(emulator)
        return ChatCloudflareWorkersAI(client=client, cache=CloudflareKVCache(namespace_id=namespace, client=client))

    answer = process().invoke(PROMPT)
    runs_before = emulator.requests["ai/run"]
    again = process().invoke(PROMPT)
    assert emulator.requests["ai/run"] == runs_before
    assert again.content == answer.content


def test_survives_an_emulator_restart_with_persistent_storage(tmp_path: Path) -> None:
    first = Emulator(data_dir=tmp_path)
    namespace = local_client(first).kv.create_namespace("persist").id
    client = local_client(first)
    ChatCloudflareWorkersAI(client=client, cache=CloudflareKVCache(namespace_id=namespace, client=client)).invoke(PROMPT)
    first.close()
    second = Emulator(data_dir=tmp_path)
    client = local_client(second)
    ChatCloudflareWorkersAI(client=client, cache=CloudflareKVCache(namespace_id=namespace, client=client)).invoke(PROMPT)
    assert second.requests["ai/run"] == 0
    second.close()


async def test_async_lookup_and_update(wire: Wire, namespace: str) -> None:
    llm = make(wire, namespace)
    first = await llm.ainvoke(PROMPT)
    second = await llm.ainvoke(PROMPT)
    assert model_calls(wire) == 1 and second.content == first.content


def test_clear_deletes_only_cache_keys(wire: Wire, namespace: str) -> None:
    wire.client.kv.put(namespace, "unrelated", "keep me")
    cache = CloudflareKVCache(namespace_id=namespace, client=wire.client)
    generations = [ChatGeneration(message=AIMessage("x"))]
    for i in range(3):
        cache.update(f"prompt {i}", "llm", generations)
    assert cache.lookup("prompt 1", "llm") is not None
    cache.clear()
    assert all(cache.lookup(f"prompt {i}", "llm") is None for i in range(3))
    assert wire.client.kv.get(namespace, "unrelated") == b"keep me"


async def test_aclear(wire: Wire, namespace: str) -> None:
    cache = CloudflareKVCache(namespace_id=namespace, async_client=wire.aclient)
    await cache.aupdate("p", "llm", [Generation(text="plain")])
    assert await cache.alookup("p", "llm") == [Generation(text="plain")]
    await cache.aclear()
    assert await cache.alookup("p", "llm") is None


def test_kv_failures_are_a_miss_unless_asked_to_raise(wire: Wire, caplog: pytest.LogCaptureFixture) -> None:
    quiet = CloudflareKVCache(namespace_id="no-such-namespace", client=wire.client)
    assert quiet.lookup("p", "llm") is None
    quiet.update("p", "llm", [Generation(text="x")])
    assert "continuing without the cache" in caplog.text
    loud = CloudflareKVCache(namespace_id="no-such-namespace", client=wire.client, raise_errors=True)
    with pytest.raises(NotFoundError):
        loud.update("p", "llm", [Generation(text="x")])


def test_unreadable_entries_are_a_miss(wire: Wire, namespace: str) -> None:
    cache = CloudflareKVCache(namespace_id=namespace, client=wire.client)
    wire.client.kv.put(namespace, cache._key("p", "llm"), "not json")
    assert cache.lookup("p", "llm") is None
