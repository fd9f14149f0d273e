"""LlamaIndex chat messages <-> the core's Workers AI message dicts, and streamed-message assembly.

Outgoing: block-based ``ChatMessage`` objects become ``{"role", "content", "tool_calls",
"tool_call_id", "name"}`` dicts; the core adapts them per model. Incoming: a core ``ChatResult``
(or a stream of ``ChatChunk``) becomes an assistant ``ChatMessage`` carrying ``ToolCallBlock``s and,
like LlamaIndex's OpenAI-style integrations, the raw calls in ``additional_kwargs["tool_calls"]``
(core's streaming structured output looks there to decide whether a chunk holds tool calls).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CitableBlock,
    CitationBlock,
    DocumentBlock,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
    VideoBlock,
)

from cf_core.errors import InvalidInputError
from cf_core.workers_ai import ChatChunk, ToolCall, Usage

_ROLES: dict[MessageRole, str] = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
}


def new_call_id() -> str:
    """An id for a tool call the model sent without one (OpenAI-like shape)."""
    return f"call_{uuid.uuid4().hex[:24]}"


# -- outgoing ----------------------------------------------------------------------------------


def _image_part(block: ImageBlock) -> dict[str, Any]:
    url = str(block.url) if block.url is not None else ""
    if not url.startswith(("data:", "http://", "https://")) or block.image is not None or block.path:
        url = block.inline_url()
    return {"type": "image_url", "image_url": {"url": url}}


def _content(message: ChatMessage) -> tuple[str | list[dict[str, Any]], list[ToolCallBlock]]:
    """The message's content (a string, or parts when it holds images) and its tool-call blocks."""
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    calls: list[ToolCallBlock] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, ImageBlock):
            images.append(_image_part(block))
        elif isinstance(block, ToolCallBlock):
            calls.append(block)
        elif isinstance(block, CitableBlock | CitationBlock):
            texts.extend(b.text for b in block.nested_blocks if isinstance(b, TextBlock))
        elif isinstance(block, ThinkingBlock | CachePoint):
            continue  # reasoning is not sent back; cache points mean nothing to Workers AI
        elif isinstance(block, AudioBlock | VideoBlock | DocumentBlock):
            raise InvalidInputError(
                f"Workers AI chat models take text and images only; got a {block.block_type} block "
                f"in a {message.role.value} message", field="messages", item=block.block_type)
    text = "\n".join(texts)
    if not images:
        return text, calls
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    return parts + images, calls


def legacy_tool_calls(message: ChatMessage) -> list[dict[str, Any]]:
    """OpenAI-shaped calls kept in ``additional_kwargs`` (dicts or SDK objects), as plain dicts."""
    out = []
    for raw in message.additional_kwargs.get("tool_calls") or []:
        data = raw if isinstance(raw, Mapping) else getattr(raw, "model_dump", lambda: {})()
        fn = data.get("function") or {}
        name = fn.get("name") or data.get("name")
        if name:
            out.append({"id": data.get("id") or new_call_id(), "type": "function",
                        "function": {"name": name, "arguments": fn.get("arguments", data.get("arguments", {}))}})
    return out


def to_wire_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Convert LlamaIndex messages to the core's message dicts (tool names looked up by call id)."""
    names_by_id: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for message in messages:
        role = _ROLES.get(message.role, "user")
        content, blocks = _content(message)
        wire: dict[str, Any] = {"role": role, "content": content}
        if role == "assistant":
            calls: list[dict[str, Any]] = [{"id": b.tool_call_id or new_call_id(), "type": "function",
                      "function": {"name": b.tool_name, "arguments": b.tool_kwargs}} for b in blocks]
            calls = calls or legacy_tool_calls(message)
            if calls:
                wire["tool_calls"] = calls
                names_by_id.update({c["id"]: c["function"]["name"] for c in calls})
        elif role == "tool":
            call_id = message.additional_kwargs.get("tool_call_id")
            name = message.additional_kwargs.get("name") or names_by_id.get(call_id or "")
            if call_id:
                wire["tool_call_id"] = call_id
            if name:
                wire["name"] = name
            if not isinstance(content, str):
                wire["content"] = "\n".join(p["text"] for p in content if p.get("type") == "text")
        out.append(wire)
    return out


# -- incoming ----------------------------------------------------------------------------------


def usage_dict(usage: Usage | None) -> dict[str, Any]:
    """Token counts (and neurons / estimated USD when known) under LlamaIndex's usual keys."""
    if usage is None:
        return {}
    data: dict[str, Any] = {"prompt_tokens": usage.prompt_tokens,
                            "completion_tokens": usage.completion_tokens,
                            "total_tokens": usage.total_tokens}
    for key in ("cached_tokens", "neurons", "estimated_usd"):
        value = getattr(usage, key, None)
        if value is not None:
            data[key] = value
    return data


def _openai_call(call_id: str, name: str, arguments: Any) -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def assistant_message(text: str, tool_calls: Sequence[ToolCall], reasoning: str | None = None) -> ChatMessage:
    """The assistant ``ChatMessage`` for one complete answer."""
    blocks: list[Any] = []
    if reasoning:
        blocks.append(ThinkingBlock(content=reasoning))
    if text or not tool_calls:
        blocks.append(TextBlock(text=text))
    blocks.extend(ToolCallBlock(tool_call_id=c.id, tool_name=c.name, tool_kwargs=dict(c.arguments))
                  for c in tool_calls)
    extra: dict[str, Any] = {}
    if tool_calls:
        extra["tool_calls"] = [_openai_call(c.id, c.name, c.arguments) for c in tool_calls]
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=extra)


@dataclass
class _PartialCall:
    id: str
    name: str = ""
    arguments: str = ""

    def kwargs(self) -> dict[str, Any] | str:
        """Parsed arguments once they form a JSON object, else the raw fragment so far."""
        if not self.arguments.strip():
            return {}
        try:
            value = json.loads(self.arguments)
        except ValueError:
            return self.arguments
        return value if isinstance(value, dict) else self.arguments


@dataclass
class StreamAccumulator:
    """Folds streamed chunks into the whole message so far (text, reasoning and tool calls).

    Every chunk yields a response with the whole message so far; most chunks add text only, so
    the parts that change rarely (usage, gateway, tool calls) are converted once when they arrive.
    """

    model: str
    text: str = ""
    reasoning: str = ""
    calls: dict[int, _PartialCall] = field(default_factory=dict)
    usage: Usage | None = None
    finish_reason: str | None = None
    gateway: Any = None
    max_calls: int | None = None
    """Keep only this many tool calls (1 when parallel tool calls are off)."""
    _usage: dict[str, Any] = field(default_factory=dict, repr=False)
    _gateway: dict[str, Any] | None = field(default=None, repr=False)

    def add(self, chunk: ChatChunk) -> ChatResponse:
        self.text += chunk.text
        if chunk.reasoning:
            self.reasoning += chunk.reasoning
        for part in chunk.tool_call_chunks:
            call = self.calls.get(part.index)
            if call is None:
                call = self.calls[part.index] = _PartialCall(id=part.id or new_call_id())
            if part.id and not call.name and not call.arguments:
                call.id = part.id
            if part.name:
                call.name = part.name
            call.arguments += part.arguments
        if chunk.usage is not None:
            self.usage = chunk.usage
            self._usage = usage_dict(chunk.usage)
        if chunk.finish_reason:
            self.finish_reason = chunk.finish_reason
        if chunk.gateway is not None and self.gateway is None:
            self.gateway = chunk.gateway
            self._gateway = chunk.gateway.model_dump()
        return self.response(delta=chunk.text, thinking_delta=chunk.reasoning)

    def message(self) -> ChatMessage:
        if not self.reasoning and not self.calls:  # the common case: text so far, nothing else
            return ChatMessage(role=MessageRole.ASSISTANT, blocks=[TextBlock(text=self.text)])
        blocks: list[Any] = []
        if self.reasoning:
            blocks.append(ThinkingBlock(content=self.reasoning))
        calls = [c for _, c in sorted(self.calls.items()) if c.name][:self.max_calls]
        if self.text or not calls:
            blocks.append(TextBlock(text=self.text))
        blocks.extend(ToolCallBlock(tool_call_id=c.id, tool_name=c.name, tool_kwargs=c.kwargs()) for c in calls)
        extra: dict[str, Any] = {}
        if calls:
            extra["tool_calls"] = [_openai_call(c.id, c.name, c.arguments or "{}") for c in calls]
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=extra)

    def response(self, delta: str = "", thinking_delta: str = "") -> ChatResponse:
        usage = self._usage
        raw: dict[str, Any] = {"model": self.model, "usage": dict(usage) if usage else None,
                               "finish_reason": self.finish_reason}
        if self._gateway is not None:
            raw["gateway"] = dict(self._gateway)
        extra: dict[str, Any] = dict(usage)
        if thinking_delta:
            extra["thinking_delta"] = thinking_delta
        return ChatResponse(message=self.message(), delta=delta, raw=raw, additional_kwargs=extra)
