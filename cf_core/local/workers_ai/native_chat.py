"""Text generation on the native ``/ai/run`` route: parse the body, answer in the model's style.

Output styles come from the catalog's ``tool_call_style`` (reference 3.2):

- ``flat``: ``tool_calls: [{"name", "arguments": {...}}]``, no id, ``response: ""``.
- ``openai``: ``tool_calls: [{"id", "type": "function", "function": {"name", "arguments": {...}}}]``.
- ``text``: the call written as JSON text in ``response`` (``{"name", "parameters"}``; several calls
  as a JSON array; UNCONFIRMED how real models lay out more than one).

Streaming (reference 2.1/2.2): one ``{"response": <token>, "p": <padding>}`` event per completion
token, then ``{"response": "", "usage": {...}}``, then ``[DONE]``. Tool calls stream as top-level
``tool_calls`` events: ``openai`` style sends the name first and the JSON-string arguments in
fragments per ``index``; ``flat`` style sends each call whole (with an id and a JSON-string
``arguments``: the only documented native stream shape); both then send
``{"response": "", "finish_reason": "tool_calls"}``. ``text`` style streams the JSON text.

JSON mode with ``stream: true`` is refused with 400/5006 (Cloudflare documents that JSON mode does
not stream, not the error it gives: UNCONFIRMED). A JSON-mode schema the stand-in cannot satisfy
gives 400/5006 "JSON Mode couldn't be met" (message documented; code and status UNCONFIRMED).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

from ...catalog import ModelInfo
from ..wire import ApiError, EmuResponse, envelope, sse_event, sse_response
from .chat_types import (
    ChatRequest,
    ChatResult,
    ImageInput,
    ToolCallIn,
    ToolSpec,
    Turn,
    count_tokens,
    pieces,
)
from .engines.instances import InstanceError
from .validator import bad_input

_PAD = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def padding(index: int) -> str:
    return _PAD[: 1 + (index * 7 + 3) % 29]


def decode_data_uri(uri: str) -> ImageInput:
    head, sep, data = uri.partition(",")
    if not sep:
        raise ApiError(400, 5004, "AiError: Invalid data type for base64 input: the data URI has no ','")
    media = head[5:].split(";")[0] or None
    if head.endswith(";base64"):
        try:
            return ImageInput(base64.b64decode(data, validate=True), media)
        except (binascii.Error, ValueError):
            raise ApiError(400, 5004, "AiError: Invalid data type for base64 input") from None
    return ImageInput(unquote_to_bytes(data), media)


def _image_field(value: Any) -> ImageInput:
    if isinstance(value, list):
        return ImageInput(bytes(value))
    try:
        return ImageInput(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return ImageInput(str(value).encode("latin-1", "replace"))


def _content(value: Any, images: list[ImageInput]) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    texts = []
    for part in value:
        if part.get("type") == "image_url":
            images.append(decode_data_uri(str((part.get("image_url") or {}).get("url", ""))))
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
    return "\n".join(texts)


def _calls_in(raw: Any) -> list[ToolCallIn]:
    out = []
    for call in raw or []:
        if not isinstance(call, dict):
            continue
        fn: dict[str, Any] = call["function"] if isinstance(call.get("function"), dict) else call
        args = fn.get("arguments", fn.get("parameters", {}))
        if isinstance(args, str):
            with contextlib.suppress(ValueError):
                args = json.loads(args)
        out.append(ToolCallIn(str(fn.get("name", "")), args, call.get("id")))
    return out


def parse_turns(messages: list[dict[str, Any]], images: list[ImageInput]) -> list[Turn]:
    return [Turn(role=str(m.get("role", "user")), content=_content(m.get("content"), images),
                 name=m.get("name"), tool_call_id=m.get("tool_call_id"), tool_calls=_calls_in(m.get("tool_calls")))
            for m in messages]


def parse_tools(raw: list[dict[str, Any]]) -> list[ToolSpec]:
    out = []
    for tool in raw:
        fn = tool["function"] if isinstance(tool.get("function"), dict) else tool
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        out.append(ToolSpec(str(fn.get("name", "")), str(fn.get("description", "")), params))
    return out


def parse_tool_choice(raw: Any) -> str:
    if isinstance(raw, dict):
        return str((raw.get("function") or {}).get("name", "auto"))
    if raw == "any":
        return "required"
    return str(raw) if raw else "auto"


def parse_native(body: dict[str, Any], info: ModelInfo) -> ChatRequest:
    """A validated native body as a :class:`ChatRequest`."""
    images: list[ImageInput] = []
    if "prompt" in body:
        turns = [Turn("user", body["prompt"])]
    else:
        turns = parse_turns(body["messages"], images)
    if "image" in body:
        images.insert(0, _image_field(body["image"]))
    schema: dict[str, Any] | None = None
    fmt = body.get("response_format")
    if isinstance(fmt, dict):
        schema = fmt.get("json_schema") if fmt.get("type") == "json_schema" else None
        schema = schema or {"type": "object"}
    if isinstance(body.get("guided_json"), dict):
        schema = body["guided_json"]
    if schema is not None and body.get("stream"):
        raise bad_input("JSON mode does not support streaming: '/stream' cannot be true with a JSON schema")
    return ChatRequest(
        model=info.id, turns=turns, max_tokens=int(body.get("max_tokens", info.default_max_tokens or 256)),
        tools=parse_tools(body.get("tools", [])), tool_choice=parse_tool_choice(body.get("tool_choice")),
        json_schema=schema, images=images, temperature=body.get("temperature"), seed=body.get("seed"),
        lora=body.get("lora"), raw=bool(body.get("raw", False)))


def json_mode_failure(exc: InstanceError) -> ApiError:
    return ApiError(400, 5006, f"AiError: JSON Mode couldn't be met ({exc})")


# -- output ---------------------------------------------------------------------------------------


def _text_calls(result: ChatResult) -> str:
    calls = [{"name": c.name, "parameters": c.arguments} for c in result.tool_calls]
    return json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)


def shape_result(result: ChatResult, info: ModelInfo) -> dict[str, Any]:
    """The native non-streaming ``result`` object."""
    out: dict[str, Any] = {"response": result.text, "tool_calls": []}
    style = info.tool_call_style
    if result.tool_calls and style in ("text", "none"):
        out["response"] = _text_calls(result)
        result.completion_tokens = count_tokens(out["response"])
    elif result.tool_calls:
        out["response"] = ""
        if style == "openai":
            out["tool_calls"] = [{"id": c.id, "type": "function",
                                  "function": {"name": c.name, "arguments": c.arguments}} for c in result.tool_calls]
        else:
            out["tool_calls"] = [{"name": c.name, "arguments": c.arguments} for c in result.tool_calls]
    elif result.is_json:
        out["response"] = result.json_value
    out["usage"] = result.usage()
    return out


def respond(result: ChatResult, info: ModelInfo, stream: bool) -> EmuResponse:
    if not stream:
        return envelope(shape_result(result, info))
    return sse_response(_events(result, info))


def _events(result: ChatResult, info: ModelInfo) -> Iterator[bytes]:
    style = info.tool_call_style
    if result.tool_calls and style in ("flat", "openai"):
        for i, call in enumerate(result.tool_calls):
            arguments = json.dumps(call.arguments, ensure_ascii=False)
            if style == "flat":
                yield sse_event({"tool_calls": [{"id": call.id, "type": "function", "index": i,
                                                 "function": {"name": call.name, "arguments": arguments}}]})
                continue
            yield sse_event({"tool_calls": [{"index": i, "id": call.id, "type": "function",
                                             "function": {"name": call.name, "arguments": ""}}]})
            for fragment in pieces(arguments):
                yield sse_event({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]})
        yield sse_event({"response": "", "finish_reason": "tool_calls"})
    else:
        text = _text_calls(result) if result.tool_calls else result.text
        result.completion_tokens = count_tokens(text)
        for i, piece in enumerate(pieces(text)):
            yield sse_event({"response": piece, "p": padding(i)})
    yield sse_event({"response": "", "usage": result.usage()})
    yield sse_event("[DONE]")
