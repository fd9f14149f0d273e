"""LangChain messages <-> Workers AI chat messages and results.

Going out: LangChain messages become the OpenAI-shaped dicts cf_core takes (the core then adapts
them per model: string-only content, Mistral tool-call ids, vision ``image`` field...). Coming back:
a core ``ChatResult`` becomes an ``AIMessage`` and each ``ChatChunk`` an ``AIMessageChunk``, with
usage, response metadata, reasoning and tool calls in LangChain's standard places.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolCall,
    ToolCallChunk,
    ToolMessage,
)
from langchain_core.messages.ai import InputTokenDetails, UsageMetadata

from cf_core import GatewayInfo, InvalidInputError
from cf_core.workers_ai.types import ChatChunk, ChatResult, Usage

__all__ = [
    "MODEL_PROVIDER", "chunk_to_message", "gateway_metadata", "result_to_message", "to_workers_ai_messages",
    "usage_metadata",
]

MODEL_PROVIDER = "cloudflare"

# Content blocks that carry no text for the model: tool calls travel in ``tool_calls``, and a
# model's own reasoning is not sent back to it.
_SKIPPED_BLOCKS = frozenset({
    "tool_use", "tool_call", "tool_call_chunk", "invalid_tool_call", "server_tool_call",
    "server_tool_call_chunk", "server_tool_result", "reasoning", "thinking", "redacted_thinking",
})
_TEXT_BLOCKS = frozenset({"text", "text-plain"})


# --------------------------------------------------------------------------------------------
# Outgoing
# --------------------------------------------------------------------------------------------

def _image_part(block: Mapping[str, Any], where: str) -> dict[str, Any]:
    """An OpenAI ``image_url`` part with a data URI, from a v1 ``image`` or an ``image_url`` block."""
    if block.get("type") == "image_url":
        raw = block.get("image_url")
        url = raw.get("url") if isinstance(raw, Mapping) else raw
    elif "base64" in block or block.get("source_type") == "base64":
        mime = block.get("mime_type")
        if not mime:
            raise InvalidInputError(f"{where}: a base64 image block needs 'mime_type' (e.g. 'image/png')",
                                    field="mime_type")
        url = f"data:{mime};base64,{block.get('base64') or block.get('data')}"
    else:
        url = block.get("url")
        if url is None and block.get("source_type") == "url":
            url = block.get("data")
    if not isinstance(url, str) or not url:
        raise InvalidInputError(f"{where}: image block has no base64 data or URL", field="image")
    if not url.startswith("data:"):
        raise InvalidInputError(
            f"{where}: Workers AI takes images as base64 data (a 'data:' URI or a base64 image block), "
            f"not remote URLs; got {url[:60]!r}. Download the image and pass its bytes as base64.",
            field="image", item=url[:200])
    return {"type": "image_url", "image_url": {"url": url}}


def _content(content: str | list[str | dict[str, Any]], where: str, *, images: bool) -> str | list[dict[str, Any]]:
    """Text (joined) or, when there are images and they are allowed, OpenAI content parts."""
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, str):
            parts.append({"type": "text", "text": block})
            continue
        kind = block.get("type")
        if kind in _TEXT_BLOCKS:
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind in ("image", "image_url"):
            if not images:
                raise InvalidInputError(f"{where}: images are only accepted in user messages",
                                        field="content", item=kind)
            parts.append(_image_part(block, where))
        elif kind in _SKIPPED_BLOCKS:
            continue
        else:
            raise InvalidInputError(
                f"{where}: content blocks of type {kind!r} are not supported by Workers AI chat models "
                "(text and images only)", field="content", item=kind)
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _text(content: str | list[str | dict[str, Any]], where: str) -> str:
    value = _content(content, where, images=False)
    assert isinstance(value, str)
    return value


def _tool_call_dict(call_id: str | None, name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    return {"id": call_id or "", "type": "function", "function": {"name": name, "arguments": arguments}}


def _tool_result_text(content: str | list[str | dict[str, Any]]) -> str:
    if isinstance(content, str):
        return content
    if all(isinstance(b, str) or b.get("type") in _TEXT_BLOCKS for b in content):
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content)
    # Structured tool output: hand the model the JSON (unicode kept as is).
    return json.dumps(content, ensure_ascii=False, default=str)


def to_workers_ai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Convert a LangChain conversation to Workers AI (OpenAI-shaped) message dicts."""
    out: list[dict[str, Any]] = []
    names_by_id: dict[str, str] = {}
    for i, message in enumerate(messages):
        where = f"messages[{i}] ({message.type})"
        if isinstance(message, SystemMessage):
            out.append({"role": "system", "content": _text(message.content, where)})
        elif isinstance(message, HumanMessage):
            out.append({"role": "user", "content": _content(message.content, where, images=True)})
        elif isinstance(message, AIMessage):
            entry: dict[str, Any] = {"role": "assistant", "content": _text(message.content, where)}
            calls = [_tool_call_dict(c.get("id"), c["name"], c["args"]) for c in message.tool_calls]
            calls += [_tool_call_dict(c.get("id"), c.get("name") or "", c.get("args") or "")
                      for c in message.invalid_tool_calls]
            for call in calls:
                if call["id"]:
                    names_by_id[call["id"]] = call["function"]["name"]
            if calls:
                entry["tool_calls"] = calls
            out.append(entry)
        elif isinstance(message, ToolMessage):
            tool: dict[str, Any] = {"role": "tool", "content": _tool_result_text(message.content),
                                    "tool_call_id": message.tool_call_id}
            name = message.name or names_by_id.get(message.tool_call_id)
            if name:
                tool["name"] = name
            out.append(tool)
        elif isinstance(message, FunctionMessage):
            out.append({"role": "tool", "content": _tool_result_text(message.content), "name": message.name})
        elif isinstance(message, ChatMessage):
            out.append({"role": message.role, "content": _content(message.content, where, images=True)})
        else:
            raise InvalidInputError(f"{where}: unsupported message type {type(message).__name__}",
                                    field="messages", item=type(message).__name__)
    return out


# --------------------------------------------------------------------------------------------
# Incoming
# --------------------------------------------------------------------------------------------

def usage_metadata(usage: Usage | None) -> UsageMetadata | None:
    """LangChain usage (integers only) from a core Usage; cached prompt tokens as ``cache_read``."""
    if usage is None:
        return None
    meta = UsageMetadata(input_tokens=int(usage.prompt_tokens), output_tokens=int(usage.completion_tokens),
                         total_tokens=int(usage.total_tokens))
    if usage.cached_tokens is not None:
        meta["input_token_details"] = InputTokenDetails(cache_read=int(usage.cached_tokens))
    return meta


def gateway_metadata(gateway: GatewayInfo | None) -> dict[str, Any]:
    if gateway is None:
        return {}
    out: dict[str, Any] = {}
    if gateway.cache_status is not None:
        out["cache_status"] = gateway.cache_status
    if gateway.log_id is not None:
        out["log_id"] = gateway.log_id
    if gateway.step is not None:
        out["gateway_step"] = gateway.step
    return out


def _cost_metadata(usage: Usage | None) -> dict[str, Any]:
    # Floats: set on one message/chunk only (LangChain refuses to merge differing floats).
    if usage is None:
        return {}
    out: dict[str, Any] = {}
    if usage.neurons is not None:
        out["neurons"] = float(usage.neurons)
    if usage.estimated_usd is not None:
        out["estimated_usd"] = float(usage.estimated_usd)
    return out


def result_to_message(result: ChatResult, *, model: str) -> AIMessage:
    """An ``AIMessage`` from one complete core chat result."""
    tool_calls: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in result.tool_calls:
        if call.raw_arguments is not None and not call.arguments:
            invalid.append(InvalidToolCall(name=call.name, args=call.raw_arguments, id=call.id,
                                           error="arguments are not a JSON object", type="invalid_tool_call"))
        else:
            tool_calls.append(ToolCall(name=call.name, args=dict(call.arguments), id=call.id, type="tool_call"))
    additional: dict[str, Any] = {}
    if result.reasoning:
        additional["reasoning_content"] = result.reasoning
    metadata: dict[str, Any] = {"model_name": result.model or model, "model_provider": MODEL_PROVIDER,
                                "finish_reason": result.finish_reason}
    metadata.update(gateway_metadata(result.gateway))
    metadata.update(_cost_metadata(result.usage))
    return AIMessage(content=result.text or "", tool_calls=tool_calls, invalid_tool_calls=invalid,
                     additional_kwargs=additional, response_metadata=metadata,
                     usage_metadata=usage_metadata(result.usage))


def chunk_to_message(chunk: ChatChunk, *, model: str, first: bool) -> AIMessageChunk:
    """An ``AIMessageChunk`` from a streamed core chunk.

    ``model_name`` and ``model_provider`` go on the first chunk only (LangChain concatenates strings
    when merging), usage and cost only where the core put usage (exactly one chunk). Most chunks
    carry text alone and become a bare ``AIMessageChunk``: a stream is mostly such chunks.
    """
    if not (first or chunk.tool_call_chunks or chunk.reasoning or chunk.usage is not None
            or chunk.finish_reason is not None or chunk.gateway is not None):
        return AIMessageChunk(content=chunk.text)
    metadata: dict[str, Any] = {}
    if first:
        metadata["model_name"] = model
        metadata["model_provider"] = MODEL_PROVIDER
    if chunk.finish_reason is not None:
        metadata["finish_reason"] = chunk.finish_reason
    if chunk.gateway is not None:
        metadata.update(gateway_metadata(chunk.gateway))
    if chunk.usage is not None:
        metadata.update(_cost_metadata(chunk.usage))
    additional: dict[str, Any] = {"reasoning_content": chunk.reasoning} if chunk.reasoning else {}
    fields: dict[str, Any] = {}
    if chunk.tool_call_chunks:
        fields["tool_call_chunks"] = [
            ToolCallChunk(name=c.name, args=c.arguments, id=c.id, index=c.index, type="tool_call_chunk")
            for c in chunk.tool_call_chunks
        ]
    if chunk.usage is not None:
        fields["usage_metadata"] = usage_metadata(chunk.usage)
    return AIMessageChunk(content=chunk.text, additional_kwargs=additional, response_metadata=metadata, **fields)
