"""Structured output through JSON mode: the path for models whose tool calling is not dependable.

LlamaIndex's default structured output forces a tool call (``FunctionCallingProgram``). Some Workers
AI models accept tools but do not honour ``tool_choice`` reliably, so for them (per the catalog's
``tool_calling_reliable``), or when asked, the LLM sends the pydantic schema as a JSON-mode schema
and validates the answer itself.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole
from llama_index.core.prompts.base import BasePromptTemplate
from pydantic import BaseModel, ValidationError

from cf_core.catalog import ModelInfo

from ._schema import inline_refs

StructuredOutputMode = Literal["auto", "tools", "json"]


def use_json_mode(mode: StructuredOutputMode, info: ModelInfo) -> bool:
    """Whether structured output for this model goes through JSON mode rather than a forced tool call."""
    if mode == "json":
        if info.known and not info.supports_json_mode:
            raise ValueError(f"structured_output_mode='json' but {info.id} has no JSON mode in the catalog")
        return True
    if mode == "tools":
        return False
    return info.supports_json_mode and not (info.supports_tools and info.tool_calling_reliable)


def json_schema_for(output_cls: type[BaseModel]) -> dict[str, Any]:
    return inline_refs(output_cls.model_json_schema())


def structured_messages(output_cls: type[BaseModel], prompt: BasePromptTemplate, llm: Any,
                        prompt_args: dict[str, Any]) -> list[ChatMessage]:
    """The prompt's messages, preceded by a short instruction naming the expected object."""
    messages = prompt.format_messages(llm=llm, **prompt_args)
    hint = ChatMessage(role=MessageRole.SYSTEM,
                       content=f"Answer only with a JSON object describing a {output_cls.__name__}.")
    return [hint, *messages]


def parse_structured(output_cls: type[BaseModel], response: ChatResponse) -> BaseModel:
    """Validate the JSON-mode answer (already parsed by the core when it could) as ``output_cls``."""
    raw = response.raw if isinstance(response.raw, dict) else {}
    value = raw.get("json")
    text = response.message.content or ""
    try:
        if value is not None:
            return output_cls.model_validate(value)
        return output_cls.model_validate_json(_strip_fences(text))
    except (ValidationError, ValueError) as exc:
        shown = json.dumps(value)[:300] if value is not None else text[:300]
        raise ValueError(
            f"the model's JSON-mode answer is not a valid {output_cls.__name__}: {exc}. "
            f"Answer began: {shown!r}") from exc


def _strip_fences(text: str) -> str:
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[-1]
        body = body.rsplit("```", 1)[0]
    return body.strip()
