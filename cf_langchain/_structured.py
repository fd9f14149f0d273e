"""``with_structured_output`` for Workers AI: tool calling, JSON schema or JSON mode, one call each.

The chosen method becomes request arguments bound to the model (a forced tool, a ``json_schema``
or ``json_mode``) plus an output parser; nothing here retries or calls the model twice. Models whose
catalog entry says tool calling is not dependable get the JSON-schema method instead of
``function_calling`` (Workers AI enforces JSON schemas server-side). JSON mode cannot stream on
Workers AI; cf_core's ``stream_chat`` then makes one non-streaming call and yields it as chunks.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import JsonOutputKeyToolsParser, PydanticToolsParser
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

from cf_core import InvalidInputError, ModelInfo

if TYPE_CHECKING:
    from langchain_core.language_models import LanguageModelInput
    from langchain_core.messages import BaseMessage

    from .chat_models import ChatCloudflareWorkersAI

__all__ = ["Method", "choose_method", "structured_runnable"]

Method = Literal["function_calling", "json_schema", "json_mode"]
_METHODS = ("function_calling", "json_schema", "json_mode")


def choose_method(requested: str | None, model: ModelInfo) -> Method:
    """The method actually used for ``model``: ``requested`` unless the catalog says it won't work."""
    method = requested or "function_calling"
    if method not in _METHODS:
        raise InvalidInputError(f"method must be one of {', '.join(_METHODS)}; got {method!r}",
                                field="method", limit=_METHODS, item=method)
    if method == "function_calling" and not (model.supports_tools and model.tool_calling_reliable):
        if model.supports_json_mode:
            return "json_schema"
        if model.known:
            raise InvalidInputError(
                f"{model.id} supports neither dependable tool calling nor JSON mode, so it cannot "
                "produce structured output; pick a model whose catalog entry has supports_json_mode",
                field="method", item=method)
    if method in ("json_schema", "json_mode") and model.known and not model.supports_json_mode:
        if model.supports_tools and method == "json_schema":
            return "function_calling"
        raise InvalidInputError(f"{model.id} has no JSON mode; use method='function_calling' with a "
                                "tool-calling model", field="method", item=method)
    return method  # type: ignore[return-value]


def _is_pydantic(schema: Any) -> bool:
    return isinstance(schema, type) and is_basemodel_subclass(schema)


def structured_runnable(llm: ChatCloudflareWorkersAI, schema: dict[str, Any] | type, *,
                        method: Method, include_raw: bool, strict: bool | None,
                        requested: str | None) -> Runnable[LanguageModelInput, Any]:
    """The bound model + parser for one method (``requested`` is only recorded for tracing)."""
    if schema is None:
        raise InvalidInputError("a schema is required for structured output", field="schema")
    trace_kwargs: dict[str, Any] = {"method": method}
    if strict is not None:
        trace_kwargs["strict"] = strict
    if requested and requested != method:
        trace_kwargs["requested_method"] = requested
    trace = {"kwargs": trace_kwargs, "schema": schema}
    pydantic = _is_pydantic(schema)
    bound: Runnable[LanguageModelInput, BaseMessage]
    parser: Runnable[Any, Any]
    if method == "function_calling":
        tool = convert_to_openai_tool(schema)
        name = tool["function"]["name"]
        bound = llm.bind_tools([tool], tool_choice=name, ls_structured_output_format=trace)
        parser = (PydanticToolsParser(tools=[schema], first_tool_only=True) if pydantic
                  else JsonOutputKeyToolsParser(key_name=name, first_tool_only=True))
    else:
        bind_args: dict[str, Any] = {"ls_structured_output_format": trace}
        if method == "json_schema":
            bind_args["json_schema"] = convert_to_json_schema(schema)
        else:
            bind_args["json_mode"] = True
        bound = llm.bind(**bind_args)
        parser = PydanticOutputParser(pydantic_object=schema) if pydantic else JsonOutputParser()
    if not include_raw:
        return bound | parser
    parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
    failed = RunnablePassthrough.assign(parsed=lambda _: None)
    with_fallback = parsed.with_fallbacks([failed], exception_key="parsing_error")
    return RunnableMap(raw=bound) | with_fallback
