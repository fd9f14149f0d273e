"""``ChatCloudflareWorkersAI``: a LangChain chat model for Cloudflare Workers AI.

All HTTP, retries, per-model quirks and stream decoding live in cf_core; this class only builds one
request (:meth:`ChatCloudflareWorkersAI._request`) for all four entry points and maps the answers
back with :mod:`._messages`.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import (
    BaseChatModel,
    LangSmithParams,
    LanguageModelInput,
    ModelProfile,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import AliasChoices, ConfigDict, Field

from cf_core import InvalidInputError
from cf_core import info as model_info
from cf_core.config import DEFAULT_BASE_URL
from cf_core.workers_ai.types import ChatChunk

from ._client import CloudflareClientMixin
from ._errors import map_errors, wrap_aiter, wrap_iter
from ._messages import chunk_to_message, result_to_message, to_workers_ai_messages
from ._structured import choose_method, structured_runnable

__all__ = ["ChatCloudflareWorkersAI"]

DEFAULT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"

# Sampling parameters: a field on the model and a per-call keyword with the same name.
_SAMPLING = ("temperature", "max_tokens", "top_p", "top_k", "seed", "repetition_penalty",
             "frequency_penalty", "presence_penalty")
# Everything else a call may carry (bound by bind_tools / with_structured_output, or passed to invoke).
_CALL_ONLY = ("model", "tools", "tool_choice", "json_schema", "json_mode", "response_format", "lora",
              "model_kwargs")
# Keywords LangChain itself may pass along that never reach the request.
_IGNORED = ("stream", "ls_structured_output_format", "structured_output_format")
_KNOWN = frozenset((*_SAMPLING, *_CALL_ONLY, *_IGNORED, "stop"))

_TOKEN_PIECE = re.compile(r"[^\W_]{1,4}|[^\w\s]|_", re.UNICODE)


class ChatCloudflareWorkersAI(CloudflareClientMixin, BaseChatModel):
    """Chat with a Workers AI text-generation model.

    Setup: set ``CLOUDFLARE_ACCOUNT_ID`` and ``CLOUDFLARE_API_TOKEN`` (or pass ``account_id`` and
    ``api_token``), or pass ready clients: ``client=cf_core.local.local_client()`` (and
    ``async_client=``) to work offline against the local emulator.

    Example:
        .. code-block:: python

            from cf_langchain import ChatCloudflareWorkersAI

            llm = ChatCloudflareWorkersAI(model="@cf/meta/llama-3.3-70b-instruct-fp8-fast", temperature=0)
            llm.invoke("Name a planet.")
            llm.bind_tools([get_weather], tool_choice="any").invoke("Weather in Lisbon?")
            llm.with_structured_output(Person).invoke("Ann is 30.")

    Per-call overrides: ``llm.invoke(msgs, model="@cf/...", temperature=0.2, max_tokens=64)``.
    Unknown keyword arguments are rejected instead of being sent; model-specific request fields
    go in ``model_kwargs``.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, extra="forbid")

    model: str = Field(default=DEFAULT_MODEL, validation_alias=AliasChoices("model", "model_name"))
    """Workers AI model id (alias ``model_name``), e.g. ``@cf/meta/llama-3.3-70b-instruct-fp8-fast``."""
    temperature: float | None = None
    """Sampling temperature (0 is sent as 0). ``None``: the model's default."""
    max_tokens: int | None = None
    """Most tokens to generate. ``None``: the model's default (256 on most Workers AI models)."""
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    repetition_penalty: float | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop: list[str] | None = Field(default=None, validation_alias=AliasChoices("stop", "stop_sequences"))
    """Stop sequences (alias ``stop_sequences``)."""
    lora: str | None = None
    """A fine-tune (LoRA adapter) name or id, for models that accept one."""
    streaming: bool = False
    """Stream from ``invoke`` as well (callbacks then see tokens as they arrive)."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra model-specific request fields, sent verbatim."""

    # -- identity -----------------------------------------------------------------------------

    @property
    def _llm_type(self) -> str:
        return "cloudflare-workers-ai"

    def _endpoint(self) -> str:
        if self.client is not None:
            return self.client.config.base_url
        if self.async_client is not None:
            return self.async_client.config.base_url
        return (self.base_url or DEFAULT_BASE_URL).rstrip("/")

    def _gateway_identity(self) -> dict[str, Any] | None:
        gateway = self._gateway()
        if gateway is None:
            for client in (self.client, self.async_client):
                if client is not None and client.gateway is not None:
                    gateway = client.gateway
                    break
        return None if gateway is None else gateway.model_dump(exclude={"auth_token"}, exclude_none=True)

    @property
    def _identifying_params(self) -> dict[str, Any]:
        # LangChain's LLM cache key is built from this: everything that changes the answer.
        params: dict[str, Any] = {"model": self.model, "endpoint": self._endpoint(),
                                  "gateway": self._gateway_identity(), "stop": self.stop, "lora": self.lora}
        params.update({name: getattr(self, name) for name in _SAMPLING})
        if self.model_kwargs:
            params["model_kwargs"] = dict(self.model_kwargs)
        return params

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "cloudflare"
        model = kwargs.get("model")
        params["ls_model_name"] = model if isinstance(model, str) and model else self.model
        temperature = kwargs.get("temperature", self.temperature)
        if isinstance(temperature, int | float):
            params["ls_temperature"] = float(temperature)
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if isinstance(max_tokens, int):
            params["ls_max_tokens"] = max_tokens
        stops = stop if stop is not None else self.stop
        if stops:
            params["ls_stop"] = list(stops)
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        entry = model_info(self.model)
        if not entry.is_chat:
            return None
        profile = ModelProfile(
            tool_calling=entry.supports_tools, tool_choice=entry.supports_tools,
            structured_output=entry.supports_json_mode or entry.tool_calling_reliable,
            image_inputs=entry.supports_vision, image_url_inputs=False, pdf_inputs=False,
            audio_inputs=False, video_inputs=False)
        if entry.context_window:
            profile["max_input_tokens"] = entry.context_window
        if entry.default_max_tokens:
            profile["max_output_tokens"] = entry.default_max_tokens
        return profile

    # -- one request builder ------------------------------------------------------------------

    def _request(self, messages: list[BaseMessage], stop: list[str] | None,
                 kwargs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The model id and the keyword arguments of ``workers_ai.chat`` / ``stream_chat``."""
        unknown = sorted(kwargs.keys() - _KNOWN) if kwargs else []
        if unknown:
            raise InvalidInputError(
                f"unknown argument(s) for ChatCloudflareWorkersAI: {', '.join(unknown)}. Pass model-specific "
                "request fields in model_kwargs={...}", field=unknown[0], item=unknown)
        model = kwargs.get("model") or self.model
        args: dict[str, Any] = {name: kwargs.get(name, getattr(self, name)) for name in _SAMPLING}
        args = {k: v for k, v in args.items() if v is not None}
        stops = stop if stop is not None else kwargs.get("stop", self.stop)
        if stops:
            args["stop"] = list(stops)
        lora = kwargs.get("lora", self.lora)
        if lora is not None:
            args["lora"] = lora
        for name in ("tools", "tool_choice", "json_schema"):
            if kwargs.get(name) is not None:
                args[name] = kwargs[name]
        if kwargs.get("json_mode"):
            args["json_mode"] = True
        if kwargs.get("response_format") is not None:
            args.update(_response_format(kwargs["response_format"]))
        extra = {**self.model_kwargs, **(kwargs.get("model_kwargs") or {})}
        if extra:
            args["extra"] = extra
        gateway = self._gateway()
        if gateway is not None:
            args["gateway"] = gateway
        args["messages"] = to_workers_ai_messages(messages)
        return str(model), args

    # -- the four entry points ----------------------------------------------------------------

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        model, args = self._request(messages, stop, kwargs)
        with map_errors():
            result = self._sync_client().workers_ai.chat(model, **args)
        return _chat_result(result_to_message(result, model=model))

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None,
                         **kwargs: Any) -> ChatResult:
        model, args = self._request(messages, stop, kwargs)
        with map_errors():
            result = await self._async_client().workers_ai.chat(model, **args)
        return _chat_result(result_to_message(result, model=model))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        model, args = self._request(messages, stop, kwargs)
        with map_errors():
            source = self._sync_client().workers_ai.stream_chat(model, **args)
        mapper = _ChunkMapper(model)
        for chunk in wrap_iter(source):
            generation = mapper(chunk)
            if run_manager is not None:
                run_manager.on_llm_new_token(chunk.text, chunk=generation)
            yield generation

    async def _astream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        model, args = self._request(messages, stop, kwargs)
        with map_errors():
            source = self._async_client().workers_ai.stream_chat(model, **args)
        mapper = _ChunkMapper(model)
        async for chunk in wrap_aiter(source):
            generation = mapper(chunk)
            if run_manager is not None:
                await run_manager.on_llm_new_token(chunk.text, chunk=generation)
            yield generation

    # -- tools and structured output ----------------------------------------------------------

    def bind_tools(self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool], *,
                   tool_choice: dict[str, Any] | str | bool | None = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (LangChain tools, functions, pydantic models or OpenAI tool dicts).

        ``tool_choice``: ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True`` (some tool must be
        called), a tool name, or ``{"type": "function", "function": {"name": ...}}``. Workers AI
        enforces a *named* tool server-side but treats ``"required"`` as advisory, so ``"any"`` with
        a single tool is sent as that tool's name.
        """
        kwargs.pop("strict", None)  # accepted for compatibility; Workers AI has no strict switch
        unknown = sorted(set(kwargs) - set(_SAMPLING) - set(_CALL_ONLY) - set(_IGNORED))
        if unknown:
            raise InvalidInputError(f"unknown argument(s) for bind_tools: {', '.join(unknown)}",
                                    field=unknown[0], item=unknown)
        formatted = [convert_to_openai_tool(t) for t in tools]
        names = [t["function"]["name"] for t in formatted]
        choice = _tool_choice(tool_choice, names)
        if choice is not None:
            kwargs["tool_choice"] = choice
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(self, schema: dict[str, Any] | type, *, include_raw: bool = False,
                               method: Literal["function_calling", "json_schema", "json_mode"] | None = None,
                               strict: bool | None = None,
                               **kwargs: Any) -> Runnable[LanguageModelInput, dict[str, Any] | Any]:
        """Answer as an instance of ``schema`` (pydantic class, TypedDict, JSON schema or OpenAI tool).

        ``method``: ``"function_calling"`` (default; a forced tool call), ``"json_schema"`` (Workers
        AI's server-enforced JSON mode with the schema) or ``"json_mode"`` (JSON without a schema:
        say in the prompt which keys you want). For a model whose tool calling the catalog marks as
        unreliable, ``function_calling`` uses ``json_schema`` instead. ``strict`` is accepted for
        compatibility: JSON-schema output on Workers AI is always enforced. One model call per invoke.
        """
        if kwargs:
            raise InvalidInputError(f"unknown argument(s) for with_structured_output: {', '.join(sorted(kwargs))}",
                                    field=sorted(kwargs)[0])
        chosen = choose_method(method, model_info(self.model))
        return structured_runnable(self, schema, method=chosen, include_raw=include_raw, strict=strict,
                                   requested=method or "function_calling")

    # -- token counting without a tokenizer download --------------------------------------------

    def get_token_ids(self, text: str) -> list[int]:
        """Approximate token ids (words split into pieces of up to 4 characters, punctuation alone).

        Workers AI exposes no tokenizer; this never downloads one. Counts are an estimate of the
        same order as BPE tokenizers for English text.
        """
        return [zlib.crc32(piece.encode("utf-8")) % 50_000 for piece in _TOKEN_PIECE.findall(text)]

    def get_num_tokens(self, text: str) -> int:
        return len(_TOKEN_PIECE.findall(text))


def _response_format(value: Any) -> dict[str, Any]:
    """OpenAI's ``response_format`` (as LangChain agents send it) as core JSON-mode arguments."""
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "json_object":
        return {"json_mode": True}
    if kind == "json_schema":
        return {"json_schema": value}
    raise InvalidInputError("response_format must be {'type': 'json_object'} or {'type': 'json_schema', "
                            "'json_schema': {...}}", field="response_format", item=value)


def _tool_choice(choice: dict[str, Any] | str | bool | None, names: list[str]) -> dict[str, Any] | str | None:
    if choice is None or choice is False:
        return None
    if choice is True:
        choice = "required"
    if isinstance(choice, str):
        if choice in ("any", "required"):
            return {"type": "function", "function": {"name": names[0]}} if len(names) == 1 else "required"
        if choice in ("auto", "none"):
            return choice
        if choice not in names:
            raise InvalidInputError(f"tool_choice names {choice!r}, which is not one of the tools {names}",
                                    field="tool_choice", limit=names, item=choice)
        return {"type": "function", "function": {"name": choice}}
    if isinstance(choice, Mapping):
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, Mapping) else choice.get("name")
        if name not in names:
            raise InvalidInputError(f"tool_choice names {name!r}, which is not one of the tools {names}",
                                    field="tool_choice", limit=names, item=name)
        return {"type": "function", "function": {"name": name}}
    raise InvalidInputError(f"tool_choice must be a string, a dict or a bool; got {type(choice).__name__}",
                            field="tool_choice", item=choice)


def _chat_result(message: AIMessage) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=message)],
                      llm_output={"model_name": message.response_metadata.get("model_name")})


class _ChunkMapper:
    """Per-stream state: model name on the first chunk, finish reason once."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.first = True
        self.finished = False

    def __call__(self, chunk: ChatChunk) -> ChatGenerationChunk:
        if self.finished and chunk.finish_reason is not None:
            chunk = chunk.model_copy(update={"finish_reason": None})
        message = chunk_to_message(chunk, model=self.model, first=self.first)
        self.first = False
        self.finished = self.finished or chunk.finish_reason is not None
        return ChatGenerationChunk(message=message)
