"""OpenAI-compatible routes: ``/ai/v1/chat/completions`` and ``/ai/v1/embeddings`` (reference 5).

Success bodies are plain OpenAI objects (not wrapped); errors use Cloudflare's v4 envelope.
The same engines and per-model limits as ``/ai/run`` answer. Emulator choices (UNCONFIRMED):

- Body keys outside the documented list are refused with 5006; ``n`` must be 1.
- ``image_url`` content parts only for vision models; text parts for every model.
- ``response_format`` (OpenAI ``{name, schema, strict}`` wrapper) only for models with JSON mode,
  whichever native parameter they use; JSON mode with ``stream`` is refused (5006).
- Tool calls come back as OpenAI ``tool_calls`` (string arguments) for every model, whatever its
  native style.
- Embeddings honour ``encoding_format: "base64"`` (little-endian float32), as OpenAI does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from ...catalog import ModelInfo
from ..router import Router
from ..wire import ApiError, EmuRequest, EmuResponse, json_response, sse_event, sse_response
from .chat_types import ChatRequest, ChatResult, ImageInput, count_tokens, pieces
from .engines.instances import InstanceError
from .native_chat import json_mode_failure, parse_tool_choice, parse_tools, parse_turns
from .routes import lookup
from .tasks import as_lists, vectors
from .validator import Schema, bad_input, check

if TYPE_CHECKING:
    from .state import WorkersAIState

_STR: Schema = {"type": "string"}


def _chat_schema(info: ModelInfo) -> Schema:
    part_types = ["text", "image_url"] if info.supports_vision else ["text"]
    part: Schema = {"type": "object", "properties": {
        "type": {"type": "string", "enum": part_types}, "text": _STR,
        "image_url": {"type": "object", "properties": {"url": {"type": "string", "pattern": "^data:"}},
                      "required": ["url"]}}, "required": ["type"]}
    message: Schema = {"type": "object", "properties": {
        "role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool", "function"]},
        "content": {"type": ["string", "array", "null"], "items": part},
        "name": _STR, "tool_call_id": _STR, "tool_calls": {"type": "array"}}, "required": ["role"]}
    tool: Schema = {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["function"]},
        "function": {"type": "object", "properties": {"name": _STR, "description": _STR,
                                                      "parameters": {"type": "object"}}, "required": ["name"]}},
        "required": ["type", "function"]}
    number: Schema = {"type": "number"}
    return {"type": "object", "properties": {
        "model": _STR,
        "messages": {"type": "array", "minItems": 1, "items": message},
        "max_tokens": {"type": "integer", "minimum": 1},
        "max_completion_tokens": {"type": "integer", "minimum": 1},
        "temperature": {"type": "number", "minimum": 0, "maximum": 5},
        "top_p": number, "seed": {"type": "integer"},
        "stop": {"type": ["string", "array", "null"], "items": _STR},
        "n": {"type": "integer", "minimum": 1, "maximum": 1},
        "frequency_penalty": number, "presence_penalty": number, "logit_bias": {"type": "object"},
        "logprobs": {"type": "boolean"}, "top_logprobs": {"type": "integer"},
        "response_format": {"type": "object", "properties": {
            "type": {"type": "string", "enum": ["text", "json_object", "json_schema"]},
            "json_schema": {"type": "object", "properties": {"name": _STR, "schema": {"type": "object"},
                                                             "strict": {"type": ["boolean", "null"]},
                                                             "description": _STR}}},
            "required": ["type"]},
        "tools": {"type": "array", "items": tool},
        "tool_choice": {"type": ["string", "object"]},
        "parallel_tool_calls": {"type": "boolean"},
        "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "reasoning_effort": _STR, "chat_template_kwargs": {"type": "object"},
        "user": _STR, "metadata": {"type": "object"}, "options": {"type": "object"},
    }, "required": ["model", "messages"], "additionalProperties": False}


def _model(body: dict[str, Any], task: str) -> ModelInfo:
    if not isinstance(body.get("model"), str):
        raise bad_input("required properties at '/' are 'model'")
    info = lookup(body["model"])
    if info.task != task:
        raise ApiError(400, 5007, f"AiError: No such model {info.id} or task: it is a {info.task} model")
    return info


def _json_schema(body: dict[str, Any], info: ModelInfo) -> dict[str, Any] | None:
    fmt = body.get("response_format")
    if not isinstance(fmt, dict) or fmt.get("type") == "text":
        return None
    if not info.supports_json_mode:
        raise bad_input(f"'/response_format' is not supported by {info.id}")
    if fmt["type"] == "json_object":
        return {"type": "object"}
    wrapper = fmt.get("json_schema") or {}
    schema = wrapper.get("schema")
    return schema if isinstance(schema, dict) else {"type": "object"}


def parse_chat(body: dict[str, Any], info: ModelInfo) -> ChatRequest:
    check(_chat_schema(info), body)
    images: list[ImageInput] = []
    stop = body.get("stop")
    schema = _json_schema(body, info)
    if schema is not None and body.get("stream"):
        raise bad_input("JSON mode does not support streaming: '/stream' cannot be true with a JSON schema")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens", info.default_max_tokens or 256))
    return ChatRequest(
        model=info.id, turns=parse_turns(body["messages"], images), max_tokens=int(max_tokens),
        stop=[stop] if isinstance(stop, str) else list(stop or []),
        tools=parse_tools(body.get("tools", [])), tool_choice=parse_tool_choice(body.get("tool_choice")),
        json_schema=schema, images=images, temperature=body.get("temperature"), seed=body.get("seed"))


def _completion_id(req: ChatRequest) -> str:
    return "chatcmpl-" + hashlib.blake2b(req.fingerprint().encode(), digest_size=12).hexdigest()


def _tool_calls(result: ChatResult) -> list[dict[str, Any]]:
    return [{"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)}}
            for c in result.tool_calls]


def completion(req: ChatRequest, result: ChatResult) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None if result.tool_calls else result.text,
                               "tool_calls": _tool_calls(result)}
    return {"id": _completion_id(req), "object": "chat.completion", "created": int(time.time()),
            "model": req.model, "choices": [{"index": 0, "message": message,
                                             "finish_reason": result.finish_reason, "logprobs": None}],
            "usage": result.usage()}


def chunks(req: ChatRequest, result: ChatResult, include_usage: bool) -> Iterator[bytes]:
    base = {"id": _completion_id(req), "object": "chat.completion.chunk", "created": int(time.time()),
            "model": req.model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse_event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
                                               "logprobs": None}]})

    yield chunk({"role": "assistant", "content": ""})
    for i, call in enumerate(_tool_calls(result)):
        yield chunk({"tool_calls": [{"index": i, "id": call["id"], "type": "function",
                                     "function": {"name": call["function"]["name"], "arguments": ""}}]})
        for fragment in pieces(call["function"]["arguments"]):
            yield chunk({"tool_calls": [{"index": i, "function": {"arguments": fragment}}]})
    if not result.tool_calls:
        for piece in pieces(result.text):
            yield chunk({"content": piece})
    yield chunk({}, result.finish_reason)
    if include_usage:
        yield sse_event({**base, "choices": [], "usage": result.usage()})
    yield sse_event("[DONE]")


def chat_completions(state: WorkersAIState, req: EmuRequest) -> EmuResponse:
    body = req.json_object()
    info = _model(body, "Text Generation")
    if state.config.rate_limits:
        state.limiter.check(req.params["account"], info.id, info.rate_limit_rpm)
    chat = parse_chat(body, info)
    state.count(info.id)
    try:
        result = state.chat_engine.generate(chat)
    except InstanceError as exc:
        raise json_mode_failure(exc) from None
    if not body.get("stream"):
        return json_response(completion(chat, result))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    return sse_response(chunks(chat, result, include_usage))


def _embedding_schema(info: ModelInfo) -> Schema:
    text: Schema = {"type": "string", "minLength": 1}
    many: Schema = {"type": "array", "minItems": 1, "items": text}
    if info.max_batch_size:
        many["maxItems"] = info.max_batch_size
    return {"type": "object", "properties": {
        "model": _STR, "input": {"oneOf": [text, many]},
        "encoding_format": {"type": "string", "enum": ["float", "base64"]},
        "dimensions": {"type": "integer", "enum": [info.dimensions or 768]},
        "user": _STR, "input_type": _STR,
    }, "required": ["model", "input"], "additionalProperties": False}


def embeddings(state: WorkersAIState, req: EmuRequest) -> EmuResponse:
    body = req.json_object()
    info = _model(body, "Text Embeddings")
    if state.config.rate_limits:
        state.limiter.check(req.params["account"], info.id, info.rate_limit_rpm)
    check(_embedding_schema(info), body)
    state.count(info.id)
    texts = [body["input"]] if isinstance(body["input"], str) else list(body["input"])
    matrix = vectors(state, info, texts, info.default_pooling or "mean")
    data: list[dict[str, Any]] = []
    rows: Any = as_lists(matrix)
    if body.get("encoding_format") == "base64":
        rows = [base64.b64encode(r.astype("<f4").tobytes()).decode("ascii") for r in np.asarray(matrix)]
    for i, row in enumerate(rows):
        data.append({"object": "embedding", "index": i, "embedding": row})
    tokens = sum(count_tokens(t) for t in texts)
    return json_response({"object": "list", "data": data, "model": info.id,
                          "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})


def register(router: Router, state: WorkersAIState) -> None:
    router.add("POST", "/accounts/{account}/ai/v1/chat/completions", lambda req: chat_completions(state, req))
    router.add("POST", "/accounts/{account}/ai/v1/embeddings", lambda req: embeddings(state, req))
