"""AI Gateway routing of Workers AI calls (URL, cf-aig-* headers, GatewayInfo back) and error mapping
through the client, sync and async. Stream endings the emulator never produces are scripted with
httpx.MockTransport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cf_core import (
    DIRECT,
    AsyncCloudflareClient,
    BadRequestError,
    CloudflareClient,
    Gateway,
    NotFoundError,
    StreamError,
)
from cf_core.local import LOCAL_ACCOUNT_ID, LOCAL_GATEWAY_BASE_URL, local_client

LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct"
BGE = "@cf/baai/bge-small-en-v1.5"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
GW_PREFIX = f"/v1/{LOCAL_ACCOUNT_ID}"


def test_gateway_changes_url_and_headers_and_reports_back(rclient: CloudflareClient, recorder: Any) -> None:
    gw = Gateway(id="gw-test", cache_ttl=120, metadata={"team": "search"}, collect_log=True)
    first = rclient.workers_ai.chat(LLAMA_8B, prompt="hello there", gateway=gw)
    sent = recorder.last
    assert str(sent.url) == f"{LOCAL_GATEWAY_BASE_URL}/{LOCAL_ACCOUNT_ID}/gw-test/workers-ai/{LLAMA_8B}"
    assert sent.headers["cf-aig-cache-ttl"] == "120"
    assert json.loads(sent.headers["cf-aig-metadata"]) == {"team": "search"}
    assert sent.headers["cf-aig-collect-log"] == "true"
    assert sent.json() == {"prompt": "hello there"}
    assert first.gateway is not None and first.gateway.cache_status == "MISS" and first.gateway.log_id
    second = rclient.workers_ai.chat(LLAMA_8B, prompt="hello there", gateway=gw)
    assert second.gateway is not None and second.gateway.cache_hit and second.text == first.text


def test_direct_call_has_no_gateway(rclient: CloudflareClient, recorder: Any) -> None:
    result = rclient.workers_ai.chat(LLAMA_8B, prompt="hello")
    assert recorder.last.url.path.startswith("/client/v4/accounts/")
    assert not any(k.startswith("cf-aig-") for k in recorder.last.headers)
    assert result.gateway is None


def test_gateway_id_string_and_mapping_on_other_operations(rclient: CloudflareClient, recorder: Any) -> None:
    emb = rclient.workers_ai.embed(BGE, ["a"], gateway="gw-str")
    assert recorder.last.url.path == f"{GW_PREFIX}/gw-str/workers-ai/{BGE}"
    assert emb.gateway is not None and emb.gateway.provider == "workers-ai"
    img = rclient.workers_ai.generate_image(SDXL, "a cat", gateway={"id": "gw-map", "skip_cache": True})
    assert recorder.last.url.path == f"{GW_PREFIX}/gw-map/workers-ai/{SDXL}"
    assert recorder.last.headers["cf-aig-skip-cache"] == "true"
    assert img.image.startswith(b"\x89PNG") and img.gateway is not None
    rclient.workers_ai.openai_chat({"model": LLAMA_8B, "messages": [{"role": "user", "content": "x"}]},
                                   gateway="gw-oa")
    assert recorder.last.url.path == f"{GW_PREFIX}/gw-oa/workers-ai/v1/chat/completions"


def test_stream_through_gateway_puts_info_on_the_first_chunk(rclient: CloudflareClient, recorder: Any) -> None:
    chunks = list(rclient.workers_ai.stream_chat(LLAMA_8B, prompt="hello there friend", gateway="gw-s"))
    assert recorder.last.url.path == f"{GW_PREFIX}/gw-s/workers-ai/{LLAMA_8B}"
    assert chunks[0].gateway is not None and chunks[0].gateway.log_id
    assert all(c.gateway is None for c in chunks[1:])


def test_client_default_gateway_and_direct_override(recorder: Any) -> None:
    with local_client(recorder.emulator, record=recorder.sent, gateway="default-gw") as c:
        c.workers_ai.chat(LLAMA_8B, prompt="x")
        assert recorder.last.url.path == f"{GW_PREFIX}/default-gw/workers-ai/{LLAMA_8B}"
        c.workers_ai.chat(LLAMA_8B, prompt="x", gateway=DIRECT)
        assert recorder.last.url.path == f"/client/v4/accounts/{LOCAL_ACCOUNT_ID}/ai/run/{LLAMA_8B}"
        c.workers_ai.search_models(search="bge")  # account API: never through a gateway
        assert recorder.last.url.path == f"/client/v4/accounts/{LOCAL_ACCOUNT_ID}/ai/models/search"


async def test_gateway_async(raclient: AsyncCloudflareClient, recorder: Any) -> None:
    result = await raclient.workers_ai.chat(LLAMA_8B, prompt="hi", gateway=Gateway(id="gw-a", cache_ttl=60))
    assert recorder.last.url.path == f"{GW_PREFIX}/gw-a/workers-ai/{LLAMA_8B}"
    assert recorder.last.headers["cf-aig-cache-ttl"] == "60"
    assert result.gateway is not None and result.gateway.cache_status == "MISS"
    chunks = [c async for c in raclient.workers_ai.stream_chat(LLAMA_8B, prompt="hi", gateway="gw-a")]
    assert chunks[0].gateway is not None


def test_unknown_model_is_not_found(client: CloudflareClient) -> None:
    with pytest.raises(NotFoundError) as err:
        client.workers_ai.chat("@cf/nobody/no-such-model", prompt="x")
    assert err.value.status == 400 and err.value.code == 5007  # reference 4.1: "No such model or task"
    with pytest.raises(NotFoundError):
        list(client.workers_ai.stream_chat("@cf/nobody/no-such-model", prompt="x"))


async def test_unknown_model_is_not_found_async(aclient: AsyncCloudflareClient) -> None:
    with pytest.raises(NotFoundError):
        await aclient.workers_ai.embed("@cf/nobody/embed-nothing", ["x"])


def test_bad_field_is_bad_request_5006(client: CloudflareClient) -> None:
    with pytest.raises(BadRequestError) as err:
        client.workers_ai.chat(LLAMA_8B, prompt="x", extra={"bogus_field": 1})
    assert err.value.code == 5006 and err.value.status == 400
    assert "bogus_field" in err.value.message
    assert client.stats["retries"] == 0  # a 400 is not retried


async def test_bad_field_async(aclient: AsyncCloudflareClient) -> None:
    with pytest.raises(BadRequestError) as err:
        await aclient.workers_ai.generate_image("@cf/black-forest-labs/flux-1-schnell", "x",
                                                extra={"width": 512})
    assert err.value.code == 5006


def scripted(body: bytes, content_type: str) -> CloudflareClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    return CloudflareClient(account_id="a", api_token="t", transport=httpx.MockTransport(handler), max_retries=0)


def test_stream_without_done_raises_over_the_wire() -> None:
    with scripted(b'data: {"response":"partial"}\n\n', "text/event-stream") as c:
        stream = c.workers_ai.stream_chat(LLAMA_8B, prompt="x")
        assert next(stream).text == "partial"
        with pytest.raises(StreamError):
            list(stream)


def test_openai_shaped_sse_over_the_wire() -> None:
    events = [{"choices": [{"index": 0, "delta": {"content": "Hi"}}], "usage": {"prompt_tokens": 2,
                                                                                 "completion_tokens": 1}},
              {"choices": [{"index": 0, "delta": {"content": "!"}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}}]
    wire = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"
    with scripted(wire, "text/event-stream; charset=utf-8") as c:
        chunks = list(c.workers_ai.stream_chat(LLAMA_8B, prompt="x"))
    assert "".join(ch.text for ch in chunks) == "Hi!"
    assert [ch.usage.total_tokens for ch in chunks if ch.usage] == [4]
    assert chunks[-1].finish_reason == "stop"


def test_stream_answered_with_plain_json_yields_chunks() -> None:
    body = json.dumps({"result": {"response": "whole answer", "usage": {"prompt_tokens": 1, "completion_tokens": 2,
                                                                        "total_tokens": 3}},
                       "success": True, "errors": [], "messages": []}).encode()
    with scripted(body, "application/json") as c:
        chunks = list(c.workers_ai.stream_chat(LLAMA_8B, prompt="x"))
    assert "".join(ch.text for ch in chunks) == "whole answer"
    assert [ch.usage.total_tokens for ch in chunks if ch.usage] == [3]
