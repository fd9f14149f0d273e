"""The OpenAI-compatible endpoints ``/ai/v1/chat/completions`` and ``/ai/v1/embeddings``.

Bodies go out as given (OpenAI's schema, with a Workers AI model name); answers are plain OpenAI
objects, not v4 envelopes (a stray envelope is unwrapped anyway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import CloudflareError, InvalidInputError
from ..http import ApiRequest, Call, GatewayArg, RawResponse, unwrap
from . import checks


def _request(endpoint: str, body: dict[str, Any], gateway: GatewayArg) -> ApiRequest:
    return ApiRequest(method="POST", path=f"/ai/v1/{endpoint}", gateway_path=f"workers-ai/v1/{endpoint}",
                      json=body, gateway=checks.gateway(gateway))


def _parse(resp: RawResponse) -> dict[str, Any]:
    payload = unwrap(resp)
    if not isinstance(payload, dict):
        raise CloudflareError(f"expected an OpenAI object from /ai/v1, got {str(payload)[:200]}")
    return payload


def openai_chat(body: Mapping[str, Any], *, gateway: GatewayArg = None) -> Call[dict[str, Any]]:
    """POST a Chat Completions body to ``/ai/v1/chat/completions``; returns the OpenAI response dict."""
    if not isinstance(body, Mapping):
        raise InvalidInputError("body must be a Chat Completions mapping", field="body")
    checks.model_id(body.get("model"))
    messages = body.get("messages")
    if not isinstance(messages, Sequence) or isinstance(messages, str) or not messages:
        raise InvalidInputError("body.messages must be a non-empty list", field="body.messages", limit=1)
    if body.get("stream"):
        raise InvalidInputError("openai_chat returns one answer; use stream_chat() to stream",
                                field="body.stream")
    return Call(_request("chat/completions", dict(body), gateway), _parse)


def openai_embeddings(model: str, input: str | Sequence[str], *,
                      gateway: GatewayArg = None) -> Call[dict[str, Any]]:
    """POST to ``/ai/v1/embeddings``; returns the OpenAI embeddings dict (``data[i].embedding``)."""
    model = checks.model_id(model)
    from .embeddings import check_texts

    items = check_texts(input)
    payload: str | list[str] = input if isinstance(input, str) else items
    return Call(_request("embeddings", {"model": model, "input": payload}, gateway), _parse)
