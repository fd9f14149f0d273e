"""Tool calls coming out of a model, whatever shape it used (reference section 3.2):

- flat ``{"name", "arguments": {...}}`` (no id);
- OpenAI-style ``{"id", "type", "function": {"name", "arguments": {...} | "<json>"}}``;
- JSON text in ``response`` (``{"name", "parameters" | "arguments"}``, or a list of them), accepted
  only when tools were sent and every name is one of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .ids import new_id
from .types import ToolCall

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)
_TAGGED = re.compile(r"^<tool_call>\s*(.*?)\s*(?:</tool_call>)?$", re.S)
_PREFIXES = ("<|python_tag|>",)
_MARKERS = ("<|python_tag|>", "<tool_call>", "```json", "```")
_CALL_KEYS = ("name", "type", "function", "arguments", "parameters", "id")


def parse_arguments(value: Any) -> tuple[dict[str, Any], str | None]:
    """(arguments as a dict, the raw text when it was not a JSON object)."""
    if value is None or value == "":
        return {}, None
    if isinstance(value, Mapping):
        return dict(value), None
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}, value
        if isinstance(parsed, dict):
            return parsed, None
        return {}, value
    return {}, json.dumps(value, default=str)


def from_item(item: Any, pattern: str | None, index: int = 0) -> ToolCall | None:
    """One structured tool call (flat or OpenAI-style), or ``None`` if it names no function."""
    if not isinstance(item, Mapping):
        return None
    fn = item.get("function")
    if isinstance(fn, Mapping):
        name, args = fn.get("name"), fn.get("arguments")
    else:
        name, args = item.get("name"), item.get("arguments", item.get("parameters"))
    if not isinstance(name, str) or not name:
        return None
    arguments, raw = parse_arguments(args)
    call_id = item.get("id")
    if not isinstance(call_id, str) or not call_id:
        call_id = new_id(pattern, f"{name}:{index}")
    return ToolCall(id=call_id, name=name, arguments=arguments, raw_arguments=raw)


def from_items(items: Any, pattern: str | None) -> list[ToolCall]:
    if not isinstance(items, Sequence) or isinstance(items, str):
        return []
    calls = [from_item(item, pattern, i) for i, item in enumerate(items)]
    return [c for c in calls if c is not None]


def _strip(text: str) -> str:
    body = text.strip()
    for prefix in _PREFIXES:
        if body.startswith(prefix):
            body = body[len(prefix):].strip()
    for pattern in (_FENCE, _TAGGED):
        m = pattern.match(body)
        if m:
            body = m.group(1).strip()
    return body


def could_be_text_call(text: str) -> bool:
    """Whether streamed text so far may still turn out to be a JSON tool call (so hold it back).

    True only while the text is a prefix of ``[?{"<key>`` (optionally after a code fence or a tool-call
    marker) with a key a tool call starts with; ordinary answers are released at their first words.
    """
    body = text.lstrip()
    for marker in _MARKERS:
        if marker.startswith(body):
            return True
        if body.startswith(marker):
            body = body[len(marker):].lstrip()
            break
    if body.startswith("["):
        body = body[1:].lstrip()
    if not body:
        return True
    if body[0] != "{":
        return False
    rest = body[1:].lstrip()
    if not rest:
        return True
    if rest[0] != '"':
        return False
    end = rest.find('"', 1)
    if end < 0:
        return any(k.startswith(rest[1:]) for k in _CALL_KEYS)
    return rest[1:end] in _CALL_KEYS


def from_text(text: str, tool_names: Sequence[str], pattern: str | None) -> list[ToolCall]:
    """Tool calls written as JSON text, or ``[]`` when the text is not exactly that."""
    if not tool_names or not text.strip():
        return []
    body = _strip(text)
    if not body or body[0] not in "{[":
        return []
    try:
        parsed = json.loads(body)
    except ValueError:
        return []
    items = parsed if isinstance(parsed, list) else [parsed]
    calls: list[ToolCall] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            return []
        if "function" not in item and "arguments" not in item and "parameters" not in item:
            return []
        call = from_item(item, pattern, i)
        if call is None or call.name not in tool_names:
            return []
        calls.append(call)
    return calls
