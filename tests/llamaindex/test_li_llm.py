"""CloudflareWorkersAI against the emulator: metadata, chat/completion in all eight forms, usage,
gateway routing, secrets. The emulator's chat model is a rule-based stand-in, so these tests check
what went over the wire and how the answer was parsed, not the answer's quality."""

from __future__ import annotations

import inspect
import json

import pytest
from li_support import CHAT_MODEL, JSON_ONLY_MODEL, Wire
from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms.function_calling import FunctionCallingLLM
from pydantic import SecretStr

from cf_core import AsyncCloudflareClient, CloudflareClient, Gateway
from cf_core.errors import ConfigurationError
from cf_core.local import Emulator
from cf_core.usage import UsageTracker
from cf_llamaindex import CloudflareWorkersAI

CONTEXT = "The lighthouse on Vela Island is painted cobalt blue. The harbour has nine piers."
QUESTION = "What colour is the lighthouse on Vela Island?"


def _messages() -> list[ChatMessage]:
    return [ChatMessage(role=MessageRole.SYSTEM, content=CONTEXT), ChatMessage(role=MessageRole.USER, content=QUESTION)]


def test_is_a_function_calling_llm_with_all_members() -> None:
    assert issubclass(CloudflareWorkersAI, FunctionCallingLLM)
    assert not getattr(CloudflareWorkersAI, "__abstractmethods__", set())
    assert CloudflareWorkersAI.class_name() == "CloudflareWorkersAI"
    assert inspect.iscoroutinefunction(CloudflareWorkersAI.astream_chat)
    assert inspect.iscoroutinefunction(CloudflareWorkersAI.astream_complete)


def test_metadata_comes_from_the_catalog(client: CloudflareClient) -> None:
    tool_model = CloudflareWorkersAI(model=CHAT_MODEL, client=client).metadata
    assert (tool_model.context_window, tool_model.num_output) == (24000, 256)
    assert tool_model.is_chat_model and tool_model.is_function_calling_model
    assert tool_model.model_name == CHAT_MODEL
    plain = CloudflareWorkersAI(model=JSON_ONLY_MODEL, client=client).metadata
    assert plain.is_function_calling_model is False
    assert plain.context_window == 128000
    overridden = CloudflareWorkersAI(model=CHAT_MODEL, client=client, max_tokens=900, context_window=4000,
                                     is_function_calling=False).metadata
    assert (overridden.num_output, overridden.context_window, overridden.is_function_calling_model) == \
        (900, 4000, False)


def test_chat_sends_messages_and_parses_answer_and_usage(llm: CloudflareWorkersAI, wire: Wire) -> None:
    llm.temperature, llm.max_tokens = 0.0, 64
    response = llm.chat(_messages())
    body = wire.chat_bodies()[-1]
    assert str(wire.to("/ai/run/")[-1].url).endswith(f"/ai/run/{CHAT_MODEL}")
    assert body["messages"] == [{"role": "system", "content": CONTEXT}, {"role": "user", "content": QUESTION}]
    assert body["temperature"] == 0 and body["max_tokens"] == 64
    assert "cobalt blue" in (response.message.content or "")  # the context reached the model
    assert response.message.role == MessageRole.ASSISTANT
    usage = response.raw["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert response.additional_kwargs["prompt_tokens"] == usage["prompt_tokens"]
    assert response.additional_kwargs["neurons"] > 0


def test_token_counting_handler_reads_usage(llm: CloudflareWorkersAI) -> None:
    from llama_index.core.callbacks import CallbackManager, TokenCountingHandler

    counter = TokenCountingHandler()
    llm.callback_manager = CallbackManager([counter])
    response = llm.chat(_messages())
    assert counter.prompt_llm_token_count == response.raw["usage"]["prompt_tokens"]
    assert counter.completion_llm_token_count == response.raw["usage"]["completion_tokens"]


async def test_achat_and_acomplete(llm: CloudflareWorkersAI, wire: Wire) -> None:
    response = await llm.achat(_messages())
    assert "cobalt blue" in (response.message.content or "")
    completion = await llm.acomplete(f"{CONTEXT} {QUESTION}")
    assert "cobalt blue" in completion.text
    assert wire.chat_bodies()[-1]["messages"] == [{"role": "user", "content": f"{CONTEXT} {QUESTION}"}]
    assert completion.raw["usage"]["total_tokens"] > 0


def test_complete_sends_one_user_message(llm: CloudflareWorkersAI, wire: Wire) -> None:
    completion = llm.complete(f"{CONTEXT} {QUESTION}")
    assert wire.chat_bodies()[-1]["messages"] == [{"role": "user", "content": f"{CONTEXT} {QUESTION}"}]
    assert "cobalt blue" in completion.text
    assert completion.additional_kwargs["completion_tokens"] > 0


def test_stream_chat_accumulates_and_reports_usage_once(llm: CloudflareWorkersAI, wire: Wire) -> None:
    chunks = list(llm.stream_chat(_messages()))
    assert wire.chat_bodies()[-1]["stream"] is True
    assert len(chunks) > 2
    text = ""
    for chunk in chunks:
        text += chunk.delta or ""
        assert chunk.message.content == text  # every chunk carries the whole message so far
    assert "cobalt blue" in text
    with_usage = [c for c in chunks if c.raw.get("usage")]
    assert with_usage and with_usage[-1] is chunks[-1]
    assert chunks[-1].additional_kwargs["total_tokens"] > 0


def test_stream_complete(llm: CloudflareWorkersAI) -> None:
    chunks = list(llm.stream_complete(f"{CONTEXT} {QUESTION}"))
    assert "".join(c.delta or "" for c in chunks) == chunks[-1].text
    assert "cobalt blue" in chunks[-1].text


async def test_astream_chat_returns_async_generator_after_await(llm: CloudflareWorkersAI, wire: Wire) -> None:
    stream = await llm.astream_chat(_messages())
    assert inspect.isasyncgen(stream)
    chunks = [c async for c in stream]
    assert "cobalt blue" in (chunks[-1].message.content or "")
    assert chunks[-1].raw["usage"]["completion_tokens"] > 0
    assert wire.chat_bodies()[-1]["stream"] is True


async def test_astream_complete(llm: CloudflareWorkersAI) -> None:
    stream = await llm.astream_complete(f"{CONTEXT} {QUESTION}")
    chunks = [c async for c in stream]
    assert "cobalt blue" in chunks[-1].text


def test_per_call_kwargs_and_additional_kwargs(client: CloudflareClient, wire: Wire) -> None:
    llm = CloudflareWorkersAI(model=CHAT_MODEL, client=client, temperature=0.5, seed=7,
                              additional_kwargs={"top_k": 5})
    llm.chat(_messages(), temperature=0.1, max_tokens=12, not_a_model_field=1)
    body = wire.chat_bodies()[-1]
    assert (body["temperature"], body["max_tokens"], body["seed"], body["top_k"]) == (0.1, 12, 7, 5)
    assert "not_a_model_field" not in body


def test_usage_tracker_adds_up_calls(client: CloudflareClient) -> None:
    tracker = UsageTracker()
    llm = CloudflareWorkersAI(model=CHAT_MODEL, client=client, usage_tracker=tracker)
    first = llm.chat(_messages())
    list(llm.stream_chat(_messages()))
    totals = tracker.by_model()[CHAT_MODEL]
    assert totals.requests == 2
    assert totals.prompt_tokens >= 2 * first.raw["usage"]["prompt_tokens"] - 1
    assert totals.neurons > 0 and totals.usd > 0


def test_gateway_option_routes_through_the_gateway(client: CloudflareClient, wire: Wire) -> None:
    llm = CloudflareWorkersAI(model=CHAT_MODEL, client=client,
                              ai_gateway=Gateway(id="my-gw", skip_cache=True, auth_token=SecretStr("gw-secret")))
    response = llm.chat(_messages())
    sent = wire[-1]
    assert str(sent.url).endswith(f"/my-gw/workers-ai/{CHAT_MODEL}")
    assert sent.headers.get("cf-aig-skip-cache") == "true"
    assert sent.headers.get("cf-aig-authorization") == "Bearer gw-secret"
    assert response.raw["gateway"]["provider"] == "workers-ai"
    assert "cobalt blue" in (response.message.content or "")
    dumped = llm.to_json()
    assert "gw-secret" not in dumped and json.loads(dumped)["ai_gateway"]["id"] == "my-gw"


def test_secrets_never_serialised() -> None:
    llm = CloudflareWorkersAI(account_id="acc", api_token="tok-SECRET-123", model=CHAT_MODEL)
    for text in (repr(llm), str(llm), llm.to_json(), json.dumps(llm.to_dict()), json.dumps(llm.to_payload())):
        assert "tok-SECRET-123" not in text
    assert llm.api_token is not None and llm.api_token.get_secret_value() == "tok-SECRET-123"


def test_credentials_are_checked_at_first_request(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "CF_AI_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    llm = CloudflareWorkersAI(model=CHAT_MODEL)  # constructing needs no account
    with pytest.raises(ConfigurationError, match="credentials"):
        llm.chat(_messages())


def test_injected_clients_are_used_as_given(client: CloudflareClient, aclient: AsyncCloudflareClient) -> None:
    llm = CloudflareWorkersAI(client=client, async_client=aclient)
    assert llm.client is client and llm.async_client is aclient
    assert "client" not in llm.to_dict() and "async_client" not in llm.to_dict()


def test_pickles_drop_the_token() -> None:
    import pickle

    llm = CloudflareWorkersAI(account_id="acc", api_token="tok-SECRET-123", model=CHAT_MODEL,
                              ai_gateway=Gateway(id="gw", auth_token=SecretStr("gw-SECRET")))
    data = pickle.dumps(llm)
    assert b"tok-SECRET-123" not in data and b"gw-SECRET" not in data
    copy = pickle.loads(data)
    assert (copy.model, copy.account_id, copy.api_token) == (CHAT_MODEL, "acc", None)
    assert llm.api_token is not None  # the original keeps its token


def test_built_async_clients_survive_fresh_event_loops(emulator: Emulator) -> None:
    """LlamaIndex runs coroutines on new loops (asyncio_run) from sync code; a client built on one
    loop must not be reused on the next. Over a real loopback socket, as pooled connections are."""
    import asyncio

    from cf_core.local.server import running_server

    with running_server(emulator) as server:
        llm = CloudflareWorkersAI(model=CHAT_MODEL, account_id="acc", api_token="tok", base_url=server.base_url)
        answers = [asyncio.run(llm.achat(_messages())) for _ in range(3)]
    assert all("cobalt blue" in (a.message.content or "") for a in answers)
