"""AI Gateway URL forms: Workers AI native and OpenAI-compatible, unified compat, the openai stand-in.

The answers come from stand-in models; these tests check the wire (forwarding, headers, bodies
passed through unchanged, error envelopes), not the answers' quality.
"""

from __future__ import annotations

import json

import httpx

from cf_core.local import STAND_IN_LABEL, Emulator, EmulatorTransport
from cf_core.local.pytest_plugin import TEST_ACCOUNT, TEST_TOKEN

AUTH = {"authorization": f"Bearer {TEST_TOKEN}"}
LLAMA = "@cf/meta/llama-3.1-8b-instruct"
BGE = "@cf/baai/bge-base-en-v1.5"
GW = f"/v1/{TEST_ACCOUNT}/my-gw"


def _chat(content: str, model: str = "gpt-4o-mini", **extra: object) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


def _sse_data(text: str) -> list[str]:
    return [line[len("data: "):] for line in text.splitlines() if line.startswith("data: ")]


def test_workers_ai_native_forwards_and_matches_direct_call(emu_origin_client: httpx.Client) -> None:
    body = {"prompt": "Name one colour of the sky."}
    via_gateway = emu_origin_client.post(f"{GW}/workers-ai/{LLAMA}", json=body, headers=AUTH)
    direct = emu_origin_client.post(f"/client/v4/accounts/{TEST_ACCOUNT}/ai/run/{LLAMA}", json=body, headers=AUTH)
    assert via_gateway.status_code == 200, via_gateway.text
    assert via_gateway.json() == direct.json()  # the gateway adds no envelope of its own
    h = via_gateway.headers
    assert h["cf-aig-provider"] == "workers-ai"
    assert h["cf-aig-model"] == LLAMA
    assert h["cf-aig-cache-status"] == "MISS"
    assert h["cf-aig-step"] == "0"
    assert len(h["cf-aig-log-id"]) == 26


def test_workers_ai_native_accepts_run_prefix(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/workers-ai/run/{LLAMA}", json={"prompt": "hi"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["cf-aig-model"] == LLAMA


def test_workers_ai_provider_authorization_is_checked_by_the_api(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/workers-ai/{LLAMA}", json={"prompt": "hi"})
    assert r.status_code == 401
    assert r.json()["errors"][0]["code"] == 10000


def test_workers_ai_unknown_model_error_passes_through(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/workers-ai/@cf/nobody/no-such-model", json={"prompt": "hi"}, headers=AUTH)
    assert r.status_code == 400
    assert r.json()["errors"][0]["code"] == 5007
    assert r.headers["cf-aig-cache-status"] == "MISS"


def test_workers_ai_openai_chat_completions(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/workers-ai/v1/chat/completions", json=_chat("Hello", LLAMA), headers=AUTH)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["object"] == "chat.completion"
    assert data["model"] == LLAMA
    assert isinstance(data["choices"][0]["message"]["content"], str)
    assert r.headers["cf-aig-model"] == LLAMA


def test_workers_ai_openai_embeddings(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/workers-ai/v1/embeddings", json={"model": BGE, "input": ["a", "b"]},
                               headers=AUTH)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [len(d["embedding"]) for d in data] == [768, 768]


def test_compat_workers_ai_model(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/compat/chat/completions", json=_chat("Hi", f"workers-ai/{LLAMA}"),
                               headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["object"] == "chat.completion"
    assert r.headers["cf-aig-provider"] == "workers-ai"
    assert r.headers["cf-aig-model"] == LLAMA


def test_compat_openai_model_goes_to_stand_in(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/compat/chat/completions", json=_chat("What is 2+2?", "openai/gpt-4o-mini"),
                               headers={"authorization": "Bearer sk-test"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["model"] == "gpt-4o-mini"
    assert STAND_IN_LABEL in data["choices"][0]["message"]["content"]
    assert r.headers["cf-aig-provider"] == "openai"


def test_compat_rejects_model_without_provider(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/compat/chat/completions", json=_chat("x", "gpt-4o"), headers=AUTH)
    assert r.status_code == 400
    body = r.json()
    assert body["success"] is False
    assert body["error"][0]["code"] == 2001
    assert "provider" in body["error"][0]["message"]


def test_openai_stand_in_chat_completion(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/openai/chat/completions", json=_chat("Tell me about Cloudflare"),
                               headers={"authorization": "Bearer sk-test"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "gpt-4o-mini"
    content = data["choices"][0]["message"]["content"]
    assert content.startswith(STAND_IN_LABEL)
    assert "Tell me about Cloudflare" in content
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert r.headers["cf-aig-model"] == "gpt-4o-mini"


def test_openai_stand_in_honours_max_tokens_and_n(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/openai/chat/completions", json=_chat("hello", max_tokens=3, n=2),
                               headers={"authorization": "Bearer sk-test"})
    data = r.json()
    assert len(data["choices"]) == 2
    assert all(c["finish_reason"] == "length" for c in data["choices"])
    assert len(data["choices"][0]["message"]["content"].split(" ")) == 3
    assert data["usage"]["completion_tokens"] == 3


def test_openai_stand_in_requires_its_own_key(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/openai/chat/completions", json=_chat("hi"))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_api_key"


def test_openai_stand_in_validates_messages(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/openai/chat/completions", json={"model": "gpt-4o-mini", "messages": []},
                               headers={"authorization": "Bearer sk-test"})
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "messages"


def test_openai_stand_in_failing_model(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/openai/chat/completions", json=_chat("hi", "error-503"),
                               headers={"authorization": "Bearer sk-test"})
    assert r.status_code == 503
    assert r.json()["error"]["type"] == "server_error"


def test_openai_stand_in_unknown_endpoint(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/openai/images/generations", json={"prompt": "x"},
                               headers={"authorization": "Bearer sk-test"})
    assert r.status_code == 404
    assert "chat/completions" in r.json()["error"]["message"]


def test_openai_stand_in_stream(emu_origin_client: httpx.Client) -> None:
    body = _chat("stream this please", stream=True, stream_options={"include_usage": True})
    r = emu_origin_client.post(f"{GW}/openai/chat/completions", json=body, headers={"authorization": "Bearer k"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = _sse_data(r.text)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    plain = emu_origin_client.post(f"{GW}/openai/chat/completions", json=_chat("stream this please"),
                                   headers={"authorization": "Bearer k"}).json()
    assert text == plain["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


def test_openai_stand_in_is_deterministic_under_a_seed() -> None:
    def first_id(seed: int) -> str:
        with httpx.Client(transport=EmulatorTransport(Emulator(seed=seed)), base_url="http://e") as c:
            r = c.post(f"{GW}/openai/chat/completions", json=_chat("x"), headers={"authorization": "Bearer k"})
            return str(r.json()["id"]) + r.headers["cf-aig-log-id"]

    assert first_id(3) == first_id(3)
    assert first_id(3) != first_id(4)


def test_unsupported_provider_answers_gateway_error(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/anthropic/v1/messages", json={"model": "claude"},
                               headers={"x-api-key": "k"})
    assert r.status_code == 400
    assert r.json()["error"][0]["code"] == 2008
    assert "anthropic" in r.json()["error"][0]["message"]


def test_unknown_compat_endpoint(emu_origin_client: httpx.Client) -> None:
    r = emu_origin_client.post(f"{GW}/compat/embeddings", json={"model": "openai/x", "input": "a"}, headers=AUTH)
    assert r.status_code == 400
    assert r.json()["error"][0]["code"] == 2001


def test_workers_ai_stream_passes_through_and_is_logged(emulator: Emulator,
                                                        emu_origin_client: httpx.Client) -> None:
    body = {"messages": [{"role": "user", "content": "Count to three"}], "stream": True}
    with emu_origin_client.stream("POST", f"{GW}/workers-ai/{LLAMA}", json=body,
                                  headers={**AUTH, "cf-aig-cache-ttl": "600"}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cf-aig-cache-status"] == "MISS"
        log_id = r.headers["cf-aig-log-id"]
        text = "".join(r.iter_text())
    assert _sse_data(text)[-1] == "[DONE]"
    again = emu_origin_client.post(f"{GW}/workers-ai/{LLAMA}", json=body, headers={**AUTH, "cf-aig-cache-ttl": "600"})
    assert again.headers["cf-aig-cache-status"] == "MISS"  # streams are never cached
    entry = emu_origin_client.get(f"/client/v4/accounts/{TEST_ACCOUNT}/ai-gateway/gateways/my-gw/logs/{log_id}",
                                  headers=AUTH).json()["result"]
    assert entry["response_size"] == len(text.encode())
    assert entry["tokens_out"] is not None and entry["tokens_out"] > 0
