"""The emulator itself, over its real loopback server (the in-process side is covered by
tests/local/test_fuzz.py, test_auth.py, test_server.py, test_faults*.py): it is not reachable from
other addresses, requires a bearer token, refuses bodies over Cloudflare's 100 MB upload limit by
default without reading them whole, and never answers 5xx or dies on malformed JSON, NDJSON,
multipart or raw HTTP garbage (hypothesis over request bodies, through the ASGI front end).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_core.local import Emulator
from cf_core.local.server import RunningServer, running_server

ACCOUNT = "fuzz-acc"
API = f"/client/v4/accounts/{ACCOUNT}"
AUTH = {"authorization": "Bearer any-token"}
CLOUDFLARE_UPLOAD_LIMIT = 100 * 1024 * 1024
"""Vectorize's documented upload size, the largest request body Cloudflare's APIs take."""


def _outward_address() -> str | None:
    """This machine's address on its default route, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            address: str = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_default_server_is_not_reachable_from_another_address(server: RunningServer) -> None:
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    with pytest.raises(OSError), socket.create_connection((address, server.port), timeout=1):
        pass
    with socket.create_connection(("127.0.0.1", server.port), timeout=1):
        pass


@pytest.mark.parametrize("headers", [{}, {"authorization": "Basic dXNlcjpwYXNz"}, {"authorization": "bearer"},
                                     {"authorization": "Token abc"}, {"x-auth-key": "abc"}])
def test_api_requires_a_bearer_token_over_the_socket(server: RunningServer, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=server.origin) as c:
        refused = c.get(f"{API}/vectorize/v2/indexes", headers=headers)
        assert refused.status_code == 401 and refused.json()["errors"][0]["code"] == 10000
        assert c.get(f"{API}/vectorize/v2/indexes", headers=AUTH).status_code == 200


def _body(size: int) -> Iterator[bytes]:
    chunk = b"x" * (1 << 20)
    sent = 0
    while sent < size:
        part = chunk[: min(len(chunk), size - sent)]
        sent += len(part)
        yield part


def test_default_body_limit_is_cloudflares_upload_limit(server: RunningServer) -> None:
    assert server.emulator.config.max_body_bytes == CLOUDFLARE_UPLOAD_LIMIT
    with httpx.Client(base_url=server.origin, headers=AUTH, timeout=30) as c:
        url = f"{API}/vectorize/v2/indexes/none/upsert"
        over = c.post(url, content=_body(CLOUDFLARE_UPLOAD_LIMIT + 1), headers={"content-type": "application/x-ndjson"})
        assert over.status_code == 413 and over.json()["errors"][0]["code"] == 3006
        at_limit = c.post(url, content=_body(CLOUDFLARE_UPLOAD_LIMIT), headers={"content-type": "application/x-ndjson"})
        assert at_limit.status_code != 413  # refused for what it says, not for its size
        assert c.get("/_emulator/health").json()["ok"] is True


# -- fuzzing the ASGI front end ------------------------------------------------------------------------

_scalars = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=30)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(["id", "values", "metadata", "namespace", "vector", "topK", "filter", "text", "prompt",
                     "messages", "role", "content", "stream", "returnMetadata"]) | st.text(max_size=8),
    inner, max_size=5), max_leaves=15)
_vector_line = st.fixed_dictionaries({"id": st.text(max_size=70) | st.integers(),
                                      "values": st.lists(st.floats() | st.text(max_size=2), max_size=5)},
                                     optional={"metadata": _json, "namespace": st.text(max_size=70)})


def _dump(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def _broken_json(draw: st.DrawFn) -> bytes:
    text = _dump(draw(_json))
    cut = draw(st.integers(0, len(text)))
    return text[:cut] + draw(st.binary(max_size=3))


@st.composite
def _ndjson(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(_vector_line.map(_dump) | _broken_json() | st.binary(max_size=16), max_size=5))
    return draw(st.sampled_from([b"\n", b"\r\n"])).join(lines)


@st.composite
def _multipart(draw: st.DrawFn) -> tuple[bytes, str]:
    boundary = draw(st.sampled_from(["b0undary", "x" * 70, "-"]))
    parts = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{draw(st.sampled_from(['vectors', 'x']))}\""
                     f"\r\n\r\n".encode() + draw(_ndjson() | st.binary(max_size=20)) + b"\r\n"
                     for _ in range(draw(st.integers(0, 2))))
    ending = draw(st.sampled_from([f"--{boundary}--\r\n".encode(), b""]))
    return parts + ending, f"multipart/form-data; boundary={boundary}"


_payloads = st.one_of(
    _json.map(lambda v: (_dump(v), "application/json")),
    _broken_json().map(lambda b: (b, "application/json")),
    _ndjson().map(lambda b: (b, "application/x-ndjson")),
    _multipart(),
    st.binary(max_size=200).map(lambda b: (b, "application/octet-stream")),
)
_routes = st.sampled_from([
    f"{API}/ai/run/@cf/meta/llama-3.1-8b-instruct", f"{API}/ai/run/@cf/baai/bge-small-en-v1.5",
    f"{API}/ai/v1/chat/completions", f"{API}/vectorize/v2/indexes", f"{API}/vectorize/v2/indexes/fz/upsert",
    f"{API}/vectorize/v2/indexes/fz/insert", f"{API}/vectorize/v2/indexes/fz/query",
    f"{API}/vectorize/v2/indexes/fz/delete_by_ids", f"/v1/{ACCOUNT}/gw", f"/v1/{ACCOUNT}/gw/workers-ai/@cf/meta/llama-3.1-8b-instruct",
])


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[tuple[RunningServer, httpx.Client]]:
    with running_server(Emulator(seed=9)) as server, httpx.Client(base_url=server.origin, headers=AUTH,
                                                                   timeout=10) as client:
        made = client.post(f"{API}/vectorize/v2/indexes", json={"name": "fz", "config": {"dimensions": 3,
                                                                                      "metric": "cosine"}})
        assert made.status_code < 300
        yield server, client


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(route=_routes, payload=_payloads, streamed=st.booleans())
def test_malformed_bodies_over_the_socket_get_4xx_envelopes(fuzz_server: tuple[RunningServer, httpx.Client],
                                                            route: str, payload: tuple[bytes, str],
                                                            streamed: bool) -> None:
    _, client = fuzz_server
    body, content_type = payload
    content: Any = iter([body[: len(body) // 2], body[len(body) // 2:]]) if streamed else body  # chunked upload
    answer = client.post(route, content=content, headers={"content-type": content_type})
    assert answer.status_code < 500, (route, body[:200], answer.text[:300])
    if answer.status_code >= 400:
        payload_json = answer.json()
        assert payload_json.get("success") is False or "error" in payload_json


@pytest.mark.parametrize("garbage", [
    b"\x00\xff\xfe garbage\r\n\r\n",
    b"POST /client/v4/accounts/a/ai/run/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    b"POST /client/v4/accounts/a/ai/run/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
    b"POST /v1/a/gw HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
])
def test_raw_http_garbage_does_not_take_the_server_down(fuzz_server: tuple[RunningServer, httpx.Client],
                                                        garbage: bytes) -> None:
    server, client = fuzz_server
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as raw:
        raw.sendall(garbage)
        raw.shutdown(socket.SHUT_WR)
        try:
            while raw.recv(65536):
                pass
        except OSError:
            pass
    assert client.get("/_emulator/health").json()["ok"] is True
