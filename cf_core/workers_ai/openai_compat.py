"""The OpenAI-compatible endpoints ``/ai/v1/chat/completions`` and ``/ai/v1/embeddings``.

Bodies go out as given (OpenAI's schema, with a Workers AI model name); answers are plain OpenAI
objects, not v4 envelopes (a stray envelope is unwrapped anyway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from .. import catalog
from ..errors import CloudflareError, InvalidInputError
from ..http import ApiRequest, Call, GatewayArg, RawResponse, StreamCall, unwrap
from . import checks
from .chat import ChatPlan
from .stream import ChatStreamParser
from .types import ChatChunk


def _request(endpoint: str, body: dict[str, Any], gateway: GatewayArg) -> ApiRequest:
    return ApiRequest(method="POST", path=f"/ai/v1/{endpoint}", gateway_path=f"workers-ai/v1/{endpoint}",
                      json=body, gateway=checks.gateway(gateway))


def _parse(resp: RawResponse) -> dict[str, Any]:
    payload = unwrap(resp)
    if not isinstance(payload, dict):
        raise CloudflareError(f"expected an OpenAI object from /ai/v1, got {str(payload)[:200]}")
    return payload


def _check_chat_body(body: Any) -> str:
    if not isinstance(body, Mapping):
        raise InvalidInputError("body must be a Chat Completions mapping", field="body")
    model = checks.model_id(body.get("model"))
    messages = body.get("messages")
    if not isinstance(messages, Sequence) or isinstance(messages, str) or not messages:
        raise InvalidInputError("body.messages must be a non-empty list", field="body.messages", limit=1)
    return model


def openai_chat(body: Mapping[str, Any], *, gateway: GatewayArg = None) -> Call[dict[str, Any]]:
    """POST a Chat Completions body to ``/ai/v1/chat/completions``; returns the OpenAI response dict."""
    _check_chat_body(body)
    if body.get("stream"):
        raise InvalidInputError("openai_chat returns one answer; use stream_openai_chat() to stream",
                                field="body.stream")
    return Call(_request("chat/completions", dict(body), gateway), _parse)


def stream_openai_chat(body: Mapping[str, Any], *, gateway: GatewayArg = None) -> StreamCall[ChatChunk]:
    """Stream a Chat Completions body from ``/ai/v1/chat/completions`` (``stream: true`` is set) as ChatChunks.

    Content, ``reasoning_content`` and tool-call deltas are parsed like ``stream_chat``'s; with
    ``stream_options.include_usage`` the usage arrives once, on the last chunk. ``stop`` and tools are
    the service's business here (sent as given, nothing is cut or re-read locally). Raises StreamError
    if the stream stops before ``[DONE]``.
    """
    model = _check_chat_body(body)
    if body.get("stream") is False:
        raise InvalidInputError("stream_openai_chat streams; use openai_chat() for one answer", field="body.stream")
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    info = catalog.info(model)
    # No tool names and no stops: the OpenAI route returns structured tool calls and applies stop itself.
    plan = ChatPlan(model=model, info=info, body={},
                    max_tokens=limit if isinstance(limit, int) and not isinstance(limit, bool)
                    else info.default_max_tokens)
    return StreamCall(_request("chat/completions", {**body, "stream": True}, gateway),
                      partial(ChatStreamParser, plan))


def openai_embeddings(model: str, input: str | Sequence[str], *,
                      gateway: GatewayArg = None) -> Call[dict[str, Any]]:
    """POST to ``/ai/v1/embeddings``; returns the OpenAI embeddings dict (``data[i].embedding``)."""
    model = checks.model_id(model)
    from .embeddings import check_texts

    items = check_texts(input)
    payload: str | list[str] = input if isinstance(input, str) else items
    return Call(_request("embeddings", {"model": model, "input": payload}, gateway), _parse)
