"""``POST /accounts/{account}/ai/run/{model}``: look the model up, rate-limit, validate, dispatch.

Order of checks: unknown model (400/5007), rate limit (429), ``?queueRequest=true`` (async batch,
not emulated: 400/5006 saying so), body parse (400/3003 empty, 5006 not JSON), licence agreement
(403/5016), schema (400/5006), LoRA (405/5005), then the task's engine. The binding-only
``options`` key (``rejectIfBusy``) is accepted and ignored.

A text-generation body's ``"stop": null`` is dropped before validation: langchain-cloudflare sends
it in every native call (its ``stop`` field defaults to ``None``) and its suite passes against the
live service, so Cloudflare accepts it. A non-null ``stop`` stays a 5006 (not a documented input).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...catalog import ModelInfo, load_catalog
from ..router import Router
from ..wire import ApiError, EmuRequest, EmuResponse, envelope
from . import native_chat, tasks
from .engines.instances import InstanceError
from .schemas import checked_schema
from .validator import bad_input, check, json_type

if TYPE_CHECKING:
    from .state import WorkersAIState

AGREEMENT_MESSAGE = "User has not agreed to Llama3.2 model terms"


def lookup(model: str) -> ModelInfo:
    entry = load_catalog().get(model)
    if entry is None:
        raise ApiError(400, 5007, f"AiError: No such model {model} or task")
    return entry


def parse_body(req: EmuRequest, info: ModelInfo) -> dict[str, Any] | bytes:
    """JSON object, or raw bytes for a speech model sent a non-JSON body."""
    if info.task == "Automatic Speech Recognition" and not _looks_json(req):
        if not req.body:
            raise ApiError(400, 3003, "Request is missing a body")
        return req.body
    body = req.json()
    if not isinstance(body, dict):
        raise bad_input(f"Type mismatch of '/', '{json_type(body)}' not in 'object'")
    body.pop("options", None)
    if info.task == "Text Generation" and "stop" in body and body["stop"] is None:
        del body["stop"]
    return body


def _looks_json(req: EmuRequest) -> bool:
    if req.content_type == "application/json":
        return True
    return req.content_type in ("", "text/plain") and req.body.lstrip()[:1] == b"{"


def _agreement(state: WorkersAIState, info: ModelInfo, account: str, body: dict[str, Any] | bytes) -> bool:
    """True when this request is the agreement itself (answered without running the model)."""
    if not (info.requires_agreement and state.config.require_vision_agreement):
        return False
    if state.agreed(account, info.id):
        return False
    if isinstance(body, dict) and body.get("prompt") == "agree" and set(body) <= {"prompt", "max_tokens"}:
        state.agree(account, info.id)
        return True
    raise ApiError(403, 5016, AGREEMENT_MESSAGE)


def run(state: WorkersAIState, req: EmuRequest) -> EmuResponse:
    info = lookup(req.params["model"])
    account = req.params["account"]
    if state.config.rate_limits:
        state.limiter.check(account, info.id, info.rate_limit_rpm)
    if req.query.get("queueRequest", "").lower() in ("true", "1"):
        raise bad_input("queueRequest (async batch) is not emulated")
    body = parse_body(req, info)
    if _agreement(state, info, account, body):
        return envelope({"response": "[stand-in] Thank you for agreeing to the model's licence terms.",
                         "tool_calls": [], "usage": {"prompt_tokens": 1, "completion_tokens": 10,
                                                     "total_tokens": 11}})
    if isinstance(body, dict):
        check(checked_schema(info), body)
    state.count(info.id)
    if isinstance(body, dict) and "lora" in body and not info.supports_lora:
        raise ApiError(405, 5005, f"AiError: Model does not support LoRA: {info.id}")
    return _dispatch(state, info, body)


def _dispatch(state: WorkersAIState, info: ModelInfo, body: dict[str, Any] | bytes) -> EmuResponse:
    if info.task == "Automatic Speech Recognition":
        return tasks.speech(info, body)
    assert isinstance(body, dict)
    if info.task == "Text Generation":
        chat = native_chat.parse_native(body, info)
        try:
            result = state.chat_engine.generate(chat)
        except InstanceError as exc:
            raise native_chat.json_mode_failure(exc) from None
        return native_chat.respond(result, info, stream=bool(body.get("stream")))
    if info.task == "Text Embeddings":
        return tasks.embeddings(state, info, body)
    if info.task == "Text-to-Image":
        return tasks.text_to_image(state, info, body)
    if info.task == "Translation":
        return tasks.translation(body)
    if info.task == "Text Classification":
        return tasks.classification(body)
    raise ApiError(400, 5007, f"AiError: the emulator has no engine for task {info.task!r} ({info.id})")


def register(router: Router, state: WorkersAIState) -> None:
    router.add("POST", "/accounts/{account}/ai/run/{model:path}", lambda req: run(state, req))
