"""Cloudflare's official Python SDK (``cloudflare`` 5.x) against the loopback emulator.

The SDK is pointed at the emulator by its documented ``base_url`` setting only. It was generated
from Cloudflare's OpenAPI description and parses every answer into typed models, so each call that
parses is evidence that the emulator's paths, envelopes and field names are the real ones.

The models behind ``/ai/run`` are the emulator's stand-ins: chat assertions are about the wire
(envelope, ``response``/``tool_calls``/``usage`` fields, SSE framing), not answer quality.
AI Gateway management and logs through this SDK are covered by ``tests/local/test_gateway_sdk.py``.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import cloudflare
import httpx
import pytest
from cloudflare import AsyncCloudflare, Cloudflare

if TYPE_CHECKING:
    from conftest import Loopback

# insert()/upsert() only take `body`, and the SDK itself warns when that body is bytes.
pytestmark = pytest.mark.filterwarnings("ignore:Passing raw bytes as `body`:DeprecationWarning")

ACCOUNT = "acc-compat"  # the account every call names (any id works on the emulator)
CHAT = "@cf/meta/llama-3.1-8b-instruct"
TOOL_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
EMBED_DIMS = 384
WEATHER_TOOL = {"name": "get_weather", "description": "Current weather for a city",
                "parameters": {"type": "object", "required": ["city"],
                               "properties": {"city": {"type": "string", "description": "City name"}}}}


@pytest.fixture(scope="module")
def sdk(loopback: Loopback) -> Iterator[Cloudflare]:
    client = Cloudflare(api_token=loopback.token, base_url=loopback.base_url, max_retries=0)
    yield client
    client.close()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (_norm(a) * _norm(b))


# -- Workers AI ----------------------------------------------------------------------------------


def test_ai_run_chat_messages_and_prompt(sdk: Cloudflare) -> None:
    """Stand-in model: checks that the envelope unwraps to the text-generation result shape."""
    result = sdk.ai.run(CHAT, account_id=ACCOUNT, messages=[
        {"role": "system", "content": "The lighthouse on Vela Island is painted cobalt blue."},
        {"role": "user", "content": "What colour is the lighthouse on Vela Island?"}], max_tokens=64)
    assert isinstance(result, dict)
    assert "cobalt blue" in result["response"]
    assert result["tool_calls"] == []
    usage = result["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    by_prompt = sdk.ai.run(CHAT, account_id=ACCOUNT, prompt="Say something short.")
    assert isinstance(by_prompt, dict) and by_prompt["response"].startswith("[stand-in]")


def test_ai_run_flat_tool_call(sdk: Cloudflare) -> None:
    """Llama 3.3's native tool calls come back flat: name + object arguments, no id, empty response."""
    result = sdk.ai.run(TOOL_MODEL, account_id=ACCOUNT, tools=[WEATHER_TOOL],  # type: ignore[list-item]
                        messages=[{"role": "user", "content": 'What is the weather in "Lisbon"?'}])
    assert isinstance(result, dict)
    assert result["tool_calls"] == [{"name": "get_weather", "arguments": {"city": "Lisbon"}}]
    assert result["response"] == ""


def test_ai_run_embeddings(sdk: Cloudflare) -> None:
    texts = ["cats sleep on warm windowsills", "a cat sleeps on the windowsill", "bond yields rose today"]
    result = sdk.ai.run(EMBED_MODEL, account_id=ACCOUNT, text=texts)
    assert isinstance(result, dict)
    assert result["shape"] == [3, EMBED_DIMS]
    vectors = result["data"]
    assert [len(v) for v in vectors] == [EMBED_DIMS] * 3
    assert all(abs(_norm(v) - 1) < 1e-5 for v in vectors)
    assert _cos(vectors[0], vectors[1]) > _cos(vectors[0], vectors[2])  # lexical stand-in: shared words


async def test_async_client_ai_run(loopback: Loopback) -> None:
    async with AsyncCloudflare(api_token=loopback.token, base_url=loopback.base_url, max_retries=0) as client:
        result = await client.ai.run(EMBED_MODEL, account_id=ACCOUNT, text="one text")
    assert isinstance(result, dict) and result["shape"] == [1, EMBED_DIMS]


def test_image_models_raw_png_and_base64_json(sdk: Cloudflare) -> None:
    """SDXL answers raw ``image/png`` bytes (no envelope), as Cloudflare does.

    SDK limitation (cloudflare 5.x): ``ai.run`` always unwraps a JSON envelope, so on a binary
    answer it fails inside its own parser (``AttributeError: 'str' object has no attribute
    'result'``). The SDK's documented ``with_raw_response`` prefix reads the bytes. Flux answers a
    JSON envelope with a base64 image, which ``ai.run`` parses normally.
    """
    with pytest.raises(AttributeError, match="result"):
        sdk.ai.run(SDXL, account_id=ACCOUNT, prompt="a red bicycle", width=512, height=256)
    raw = sdk.ai.with_raw_response.run(SDXL, account_id=ACCOUNT, prompt="a red bicycle", width=512, height=256)
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("image/png")
    assert _png_size(raw.http_response.content) == (512, 256)

    flux = sdk.ai.run(FLUX, account_id=ACCOUNT, prompt="a red bicycle")
    assert isinstance(flux, dict)
    assert _png_size(base64.b64decode(flux["image"]))[0] > 0


def test_streaming_needs_the_streaming_response_prefix(sdk: Cloudflare) -> None:
    """``stream: true`` answers ``text/event-stream``. SDK limitation: plain ``ai.run(stream=True)``
    tries to unwrap the SSE text as an envelope and fails; ``with_streaming_response`` reads the
    events, which end with a usage event and ``[DONE]``."""
    with pytest.raises(AttributeError, match="result"):
        sdk.ai.run(CHAT, account_id=ACCOUNT, prompt="hello there world", stream=True)
    with sdk.ai.with_streaming_response.run(CHAT, account_id=ACCOUNT, prompt="hello there world",
                                            stream=True) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        data = [line.removeprefix("data: ") for line in resp.iter_lines() if line.startswith("data: ")]
    assert data[-1] == "[DONE]"
    events = [json.loads(d) for d in data[:-1]]
    text = "".join(e["response"] for e in events)
    assert text.startswith("[stand-in]")
    usage_events = [e for e in events if "usage" in e]
    assert usage_events == [events[-1]] and events[-1]["response"] == ""
    assert usage_events[0]["usage"]["completion_tokens"] == sum(1 for e in events[:-1] if e["response"])


def test_errors_map_to_the_sdk_exception_types(sdk: Cloudflare, loopback: Loopback) -> None:
    with pytest.raises(cloudflare.BadRequestError) as bad_model:
        sdk.ai.run("@cf/nobody/no-such-model", account_id=ACCOUNT, prompt="x")
    assert bad_model.value.status_code == 400
    assert [e.code for e in bad_model.value.errors] == [5007]  # type: ignore[attr-defined]
    with pytest.raises(cloudflare.BadRequestError) as bad_input:
        sdk.ai.run(CHAT, account_id=ACCOUNT, prompt="x", width=512)
    assert "Additional or unevaluated properties '/width'" in str(bad_input.value)
    wrong = Cloudflare(api_token="not-the-token", base_url=loopback.base_url, max_retries=0)
    with pytest.raises(cloudflare.AuthenticationError) as unauthorised:
        wrong.ai.run(CHAT, account_id=ACCOUNT, prompt="x")
    assert unauthorised.value.status_code == 401
    wrong.close()


# -- Vectorize v2 --------------------------------------------------------------------------------


def _ndjson(vectors: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(v) for v in vectors).encode()


def test_vectorize_index_lifecycle(sdk: Cloudflare) -> None:
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    created = sdk.vectorize.indexes.create(account_id=ACCOUNT, name=name, description="compat",
                                           config={"dimensions": 3, "metric": "cosine"})
    assert created is not None and created.name == name and created.description == "compat"
    assert created.config is not None and created.config.dimensions == 3 and created.config.metric == "cosine"
    assert created.created_on is not None and created.created_on.tzinfo is not None
    fetched = sdk.vectorize.indexes.get(name, account_id=ACCOUNT)
    assert fetched is not None and fetched.name == name
    assert name in [i.name for i in sdk.vectorize.indexes.list(account_id=ACCOUNT)]
    info = sdk.vectorize.indexes.info(name, account_id=ACCOUNT)
    assert info is not None and info.dimensions == 3 and info.vector_count == 0
    assert info.processed_up_to_mutation is None  # nothing processed yet

    with pytest.raises(cloudflare.BadRequestError) as duplicate:
        sdk.vectorize.indexes.create(account_id=ACCOUNT, name=name, config={"dimensions": 3, "metric": "cosine"})
    assert [e.code for e in duplicate.value.errors] == [3002]  # type: ignore[attr-defined]
    sdk.vectorize.indexes.delete(name, account_id=ACCOUNT)
    with pytest.raises(cloudflare.BadRequestError) as gone:
        sdk.vectorize.indexes.get(name, account_id=ACCOUNT)
    assert [e.code for e in gone.value.errors] == [3000]  # type: ignore[attr-defined]


def test_vectorize_insert_as_the_sdk_sends_it(loopback: Loopback) -> None:
    """The SDK sends the NDJSON ``body`` with its default ``Content-Type: application/json``
    (observed here through an httpx event hook, which only watches). The emulator reads it as NDJSON,
    as Cloudflare does; ``unparsable_behavior`` goes out as the ``unparsable-behavior`` query key."""
    sent: list[httpx.Request] = []

    def watch(request: httpx.Request) -> None:
        request.read()
        sent.append(request)

    http = httpx.Client(event_hooks={"request": [watch]})
    client = Cloudflare(api_token=loopback.token, base_url=loopback.base_url, max_retries=0, http_client=http)
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    client.vectorize.indexes.create(account_id=ACCOUNT, name=name, config={"dimensions": 3, "metric": "cosine"})
    body = _ndjson([{"id": "a", "values": [1, 0, 0], "metadata": {"genre": "drama"}},
                    {"id": "b", "values": [0, 1, 0], "namespace": "ns1"}])
    inserted = client.vectorize.indexes.insert(name, account_id=ACCOUNT, body=body)
    assert inserted is not None and inserted.mutation_id
    request = sent[-1]
    assert request.url.path.endswith(f"/vectorize/v2/indexes/{name}/insert")
    assert request.headers["content-type"] == "application/json"
    assert request.content == body
    info = client.vectorize.indexes.info(name, account_id=ACCOUNT)
    assert info is not None and info.vector_count == 2
    assert info.processed_up_to_mutation == inserted.mutation_id

    with_garbage = body + b"\nthis line is not JSON"
    with pytest.raises(cloudflare.BadRequestError) as unparsable:
        client.vectorize.indexes.insert(name, account_id=ACCOUNT, body=with_garbage)
    assert [e.code for e in unparsable.value.errors] == [40002]  # type: ignore[attr-defined]
    discarded = client.vectorize.indexes.insert(name, account_id=ACCOUNT, body=with_garbage,
                                                unparsable_behavior="discard")
    assert discarded is not None and discarded.mutation_id
    assert sent[-1].url.params["unparsable-behavior"] == "discard"
    client.vectorize.indexes.delete(name, account_id=ACCOUNT)
    client.close()


def test_vectorize_query_get_delete_upsert_list(sdk: Cloudflare) -> None:
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    idx = sdk.vectorize.indexes
    idx.create(account_id=ACCOUNT, name=name, config={"dimensions": 3, "metric": "cosine"})
    made = idx.metadata_index.create(name, account_id=ACCOUNT, property_name="genre", index_type="string")
    assert made is not None and made.mutation_id
    listed = idx.metadata_index.list(name, account_id=ACCOUNT)
    assert listed is not None and listed.metadata_indexes is not None
    assert [(m.property_name, m.index_type) for m in listed.metadata_indexes] == [("genre", "string")]
    idx.insert(name, account_id=ACCOUNT, body=_ndjson([
        {"id": "a", "values": [1, 0, 0], "metadata": {"genre": "drama", "year": 1999}},
        {"id": "b", "values": [0.8, 0.6, 0], "metadata": {"genre": "comedy"}},
        {"id": "c", "values": [0, 0, 1], "namespace": "other"}]))

    query = idx.query(name, account_id=ACCOUNT, vector=[1, 0.1, 0], top_k=2, return_values=True,
                      return_metadata="all")
    assert query is not None and query.count == 2 and query.matches is not None
    assert [m.id for m in query.matches] == ["a", "b"]
    assert query.matches[0].metadata == {"genre": "drama", "year": 1999}
    assert query.matches[0].values == [1.0, 0.0, 0.0]
    assert query.matches[0].score is not None and query.matches[1].score is not None
    assert query.matches[0].score > query.matches[1].score
    filtered = idx.query(name, account_id=ACCOUNT, vector=[1, 0, 0], top_k=5, filter={"genre": "comedy"})
    assert filtered is not None and [m.id for m in filtered.matches or []] == ["b"]
    # The SDK's query() has no namespace argument; its documented extra_body carries the API field.
    namespaced = idx.query(name, account_id=ACCOUNT, vector=[1, 0, 0], top_k=5,
                           extra_body={"namespace": "other"})
    assert namespaced is not None and [(m.id, m.namespace) for m in namespaced.matches or []] == [("c", "other")]

    got = idx.get_by_ids(name, account_id=ACCOUNT, ids=["c", "a", "missing"])
    assert isinstance(got, list)
    assert [(v["id"], v.get("namespace")) for v in got] == [("c", "other"), ("a", None)]
    deleted = idx.delete_by_ids(name, account_id=ACCOUNT, ids=["a"])
    assert deleted is not None and deleted.mutation_id
    upserted = idx.upsert(name, account_id=ACCOUNT, body=_ndjson([{"id": "b", "values": [0, 1, 0]}]))
    assert upserted is not None
    info = idx.info(name, account_id=ACCOUNT)
    assert info is not None and info.vector_count == 2 and info.processed_up_to_mutation == upserted.mutation_id
    page = idx.list_vectors(name, account_id=ACCOUNT, count=1)
    assert page is not None and page.is_truncated and page.total_count == 2 and page.next_cursor
    rest = idx.list_vectors(name, account_id=ACCOUNT, count=1, cursor=page.next_cursor)
    assert rest is not None and not rest.is_truncated
    assert [v.id for v in page.vectors] + [v.id for v in rest.vectors] == ["b", "c"]
    idx.delete(name, account_id=ACCOUNT)


# -- Workers KV ----------------------------------------------------------------------------------


def test_kv_values_put_get_metadata_list_delete(sdk: Cloudflare) -> None:
    """The SDK sends every value write as multipart (parts ``value`` and ``metadata``) and reads the
    value back as raw bytes."""
    namespace = sdk.kv.namespaces.create(account_id=ACCOUNT, title=f"compat-{uuid.uuid4().hex[:8]}")
    assert namespace is not None and len(namespace.id) == 32
    values = sdk.kv.namespaces.values
    values.update("greeting", account_id=ACCOUNT, namespace_id=namespace.id, value=b"hello \xe2\x9c\x93",
                  metadata={"lang": "en"})
    values.update("temp/key", account_id=ACCOUNT, namespace_id=namespace.id, value=b"short-lived",
                  expiration_ttl=120)
    got = values.get("greeting", account_id=ACCOUNT, namespace_id=namespace.id)
    assert got.read() == "hello ✓".encode()
    assert sdk.kv.namespaces.metadata.get("greeting", account_id=ACCOUNT, namespace_id=namespace.id) == {"lang": "en"}
    assert values.get("temp/key", account_id=ACCOUNT, namespace_id=namespace.id).read() == b"short-lived"
    keys = {k.name: k for k in sdk.kv.namespaces.keys.list(namespace.id, account_id=ACCOUNT)}
    assert set(keys) == {"greeting", "temp/key"}
    assert keys["greeting"].metadata == {"lang": "en"} and keys["greeting"].expiration is None
    assert keys["temp/key"].expiration is not None
    values.delete("greeting", account_id=ACCOUNT, namespace_id=namespace.id)
    with pytest.raises(cloudflare.NotFoundError) as missing:
        values.get("greeting", account_id=ACCOUNT, namespace_id=namespace.id)
    assert missing.value.status_code == 404
    sdk.kv.namespaces.delete(namespace.id, account_id=ACCOUNT)
