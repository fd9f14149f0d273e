"""Per-model input schemas, built from catalog facts (reference sections 1.2-1.9, 3.1).

Each schema is what the emulator validates a ``/ai/run`` body against before any engine runs, so a
client that sends a field a model does not take gets the 5006 answer it would get from Cloudflare.

Choices that go beyond the reference (UNCONFIRMED, listed in cf_core/local/README.md):
- ``max_tokens`` must be >= 1; ``stop`` is not a native input (only ``/ai/v1`` takes it).
- Message objects may carry extra keys (only ``role``/``content`` are checked, plus
  ``tool_call_id`` for models with an id pattern); tool objects may carry extra keys; tool
  parameter properties need no ``description``.
- Every text model accepts ``lora`` in its schema; models without LoRA answer 5005 afterwards.
- ``tool_choice`` is accepted by every text model.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from ...catalog import ModelInfo
from .validator import Schema

_STR: Schema = {"type": "string"}
_BOOL: Schema = {"type": "boolean"}


def _num(low: float, high: float) -> Schema:
    return {"type": "number", "minimum": low, "maximum": high}


_SAMPLING: dict[str, Schema] = {
    "raw": _BOOL,
    "stream": _BOOL,
    "max_tokens": {"type": "integer", "minimum": 1},
    "temperature": _num(0, 5),
    "top_p": _num(0, 2),
    "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
    "seed": {"type": "integer", "minimum": 1, "maximum": 9999999999},
    "repetition_penalty": _num(0, 2),
    "frequency_penalty": _num(0, 2),
    "presence_penalty": _num(0, 2),
    "lora": _STR,
}

_PARAMETERS: Schema = {
    "type": "object",
    "properties": {"type": _STR, "properties": {"type": "object"}},
    "required": ["type", "properties"],
}
_FLAT_TOOL: Schema = {
    "type": "object",
    "properties": {"name": _STR, "description": _STR, "parameters": _PARAMETERS},
    "required": ["name", "description", "parameters"],
}
_FUNCTION_TOOL: Schema = {
    "type": "object",
    "properties": {"type": {"type": "string", "enum": ["function"]}, "function": _FLAT_TOOL},
    "required": ["type", "function"],
}
_TOOLS: Schema = {"type": "array", "items": {"oneOf": [_FLAT_TOOL, _FUNCTION_TOOL]}}
_TOOL_CHOICE: Schema = {"oneOf": [
    {"type": "string", "enum": ["auto", "none", "required", "any"]},
    {"type": "object", "properties": {
        "type": {"type": "string", "enum": ["function"]},
        "function": {"type": "object", "properties": {"name": _STR}, "required": ["name"]},
    }, "required": ["type", "function"]},
]}
_FUNCTIONS: Schema = {"type": "array", "items": {
    "type": "object", "properties": {"name": _STR, "code": _STR}, "required": ["name", "code"]}}
_RESPONSE_FORMAT: Schema = {
    "type": "object",
    "properties": {"type": {"type": "string", "enum": ["json_object", "json_schema"]},
                   "json_schema": {"type": "object"}},
    "required": ["type"],
    "additionalProperties": False,
}
_BYTES: Schema = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}}
_DATA_URI = "^data:*"


def _content_parts() -> Schema:
    part = {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["text", "image_url"]},
            "text": _STR,
            "image_url": {"type": "object", "properties": {"url": {"type": "string", "pattern": _DATA_URI}},
                          "required": ["url"]},
        },
        "required": ["type"],
    }
    return {"type": ["string", "array"], "items": part}


def _message(info: ModelInfo) -> Schema:
    props: dict[str, Schema] = {
        "role": _STR,
        "content": _content_parts() if info.supports_vision else _STR,
        "name": _STR,
        "tool_calls": {"type": "array"},
        "tool_call_id": _STR,
    }
    if info.tool_call_id_pattern:
        props["tool_call_id"] = {"type": "string", "pattern": info.tool_call_id_pattern}
    return {"type": "object", "properties": props, "required": ["role", "content"]}


def _structured_params(info: ModelInfo) -> list[str]:
    if not info.supports_json_mode or info.structured_output_param is None:
        return []
    return [info.structured_output_param, *info.structured_output_also]


def _text_generation(info: ModelInfo) -> Schema:
    common: dict[str, Schema] = dict(_SAMPLING)
    for param in _structured_params(info):
        common[param] = _RESPONSE_FORMAT if param == "response_format" else {"type": "object"}
    if info.vision_input == "image_field":
        common["image"] = {"oneOf": [_BYTES, _STR]}
    prompt_props = {"prompt": {"type": "string", "minLength": 1, "maxLength": 131072}, **common}
    message_props = {
        "messages": {"type": "array", "items": _message(info)},
        "tools": _TOOLS,
        "tool_choice": _TOOL_CHOICE,
        "functions": _FUNCTIONS,
        **common,
    }
    return {"oneOf": [
        {"type": "object", "properties": prompt_props, "required": ["prompt"], "additionalProperties": False},
        {"type": "object", "properties": message_props, "required": ["messages"], "additionalProperties": False},
    ]}


def _text_list(max_items: int | None) -> Schema:
    array: Schema = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
    if max_items:
        array["maxItems"] = max_items
    return {"oneOf": [{"type": "string", "minLength": 1}, array]}


def _embeddings(info: ModelInfo) -> Schema:
    forms = info.embedding_input_forms or ("text",)
    text_props: dict[str, Schema] = {"text": _text_list(info.max_batch_size)}
    if info.pooling_options:
        text_props["pooling"] = {"type": "string", "enum": list(info.pooling_options)}
    if len(forms) > 1:
        text_props["truncate_inputs"] = _BOOL
    branches: list[Schema] = []
    if "text" in forms:
        branches.append({"type": "object", "properties": text_props, "required": ["text"],
                         "additionalProperties": False})
    contexts: Schema = {"type": "array", "minItems": 1, "items": {
        "type": "object", "properties": {"text": {"type": "string", "minLength": 1}}, "required": ["text"]}}
    if info.max_batch_size:
        contexts["maxItems"] = info.max_batch_size
    if "contexts" in forms or "query_contexts" in forms:
        props: dict[str, Schema] = {"contexts": contexts, "truncate_inputs": _BOOL}
        if "query_contexts" in forms:
            props["query"] = {"type": "string", "minLength": 1}
        branches.append({"type": "object", "properties": props, "required": ["contexts"],
                         "additionalProperties": False})
    return branches[0] if len(branches) == 1 else {"oneOf": branches}


def _text_to_image(info: ModelInfo) -> Schema:
    if not info.accepts_size:
        return {"type": "object", "properties": {
            "prompt": {"type": "string", "minLength": 1, "maxLength": 2048},
            "steps": {"type": "integer", "minimum": 1, "maximum": info.max_steps or 8},
        }, "required": ["prompt"], "additionalProperties": False}
    size: Schema = {"type": "integer", "minimum": 256, "maximum": 2048}
    return {"type": "object", "properties": {
        "prompt": {"type": "string", "minLength": 1},
        "negative_prompt": _STR,
        "height": size,
        "width": size,
        "num_steps": {"type": "integer", "minimum": 1, "maximum": info.max_steps or 20},
        "guidance": {"type": "number"},
        "strength": _num(0, 1),
        "seed": {"type": "integer"},
        "image": _BYTES,
        "image_b64": _STR,
        "mask": _BYTES,
    }, "required": ["prompt"], "additionalProperties": False}


def _speech(info: ModelInfo) -> Schema:
    if info.audio_input == "bytes_or_int_array":
        return {"type": "object", "properties": {"audio": _BYTES}, "required": ["audio"],
                "additionalProperties": False}
    return {"type": "object", "properties": {
        "audio": _STR,
        "task": {"type": "string", "enum": ["transcribe", "translate"]},
        "language": _STR,
        "vad_filter": {"type": ["boolean", "string"]},
        "initial_prompt": _STR,
        "prefix": _STR,
        "beam_size": {"type": "integer", "minimum": 1},
        "condition_on_previous_text": _BOOL,
        "no_speech_threshold": {"type": "number"},
        "compression_ratio_threshold": {"type": "number"},
        "log_prob_threshold": {"type": "number"},
        "hallucination_silence_threshold": {"type": "number"},
    }, "required": ["audio"], "additionalProperties": False}


_TEXT_ONLY: Schema = {"type": "object", "properties": {"text": {"type": "string", "minLength": 1}},
                      "required": ["text"], "additionalProperties": False}
_TRANSLATION: Schema = {"type": "object", "properties": {
    "text": {"type": "string", "minLength": 1},
    "source_lang": _STR,
    "target_lang": _STR,
}, "required": ["text", "target_lang"], "additionalProperties": False}


@cache
def _input_schema(info: ModelInfo) -> Schema:
    if info.task == "Text Generation":
        return _text_generation(info)
    if info.task == "Text Embeddings":
        return _embeddings(info)
    if info.task == "Text-to-Image":
        return _text_to_image(info)
    if info.task == "Automatic Speech Recognition":
        return _speech(info)
    if info.task == "Translation":
        return _TRANSLATION
    return _TEXT_ONLY


def input_schema(info: ModelInfo) -> Schema:
    """The model's input schema (a private copy: callers may publish or change it)."""
    return copy.deepcopy(_input_schema(info))


def checked_schema(info: ModelInfo) -> Schema:
    """The shared, cached schema for validation only (do not change it)."""
    return _input_schema(info)


def output_schema(info: ModelInfo) -> dict[str, Any]:
    """A descriptive output schema for ``/ai/models/schema`` (shape per reference section 1)."""
    usage = {"type": "object", "properties": {k: {"type": "number"} for k in
                                              ("prompt_tokens", "completion_tokens", "total_tokens")}}
    if info.task == "Text Generation":
        return {"oneOf": [
            {"type": "object", "contentType": "application/json", "properties": {
                "response": {"type": "string"}, "tool_calls": {"type": "array"}, "usage": usage}},
            {"type": "string", "contentType": "text/event-stream", "format": "binary"},
        ]}
    if info.task == "Text Embeddings":
        return {"type": "object", "contentType": "application/json", "properties": {
            "shape": {"type": "array", "items": {"type": "number"}},
            "data": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            "pooling": {"type": "string", "enum": ["mean", "cls"]}}}
    if info.task == "Text-to-Image":
        if info.image_output == "png":
            return {"type": "string", "contentType": "image/png", "format": "binary"}
        return {"type": "object", "contentType": "application/json",
                "properties": {"image": {"type": "string"}}}
    if info.task == "Automatic Speech Recognition":
        return {"type": "object", "contentType": "application/json",
                "properties": {"text": {"type": "string"}, "word_count": {"type": "number"},
                               "vtt": {"type": "string"}}, "required": ["text"]}
    if info.task == "Translation":
        return {"type": "object", "contentType": "application/json",
                "properties": {"translated_text": {"type": "string"}}}
    return {"type": "array", "contentType": "application/json", "items": {
        "type": "object", "properties": {"label": {"type": "string"}, "score": {"type": "number"}}}}
