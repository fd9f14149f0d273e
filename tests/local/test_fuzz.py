"""Property test: arbitrary bodies and headers never make the emulator answer 5xx or raise.

Every answer to garbage must be a 4xx error envelope (Cloudflare's ``errors``, the gateway's singular
``error``, or an OpenAI-shaped ``error`` object from the stand-in openai provider behind the gateway).
Examples are derandomized so a failure reproduces on every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_core.local import Emulator, EmulatorTransport, FaultConfig
from cf_core.local.pytest_plugin import TEST_TOKEN

ACCOUNT = "fuzz"
API = f"/client/v4/accounts/{ACCOUNT}"
BOUNDARY = "fuzzboundary7MA4YWxk"
FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# -- bodies -----------------------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.integers(min_value=2**63 - 2, max_value=2**70) | \
    st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
        st.sampled_from(["model", "messages", "prompt", "text", "input", "vector", "vectors", "values", "id",
                         "topK", "stream", "query", "provider", "endpoint", "headers", "config", "metadata",
                         "filter", "role", "content", "returnMetadata"]) | st.text(max_size=10),
        inner, max_size=6),
    max_leaves=20,
)
vectors = st.fixed_dictionaries({
    "id": st.text(max_size=70) | st.integers(),
    "values": st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=3), max_size=6),
}, optional={"metadata": json_values, "namespace": st.text(max_size=70)})


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def malformed_json(draw: st.DrawFn) -> bytes:
    text = _dumps(draw(json_values))
    cut = draw(st.integers(0, max(len(text) - 1, 0)))
    junk = draw(st.binary(max_size=4))
    return text[:cut] + junk + text[cut + 1:]


@st.composite
def ndjson(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(vectors.map(_dumps) | json_values.map(_dumps) | st.binary(max_size=20), max_size=6))
    sep = draw(st.sampled_from([b"\n", b"\r\n", b"\n\n"]))
    return sep.join(lines)


@st.composite
def multipart(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(["vectors", "value", "metadata", "file", "x\"y"]))
        data = draw(ndjson() | json_values.map(_dumps) | st.binary(max_size=40))
        filename = draw(st.sampled_from(["", '; filename="v.ndjson"']))
        parts.append(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"{filename}\r\n\r\n"
                     .encode() + data + b"\r\n")
    ending = draw(st.sampled_from([f"--{BOUNDARY}--\r\n".encode(), b"", b"--" + BOUNDARY.encode()]))
    return b"".join(parts) + ending


bodies = st.one_of(st.binary(max_size=300), json_values.map(_dumps), malformed_json(), ndjson(), multipart(),
                   st.just(b""))
content_types = st.sampled_from(["application/json", "application/x-ndjson", "text/plain", "",
                                 f"multipart/form-data; boundary={BOUNDARY}", "multipart/form-data",
                                 "application/octet-stream"])
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
gateway_headers = st.dictionaries(
    st.sampled_from(["cf-aig-cache-ttl", "cf-aig-skip-cache", "cf-aig-cache-key", "cf-aig-metadata",
                     "cf-aig-collect-log", "cf-aig-request-timeout", "cf-aig-max-attempts", "cf-aig-retry-delay",
                     "cf-aig-backoff", "cf-aig-event-id", "cf-aig-custom-cost", "cf-aig-authorization",
                     "cf-cache-ttl", "cf-skip-cache", "cf-aig-collect-log-payload"]),
    header_text | json_values.map(lambda v: json.dumps(v)[:60]).filter(lambda s: s.isascii()),
    max_size=4,
)

# -- the emulator under test ------------------------------------------------------------------------


class Target:
    def __init__(self) -> None:
        self.emulator = Emulator(seed=3)
        self.client = httpx.Client(transport=EmulatorTransport(self.emulator), base_url="http://emulator.local",
                                   headers={"authorization": f"Bearer {TEST_TOKEN}"})
        created = self.client.post(f"{API}/vectorize/v2/indexes",
                                   json={"name": "fuzz", "config": {"dimensions": 4, "metric": "cosine"}})
        assert created.status_code < 300, created.text
        ns = self.client.post(f"{API}/storage/kv/namespaces", json={"title": "fuzz"})
        assert ns.status_code < 300, ns.text
        self.namespace = ns.json()["result"]["id"]

    def send(self, method: str, path: str, body: bytes, content_type: str,
             extra: dict[str, str] | None = None) -> httpx.Response:
        headers = {"content-type": content_type} if content_type else {}
        headers.update(extra or {})
        response = self.client.request(method, path, content=body, headers=headers)
        if path.startswith("/_emulator/faults"):
            self.emulator.faults.configure(FaultConfig())  # a valid random config must not leak on
        return response

    def close(self) -> None:
        self.client.close()
        self.emulator.close()


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    t = Target()
    yield t
    t.close()


def assert_clean_error(response: httpx.Response, sent: bytes) -> None:
    where = f"{response.request.method} {response.request.url.path} body={sent[:200]!r}"
    assert response.status_code < 500, f"{response.status_code} for {where}: {response.text[:300]}"
    if response.status_code < 400:
        return
    try:
        payload = response.json()
    except ValueError:
        raise AssertionError(f"non-JSON {response.status_code} for {where}: {response.text[:200]}") from None
    assert isinstance(payload, dict), where
    if "errors" in payload:
        assert payload["success"] is False and payload["errors"][0]["code"], where
    elif isinstance(payload.get("error"), list):
        assert payload["success"] is False and payload["error"][0]["code"], where
    else:
        assert isinstance(payload.get("error"), dict) and payload["error"]["message"], where


WORKERS_AI_ROUTES = [
    f"{API}/ai/run/@cf/meta/llama-3.1-8b-instruct",
    f"{API}/ai/run/@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    f"{API}/ai/run/@cf/baai/bge-base-en-v1.5",
    f"{API}/ai/run/@cf/openai/whisper",
    f"{API}/ai/run/@cf/stabilityai/stable-diffusion-xl-base-1.0",
    f"{API}/ai/v1/chat/completions",
    f"{API}/ai/v1/embeddings",
]
STORAGE_ROUTES = [
    ("POST", f"{API}/vectorize/v2/indexes/fuzz/insert"),
    ("POST", f"{API}/vectorize/v2/indexes/fuzz/upsert"),
    ("POST", f"{API}/vectorize/v2/indexes/fuzz/query"),
    ("POST", f"{API}/vectorize/v2/indexes/fuzz/get_by_ids"),
    ("POST", f"{API}/vectorize/v2/indexes"),
    ("PUT", f"{API}/storage/kv/namespaces/{{ns}}/values/fuzz-key"),
]
GATEWAY_ROUTES = [
    ("POST", f"/v1/{ACCOUNT}/gw"),
    ("POST", f"/v1/{ACCOUNT}/gw/compat/chat/completions"),
    ("POST", f"/v1/{ACCOUNT}/gw/workers-ai/@cf/meta/llama-3.1-8b-instruct"),
    ("POST", f"/v1/{ACCOUNT}/gw/workers-ai/v1/chat/completions"),
    ("POST", f"/v1/{ACCOUNT}/gw/openai/chat/completions"),
    ("POST", f"{API}/ai-gateway/gateways"),
    ("PUT", f"{API}/ai-gateway/gateways/gw"),
    ("POST", "/_emulator/faults"),
]


@FUZZ
@given(route=st.sampled_from(WORKERS_AI_ROUTES), body=bodies, content_type=content_types)
def test_workers_ai_routes_never_fail_with_5xx(target: Target, route: str, body: bytes, content_type: str) -> None:
    assert_clean_error(target.send("POST", route, body, content_type), body)


@FUZZ
@given(route=st.sampled_from(STORAGE_ROUTES), body=bodies, content_type=content_types)
def test_vectorize_and_kv_routes_never_fail_with_5xx(target: Target, route: tuple[str, str], body: bytes,
                                                     content_type: str) -> None:
    method, path = route
    assert_clean_error(target.send(method, path.replace("{ns}", target.namespace), body, content_type), body)


@FUZZ
@given(route=st.sampled_from(GATEWAY_ROUTES), body=bodies, content_type=content_types, headers=gateway_headers)
def test_gateway_and_admin_routes_never_fail_with_5xx(target: Target, route: tuple[str, str], body: bytes,
                                                      content_type: str, headers: dict[str, str]) -> None:
    method, path = route
    assert_clean_error(target.send(method, path, body, content_type, headers), body)


@FUZZ
@given(steps=st.lists(st.fixed_dictionaries(
    {"provider": st.sampled_from(["workers-ai", "openai", "anthropic", ""]) | st.text(max_size=8),
     "endpoint": st.sampled_from(["@cf/meta/llama-3.1-8b-instruct", "chat/completions", "v1/embeddings",
                                  "run/@cf/baai/bge-base-en-v1.5", ""]) | st.text(max_size=12)},
    optional={"headers": st.dictionaries(st.sampled_from(["Authorization", "cf-aig-cache-ttl", "cf-aig-max-attempts",
                                                          "Content-Type", "cf-aig-metadata"]),
                                         header_text | st.integers() | st.none(), max_size=3),
              "query": json_values,
              "config": st.dictionaries(st.sampled_from(["requestTimeout", "maxAttempts", "retryDelay", "backoff"]),
                                        _scalars, max_size=3)}), max_size=4))
def test_universal_steps_never_fail_with_5xx(target: Target, steps: list[dict[str, Any]]) -> None:
    body = _dumps(steps)
    assert_clean_error(target.send("POST", f"/v1/{ACCOUNT}/gw", body, "application/json"), body)


BIG = str(2**70)


@pytest.mark.parametrize(("method", "path", "body", "read_back"), [
    ("POST", f"{API}/ai-gateway/gateways",
     '{"id":"big","cache_ttl":0,"cache_invalidate_on_update":false,"collect_logs":true,'
     f'"rate_limiting_interval":null,"rate_limiting_limit":null,"dlp":{BIG}}}', f"{API}/ai-gateway/gateways/big"),
    ("POST", f"{API}/ai/run/@cf/meta/llama-3.3-70b-instruct-fp8-fast",
     '{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":'
     f'{{"type":"object","properties":{{"a":{{"type":"integer","const":{BIG}}}}},"required":["a"]}}}}}}', None),
])
def test_integers_beyond_64_bits_are_echoed_not_500(target: Target, method: str, path: str, body: str,
                                                     read_back: str | None) -> None:
    """The emulator writes JSON with orjson, which refuses integers beyond 64 bits; echoing one
    from a request must not turn into a 500."""
    r = target.send(method, path, body.encode(), "application/json")
    assert r.status_code == 200, r.text
    assert BIG in r.text
    if read_back is not None:
        again = target.client.get(read_back)
        assert again.status_code == 200 and BIG in again.text
