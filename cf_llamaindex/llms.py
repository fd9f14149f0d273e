"""``CloudflareWorkersAI``: a LlamaIndex function-calling LLM for Workers AI text models.

Every request goes through ``cf_core`` (which adapts messages, tools and JSON mode per model from
the catalog, retries, and routes through AI Gateway); this class only translates LlamaIndex's
messages, tools and responses.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Generator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json
from llama_index.core.prompts.base import BasePromptTemplate
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel, Field

from cf_core import catalog
from cf_core.errors import InvalidInputError
from cf_core.workers_ai import ChatResult

from ._client import CloudflareConnection
from ._messages import (
    StreamAccumulator,
    assistant_message,
    legacy_tool_calls,
    new_call_id,
    to_wire_messages,
    usage_dict,
)
from ._schema import tool_dicts
from ._structured import (
    StructuredOutputMode,
    json_schema_for,
    parse_structured,
    structured_messages,
    use_json_mode,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
# Arguments of the core's chat() a caller may pass per call (chat(messages, temperature=0, ...)).
_CALL_KEYS = frozenset({
    "max_tokens", "temperature", "top_p", "top_k", "seed", "repetition_penalty", "frequency_penalty",
    "presence_penalty", "stop", "tools", "tool_choice", "json_schema", "json_mode", "image", "raw",
    "lora", "extra", "gateway", "timeout",
})
# Keys LlamaIndex's own code may pass down that mean nothing on the wire.
_IGNORED_KEYS = frozenset({"tool_required", "verbose", "formatted"})
_PARALLEL = "allow_parallel_tool_calls"


def _resolve_tool_choice(tool_choice: str | dict[str, Any] | None, tool_required: bool,
                         names: Sequence[str]) -> str | dict[str, Any]:
    if tool_choice is None:
        return "required" if tool_required else "auto"
    if isinstance(tool_choice, dict):
        return tool_choice
    if tool_choice in ("auto", "none", "required", "any"):
        return tool_choice
    if tool_choice not in names:
        raise InvalidInputError(f"tool_choice names {tool_choice!r}, which is not one of the tools "
                                f"given ({', '.join(names) or 'none'})", field="tool_choice", item=tool_choice)
    return {"type": "function", "function": {"name": tool_choice}}


@lru_cache(maxsize=256)
def _metadata(model: str, context_window: int | None, max_tokens: int | None,
              is_function_calling: bool | None) -> LLMMetadata:
    """Shared between calls: callers get copies (``metadata``) or the dump (``to_payload``)."""
    info = catalog.info(model)
    calling = info.supports_tools if is_function_calling is None else is_function_calling
    return LLMMetadata(
        context_window=context_window or info.context_window or DEFAULT_CONTEXT_WINDOW,
        num_output=max_tokens or info.default_max_tokens or DEFAULT_NUM_OUTPUTS,
        is_chat_model=True,
        is_function_calling_model=calling,
        model_name=model,
        system_role=MessageRole.SYSTEM,
    )


@lru_cache(maxsize=256)
def _metadata_dump(model: str, context_window: int | None, max_tokens: int | None,
                   is_function_calling: bool | None) -> tuple[tuple[str, Any], ...]:
    return tuple(_metadata(model, context_window, max_tokens, is_function_calling).model_dump().items())


def _metadata_payload(model: str, context_window: int | None, max_tokens: int | None,
                      is_function_calling: bool | None) -> dict[str, Any]:
    return dict(_metadata_dump(model, context_window, max_tokens, is_function_calling))


class CloudflareWorkersAI(CloudflareConnection, FunctionCallingLLM):
    """Chat, completion, streaming, tool calling and structured output on Workers AI.

    Example::

        llm = CloudflareWorkersAI(model="@cf/meta/llama-3.3-70b-instruct-fp8-fast")
        llm.complete("Name a planet.")
    """

    model: str = Field(default=DEFAULT_MODEL, description="Workers AI model id.")
    temperature: float | None = Field(default=None, ge=0, le=5)
    max_tokens: int | None = Field(default=None, ge=1, description="Workers AI defaults to 256.")
    top_p: float | None = Field(default=None)
    top_k: int | None = Field(default=None)
    seed: int | None = Field(default=None)
    repetition_penalty: float | None = Field(default=None)
    frequency_penalty: float | None = Field(default=None)
    presence_penalty: float | None = Field(default=None)
    context_window: int | None = Field(default=None, description="Override the catalog's value.")
    is_function_calling: bool | None = Field(
        default=None, description="Override whether the model is used for native tool calling.")
    structured_output_mode: StructuredOutputMode = Field(
        default="auto", description="auto: tool calls where dependable, else JSON mode; or force one.")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Model-specific fields sent verbatim with every request.")

    @classmethod
    def class_name(cls) -> str:
        return "CloudflareWorkersAI"

    @property
    def model_info(self) -> catalog.ModelInfo:
        return catalog.info(self.model)

    @property
    def metadata(self) -> LLMMetadata:
        return _metadata(self.model, self.context_window, self.max_tokens, self.is_function_calling).model_copy()

    def to_payload(self) -> dict[str, Any]:
        # Sent with every call's instrumentation events: the same (non-sensitive) dict as the
        # base class builds, from a cached dump instead of a fresh LLMMetadata each time.
        return {"class_name": self.class_name(),
                **_metadata_payload(self.model, self.context_window, self.max_tokens, self.is_function_calling)}

    # -- request / response translation (shared by all eight entry points) ----------------------

    def _params(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
        """Core ``chat`` arguments for these messages, and the cap on tool calls (None: no cap)."""
        params: dict[str, Any] = {
            "messages": to_wire_messages(messages),
            "gateway": self.gateway_arg,
        }
        for key in ("max_tokens", "temperature", "top_p", "top_k", "seed", "repetition_penalty",
                    "frequency_penalty", "presence_penalty"):
            value = getattr(self, key)
            if value is not None:
                params[key] = value
        max_calls = None if kwargs.get(_PARALLEL, True) else 1
        for key, value in kwargs.items():
            if key in _CALL_KEYS:
                params[key] = value
            elif key != _PARALLEL and key not in _IGNORED_KEYS:
                logger.debug("CloudflareWorkersAI ignores unknown argument %r", key)
        if self.additional_kwargs:
            params["extra"] = {**self.additional_kwargs, **(params.get("extra") or {})}
        if params.get("gateway") is None:
            params.pop("gateway")
        return params, max_calls

    def _response(self, result: ChatResult, max_calls: int | None) -> ChatResponse:
        calls = result.tool_calls if max_calls is None else result.tool_calls[:max_calls]
        self.record_usage(result.model or self.model, result.usage, result.gateway)
        usage = usage_dict(result.usage)
        raw: dict[str, Any] = {**result.raw, "model": result.model, "usage": usage or None,
                               "finish_reason": result.finish_reason, "json": result.json}
        if result.gateway is not None:
            raw["gateway"] = result.gateway.model_dump()
        return ChatResponse(message=assistant_message(result.text, calls, result.reasoning),
                            raw=raw, additional_kwargs=usage)

    def _accumulator(self, max_calls: int | None) -> StreamAccumulator:
        return StreamAccumulator(model=self.model, max_calls=max_calls)

    def _finish_stream(self, acc: StreamAccumulator) -> None:
        self.record_usage(self.model, acc.usage, acc.gateway)

    @staticmethod
    def _as_completion(response: ChatResponse) -> CompletionResponse:
        return CompletionResponse(text=response.message.content or "", delta=response.delta,
                                  raw=response.raw, additional_kwargs=response.additional_kwargs)

    @staticmethod
    def _prompt_messages(prompt: str) -> list[ChatMessage]:
        return [ChatMessage(role=MessageRole.USER, content=prompt)]

    # -- chat ---------------------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        params, max_calls = self._params(messages, kwargs)
        return self._response(self.client.workers_ai.chat(self.model, **params), max_calls)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        params, max_calls = self._params(messages, kwargs)
        return self._response(await self.async_client.workers_ai.chat(self.model, **params), max_calls)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        params, max_calls = self._params(messages, kwargs)
        chunks = self.client.workers_ai.stream_chat(self.model, **params)

        def gen() -> Generator[ChatResponse, None, None]:
            acc = self._accumulator(max_calls)
            for chunk in chunks:
                yield acc.add(chunk)
            self._finish_stream(acc)

        return gen()

    @llm_chat_callback()
    async def astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        params, max_calls = self._params(messages, kwargs)
        chunks = self.async_client.workers_ai.stream_chat(self.model, **params)

        async def gen() -> AsyncGenerator[ChatResponse, None]:
            acc = self._accumulator(max_calls)
            async for chunk in chunks:
                yield acc.add(chunk)
            self._finish_stream(acc)

        return gen()

    # -- completion (the prompt is sent as one user message) --------------------------------------

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return self._as_completion(self.chat(self._prompt_messages(prompt), **kwargs))

    @llm_completion_callback()
    async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return self._as_completion(await self.achat(self._prompt_messages(prompt), **kwargs))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        responses = self.stream_chat(self._prompt_messages(prompt), **kwargs)

        def gen() -> Generator[CompletionResponse, None, None]:
            for response in responses:
                yield self._as_completion(response)

        return gen()

    @llm_completion_callback()
    async def astream_complete(self, prompt: str, formatted: bool = False,
                               **kwargs: Any) -> CompletionResponseAsyncGen:
        responses = await self.astream_chat(self._prompt_messages(prompt), **kwargs)

        async def gen() -> AsyncGenerator[CompletionResponse, None]:
            async for response in responses:
                yield self._as_completion(response)

        return gen()

    # -- tools --------------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence[BaseTool],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: str | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        info = self.model_info
        if tools and info.known and not info.supports_tools and not self.is_function_calling:
            raise InvalidInputError(
                f"{self.model} does not support tool calling (per the model catalog); pick a model "
                "with supports_tools, or use a ReActAgent", field="tools", item=self.model)
        messages = list(chat_history or [])
        if user_msg is not None:
            messages.append(ChatMessage(role=MessageRole.USER, content=user_msg)
                            if isinstance(user_msg, str) else user_msg)
        prepared: dict[str, Any] = {"messages": messages, **kwargs, _PARALLEL: allow_parallel_tool_calls}
        if tools:
            wire_tools = tool_dicts(tools)
            names = [t["function"]["name"] for t in wire_tools]
            prepared["tools"] = wire_tools
            prepared["tool_choice"] = _resolve_tool_choice(tool_choice, tool_required, names)
        return prepared

    def _validate_chat_with_tools_response(self, response: ChatResponse, tools: Sequence[BaseTool],
                                           allow_parallel_tool_calls: bool = False,
                                           **kwargs: Any) -> ChatResponse:
        if allow_parallel_tool_calls:
            return response
        blocks = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
        if len(blocks) > 1:
            drop = {id(b) for b in blocks[1:]}
            response.message.blocks = [b for b in response.message.blocks if id(b) not in drop]
            if "tool_calls" in response.message.additional_kwargs:
                response.message.additional_kwargs["tool_calls"] = \
                    response.message.additional_kwargs["tool_calls"][:1]
        return response

    def get_tool_calls_from_response(self, response: ChatResponse, error_on_no_tool_call: bool = True,
                                     **kwargs: Any) -> list[ToolSelection]:
        blocks = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
        if not blocks:  # a message written by another integration: OpenAI-style calls in additional_kwargs
            blocks = [ToolCallBlock(tool_call_id=c["id"], tool_name=c["function"]["name"],
                                    tool_kwargs=c["function"]["arguments"])
                      for c in legacy_tool_calls(response.message)]
        selections = []
        for block in blocks:
            if not block.tool_call_id:
                # Written back so the message kept in memory and the tool result share the id.
                block.tool_call_id = new_call_id()
            args: Any = block.tool_kwargs
            if isinstance(args, str):
                try:
                    args = parse_partial_json(args) if args.strip() else {}
                except (ValueError, TypeError):
                    args = {}
            selections.append(ToolSelection(tool_id=block.tool_call_id, tool_name=block.tool_name,
                                            tool_kwargs=args if isinstance(args, dict) else {}))
        if not selections and error_on_no_tool_call:
            raise ValueError(f"Expected at least one tool call from {self.model}, but got none "
                             f"(answer: {(response.message.content or '')[:200]!r}).")
        return selections

    # -- structured output ----------------------------------------------------------------------

    def _json_structured(self) -> bool:
        return (self.pydantic_program_mode == PydanticProgramMode.DEFAULT
                and use_json_mode(self.structured_output_mode, self.model_info))

    def structured_predict(self, output_cls: type[Any], prompt: BasePromptTemplate,
                           llm_kwargs: dict[str, Any] | None = None, **prompt_args: Any) -> Any:
        if not self._json_structured():
            return super().structured_predict(output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args)
        messages = structured_messages(output_cls, prompt, self, prompt_args)
        response = self.chat(messages, **(llm_kwargs or {}), json_schema=json_schema_for(output_cls))
        return parse_structured(output_cls, response)

    async def astructured_predict(self, output_cls: type[Any], prompt: BasePromptTemplate,
                                  llm_kwargs: dict[str, Any] | None = None, **prompt_args: Any) -> Any:
        if not self._json_structured():
            return await super().astructured_predict(output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args)
        messages = structured_messages(output_cls, prompt, self, prompt_args)
        response = await self.achat(messages, **(llm_kwargs or {}), json_schema=json_schema_for(output_cls))
        return parse_structured(output_cls, response)

    def stream_structured_predict(self, output_cls: type[Any], prompt: BasePromptTemplate,
                                  llm_kwargs: dict[str, Any] | None = None,
                                  **prompt_args: Any) -> Generator[Any, None, None]:
        if not self._json_structured():
            return super().stream_structured_predict(output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args)
        # JSON mode cannot stream on Workers AI: the whole object arrives as one item.
        value = self.structured_predict(output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args)

        def gen() -> Generator[Any, None, None]:
            yield value

        return gen()

    async def astream_structured_predict(self, output_cls: type[Any], prompt: BasePromptTemplate,
                                         llm_kwargs: dict[str, Any] | None = None,
                                         **prompt_args: Any) -> AsyncGenerator[Any, None]:
        if not self._json_structured():
            return await super().astream_structured_predict(output_cls, prompt, llm_kwargs=llm_kwargs,
                                                            **prompt_args)
        value: BaseModel = await self.astructured_predict(output_cls, prompt, llm_kwargs=llm_kwargs,
                                                          **prompt_args)

        async def gen() -> AsyncGenerator[Any, None]:
            yield value

        return gen()
