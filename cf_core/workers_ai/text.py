"""Text classification, translation, and the raw ``run`` call."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from .. import catalog
from ..errors import CloudflareError, InvalidInputError
from ..http import ApiRequest, Call, GatewayArg, RawResponse, unwrap
from . import checks
from .types import Classification, ClassificationResult, TranslationResult

CLASSIFY_MODEL = "@cf/huggingface/distilbert-sst-2-int8"
TRANSLATE_MODEL = "@cf/meta/m2m100-1.2b"


def _run_request(model: str, body: Any, gateway: GatewayArg) -> ApiRequest:
    return ApiRequest(method="POST", path=f"/ai/run/{model}", gateway_path=f"workers-ai/{model}", json=body,
                      gateway=checks.gateway(gateway))


def _parse_classification(model: str, resp: RawResponse) -> ClassificationResult:
    result = unwrap(resp)
    items = result
    if isinstance(items, list) and len(items) == 1 and isinstance(items[0], list):
        items = items[0]  # one text in a batch form: [[...]]
    if not isinstance(items, list):
        raise CloudflareError(f"unexpected classification answer from {model}: {str(result)[:200]}")
    labels = [Classification(label=str(i["label"]), score=float(i["score"])) for i in items
              if isinstance(i, Mapping) and "label" in i and isinstance(i.get("score"), int | float)]
    labels.sort(key=lambda c: c.score, reverse=True)
    return ClassificationResult(labels=labels, model=model, gateway=resp.gateway)


def classify(text: str, *, model: str = CLASSIFY_MODEL, gateway: GatewayArg = None) -> Call[ClassificationResult]:
    """Classify ``text`` (sentiment with the default model); labels come back best first."""
    model = checks.model_id(model)
    checks.task(catalog.info(model), "Text Classification", "classify")
    body = {"text": checks.text(text, "text")}
    return Call(_run_request(model, body, gateway), partial(_parse_classification, model))


def _parse_translation(model: str, source: str, target: str, resp: RawResponse) -> TranslationResult:
    result = unwrap(resp)
    translated = result.get("translated_text") if isinstance(result, Mapping) else None
    if not isinstance(translated, str):
        raise CloudflareError(f"unexpected translation answer from {model}: {str(result)[:200]}")
    return TranslationResult(text=translated, source_lang=source, target_lang=target, model=model,
                             gateway=resp.gateway)


def translate(text: str, *, target_lang: str, source_lang: str = "en", model: str = TRANSLATE_MODEL,
              gateway: GatewayArg = None) -> Call[TranslationResult]:
    """Translate ``text`` between short language codes (``en``, ``fr``, ``es``...)."""
    model = checks.model_id(model)
    checks.task(catalog.info(model), "Translation", "translate")
    body = {"text": checks.text(text, "text"), "source_lang": checks.text(source_lang, "source_lang"),
            "target_lang": checks.text(target_lang, "target_lang")}
    return Call(_run_request(model, body, gateway), partial(_parse_translation, model, source_lang, target_lang))


def _parse_any(resp: RawResponse) -> Any:
    if resp.content_type in ("application/json", "text/json"):
        return unwrap(resp)
    return resp.content


def run(model: str, inputs: Mapping[str, Any] | bytes, *, gateway: GatewayArg = None) -> Call[Any]:
    """Run any model with inputs sent as they are: returns the unwrapped ``result``, or the raw bytes
    of a non-JSON answer (an image)."""
    model = checks.model_id(model)
    if isinstance(inputs, bytes | bytearray | memoryview):
        if not inputs:
            raise InvalidInputError("inputs is empty", field="inputs", limit=1)
        request = ApiRequest(method="POST", path=f"/ai/run/{model}", gateway_path=f"workers-ai/{model}",
                             content=bytes(inputs), headers={"content-type": "application/octet-stream"},
                             gateway=checks.gateway(gateway))
    elif isinstance(inputs, Mapping):
        if inputs.get("stream"):
            raise InvalidInputError("run() returns one answer; use stream_chat() to stream", field="inputs.stream")
        request = _run_request(model, dict(inputs), gateway)
    else:
        raise InvalidInputError(f"inputs must be a mapping (the JSON body) or bytes, got {type(inputs).__name__}",
                                field="inputs")
    return Call(request, _parse_any)
