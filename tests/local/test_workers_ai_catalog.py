"""Model search / schema endpoints and per-model rate limits."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from cf_core.catalog import all_models
from cf_core.local import Emulator, EmulatorTransport
from cf_core.local.pytest_plugin import TEST_TOKEN
from cf_core.local.workers_ai import WorkersAIState
from cf_core.local.workers_ai.validator import errors
from tests.support import FakeClock

LLAMA31 = "@cf/meta/llama-3.1-8b-instruct"
BGE = "@cf/baai/bge-small-en-v1.5"


def search(client: httpx.Client, **params: Any) -> dict[str, Any]:
    resp = client.get("/accounts/acc-test/ai/models/search", params=params)
    assert resp.status_code == 200, resp.text
    payload: dict[str, Any] = resp.json()
    assert payload["success"] is True
    return payload


def test_search_lists_the_catalog_with_paging(emu_client: httpx.Client) -> None:
    total = len(all_models())
    first = search(emu_client, per_page=5)
    assert first["result_info"] == {"page": 1, "per_page": 5, "count": 5, "total_count": total}
    names = [m["name"] for m in first["result"]]
    second = search(emu_client, per_page=5, page=2)
    assert not set(names) & {m["name"] for m in second["result"]}
    everything = search(emu_client, per_page=1000)
    assert {m["name"] for m in everything["result"]} == {m.id for m in all_models()}


def test_entry_shape_and_string_property_values(emu_client: httpx.Client) -> None:
    [entry] = search(emu_client, search="llama-3.3-70b")["result"]
    assert entry["name"] == "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    assert entry["source"] == 1
    assert set(entry) == {"id", "source", "name", "description", "task", "tags", "properties"}
    assert entry["task"]["name"] == "Text Generation" and entry["task"]["id"]
    props = {p["property_id"]: p["value"] for p in entry["properties"]}
    assert props["context_window"] == "24000"
    assert props["function_calling"] == "true"
    price = props["price"]
    assert price[0] == {"unit": "per M input tokens", "price": pytest.approx(0.293, abs=1e-3), "currency": "USD"}
    for pid, value in props.items():
        if pid != "price":
            assert isinstance(value, str), pid
    [bge] = search(emu_client, search="bge-small")["result"]
    bprops = {p["property_id"]: p["value"] for p in bge["properties"]}
    assert bprops["output_dimensions"] == "384" and bprops["max_input_tokens"] == "512"


def test_search_filters(emu_client: httpx.Client) -> None:
    embeddings = search(emu_client, task="Text Embeddings", per_page=100)["result"]
    assert {m["name"] for m in embeddings} == {m.id for m in all_models() if m.task == "Text Embeddings"}
    meta = search(emu_client, author="meta", per_page=100)["result"]
    assert meta and all(m["name"].startswith("@cf/meta/") for m in meta)
    hf = search(emu_client, source=2, per_page=100)["result"]
    assert [m["name"] for m in hf] == ["@hf/nousresearch/hermes-2-pro-mistral-7b"]
    stable = search(emu_client, hide_experimental="true", per_page=100)["result"]
    assert not any(m.beta for m in all_models() if m.id in {e["name"] for e in stable})
    assert search(emu_client, search="no-such-model-anywhere")["result"] == []


def test_search_bad_paging(emu_client: httpx.Client) -> None:
    resp = emu_client.get("/accounts/acc-test/ai/models/search", params={"page": "zero"})
    assert resp.status_code == 400 and resp.json()["success"] is False
    assert emu_client.get("/accounts/acc-test/ai/models/search", params={"per_page": 0}).status_code == 400


def test_schema_endpoint_returns_the_schema_the_emulator_enforces(emu_client: httpx.Client) -> None:
    resp = emu_client.get("/accounts/acc-test/ai/models/schema", params={"model": LLAMA31})
    schema = resp.json()["result"]
    assert set(schema) == {"input", "output"}
    assert errors(schema["input"], {"prompt": "hi"}) == []
    assert errors(schema["input"], {"prompt": "hi", "width": 3}) != []
    missing = emu_client.get("/accounts/acc-test/ai/models/schema")
    assert missing.status_code == 400
    unknown = emu_client.get("/accounts/acc-test/ai/models/schema", params={"model": "@cf/x/y"})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["code"] == 5007


def test_tasks_and_authors(emu_client: httpx.Client) -> None:
    tasks = emu_client.get("/accounts/acc-test/ai/tasks/search").json()["result"]
    assert "Text-to-Image" in {t["name"] for t in tasks}
    authors = emu_client.get("/accounts/acc-test/ai/authors/search").json()["result"]
    assert {"meta", "baai", "openai"} <= {a["name"] for a in authors}


def limited_client(emulator: Emulator) -> httpx.Client:
    return httpx.Client(transport=EmulatorTransport(emulator), base_url="http://emulator.local/client/v4",
                        headers={"authorization": f"Bearer {TEST_TOKEN}"})


def test_rate_limit_sliding_window_and_retry_after() -> None:
    emulator = Emulator(rate_limits=True)
    state: WorkersAIState = emulator.components["workers_ai"]
    clock = FakeClock(1000.0)
    state.limiter.clock = clock
    rpm = next(m.rate_limit_rpm for m in all_models() if m.id == LLAMA31)
    assert rpm == 300
    with limited_client(emulator) as client:
        for i in range(rpm):
            clock.now = 1000.0 + i * 0.1  # 300 requests over 30 s
            assert client.post(f"/accounts/acc-test/ai/run/{LLAMA31}", json={"prompt": "hi"}).status_code == 200
        clock.now = 1040.0
        resp = client.post(f"/accounts/acc-test/ai/run/{LLAMA31}", json={"prompt": "hi"})
        assert resp.status_code == 429
        assert resp.headers["retry-after"] == "20"  # the first request leaves the window at t=1060
        payload = resp.json()
        assert payload["success"] is False and payload["errors"][0]["code"] == 971
        # Another model and another account have their own windows; the OpenAI route shares the model's.
        assert client.post(f"/accounts/acc-test/ai/run/{BGE}", json={"text": "x"}).status_code == 200
        assert client.post(f"/accounts/acc-other/ai/run/{LLAMA31}", json={"prompt": "hi"}).status_code == 200
        openai = client.post("/accounts/acc-test/ai/v1/chat/completions",
                             json={"model": LLAMA31, "messages": [{"role": "user", "content": "hi"}]})
        assert openai.status_code == 429
        clock.now = 1060.05  # the first request (t=1000.0) has left the window
        assert client.post(f"/accounts/acc-test/ai/run/{LLAMA31}", json={"prompt": "hi"}).status_code == 200
        assert client.post(f"/accounts/acc-test/ai/run/{LLAMA31}", json={"prompt": "hi"}).status_code == 429


def test_rate_limits_off_by_default(emu_client: httpx.Client) -> None:
    for _ in range(310):
        assert emu_client.post(f"/accounts/acc-test/ai/run/{LLAMA31}", json={"prompt": "hi"}).status_code == 200


def test_rate_limiter_is_thread_safe() -> None:
    emulator = Emulator(rate_limits=True)
    state: WorkersAIState = emulator.components["workers_ai"]
    state.limiter.clock = FakeClock(1000.0)  # frozen time: exactly the limit gets through
    statuses: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with limited_client(emulator) as client:
            for _ in range(50):
                code = client.post(f"/accounts/acc-test/ai/run/{LLAMA31}", json={"prompt": "hi"}).status_code
                with lock:
                    statuses.append(code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(200) == 300
    assert statuses.count(429) == 100
