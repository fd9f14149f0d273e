"""Optional real chat engine: an OpenAI-compatible server answers instead of the stand-in.

Enabled with ``EmulatorConfig(chat_engine_url="http://127.0.0.1:8080/v1")``. The emulator still
validates, formats and streams on Cloudflare's wire; only the answer comes from the server
(``POST {url}/chat/completions``, non-streaming). Tool calls with string or object arguments are
read back; usage comes from the server when it reports it, else from the emulator's word count.
A server failure is answered 502 with code 10002 (the emulator's own choice: it cannot know what
Cloudflare would have said).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from ...wire import ApiError
from ..chat_types import ChatRequest, ChatResult, ToolCallOut, Turn, count_tokens
from .chat_standin import make_call_id


def _message(turn: Turn) -> dict[str, Any]:
    out: dict[str, Any] = {"role": turn.role, "content": turn.content}
    if turn.name and turn.role == "tool":
        out["name"] = turn.name
    if turn.tool_call_id:
        out["tool_call_id"] = turn.tool_call_id
    if turn.tool_calls:
        out["tool_calls"] = [
            {"id": c.id or f"call_{i}", "type": "function",
             "function": {"name": c.name, "arguments": c.arguments if isinstance(c.arguments, str)
                          else json.dumps(c.arguments)}}
            for i, c in enumerate(turn.tool_calls)]
    return out


def request_body(req: ChatRequest) -> dict[str, Any]:
    """The OpenAI chat-completions body for ``req``."""
    body: dict[str, Any] = {"model": req.model, "messages": [_message(t) for t in req.turns],
                            "max_tokens": req.max_tokens, "stream": False}
    if req.stop:
        body["stop"] = req.stop
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.seed is not None:
        body["seed"] = req.seed
    if req.tools:
        body["tools"] = [{"type": "function", "function": {"name": t.name, "description": t.description,
                                                           "parameters": t.parameters}} for t in req.tools]
        if req.tool_choice in ("auto", "none", "required"):
            body["tool_choice"] = req.tool_choice
        elif req.tool_choice == "any":
            body["tool_choice"] = "required"
        else:
            body["tool_choice"] = {"type": "function", "function": {"name": req.tool_choice}}
    if req.json_schema is not None:
        body["response_format"] = {"type": "json_schema",
                                   "json_schema": {"name": "output", "schema": req.json_schema}}
    return body


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {"_raw": raw}
    return value if isinstance(value, dict) else {"_value": value}


class RemoteChatEngine:
    def __init__(self, base_url: str, client: httpx.Client | None = None, seed: int = 0,
                 timeout_s: float = 120.0) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.client = client or httpx.Client(timeout=timeout_s)
        self.seed = seed

    def close(self) -> None:
        self.client.close()

    def generate(self, req: ChatRequest) -> ChatResult:
        try:
            resp = self.client.post(self.url, json=request_body(req))
            resp.raise_for_status()
            data = resp.json()
            choice = data["choices"][0]
            message = choice.get("message") or {}
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise ApiError(502, 10002, f"AiError: the chat engine at {self.url} failed: {exc}") from None
        text = message.get("content") or ""
        result = ChatResult(text=text.strip())
        for i, call in enumerate(message.get("tool_calls") or []):
            fn = call.get("function") or {}
            result.tool_calls.append(ToolCallOut(make_call_id(req, i, self.seed), str(fn.get("name", "")),
                                                 _arguments(fn.get("arguments"))))
        if req.json_schema is not None and not result.tool_calls:
            try:
                result.json_value, result.is_json = json.loads(result.text), True
            except ValueError:
                raise ApiError(400, 5006, "AiError: JSON Mode couldn't be met") from None
        usage = data.get("usage") or {}
        result.prompt_tokens = int(usage.get("prompt_tokens") or req.prompt_tokens())
        completion = usage.get("completion_tokens")
        result.completion_tokens = int(completion) if completion is not None else count_tokens(result.text)
        reason = choice.get("finish_reason")
        result.finish_reason = "tool_calls" if result.tool_calls else ("length" if reason == "length" else "stop")
        return result
