"""A stand-in for the ``openai`` provider behind the gateway: Chat Completions, deterministic.

It answers with a labelled echo of the conversation, never a model's output. Errors use OpenAI's
own body (``{"error": {...}}``), since provider answers pass through the gateway unchanged.
A model named ``error-<status>`` (e.g. ``error-503``) always fails with that status, so tests can
make a provider step fail on purpose.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from .. import STAND_IN_LABEL
from ..wire import EmuResponse, json_response, sse_event, sse_response
from .usage import count_tokens

_FAIL_MODEL = re.compile(r"^error-(\d{3})$")
MAX_CHOICES = 8


def openai_error(status: int, message: str, *, type_: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> EmuResponse:
    return json_response({"error": {"message": message, "type": type_, "param": param, "code": code}}, status)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def _validate(body: Any) -> tuple[dict[str, Any] | None, EmuResponse | None]:
    if not isinstance(body, dict):
        return None, openai_error(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return None, openai_error(400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return None, openai_error(400, "'messages' must be a non-empty array", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            return None, openai_error(400, f"messages[{i}] must be an object with a 'role'", param=f"messages[{i}]")
    for name in ("max_tokens", "max_completion_tokens", "n"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            return None, openai_error(400, f"'{name}' must be a positive integer", param=name)
    if isinstance(body.get("n"), int) and body["n"] > MAX_CHOICES:
        return None, openai_error(400, f"'n' must be at most {MAX_CHOICES}", param="n")
    return body, None


def _answer(body: dict[str, Any]) -> tuple[str, int, str]:
    """(content, completion tokens, finish reason), truncated to max_tokens words."""
    messages = body["messages"]
    last_user = next((_text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    quoted = last_user if len(last_user) <= 200 else last_user[:200] + "..."
    content = (f"{STAND_IN_LABEL} openai/{body['model']} received {len(messages)} message(s); "
               f'the last user message was: "{quoted}"')
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    words = content.split(" ")
    if isinstance(limit, int) and len(words) > limit:
        return " ".join(words[:limit]), limit, "length"
    return content, count_tokens(content), "stop"


def chat_completions(headers: dict[str, str], raw_body: bytes, new_id: Callable[[str], str]) -> EmuResponse:
    """``POST {gateway}/openai/chat/completions``; ``new_id`` draws seeded ids."""
    auth = headers.get("authorization", "")
    scheme, _, key = auth.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return openai_error(401, "No API key provided. Send 'Authorization: Bearer <key>' (stand-in provider).",
                            code="invalid_api_key")
    try:
        parsed = json.loads(raw_body) if raw_body else None
    except (ValueError, UnicodeDecodeError):
        return openai_error(400, "The request body is not valid JSON.")
    body, error = _validate(parsed)
    if error is not None or body is None:
        return error or openai_error(400, "invalid request")
    failing = _FAIL_MODEL.match(body["model"])
    if failing and 400 <= int(failing.group(1)) <= 599:
        status = int(failing.group(1))
        return openai_error(status, f"Stand-in failure requested by model {body['model']!r}.",
                            type_="server_error" if status >= 500 else "invalid_request_error")
    prompt_tokens = sum(count_tokens(_text_of(m.get("content"))) + 3 for m in body["messages"])
    content, completion_tokens, finish = _answer(body)
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
             "total_tokens": prompt_tokens + completion_tokens}
    completion_id, created = new_id("chatcmpl-"), int(time.time())
    n = body.get("n") or 1
    if body.get("stream") is True:
        include_usage = isinstance(body.get("stream_options"), dict) and body["stream_options"].get("include_usage")
        return sse_response(_stream(completion_id, created, body["model"], content, finish, n,
                                    usage if include_usage else None))
    return json_response({
        "id": completion_id, "object": "chat.completion", "created": created, "model": body["model"],
        "choices": [{"index": i, "message": {"role": "assistant", "content": content, "refusal": None},
                     "logprobs": None, "finish_reason": finish} for i in range(n)],
        "usage": usage, "system_fingerprint": "cf-emulator-stand-in",
    })


def _stream(completion_id: str, created: int, model: str, content: str, finish: str, n: int,
            usage: dict[str, int] | None) -> Iterator[bytes]:
    base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        return sse_event({**base, "choices": choices, **extra})

    for i in range(n):
        yield chunk([{"index": i, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    words = content.split(" ")
    for w, word in enumerate(words):
        piece = word if w == 0 else " " + word
        for i in range(n):
            yield chunk([{"index": i, "delta": {"content": piece}, "finish_reason": None}])
    for i in range(n):
        yield chunk([{"index": i, "delta": {}, "finish_reason": finish}])
    if usage is not None:
        yield chunk([], usage=usage)
    yield sse_event("[DONE]")

