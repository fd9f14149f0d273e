"""Fault injection through the in-process transports, the admin endpoints and the body limit.

No assertion here depends on wall-clock timing: latency is checked through the injected-fault
counters, slowness through the client's own timeout exception.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from cf_core.local import AsyncEmulatorTransport, Emulator, EmulatorTransport, FaultConfig
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN

AUTH = {"authorization": f"Bearer {TEST_TOKEN}"}
LIST = f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways"
RUN = f"/client/v4/accounts/{TEST_ACCOUNT}/ai/run/@cf/meta/llama-3.1-8b-instruct"


def _client(emu: Emulator, **kwargs: object) -> httpx.Client:
    return httpx.Client(transport=EmulatorTransport(emu), base_url="http://emulator.local", headers=AUTH,
                        **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def faulty() -> Iterator[Emulator]:
    emu = Emulator()
    yield emu
    emu.close()


def _stats(client: httpx.Client) -> dict[str, object]:
    result: dict[str, object] = client.get("/_emulator/stats").json()["result"]
    return result


def test_latency_is_counted(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(latency_ms=1, seed=1))
    with _client(faulty) as c:
        assert c.get(LIST).status_code == 200
        assert c.get(LIST).status_code == 200
        assert _stats(c)["injected"] == {"latency": 2}


@pytest.mark.parametrize(("status", "code"), [(500, 10001), (502, 10002), (503, 10003), (504, 3007)])
def test_error_rate_answers_the_status_with_an_envelope(faulty: Emulator, status: int, code: int) -> None:
    faulty.faults.configure(FaultConfig(error_rates={status: 1.0}, seed=1))
    with _client(faulty) as c:
        r = c.get(LIST)
    assert r.status_code == status
    assert r.json()["success"] is False
    assert r.json()["errors"][0]["code"] == code
    assert "retry-after" not in r.headers


def test_injected_429_carries_retry_after(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(error_rates={429: 1.0}, retry_after_s=3, seed=1))
    with _client(faulty) as c:
        r = c.post(RUN, json={"prompt": "x"})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "3"
    assert r.json()["errors"][0]["code"] == 3040


def test_mixed_error_rates_hit_each_status(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(error_rates={500: 0.3, 503: 0.3}, seed=11))
    with _client(faulty) as c:
        statuses = [c.get(LIST).status_code for _ in range(60)]
    assert set(statuses) == {200, 500, 503}
    injected = faulty.faults.snapshot()
    assert injected["500"] == statuses.count(500) and injected["503"] == statuses.count(503)


def test_burst_429_then_normal_service(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(burst_429=3, retry_after_s=2, seed=1))
    with _client(faulty) as c:
        responses = [c.get(LIST) for _ in range(5)]
    assert [r.status_code for r in responses] == [429, 429, 429, 200, 200]
    assert all(r.headers["retry-after"] == "2" for r in responses[:3])


def test_drop_raises_remote_protocol_error(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(drop_rate=1.0, seed=1))
    with _client(faulty) as c, pytest.raises(httpx.RemoteProtocolError):
        c.get(LIST)
    assert faulty.faults.snapshot() == {"drop": 1}


async def test_drop_raises_remote_protocol_error_async(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(drop_rate=1.0, seed=1))
    async with httpx.AsyncClient(transport=AsyncEmulatorTransport(faulty), base_url="http://e", headers=AUTH) as c:
        with pytest.raises(httpx.RemoteProtocolError):
            await c.get(LIST)


def test_slow_answer_beyond_read_timeout_raises(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(slow_rate=1.0, slow_ms=10_000, seed=1))
    with _client(faulty, timeout=httpx.Timeout(5.0, read=0.05)) as c, pytest.raises(httpx.ReadTimeout):
        c.get(LIST)
    assert faulty.faults.snapshot() == {"slow": 1}


async def test_slow_answer_beyond_read_timeout_raises_async(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(slow_rate=1.0, slow_ms=10_000, seed=1))
    async with httpx.AsyncClient(transport=AsyncEmulatorTransport(faulty), base_url="http://e", headers=AUTH,
                                 timeout=httpx.Timeout(5.0, read=0.05)) as c:
        with pytest.raises(httpx.ReadTimeout):
            await c.get(LIST)


def _outcomes(seed: int) -> list[str]:
    emu = Emulator(seed=seed, faults=FaultConfig(error_rates={503: 0.2, 429: 0.2}, drop_rate=0.2))
    out = []
    with _client(emu) as c:
        for _ in range(40):
            try:
                out.append(str(c.get(LIST).status_code))
            except httpx.RemoteProtocolError:
                out.append("drop")
    return out


def test_same_seed_same_fault_sequence() -> None:
    first = _outcomes(5)
    assert first == _outcomes(5)
    assert first != _outcomes(6)
    assert {"200", "429", "503", "drop"} <= set(first)


def test_fault_scope_by_path(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(error_rates={503: 1.0}, latency_ms=1, paths="/ai/run/", seed=1))
    with _client(faulty) as c:
        assert c.get(LIST).status_code == 200
        assert c.post(RUN, json={"prompt": "x"}).status_code == 503
    assert faulty.faults.snapshot() == {"latency": 1, "503": 1}


def test_admin_endpoints_are_never_faulted(faulty: Emulator) -> None:
    faulty.faults.configure(FaultConfig(error_rates={503: 1.0}, seed=1))
    with _client(faulty) as c:
        assert c.get("/_emulator/health").status_code == 200
        assert c.get("/_emulator/faults").status_code == 200
        assert c.get(LIST).status_code == 503


def test_admin_faults_get_and_post(faulty: Emulator) -> None:
    with _client(faulty) as c:
        assert c.get("/_emulator/faults").json()["result"]["config"]["error_rates"] == {}
        posted = c.post("/_emulator/faults", json={"error_rates": {"503": 1.0}, "paths": "/ai-gateway/"})
        assert posted.status_code == 200
        assert posted.json()["result"]["seed"] == 0  # the emulator's seed when none is given
        assert c.get(LIST).status_code == 503
        view = c.get("/_emulator/faults").json()["result"]
        assert view["config"]["error_rates"] == {"503": 1.0}
        assert view["injected"] == {"503": 1}
        assert c.post("/_emulator/faults", json={}).status_code == 200  # back to no faults
        assert c.get(LIST).status_code == 200


@pytest.mark.parametrize("body", [
    {"drop_rate": 1.5}, {"latency_ms": -1}, {"latency_ms": "fast"}, {"error_rates": {"abc": 0.1}},
    {"error_rates": {"503": 0.7}, "drop_rate": 0.7}, {"error_rates": [503]}, {"error_rates": {"200": 0.5}},
    {"burst_429": 1.5}, {"seed": True}, {"paths": 3}, {"chaos": 1}, [1, 2],
])
def test_admin_faults_rejects_bad_settings(faulty: Emulator, body: object) -> None:
    with _client(faulty) as c:
        r = c.post("/_emulator/faults", json=body)
        assert r.status_code == 400
        assert r.json()["success"] is False
        assert c.get(LIST).status_code == 200  # the previous (empty) config still rules


def test_admin_faults_rejects_non_json(faulty: Emulator) -> None:
    with _client(faulty) as c:
        assert c.post("/_emulator/faults", content=b"\xff\x00").status_code == 400


def test_python_fault_config_is_validated() -> None:
    with pytest.raises(ValueError, match="drop_rate"):
        Emulator(faults=FaultConfig(drop_rate=2.0))


def test_stats_count_requests_by_category(faulty: Emulator) -> None:
    with _client(faulty) as c:
        c.get(LIST)
        c.post(RUN, json={"prompt": "x"})
        c.post(f"/v1/{TEST_ACCOUNT}/gw/openai/chat/completions",
               json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
        requests = _stats(c)["requests"]
    assert isinstance(requests, dict)
    assert requests["ai-gateway"] == 1 and requests["ai/run"] == 1 and requests["gateway"] == 1


def test_body_over_max_body_bytes_is_413() -> None:
    emu = Emulator(max_body_bytes=100)
    with _client(emu) as c:
        r = c.post(RUN, content=b"x" * 101, headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert r.json()["errors"][0]["code"] == 3006
        assert c.post(RUN, json={"prompt": "short"}).status_code == 200
