"""Messages, tools and tool_choice in the shape each model takes (all decided by catalog data).

- assistant ``content`` is never null; assistant tool calls go out OpenAI-shaped with string arguments;
- tool results are strings with ``tool_call_id`` and ``name``;
- ids are rewritten to the model's ``tool_call_id_pattern`` consistently within a conversation;
- images: ``image_url`` data URIs for ``content_parts`` models, the ``image`` byte field for
  ``image_field`` models, refused for models without vision; text-only models get string content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..catalog import ModelInfo
from ..errors import InvalidInputError
from .ids import IdMapper
from .mime import data_uri, image_input

ROLES = frozenset({"system", "user", "assistant", "tool"})
TOOL_CHOICES = {"auto": "auto", "none": "none", "required": "required", "any": "required"}


@dataclass
class Converted:
    messages: list[dict[str, Any]]
    images: list[bytes] = field(default_factory=list)
    """Images taken out of the messages for an ``image_field`` model."""
    chars: int = 0
    """Characters of text, for the context-window estimate."""


def _field(index: int, name: str | None = None) -> str:
    return f"messages[{index}]" + (f".{name}" if name else "")


def _arguments_text(value: Any, where: str) -> str:
    if value is None:
        return "{}"
    if isinstance(value, str):
        return value or "{}"
    if isinstance(value, Mapping):
        return json.dumps(dict(value), ensure_ascii=False)
    raise InvalidInputError(f"{where} must be an object or a JSON string, got {type(value).__name__}",
                            field=where, item=value)


def _tool_call_out(call: Any, where: str, ids: IdMapper) -> dict[str, Any]:
    if not isinstance(call, Mapping):
        raise InvalidInputError(f"{where} must be an object", field=where, item=call)
    fn = call.get("function")
    if isinstance(fn, Mapping):
        name, args = fn.get("name"), fn.get("arguments")
    else:
        name, args = call.get("name"), call.get("arguments", call.get("args", call.get("parameters")))
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{where} has no function name", field=where, item=call)
    raw_id = call.get("id")
    return {"id": ids(raw_id if isinstance(raw_id, str) else None), "type": "function",
            "function": {"name": name, "arguments": _arguments_text(args, f"{where}.arguments")}}


def _content(value: Any, index: int, info: ModelInfo, images: list[tuple[bytes, str]]) -> tuple[str | list[Any], int]:
    """The content to send and its character count; images found are appended to ``images``."""
    where = _field(index, "content")
    if value is None:
        return "", 0
    if isinstance(value, str):
        return value, len(value)
    if not isinstance(value, Sequence):
        raise InvalidInputError(f"{where} must be a string or a list of parts, got {type(value).__name__}",
                                field=where, item=value)
    texts: list[str] = []
    parts: list[dict[str, Any]] = []
    for j, part in enumerate(value):
        pwhere = f"{where}[{j}]"
        if isinstance(part, str):
            part = {"type": "text", "text": part}
        if not isinstance(part, Mapping):
            raise InvalidInputError(f"{pwhere} must be a text or image_url part", field=pwhere, item=part)
        kind = part.get("type")
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise InvalidInputError(f"{pwhere}.text must be a string", field=f"{pwhere}.text", item=text)
            texts.append(text)
            parts.append({"type": "text", "text": text})
        elif kind in ("image_url", "image"):
            if not info.supports_vision:
                raise InvalidInputError(f"{pwhere}: {info.id} does not take images (no vision support); "
                                        f"use a vision model such as @cf/meta/llama-4-scout-17b-16e-instruct",
                                        field=pwhere, limit="vision")
            url = part.get("image_url")
            url = url.get("url") if isinstance(url, Mapping) else url
            if url is None:
                url = part.get("data") or part.get("image")
            if not isinstance(url, str | bytes | bytearray):
                raise InvalidInputError(f"{pwhere} has no image data", field=pwhere, item=part)
            data, media = image_input(url, pwhere)
            images.append((data, media))
            parts.append({"type": "image_url", "image_url": {"url": data_uri(data, media)}})
        else:
            raise InvalidInputError(f"{pwhere}: unsupported content part type {kind!r} (text or image_url)",
                                    field=pwhere, item=part)
    chars = sum(len(t) for t in texts)
    if info.vision_input == "content_parts" and any(p["type"] == "image_url" for p in parts):
        return parts, chars
    return "\n".join(texts), chars


def convert_messages(messages: Any, info: ModelInfo, ids: IdMapper) -> Converted:
    """Check and convert the caller's messages for ``info``'s model."""
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise InvalidInputError("messages must be a list of {'role', 'content'} objects", field="messages",
                                item=type(messages).__name__)
    if not messages:
        raise InvalidInputError("messages must not be empty (at least 1 message)", field="messages", limit=1)
    out: list[dict[str, Any]] = []
    found: list[tuple[bytes, str]] = []
    call_names: dict[str, str] = {}
    chars = 0
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping):
            raise InvalidInputError(f"{_field(i)} must be an object with role and content", field=_field(i),
                                    item=msg)
        role = msg.get("role")
        if role not in ROLES:
            raise InvalidInputError(f"{_field(i, 'role')} must be one of {sorted(ROLES)}, got {role!r}",
                                    field=_field(i, "role"), limit=sorted(ROLES), item=role)
        if role == "tool":
            content = _tool_content(msg.get("content"), i)
            chars += len(content)
            raw_id = msg.get("tool_call_id")
            entry: dict[str, Any] = {"role": "tool", "content": content}
            if isinstance(raw_id, str) and raw_id:
                entry["tool_call_id"] = ids(raw_id)
            name = msg.get("name") or (call_names.get(raw_id) if isinstance(raw_id, str) else None)
            if isinstance(name, str) and name:
                entry["name"] = name
            out.append(entry)
            continue
        body, n = _content(msg.get("content"), i, info, found)
        chars += n
        entry = {"role": role, "content": body}
        calls = msg.get("tool_calls")
        if calls:
            if role != "assistant":
                raise InvalidInputError(f"{_field(i, 'tool_calls')}: only assistant messages carry tool calls",
                                        field=_field(i, "tool_calls"))
            if not isinstance(calls, Sequence):
                raise InvalidInputError(f"{_field(i, 'tool_calls')} must be a list", field=_field(i, "tool_calls"))
            converted = []
            for j, call in enumerate(calls):
                original = call.get("id") if isinstance(call, Mapping) else None
                tc = _tool_call_out(call, f"{_field(i, 'tool_calls')}[{j}]", ids)
                if isinstance(original, str):
                    call_names[original] = tc["function"]["name"]
                chars += len(tc["function"]["arguments"])
                converted.append(tc)
            entry["tool_calls"] = converted
            if info.tool_call_style == "text" and not entry["content"]:
                # These models read tool calls only as text: show them their own call as they write it.
                entry["content"] = _calls_as_text(converted)
        out.append(entry)
    images = [data for data, _ in found]
    if info.vision_input == "image_field" and len(images) > 1:
        raise InvalidInputError(f"{info.id} takes one image per request, got {len(images)}", field="messages",
                                limit=1)
    return Converted(out, images if info.vision_input == "image_field" else [], chars)


def _tool_content(value: Any, index: int) -> str:
    """A tool result as the string every model takes (structured results become JSON text)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence) and value and all(isinstance(p, Mapping) and p.get("type") == "text"
                                                     for p in value):
        return "\n".join(str(p.get("text", "")) for p in value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{_field(index, 'content')}: a tool result must be a string or JSON-serialisable",
                                field=_field(index, "content"), item=repr(value)[:100]) from None


def _calls_as_text(calls: list[dict[str, Any]]) -> str:
    items = []
    for call in calls:
        try:
            args = json.loads(call["function"]["arguments"])
        except ValueError:
            args = call["function"]["arguments"]
        items.append({"name": call["function"]["name"], "parameters": args})
    return json.dumps(items[0] if len(items) == 1 else items, ensure_ascii=False)


def attach_image(converted: Converted, image: Any, info: ModelInfo) -> None:
    """Add the ``image=`` argument to the conversation the way the model takes images."""
    if not info.supports_vision:
        raise InvalidInputError(f"image: {info.id} does not take images (no vision support)", field="image",
                                limit="vision")
    data, media = image_input(image, "image")
    if info.vision_input == "image_field":
        if converted.images:
            raise InvalidInputError(f"{info.id} takes one image per request; the messages already have one",
                                    field="image", limit=1)
        converted.images.append(data)
        return
    for msg in reversed(converted.messages):
        if msg["role"] == "user":
            content = msg["content"]
            parts = content if isinstance(content, list) else ([{"type": "text", "text": content}] if content else [])
            msg["content"] = [*parts, {"type": "image_url", "image_url": {"url": data_uri(data, media)}}]
            return
    raise InvalidInputError("image: there is no user message to attach the image to", field="image")


def normalize_tools(tools: Any) -> list[dict[str, Any]]:
    """Tools in the OpenAI function shape (flat ones accepted), each with an object parameter schema."""
    if isinstance(tools, Mapping) or not isinstance(tools, Sequence) or isinstance(tools, str):
        raise InvalidInputError("tools must be a list of tool definitions", field="tools")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, Mapping):
            raise InvalidInputError(f"{where} must be an object ({{'type': 'function', 'function': {{...}}}})",
                                    field=where, item=tool)
        fn = tool.get("function") if tool.get("type") == "function" or "function" in tool else tool
        if not isinstance(fn, Mapping):
            raise InvalidInputError(f"{where}.function must be an object", field=f"{where}.function", item=fn)
        name = fn.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"{where} has no name", field=f"{where}.name", item=tool)
        if name in seen:
            raise InvalidInputError(f"{where}: duplicate tool name {name!r}", field=f"{where}.name", item=name)
        seen.add(name)
        params = fn.get("parameters")
        if params is None:
            params = {"type": "object", "properties": {}}
        if not isinstance(params, Mapping) or params.get("type", "object") != "object":
            raise InvalidInputError(f"{where}.parameters must be a JSON schema of type 'object'",
                                    field=f"{where}.parameters", item=params)
        params = dict(params)
        params.setdefault("type", "object")
        params.setdefault("properties", {})
        if not isinstance(params["properties"], Mapping):
            raise InvalidInputError(f"{where}.parameters.properties must be an object",
                                    field=f"{where}.parameters.properties")
        description = fn.get("description")
        out.append({"type": "function", "function": {
            "name": name, "description": description if isinstance(description, str) else "",
            "parameters": params}})
    return out


def tool_names(tools: Sequence[Mapping[str, Any]]) -> list[str]:
    return [t["function"]["name"] for t in tools]


def normalize_tool_choice(choice: Any, names: Sequence[str]) -> str | dict[str, Any]:
    """``auto``/``none``/``required`` (``any`` = required), a tool name, or the OpenAI named form."""
    name: Any = None
    if isinstance(choice, str):
        if choice in TOOL_CHOICES:
            return TOOL_CHOICES[choice]
        name = choice
    elif isinstance(choice, Mapping):
        fn = choice.get("function")
        name = fn.get("name") if isinstance(fn, Mapping) else choice.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInputError("tool_choice must be 'auto', 'none', 'required', 'any', a tool name or "
                                "{'type': 'function', 'function': {'name': ...}}", field="tool_choice", item=choice)
    if not names:
        raise InvalidInputError("tool_choice names a tool but no tools were given", field="tool_choice", item=name)
    if name not in names:
        raise InvalidInputError(f"tool_choice names {name!r}, which is not one of the tools {list(names)}",
                                field="tool_choice", limit=list(names), item=name)
    return {"type": "function", "function": {"name": name}}
