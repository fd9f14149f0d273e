"""ChatCloudflareWorkersAI: request building, identity, secrets, tool_choice, errors (wire-checked)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelRateLimitError,
)
from langchain_core.load import dumpd, dumps
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableBinding
from langchain_core.tools import tool

from cf_core import (
    AuthenticationError,
    CapacityError,
    ConfigurationError,
    Gateway,
    InvalidInputError,
    NotFoundError,
    ServerError,
)
from cf_core import errors as cf_errors
from cf_core.local import Emulator, FaultConfig, local_client
from cf_langchain import ChatCloudflareWorkersAI
from cf_langchain._errors import to_langchain_error

if TYPE_CHECKING:
    from tests.langchain.conftest import Wire

LLAMA = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
MISTRAL = "@cf/mistralai/mistral-small-3.1-24b-instruct"
SECRET = "sk-super-secret-token-987654321"


def chat(wire: Wire, **kwargs: Any) -> ChatCloudflareWorkersAI:
    return ChatCloudflareWorkersAI(client=wire.client, async_client=wire.aclient, **kwargs)


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


@tool
def get_time(timezone: str) -> str:
    """Get the current time in a timezone."""
    return "12:00"


# -- request body ------------------------------------------------------------------------------


def test_sampling_fields_sent_and_temperature_zero_kept(wire: Wire) -> None:
    llm = chat(wire, temperature=0, max_tokens=40, top_p=0.5, seed=7, model_kwargs={"repetition_penalty": 1.1})
    llm.invoke("Hello there.")
    (body,) = wire.bodies()
    assert body["temperature"] == 0
    assert body["max_tokens"] == 40 and body["top_p"] == 0.5 and body["seed"] == 7
    assert body["repetition_penalty"] == 1.1
    assert set(body) == {"messages", "temperature", "max_tokens", "top_p", "seed", "repetition_penalty"}


def test_per_call_sampling_overrides_the_constructor(wire: Wire) -> None:
    chat(wire, temperature=0.9, max_tokens=100).invoke("Hello.", temperature=0, max_tokens=5)
    (body,) = wire.bodies()
    assert body["temperature"] == 0 and body["max_tokens"] == 5


def test_unknown_call_argument_is_refused_before_sending(wire: Wire) -> None:
    with pytest.raises(InvalidInputError, match="frobnicate"):
        chat(wire).invoke("Hello.", frobnicate=True)
    assert wire.requests == []


def test_unknown_constructor_argument_is_refused() -> None:
    with pytest.raises(ValueError, match="temprature"):
        ChatCloudflareWorkersAI(temprature=0.5)  # type: ignore[call-arg]


def test_stream_kwargs_from_the_standard_tests_never_reach_the_body(wire: Wire) -> None:
    llm = chat(wire, streaming=True, timeout=30, max_retries=1, api_key="k")
    llm.invoke("Hello.")
    (body,) = wire.bodies()
    assert "streaming" not in body and "api_key" not in body and "timeout" not in body
    assert body.get("stream") is True  # streaming=True makes invoke stream on the wire


def test_stop_sequences_are_applied(wire: Wire) -> None:
    text = "Paris is the capital of France. Lyon is a city in France. Which city is the capital?"
    full = chat(wire).invoke(text).text
    cut = chat(wire).invoke(text, stop=["capital"]).text
    assert "capital" in full and "capital" not in cut
    assert full.startswith(cut.rstrip())


def test_names_compatible_with_langchain_cloudflare() -> None:
    llm = ChatCloudflareWorkersAI(model_name=MISTRAL, account_id="acc", api_token="tok", ai_gateway="gw")
    assert llm.model == MISTRAL and llm.account_id == "acc" and llm.api_token is not None
    assert llm.api_token.get_secret_value() == "tok"
    assert ChatCloudflareWorkersAI(api_key="k2").api_token.get_secret_value() == "k2"  # type: ignore[union-attr]
    assert ChatCloudflareWorkersAI(stop_sequences=["x"]).stop == ["x"]


# -- per-call model override -------------------------------------------------------------------


def test_model_override_changes_url_and_metadata_sync_and_stream(wire: Wire) -> None:
    llm = chat(wire, model=LLAMA)
    msg = llm.invoke("Hi there.", model=MISTRAL)
    assert wire.paths()[-1].endswith(f"/ai/run/{MISTRAL}")
    assert msg.response_metadata["model_name"] == MISTRAL
    full = None
    for chunk in llm.stream("Hi there.", model=MISTRAL):
        full = chunk if full is None else full + chunk
    assert full is not None and full.response_metadata["model_name"] == MISTRAL
    assert wire.paths()[-1].endswith(f"/ai/run/{MISTRAL}")


async def test_model_override_async(wire: Wire) -> None:
    msg = await chat(wire).ainvoke("Hi there.", model=MISTRAL)
    assert msg.response_metadata["model_name"] == MISTRAL
    assert wire.paths()[-1].endswith(f"/ai/run/{MISTRAL}")


# -- identity, cache keys, LangSmith params ----------------------------------------------------


def test_identifying_params_and_cache_key_differ_by_model_and_temperature() -> None:
    a = ChatCloudflareWorkersAI(model=LLAMA, temperature=0)
    b = ChatCloudflareWorkersAI(model=MISTRAL, temperature=0)
    c = ChatCloudflareWorkersAI(model=LLAMA, temperature=0.7)
    d = ChatCloudflareWorkersAI(model=LLAMA, temperature=0, ai_gateway="gw")
    params = [x._identifying_params for x in (a, b, c, d)]
    assert params[0]["model"] == LLAMA and params[1]["model"] == MISTRAL
    assert params[0]["temperature"] == 0 and params[2]["temperature"] == 0.7
    assert params[3]["gateway"] == {"id": "gw"}
    keys = {x._get_llm_string() for x in (a, b, c, d)}
    assert len(keys) == 4
    assert a._get_llm_string() == ChatCloudflareWorkersAI(model=LLAMA, temperature=0)._get_llm_string()


def test_cache_key_reflects_per_call_model_and_tools() -> None:
    llm = ChatCloudflareWorkersAI(model=LLAMA)
    assert llm._get_llm_string() != llm._get_llm_string(model=MISTRAL)
    assert llm._get_llm_string() != llm._get_llm_string(tools=[{"name": "x"}])


def test_ls_params_take_the_per_call_model_first() -> None:
    llm = ChatCloudflareWorkersAI(model=LLAMA, temperature=0, max_tokens=9, stop=["end"])
    params = llm._get_ls_params()
    assert params["ls_provider"] == "cloudflare" and params["ls_model_name"] == LLAMA
    assert params["ls_temperature"] == 0 and params["ls_max_tokens"] == 9 and params["ls_stop"] == ["end"]
    assert llm._get_ls_params(model=MISTRAL)["ls_model_name"] == MISTRAL


def test_profile_comes_from_the_catalog() -> None:
    scout = ChatCloudflareWorkersAI(model="@cf/meta/llama-4-scout-17b-16e-instruct")
    small = ChatCloudflareWorkersAI(model="@cf/meta/llama-3.2-1b-instruct")
    assert scout.profile is not None and small.profile is not None
    assert scout.profile["image_inputs"] is True and scout.profile["tool_calling"] is True
    assert small.profile["tool_calling"] is False
    assert scout.profile["max_input_tokens"] == 131000


# -- secrets -----------------------------------------------------------------------------------


def test_token_never_appears_in_repr_str_dump_or_serialised_forms(wire: Wire) -> None:
    llm = ChatCloudflareWorkersAI(api_token=SECRET, account_id="acc",
                                  ai_gateway=Gateway(id="gw", auth_token=SECRET))
    forms = [repr(llm), str(llm), json.dumps(llm.model_dump(), default=str), llm.model_dump_json(),
             json.dumps(dumpd(llm)), dumps(llm), str(llm._identifying_params), llm._get_llm_string(),
             repr(llm._sync_client()), str(llm._sync_client().config)]
    for form in forms:
        assert SECRET not in form
    assert "client" not in llm.model_dump()


def test_token_from_environment_is_secret_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", SECRET)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "env-acc")
    llm = ChatCloudflareWorkersAI()
    assert llm.api_token is not None and llm.api_token.get_secret_value() == SECRET
    assert llm.account_id == "env-acc"
    assert SECRET not in repr(llm) and SECRET not in json.dumps(dumpd(llm))


# -- clients: lazy, once, late credential check ------------------------------------------------


def test_credentials_are_checked_at_the_first_request(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "CF_API_TOKEN", "CF_AI_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    llm = ChatCloudflareWorkersAI()  # constructing without credentials is fine
    with pytest.raises(ConfigurationError, match="CLOUDFLARE_API_TOKEN"):
        llm.invoke("hi")


def test_clients_are_built_once_from_the_fields() -> None:
    llm = ChatCloudflareWorkersAI(account_id="acc", api_token="tok", base_url="https://example.invalid/client/v4",
                                  ai_gateway="gw", timeout=12, max_retries=1)
    sync = llm._sync_client()
    assert sync is llm._sync_client()
    assert sync.config.account_id == "acc" and sync.config.base_url == "https://example.invalid/client/v4"
    assert sync.config.timeout == 12 and sync.config.max_retries == 1
    assert sync.gateway is not None and sync.gateway.id == "gw"
    assert llm._async_client() is llm._async_client()


def test_async_client_derived_from_an_injected_sync_client(emulator: Emulator) -> None:
    llm = ChatCloudflareWorkersAI(client=local_client(emulator))
    derived = llm._async_client()
    assert derived.config == llm._sync_client().config


# -- tool_choice mapping -----------------------------------------------------------------------


@pytest.mark.parametrize(("choice", "tools", "expected"), [
    ("any", [get_weather], {"type": "function", "function": {"name": "get_weather"}}),
    ("any", [get_weather, get_time], "required"),
    ("required", [get_weather, get_time], "required"),
    (True, [get_weather, get_time], "required"),
    ("auto", [get_weather], "auto"),
    ("none", [get_weather], "none"),
    ("get_time", [get_weather, get_time], {"type": "function", "function": {"name": "get_time"}}),
    ({"type": "function", "function": {"name": "get_weather"}}, [get_weather, get_time],
     {"type": "function", "function": {"name": "get_weather"}}),
    (None, [get_weather], None),
    (False, [get_weather], None),
])
def test_tool_choice_mapping(wire: Wire, choice: Any, tools: list[Any], expected: Any) -> None:
    bound = chat(wire).bind_tools(tools, tool_choice=choice)
    assert isinstance(bound, RunnableBinding)
    assert bound.kwargs.get("tool_choice") == expected
    bound.invoke("Hello.")
    (body,) = wire.bodies()
    assert [t["function"]["name"] for t in body["tools"]] == [t.name for t in tools]
    if expected is None:
        assert "tool_choice" not in body
    else:
        assert body["tool_choice"] == expected


def test_tool_choice_naming_an_unknown_tool_fails_at_bind_time(wire: Wire) -> None:
    with pytest.raises(InvalidInputError, match="not one of the tools"):
        chat(wire).bind_tools([get_weather], tool_choice="get_time")


def test_forced_tool_is_called_and_its_chunks_carry_an_index(wire: Wire) -> None:
    llm = chat(wire).bind_tools([get_weather, get_time], tool_choice="get_time")
    msg = llm.invoke("Hello!")
    assert [c["name"] for c in msg.tool_calls] == ["get_time"]
    chunks = list(llm.stream("Hello!"))
    tool_chunks = [tc for c in chunks for tc in c.tool_call_chunks]
    assert tool_chunks and all(tc["index"] == 0 for tc in tool_chunks)


# -- errors --------------------------------------------------------------------------------------


def test_unknown_model_maps_to_not_found_keeping_the_core_type(wire: Wire) -> None:
    with pytest.raises(ModelNotFoundError) as info:
        chat(wire, model="@cf/nope/not-a-model").invoke("hi")
    assert isinstance(info.value, NotFoundError) and info.value.code == 5007


def test_bad_token_maps_to_authentication_error() -> None:
    emulator = Emulator(tokens={"good"})
    llm = ChatCloudflareWorkersAI(client=local_client(emulator, api_token="bad"))
    with pytest.raises(ModelAuthenticationError) as info:
        llm.invoke("hi")
    assert isinstance(info.value, AuthenticationError) and info.value.status == 401


def test_capacity_errors_map_to_rate_limit_after_retries() -> None:
    emulator = Emulator(faults=FaultConfig(burst_429=10, retry_after_s=0.0))
    llm = ChatCloudflareWorkersAI(client=local_client(emulator, max_retries=0))
    with pytest.raises(ModelRateLimitError) as info:
        llm.invoke("hi")
    assert isinstance(info.value, CapacityError) and info.value.is_retryable


def test_server_errors_map_to_model_api_error_in_streams_too() -> None:
    emulator = Emulator(faults=FaultConfig(error_rates={500: 1.0}))
    llm = ChatCloudflareWorkersAI(client=local_client(emulator, max_retries=0))
    with pytest.raises(ModelAPIError) as info:
        list(llm.stream("hi"))
    assert isinstance(info.value, ServerError)


def test_context_overflow_and_quota_mapping() -> None:
    overflow = to_langchain_error(cf_errors.BadRequestError("AiError: input exceeds the model's context window",
                                                            status=400, code=5006))
    assert isinstance(overflow, ContextOverflowError) and isinstance(overflow, cf_errors.BadRequestError)
    bad = to_langchain_error(cf_errors.BadRequestError("AiError: Bad input", status=400, code=5006))
    assert isinstance(bad, ModelInvalidRequestError) and not isinstance(bad, ContextOverflowError)
    quota = to_langchain_error(cf_errors.QuotaExceededError("daily allocation", status=429, code=4006))
    assert isinstance(quota, ModelRateLimitError) and quota.is_retryable is False
    local = cf_errors.InvalidInputError("bad", field="x")
    assert to_langchain_error(local) is local


# -- token counting without downloads ------------------------------------------------------------


def test_token_counting_needs_no_tokenizer_download() -> None:
    llm = ChatCloudflareWorkersAI()
    short, long = llm.get_num_tokens("Hello world"), llm.get_num_tokens("Hello world, " * 50)
    assert 0 < short < long
    assert len(llm.get_token_ids("Hello world")) == short
    assert llm.get_num_tokens_from_messages([HumanMessage("Hello world")]) >= short


# -- compatibility with LangChain agents' calls -----------------------------------------------


def test_openai_response_format_from_agents_maps_to_json_mode(wire: Wire) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    llm = chat(wire)
    llm.bind_tools([get_weather], strict=True, response_format={
        "type": "json_schema", "json_schema": {"name": "Answer", "schema": schema, "strict": True}}).invoke("Paris.")
    llm.invoke("Paris.", response_format={"type": "json_object"})
    first, second = wire.bodies()
    assert first["response_format"] == {"type": "json_schema", "json_schema": schema}
    assert second["response_format"] == {"type": "json_object"}
    with pytest.raises(InvalidInputError, match="response_format"):
        llm.invoke("Paris.", response_format={"type": "text"})


def test_unknown_bind_tools_argument_fails_at_bind_time(wire: Wire) -> None:
    with pytest.raises(InvalidInputError, match="parallel_tool_calls"):
        chat(wire).bind_tools([get_weather], parallel_tool_calls=False)


def test_deepcopy_shares_the_core_clients(wire: Wire) -> None:
    import copy

    llm = chat(wire)
    clone = copy.deepcopy(llm)
    assert clone.client is llm.client and clone is not llm
    assert clone.invoke("Rome is in Italy. Where is Rome?").text == llm.invoke("Rome is in Italy. Where is Rome?").text


def test_gateway_id_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_ID", "env-gw")
    llm = ChatCloudflareWorkersAI(account_id="a", api_token="t")
    assert llm.ai_gateway == "env-gw"
    assert llm._identifying_params["gateway"] == {"id": "env-gw"}
    assert ChatCloudflareWorkersAI(ai_gateway="explicit").ai_gateway == "explicit"


def test_oversized_input_is_a_context_overflow_before_sending(wire: Wire) -> None:
    huge = "word " * 60_000  # far past Llama 3.3's 24k-token window
    with pytest.raises(ContextOverflowError) as info:
        chat(wire).invoke(huge)
    assert isinstance(info.value, InvalidInputError) and info.value.limit == 24000
    assert wire.requests == []
