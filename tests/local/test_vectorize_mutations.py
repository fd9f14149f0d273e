"""Vectorize v2 asynchronous mutations, persistence across restarts and concurrent writers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cf_core.local import LOCAL_BASE_URL, Emulator, EmulatorTransport
from cf_core.local.server import RunningServer
from tests.support import FakeClock

BASE = "/accounts/acc-test/vectorize/v2/indexes"
HEADERS = {"authorization": "Bearer test-token-0123456789"}


def create(client: httpx.Client, name: str = "m", dims: int = 3) -> str:
    assert client.post(BASE, json={"name": name, "config": {"dimensions": dims, "metric": "cosine"}}).status_code == 201
    return f"{BASE}/{name}"


def upsert(client: httpx.Client, index: str, *vectors: dict[str, Any], op: str = "upsert") -> str:
    resp = client.post(f"{index}/{op}", content="\n".join(json.dumps(v) for v in vectors))
    assert resp.status_code == 200, resp.text
    return str(resp.json()["result"]["mutationId"])


def info(client: httpx.Client, index: str) -> dict[str, Any]:
    result: dict[str, Any] = client.get(f"{index}/info").json()["result"]
    return result


def test_delayed_mutations_apply_in_order_after_the_delay(emu_client: httpx.Client, emulator: Emulator) -> None:
    clock = FakeClock()
    emulator.components["vectorize"].clock = clock
    emulator.config.mutation_delay_s = 5.0
    index = create(emu_client)
    m1 = upsert(emu_client, index, {"id": "a", "values": [1, 0, 0], "metadata": {"v": 1}})
    clock.now += 1
    m2 = upsert(emu_client, index, {"id": "a", "values": [0, 1, 0], "metadata": {"v": 2}})
    clock.now += 1
    m3 = emu_client.post(f"{index}/delete_by_ids", json={"ids": ["a"]}).json()["result"]["mutationId"]
    assert len({m1, m2, m3}) == 3
    # nothing is visible yet
    assert info(emu_client, index) == {"dimensions": 3, "vectorCount": 0}
    assert emu_client.post(f"{index}/get_by_ids", json={"ids": ["a"]}).json()["result"] == []
    assert emu_client.post(f"{index}/query", json={"vector": [1, 0, 0]}).json()["result"]["count"] == 0
    clock.now += 3.0  # m1 due (t0 + 5)
    state = info(emu_client, index)
    assert state["vectorCount"] == 1 and state["processedUpToMutation"] == m1
    assert state["processedUpToDatetime"] == "2023-11-14T22:13:25.000000Z"  # t0 + 5 s
    got = emu_client.post(f"{index}/get_by_ids", json={"ids": ["a"]}).json()["result"]
    assert got[0]["metadata"] == {"v": 1}
    clock.now += 1.0  # m2 due
    assert info(emu_client, index)["processedUpToMutation"] == m2
    assert emu_client.post(f"{index}/get_by_ids", json={"ids": ["a"]}).json()["result"][0]["metadata"] == {"v": 2}
    clock.now += 1.0  # m3 due
    state = info(emu_client, index)
    assert state["processedUpToMutation"] == m3 and state["vectorCount"] == 0


def test_delayed_metadata_index_creation_counts_toward_the_limit(emu_client: httpx.Client,
                                                                  emulator: Emulator) -> None:
    clock = FakeClock()
    emulator.components["vectorize"].clock = clock
    emulator.config.mutation_delay_s = 10.0
    index = create(emu_client)
    resp = emu_client.post(f"{index}/metadata_index/create", json={"propertyName": "g", "indexType": "string"})
    assert resp.status_code == 200
    assert emu_client.get(f"{index}/metadata_index/list").json()["result"]["metadataIndexes"] == []
    dup = emu_client.post(f"{index}/metadata_index/create", json={"propertyName": "g", "indexType": "string"})
    assert dup.json()["errors"][0]["code"] == 3011  # a queued creation already claims the property
    clock.now += 10
    listed = emu_client.get(f"{index}/metadata_index/list").json()["result"]["metadataIndexes"]
    assert listed == [{"propertyName": "g", "indexType": "string"}]


def test_real_time_delay_then_visible(emu_client: httpx.Client, emulator: Emulator) -> None:
    emulator.config.mutation_delay_s = 0.2
    index = create(emu_client)
    started = time.monotonic()
    mid = upsert(emu_client, index, {"id": "a", "values": [1, 2, 3]})
    assert info(emu_client, index)["vectorCount"] == 0
    while info(emu_client, index).get("processedUpToMutation") != mid:
        assert time.monotonic() - started < 5, "the mutation was never applied"
        time.sleep(0.02)
    assert time.monotonic() - started >= 0.2
    assert info(emu_client, index)["vectorCount"] == 1


def test_deleting_an_index_drops_its_pending_mutations(emu_client: httpx.Client, emulator: Emulator) -> None:
    clock = FakeClock()
    emulator.components["vectorize"].clock = clock
    emulator.config.mutation_delay_s = 5.0
    index = create(emu_client)
    upsert(emu_client, index, {"id": "a", "values": [1, 2, 3]})
    emu_client.delete(index)
    create(emu_client)
    clock.now += 10
    assert info(emu_client, index)["vectorCount"] == 0


def test_close_applies_accepted_mutations(tmp_path: Path) -> None:
    emu = Emulator(data_dir=tmp_path, mutation_delay_s=3600.0)
    with httpx.Client(transport=EmulatorTransport(emu), base_url=LOCAL_BASE_URL, headers=HEADERS) as client:
        index = create(client)
        upsert(client, index, {"id": "a", "values": [1, 2, 3]})
        assert info(client, index)["vectorCount"] == 0
    emu.close()
    emu2 = Emulator(data_dir=tmp_path)
    with httpx.Client(transport=EmulatorTransport(emu2), base_url=LOCAL_BASE_URL, headers=HEADERS) as client:
        assert info(client, index)["vectorCount"] == 1
    emu2.close()


def test_data_survives_a_restart(tmp_path: Path) -> None:
    emu = Emulator(data_dir=tmp_path)
    with httpx.Client(transport=EmulatorTransport(emu), base_url=LOCAL_BASE_URL, headers=HEADERS) as client:
        index = create(client, "persist", dims=4)
        client.post(f"{index}/metadata_index/create", json={"propertyName": "tag", "indexType": "string"})
        mid = upsert(client, index, {"id": "a", "values": [1, 0, 0, 0], "namespace": "n", "metadata": {"tag": "t"}},
                     {"id": "b", "values": [0, 1, 0, 0]})
        created = client.get(index).json()["result"]
    emu.close()
    assert (tmp_path / "vectorize.sqlite3").exists()

    emu2 = Emulator(data_dir=tmp_path)
    with httpx.Client(transport=EmulatorTransport(emu2), base_url=LOCAL_BASE_URL, headers=HEADERS) as client:
        assert client.get(index).json()["result"] == created
        state = info(client, index)
        assert state["vectorCount"] == 2 and state["processedUpToMutation"] == mid
        result = client.post(f"{index}/query", json={"vector": [1, 0, 0, 0], "topK": 1, "filter": {"tag": "t"},
                                                      "returnMetadata": "all"}).json()["result"]
        assert result["matches"][0]["id"] == "a" and result["matches"][0]["metadata"] == {"tag": "t"}
        assert result["matches"][0]["namespace"] == "n"
        # the applied-mutation sequence continues, so a new metadata index still excludes old vectors
        client.post(f"{index}/metadata_index/create", json={"propertyName": "other", "indexType": "string"})
        upsert(client, index, {"id": "c", "values": [0, 0, 1, 0], "metadata": {"other": "x"}})
        upsert(client, index, {"id": "a", "values": [1, 0, 0, 0], "metadata": {"other": "x"}})
        hits = client.post(f"{index}/query", json={"vector": [1, 0, 0, 0], "filter": {"other": "x"}}).json()
        assert sorted(m["id"] for m in hits["result"]["matches"]) == ["a", "c"]
    emu2.close()


async def test_1000_upserts_from_16_concurrent_tasks(emu_aclient: httpx.AsyncClient) -> None:
    resp = await emu_aclient.post(BASE, json={"name": "conc", "config": {"dimensions": 4, "metric": "euclidean"}})
    assert resp.status_code == 201
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(1000):
        queue.put_nowait(i)
    mutation_ids: list[str] = []

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = json.dumps({"id": f"v{i}", "values": [i, 1, 2, 3], "metadata": {"i": i}})
            r = await emu_aclient.post(f"{BASE}/conc/upsert", content=body)
            assert r.status_code == 200, r.text
            mutation_ids.append(r.json()["result"]["mutationId"])
            await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(16)))
    assert len(set(mutation_ids)) == 1000
    state = (await emu_aclient.get(f"{BASE}/conc/info")).json()["result"]
    assert state["vectorCount"] == 1000
    # replies may reach the tasks in a different order than the writes were applied
    assert state["processedUpToMutation"] in set(mutation_ids)
    listed = (await emu_aclient.get(f"{BASE}/conc/list", params={"count": 1000})).json()["result"]
    assert len({v["id"] for v in listed["vectors"]}) == 1000


def test_concurrent_threads_writing_and_querying(emulator: Emulator) -> None:
    transport = EmulatorTransport(emulator)
    with httpx.Client(transport=transport, base_url=LOCAL_BASE_URL, headers=HEADERS) as client:
        create(client, "thr", dims=2)
    errors: list[str] = []

    def writer(t: int) -> None:
        with httpx.Client(transport=transport, base_url=LOCAL_BASE_URL, headers=HEADERS) as c:
            for i in range(50):
                r = c.post(f"{BASE}/thr/upsert", content=json.dumps({"id": f"{t}-{i}", "values": [t + 1, i]}))
                q = c.post(f"{BASE}/thr/query", json={"vector": [1, 1], "topK": 3})
                if r.status_code != 200 or q.status_code != 200:
                    errors.append(r.text + q.text)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    with httpx.Client(transport=transport, base_url=LOCAL_BASE_URL, headers=HEADERS) as client:
        assert info(client, f"{BASE}/thr")["vectorCount"] == 400


async def test_concurrent_writes_over_loopback(emu_server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=emu_server.base_url, headers=HEADERS, timeout=30) as client:
        resp = await client.post(BASE, json={"name": "wire", "config": {"dimensions": 3, "metric": "cosine"}})
        assert resp.status_code == 201

        async def batch(b: int) -> None:
            rows = "\n".join(json.dumps({"id": f"b{b}-{i}", "values": [b, i, 1]}) for i in range(25))
            r = await client.post(f"{BASE}/wire/upsert", content=rows, headers={"content-type": "application/x-ndjson"})
            assert r.status_code == 200, r.text

        async def multipart(b: int) -> None:
            rows = "\n".join(json.dumps({"id": f"m{b}-{i}", "values": [i, b, 1]}) for i in range(25)).encode()
            r = await client.post(f"{BASE}/wire/insert", files={"vectors": ("vectors.ndjson", rows, "application/x-ndjson")})
            assert r.status_code == 200, r.text

        await asyncio.gather(*(batch(b) for b in range(16)), *(multipart(b) for b in range(16)))
        state = (await client.get(f"{BASE}/wire/info")).json()["result"]
        assert state["vectorCount"] == 32 * 25
        result = (await client.post(f"{BASE}/wire/query", json={"vector": [3, 7, 1], "topK": 1})).json()["result"]
        assert result["matches"][0]["id"] == "b3-7"


@pytest.mark.parametrize("delay", [0.0, 1.0])
def test_mutation_ids_are_unique_and_info_tracks_the_last(emu_client: httpx.Client, emulator: Emulator,
                                                          delay: float) -> None:
    clock = FakeClock()
    emulator.components["vectorize"].clock = clock
    emulator.config.mutation_delay_s = delay
    index = create(emu_client)
    mids = [upsert(emu_client, index, {"id": f"v{i}", "values": [1, 2, 3]}) for i in range(5)]
    clock.now += delay
    assert len(set(mids)) == 5
    state = info(emu_client, index)
    assert state["processedUpToMutation"] == mids[-1] and state["vectorCount"] == 5
