"""The chat request and result the engines see, independent of the route that carried them.

Both ``/ai/run`` (native) and ``/ai/v1/chat/completions`` (OpenAI) parse into :class:`ChatRequest`,
one engine answers with a :class:`ChatResult`, and each route formats it in its own shapes.

Token counting (UNCONFIRMED, the emulator's own rule): a token is a whitespace-separated word.
``prompt_tokens`` = words in every message's text (plus words of the JSON of the tool definitions
and of the JSON schema in JSON mode); ``completion_tokens`` = words of the answer text, or of the
JSON text of the tool calls / JSON-mode value. Streaming emits exactly one event per completion
token, so a client can check ``usage`` against what it received.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

_PIECE = re.compile(r"\s*\S+")


def count_tokens(text: str) -> int:
    return len(text.split())


def pieces(text: str) -> Iterator[str]:
    """Split ``text`` into one piece per token; the pieces concatenate back to ``text`` (but
    trailing whitespace, which carries no token)."""
    for m in _PIECE.finditer(text):
        yield m.group(0)


def truncate_tokens(text: str, limit: int) -> tuple[str, bool]:
    """The first ``limit`` tokens of ``text`` and whether anything was cut."""
    out = list(pieces(text))
    if len(out) <= limit:
        return text.strip(), False
    return "".join(out[:limit]).strip(), True


@dataclass
class ImageInput:
    data: bytes
    declared_type: str | None = None
    """The MIME type a data URI declared, if any."""


@dataclass
class ToolCallIn:
    """A call the assistant made earlier in the conversation."""

    name: str
    arguments: Any
    id: str | None = None


@dataclass
class Turn:
    role: str
    content: str
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCallIn] = field(default_factory=list)


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]


ToolChoice = Literal["auto", "none", "required"] | str
"""``auto``/``none``/``required`` (``any`` is read as ``required``), or a tool name to force."""


@dataclass
class ChatRequest:
    model: str
    turns: list[Turn]
    max_tokens: int
    stop: list[str] = field(default_factory=list)
    tools: list[ToolSpec] = field(default_factory=list)
    tool_choice: ToolChoice = "auto"
    json_schema: dict[str, Any] | None = None
    """Set in JSON mode; ``{"type": "object"}`` for a bare ``json_object``."""
    images: list[ImageInput] = field(default_factory=list)
    temperature: float | None = None
    seed: int | None = None
    lora: str | None = None
    raw: bool = False

    def prompt_tokens(self) -> int:
        total = sum(count_tokens(t.content) for t in self.turns)
        total += sum(count_tokens(json.dumps(call.arguments)) for t in self.turns for call in t.tool_calls)
        if self.tools:
            total += count_tokens(json.dumps([t.__dict__ for t in self.tools]))
        if self.json_schema is not None:
            total += count_tokens(json.dumps(self.json_schema))
        return total

    def fingerprint(self) -> str:
        """A stable text of the request, for deterministic ids."""
        return json.dumps([self.model, [(t.role, t.content) for t in self.turns],
                           [t.name for t in self.tools]], ensure_ascii=False)


@dataclass
class ToolCallOut:
    id: str
    name: str
    arguments: dict[str, Any]


FinishReason = Literal["stop", "length", "tool_calls"]


@dataclass
class ChatResult:
    text: str = ""
    json_value: Any = None
    """The JSON-mode value (``text`` then holds its JSON text)."""
    is_json: bool = False
    tool_calls: list[ToolCallOut] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: FinishReason = "stop"

    def usage(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.prompt_tokens + self.completion_tokens}
