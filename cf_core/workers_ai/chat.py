"""Chat: build the native ``/ai/run`` request for a model, and read every output style into a ChatResult.

Everything model-specific comes from the catalog (``cf_core.catalog.info``): the JSON-mode parameter,
vision input, tool-call id pattern, context window, default max_tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import BaseModel

from .. import catalog
from ..catalog import ModelInfo
from ..errors import InvalidInputError
from ..gateway import GatewayInfo
from ..http import ApiRequest, Call, GatewayArg, RawResponse, unwrap
from ..usage import usage_from_payload
from . import checks, toolcalls
from .ids import IdMapper
from .messages import (
    attach_image,
    convert_messages,
    normalize_tool_choice,
    normalize_tools,
    tool_names,
)
from .think import split_leading_think
from .types import ChatResult, ToolCall, Usage

SAMPLING_FIELDS = ("max_tokens", "temperature", "top_p", "top_k", "seed", "repetition_penalty",
                   "frequency_penalty", "presence_penalty")
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


@dataclass(frozen=True)
class ChatPlan:
    """A checked chat request and what its parsers need to know about it."""

    model: str
    info: ModelInfo
    body: dict[str, Any]
    tool_names: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()
    max_tokens: int | None = None
    """The token limit in force (the caller's, else the model's default), to tell a cut answer."""
    json_mode: bool = False
    gateway: GatewayArg = None
    timeout: float | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)

    @property
    def id_pattern(self) -> str | None:
        return self.info.tool_call_id_pattern

    @property
    def streams(self) -> bool:
        """JSON mode cannot stream on Workers AI; neither can a model the catalog says cannot."""
        return self.info.supports_streaming and not self.json_mode

    def request(self, *, stream: bool = False) -> ApiRequest:
        body = dict(self.body)
        if stream and self.streams:
            body["stream"] = True
        body.update(self.extra_body)
        return ApiRequest(method="POST", path=f"/ai/run/{self.model}", gateway_path=f"workers-ai/{self.model}",
                          json=body, gateway=self.gateway, timeout=self.timeout)


def json_schema_of(value: Any) -> dict[str, Any]:
    """A bare JSON schema from a dict, a pydantic model class, or OpenAI's ``{name, schema}`` wrapper."""
    if isinstance(value, type) and issubclass(value, BaseModel):
        return value.model_json_schema()
    if isinstance(value, Mapping):
        schema = dict(value)
        if schema.get("type") == "json_schema" and isinstance(schema.get("json_schema"), Mapping):
            return json_schema_of(schema["json_schema"])
        if isinstance(schema.get("schema"), Mapping) and "properties" not in schema and "type" not in schema:
            return dict(schema["schema"])  # the service takes the schema itself, not OpenAI's wrapper
        return schema
    raise InvalidInputError(f"json_schema must be a JSON schema dict or a pydantic model class, got "
                            f"{type(value).__name__}", field="json_schema", item=value)


def _json_mode_fields(info: ModelInfo, json_schema: Any, json_mode: bool) -> dict[str, Any]:
    if json_schema is None and not json_mode:
        return {}
    schema = json_schema_of(json_schema) if json_schema is not None else None
    param = info.structured_output_param if info.supports_json_mode else None
    if param is None:
        raise InvalidInputError(f"{info.id} has no JSON mode; use a model with one (e.g. "
                                f"@cf/meta/llama-3.3-70b-instruct-fp8-fast) or tool calling",
                                field="json_schema" if json_schema is not None else "json_mode", limit="json mode")
    if param == "guided_json":
        return {"guided_json": schema if schema is not None else {"type": "object"}}
    if schema is None:
        return {"response_format": {"type": "json_object"}}
    return {"response_format": {"type": "json_schema", "json_schema": schema}}


def _stops(stop: Any) -> tuple[str, ...]:
    if stop is None:
        return ()
    values = [stop] if isinstance(stop, str) else stop
    if not isinstance(values, Sequence) or not all(isinstance(s, str) and s for s in values):
        raise InvalidInputError("stop must be a non-empty string or a list of them", field="stop", item=stop)
    return tuple(values)


def plan_chat(model: str, messages: Any = None, *, prompt: str | None = None, max_tokens: int | None = None,
              temperature: float | None = None, top_p: float | None = None, top_k: int | None = None,
              seed: int | None = None, repetition_penalty: float | None = None,
              frequency_penalty: float | None = None, presence_penalty: float | None = None,
              stop: str | Sequence[str] | None = None, tools: Sequence[Mapping[str, Any]] | None = None,
              tool_choice: str | Mapping[str, Any] | None = None, json_schema: Any = None,
              json_mode: bool = False, image: Any = None, raw: bool | None = None, lora: str | None = None,
              extra: Mapping[str, Any] | None = None, gateway: GatewayArg = None,
              timeout: float | None = None) -> ChatPlan:
    """Check every argument locally and build the request body (raises InvalidInputError)."""
    model = checks.model_id(model)
    info = catalog.info(model)
    checks.task(info, "Text Generation", "chat")
    if messages is not None and prompt is not None:
        raise InvalidInputError("give either messages or prompt, not both", field="prompt")
    if messages is None and prompt is None:
        raise InvalidInputError("chat needs messages or a prompt", field="messages", limit=1)
    sampling = {"max_tokens": max_tokens, "temperature": temperature, "top_p": top_p, "top_k": top_k,
                "seed": seed, "repetition_penalty": repetition_penalty, "frequency_penalty": frequency_penalty,
                "presence_penalty": presence_penalty}
    body: dict[str, Any] = {}
    tool_list = normalize_tools(tools) if tools else []
    names = tool_names(tool_list)
    choice = normalize_tool_choice(tool_choice, names) if tool_choice is not None else None
    if prompt is not None:
        checks.text(prompt, "prompt")
    # The prompt form takes neither tools nor image parts: those need a conversation.
    if prompt is not None and (tool_list or (image is not None and info.vision_input == "content_parts")):
        messages, prompt = [{"role": "user", "content": prompt}], None
    ids = IdMapper(info.tool_call_id_pattern)
    images: list[bytes] = []
    if prompt is not None:
        body["prompt"] = prompt
        chars = len(prompt)
        if image is not None:
            if not info.supports_vision:
                raise InvalidInputError(f"image: {model} does not take images (no vision support)",
                                        field="image", limit="vision")
            from .mime import image_input

            images.append(image_input(image, "image")[0])
    else:
        converted = convert_messages(messages, info, ids)
        if image is not None:
            attach_image(converted, image, info)
        body["messages"] = converted.messages
        images, chars = converted.images, converted.chars
    if images:
        body["image"] = list(images[0])
    if raw is not None:
        body["raw"] = bool(raw)
    if lora is not None:
        checks.text(lora, "lora")
        if info.known and not info.supports_lora:
            raise InvalidInputError(f"lora: {model} does not take LoRA adapters", field="lora", limit="lora")
        body["lora"] = lora
    for name, value in sampling.items():
        if value is not None:
            body[name] = checks.number(name, value)
    if tool_list and not (choice == "none" and not info.supports_tools):
        body["tools"] = tool_list
        chars += len(json.dumps(tool_list))
        # tool_choice is only known to work on the models the catalog flags for tool calling; the
        # others read tools from the prompt, so "none" is honoured above by not sending tools.
        if choice is not None and info.supports_tools:
            body["tool_choice"] = choice
    json_fields = _json_mode_fields(info, json_schema, json_mode)
    body.update(json_fields)
    chars += sum(len(json.dumps(v)) for v in json_fields.values())
    checks.check_context(model, chars, info.context_window, "prompt" if "prompt" in body else "messages")
    return ChatPlan(model=model, info=info, body=body, tool_names=tuple(names) if "tools" in body else (), stop=_stops(stop),
                    max_tokens=max_tokens if max_tokens is not None else info.default_max_tokens,
                    json_mode=bool(json_fields), gateway=checks.gateway(gateway), timeout=timeout,
                    extra_body=checks.extra(extra))


# -- reading answers --------------------------------------------------------------------------


def apply_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """``text`` cut before the first stop sequence, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def infer_finish(given: str | None, calls: Sequence[ToolCall] | bool, usage: Usage | None,
                 max_tokens: int | None, stopped: bool) -> str:
    if calls:
        return "tool_calls"
    if stopped:
        return "stop"
    if given:
        return given
    if usage is not None and max_tokens and usage.completion_tokens >= max_tokens:
        return "length"
    return "stop"


def parse_json_text(text: str) -> Any | None:
    """The JSON value in ``text`` (a code fence allowed around it), or ``None``."""
    m = _FENCE.match(text)
    body = m.group(1) if m else text.strip()
    try:
        return json.loads(body)
    except ValueError:
        return None


def content_text(content: Any, json_mode: bool) -> tuple[str, Any | None]:
    """(text, parsed JSON-mode value) of a ``response`` / ``message.content`` of any shape."""
    if content is None:
        return "", None
    if isinstance(content, str):
        return content, parse_json_text(content) if json_mode else None
    if isinstance(content, list) and content and all(isinstance(c, Mapping) and "generated_text" in c
                                                     for c in content):
        return "".join(str(c["generated_text"]) for c in content), None
    if isinstance(content, list) and all(isinstance(c, Mapping) and c.get("type") == "text" for c in content):
        return "".join(str(c.get("text", "")) for c in content), None
    if isinstance(content, dict | list):
        return json.dumps(content, ensure_ascii=False), content if json_mode else None
    return str(content), None


def _reasoning(source: Mapping[str, Any]) -> str | None:
    for key in ("reasoning_content", "reasoning"):
        value = source.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def parse_result(plan: ChatPlan, result: Any, gateway: GatewayInfo | None = None) -> ChatResult:
    """A ChatResult from the unwrapped ``result`` of any native or OpenAI-shaped answer."""
    raw: dict[str, Any] = dict(result) if isinstance(result, Mapping) else {"response": result}
    choices = raw.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        choice = choices[0]
        message = choice.get("message") or choice.get("delta") or {}
        message = message if isinstance(message, Mapping) else {}
        content, items = message.get("content"), message.get("tool_calls")
        reasoning, given = _reasoning(message), choice.get("finish_reason")
    else:
        content, items = raw.get("response"), raw.get("tool_calls")
        reasoning, given = _reasoning(raw), raw.get("finish_reason")
    if isinstance(content, str):
        thought, content = split_leading_think(content)
        if thought:
            reasoning = f"{reasoning}\n{thought}" if reasoning else thought
    text, value = content_text(content, plan.json_mode)
    calls = toolcalls.from_items(items, plan.id_pattern)
    if not calls and plan.tool_names and not plan.json_mode:
        calls = toolcalls.from_text(text, plan.tool_names, plan.id_pattern)
        if calls:
            text = ""
    stopped = False
    if not plan.json_mode:
        text, stopped = apply_stop(text, plan.stop)
    usage = usage_from_payload(plan.model, raw.get("usage"))
    finish = infer_finish(given if isinstance(given, str) else None, calls, usage, plan.max_tokens, stopped)
    return ChatResult(model=plan.model, text=text, tool_calls=calls, usage=usage, finish_reason=finish,
                      reasoning=reasoning, json=value, gateway=gateway, raw=raw)


def parse_response(plan: ChatPlan, resp: RawResponse) -> ChatResult:
    return parse_result(plan, unwrap(resp), resp.gateway)


def chat(model: str, messages: Sequence[Mapping[str, Any]] | None = None, *, prompt: str | None = None,
         max_tokens: int | None = None, temperature: float | None = None, top_p: float | None = None,
         top_k: int | None = None, seed: int | None = None, repetition_penalty: float | None = None,
         frequency_penalty: float | None = None, presence_penalty: float | None = None,
         stop: str | Sequence[str] | None = None, tools: Sequence[Mapping[str, Any]] | None = None,
         tool_choice: str | Mapping[str, Any] | None = None, json_schema: Any = None, json_mode: bool = False,
         image: bytes | str | None = None, raw: bool | None = None, lora: str | None = None,
         extra: Mapping[str, Any] | None = None, gateway: GatewayArg = None,
         timeout: float | None = None) -> Call[ChatResult]:
    """Run a text-generation model on ``messages`` (or a ``prompt``) and return one ChatResult.

    Tools, tool_choice, JSON mode (``json_schema`` / ``json_mode``) and images are adapted to the model
    from the catalog; ``stop`` is applied to the text locally (``/ai/run`` has no stop field).
    """
    plan = plan_chat(model, messages, prompt=prompt, max_tokens=max_tokens, temperature=temperature, top_p=top_p,
                     top_k=top_k, seed=seed, repetition_penalty=repetition_penalty,
                     frequency_penalty=frequency_penalty, presence_penalty=presence_penalty, stop=stop, tools=tools,
                     tool_choice=tool_choice, json_schema=json_schema, json_mode=json_mode, image=image, raw=raw,
                     lora=lora, extra=extra, gateway=gateway, timeout=timeout)
    return Call(plan.request(), partial(parse_response, plan))
