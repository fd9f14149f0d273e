"""The OpenAI Python SDK against the emulator's OpenAI-compatible endpoints, unchanged.

Pointed at the three base URLs Cloudflare documents for it, by ``base_url`` alone:

- Workers AI: ``<CLOUDFLARE_BASE_URL>/accounts/<account>/ai/v1`` (API token as the key);
- AI Gateway, Workers AI provider: ``<gateway base>/<account>/<gateway>/workers-ai/v1``;
- AI Gateway, unified endpoint: ``<gateway base>/<account>/<gateway>/compat`` with
  ``model="workers-ai/@cf/..."``.

The SDK validates every body and chunk with its own pydantic models, so parsing is the wire check.
The chat model is the emulator's stand-in: assertions are about shapes (tool calls, JSON that fits
the schema, one usage chunk at the end), plus answers the stand-in takes from the given context.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING

import jsonschema
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

if TYPE_CHECKING:
    from conftest import Loopback

ACCOUNT = "acc-compat"
MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
EMBED_MODEL = "@cf/baai/bge-small-en-v1.5"
EMBED_DIMS = 384
CONTEXT = [{"role": "system", "content": "The lighthouse on Vela Island is painted cobalt blue."},
           {"role": "user", "content": "What colour is the lighthouse on Vela Island?"}]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
PERSON = {"type": "object", "additionalProperties": False, "required": ["name", "age"],
          "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}


@pytest.fixture(scope="module")
def direct(loopback: Loopback) -> Iterator[OpenAI]:
    client = OpenAI(api_key=loopback.token, base_url=f"{loopback.base_url}/accounts/{ACCOUNT}/ai/v1",
                    max_retries=0)
    yield client
    client.close()


@pytest.fixture(scope="module")
def via_gateway(loopback: Loopback) -> Iterator[OpenAI]:
    client = OpenAI(api_key=loopback.token, max_retries=0,
                    base_url=f"{loopback.gateway_base_url}/{ACCOUNT}/compat-gw/workers-ai/v1")
    yield client
    client.close()


@pytest.fixture(scope="module")
def unified(loopback: Loopback) -> Iterator[OpenAI]:
    client = OpenAI(api_key=loopback.token, max_retries=0,
                    base_url=f"{loopback.gateway_base_url}/{ACCOUNT}/compat-gw/compat")
    yield client
    client.close()


def test_chat_completion(direct: OpenAI) -> None:
    completion = direct.chat.completions.create(model=MODEL, messages=CONTEXT)  # type: ignore[arg-type]
    choice = completion.choices[0]
    assert completion.object == "chat.completion" and completion.model == MODEL
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert choice.message.content is not None and "cobalt blue" in choice.message.content
    usage = completion.usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens > 0


def test_tool_call_and_result_round_trip(direct: OpenAI) -> None:
    """Stand-in model: it calls the tool the message names; checks OpenAI's tool-call shape (string
    arguments, an id) and that the SDK's own assistant message can be sent back with the result."""
    question = {"role": "user", "content": 'What is the weather in "Lisbon"?'}
    first = direct.chat.completions.create(model=MODEL, messages=[question], tools=[WEATHER])  # type: ignore[list-item]
    assert first.choices[0].finish_reason == "tool_calls"
    calls = first.choices[0].message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function" and call.id
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Lisbon"}

    history = [question, first.choices[0].message.model_dump(exclude_none=True),
               {"role": "tool", "tool_call_id": call.id, "content": "Sunny and 24 C in Lisbon."}]
    second = direct.chat.completions.create(model=MODEL, messages=history, tools=[WEATHER])  # type: ignore[arg-type, list-item]
    assert second.choices[0].finish_reason == "stop"
    assert "Sunny and 24 C in Lisbon" in (second.choices[0].message.content or "")


def test_forced_tool_choice(direct: OpenAI) -> None:
    forced = direct.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me about Porto."}], tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    calls = forced.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.name == "get_weather"
    assert "city" in json.loads(calls[0].function.arguments)


def test_json_schema_response_format(direct: OpenAI) -> None:
    """OpenAI's ``{"type": "json_schema", "json_schema": {name, schema, strict}}`` wrapper is sent as is;
    the content must be JSON valid against the schema (the stand-in fills values from the text)."""
    completion = direct.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Extract the person: Ann Lee, aged 30."}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "schema": PERSON, "strict": True}})
    content = completion.choices[0].message.content
    assert content is not None
    value = json.loads(content)
    jsonschema.validate(value, PERSON)
    assert value["age"] == 30


def test_stream_with_usage_once_at_the_end(direct: OpenAI) -> None:
    stream = direct.chat.completions.create(model=MODEL, messages=CONTEXT, stream=True,  # type: ignore[arg-type]
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    with_usage = [i for i, c in enumerate(chunks) if c.usage is not None]
    assert with_usage == [len(chunks) - 1]  # exactly one usage chunk, the last one
    last = chunks[-1]
    assert last.choices == []
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "cobalt blue" in text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert last.usage is not None and last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens


def test_stream_without_include_usage_has_no_usage(direct: OpenAI) -> None:
    chunks = list(direct.chat.completions.create(model=MODEL, messages=CONTEXT, stream=True))  # type: ignore[arg-type]
    assert chunks and all(c.usage is None for c in chunks)


def test_embeddings(direct: OpenAI) -> None:
    many = direct.embeddings.create(model=EMBED_MODEL, input=["cats sleep all day", "bond yields rose"])
    assert [d.index for d in many.data] == [0, 1]
    assert all(len(d.embedding) == EMBED_DIMS for d in many.data)
    assert many.usage.prompt_tokens > 0
    one = direct.embeddings.create(model=EMBED_MODEL, input="cats sleep all day")
    assert one.data[0].embedding == pytest.approx(many.data[0].embedding, abs=1e-6)
    # Asked for explicitly, base64 comes back undecoded: little-endian float32, as OpenAI sends it.
    encoded = direct.embeddings.create(model=EMBED_MODEL, input="cats sleep all day", encoding_format="base64")
    packed = base64.b64decode(str(encoded.data[0].embedding))
    assert list(struct.unpack(f"<{EMBED_DIMS}f", packed)) == pytest.approx(one.data[0].embedding, abs=1e-6)


async def test_async_client(loopback: Loopback) -> None:
    async with AsyncOpenAI(api_key=loopback.token, max_retries=0,
                           base_url=f"{loopback.base_url}/accounts/{ACCOUNT}/ai/v1") as client:
        completion = await client.chat.completions.create(model=MODEL, messages=CONTEXT)  # type: ignore[arg-type]
        stream = await client.chat.completions.create(model=MODEL, messages=CONTEXT, stream=True,  # type: ignore[arg-type]
                                                      stream_options={"include_usage": True})
        chunks = [c async for c in stream]
    assert "cobalt blue" in (completion.choices[0].message.content or "")
    assert chunks[-1].usage is not None


def test_errors_are_sdk_exceptions(direct: OpenAI, loopback: Loopback) -> None:
    with pytest.raises(openai.BadRequestError) as unknown:
        direct.chat.completions.create(model="@cf/nobody/no-such-model", messages=CONTEXT)  # type: ignore[arg-type]
    assert unknown.value.status_code == 400
    wrong = OpenAI(api_key="not-the-token", base_url=f"{loopback.base_url}/accounts/{ACCOUNT}/ai/v1",
                   max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model=MODEL, messages=CONTEXT)  # type: ignore[arg-type]
    wrong.close()


# -- through AI Gateway --------------------------------------------------------------------------


def test_gateway_workers_ai_provider(via_gateway: OpenAI) -> None:
    raw = via_gateway.chat.completions.with_raw_response.create(model=MODEL, messages=CONTEXT)  # type: ignore[arg-type]
    assert raw.headers["cf-aig-cache-status"] == "MISS"
    assert raw.headers.get("cf-aig-log-id")
    assert "cobalt blue" in (raw.parse().choices[0].message.content or "")
    stream = via_gateway.chat.completions.create(model=MODEL, messages=CONTEXT, stream=True,  # type: ignore[arg-type]
                                                 stream_options={"include_usage": True})
    chunks = list(stream)
    assert [i for i, c in enumerate(chunks) if c.usage is not None] == [len(chunks) - 1]
    embedded = via_gateway.embeddings.create(model=EMBED_MODEL, input=["through the gateway"])
    assert len(embedded.data[0].embedding) == EMBED_DIMS


def test_gateway_cache_hit_with_a_header(via_gateway: OpenAI) -> None:
    """``cf-aig-cache-ttl`` sent with the SDK's ``extra_headers``: the second call is a HIT with the
    same completion id."""
    question = [{"role": "user", "content": "Cache me: what is the capital of Portugal?"}]
    first = via_gateway.chat.completions.with_raw_response.create(
        model=MODEL, messages=question, extra_headers={"cf-aig-cache-ttl": "300"})  # type: ignore[arg-type]
    second = via_gateway.chat.completions.with_raw_response.create(
        model=MODEL, messages=question, extra_headers={"cf-aig-cache-ttl": "300"})  # type: ignore[arg-type]
    assert (first.headers["cf-aig-cache-status"], second.headers["cf-aig-cache-status"]) == ("MISS", "HIT")
    assert first.parse().id == second.parse().id


def test_unified_compat_endpoint(unified: OpenAI) -> None:
    completion = unified.chat.completions.create(model=f"workers-ai/{MODEL}", messages=CONTEXT)  # type: ignore[arg-type]
    assert "cobalt blue" in (completion.choices[0].message.content or "")
    stream = unified.chat.completions.create(model=f"workers-ai/{MODEL}", messages=CONTEXT, stream=True,  # type: ignore[arg-type]
                                             stream_options={"include_usage": True})
    chunks = list(stream)
    assert "cobalt blue" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert [i for i, c in enumerate(chunks) if c.usage is not None] == [len(chunks) - 1]
    tool = unified.chat.completions.create(
        model=f"workers-ai/{MODEL}", tools=[WEATHER],  # type: ignore[list-item]
        messages=[{"role": "user", "content": 'What is the weather in "Oslo"?'}])
    calls = tool.choices[0].message.tool_calls
    assert calls is not None and json.loads(calls[0].function.arguments) == {"city": "Oslo"}
