"""Text-to-image and speech-to-text: each model's input form from the catalog, one result shape out.

Images come back as raw PNG bytes (Stable Diffusion family) or ``{"image": "<base64>"}`` JSON
(FLUX); either way the result holds bytes and a content type read from the bytes themselves.
Audio goes in as the raw body (``@cf/openai/whisper``; ``{"audio": [ints]}`` when extra fields are
given) or as ``{"audio": "<base64>"}`` (whisper-large-v3-turbo).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import partial
from typing import Any

from .. import catalog
from ..catalog import ModelInfo
from ..errors import CloudflareError, InvalidInputError
from ..http import ApiRequest, Call, GatewayArg, RawResponse, unwrap
from . import checks
from .mime import b64decode, sniff
from .types import ImageResult, TranscriptionResult, Word

IMAGE_SIZE = (256, 2048)
TASKS = ("transcribe", "translate")


def _steps_field(model_info: ModelInfo) -> str:
    # The catalog's accepts_size separates the two known input schemas: SD-style (num_steps, size,
    # guidance...) and FLUX-style (prompt and steps only).
    return "steps" if model_info.accepts_size is False else "num_steps"


def _parse_image(model: str, resp: RawResponse) -> ImageResult:
    if resp.content_type in ("application/json", "text/json") or resp.content.lstrip()[:1] == b"{":
        result = unwrap(resp)
        encoded = result.get("image") if isinstance(result, Mapping) else result
        if not isinstance(encoded, str) or not encoded:
            raise CloudflareError(f"image answer from {model} has no image: {str(result)[:200]}")
        try:
            data = b64decode(encoded, "image")
        except InvalidInputError:
            raise CloudflareError(f"{model} returned an image that is not valid base64") from None
    else:
        data = resp.content
    if not data:
        raise CloudflareError(f"{model} returned an empty image")
    content_type = sniff(data) or (resp.content_type if resp.content_type.startswith("image/") else None)
    return ImageResult(image=data, content_type=content_type or "application/octet-stream", model=model,
                       gateway=resp.gateway)


def generate_image(model: str, prompt: str, *, negative_prompt: str | None = None, width: int | None = None,
                   height: int | None = None, num_steps: int | None = None, guidance: float | None = None,
                   seed: int | None = None, extra: Mapping[str, Any] | None = None,
                   gateway: GatewayArg = None) -> Call[ImageResult]:
    """Generate one image; returns its bytes whether the model answers raw PNG or base64 JSON."""
    model = checks.model_id(model)
    info = catalog.info(model)
    checks.task(info, "Text-to-Image", "generate_image")
    body: dict[str, Any] = {"prompt": checks.text(prompt, "prompt")}
    options = {"negative_prompt": negative_prompt, "width": width, "height": height, "guidance": guidance,
               "seed": seed}
    if info.accepts_size is False:
        for name, value in options.items():
            if value is not None:
                raise InvalidInputError(f"{name}: {model} takes only prompt and num_steps", field=name,
                                        limit="prompt, num_steps", item=value)
    if negative_prompt is not None:
        body["negative_prompt"] = checks.text(negative_prompt, "negative_prompt")
    for name, value in (("width", width), ("height", height)):
        if value is not None:
            body[name] = checks.int_range(name, value, *IMAGE_SIZE)
    if num_steps is not None:
        body[_steps_field(info)] = checks.int_range("num_steps", num_steps, 1, info.max_steps)
    if guidance is not None:
        if isinstance(guidance, bool) or not isinstance(guidance, int | float):
            raise InvalidInputError("guidance must be a number", field="guidance", item=guidance)
        body["guidance"] = guidance
    if seed is not None:
        body["seed"] = checks.int_range("seed", seed, 0, None)
    body.update(checks.extra(extra))
    request = ApiRequest(method="POST", path=f"/ai/run/{model}", gateway_path=f"workers-ai/{model}", json=body,
                         gateway=checks.gateway(gateway))
    return Call(request, partial(_parse_image, model))


def _audio(audio: Any) -> bytes:
    if not isinstance(audio, bytes | bytearray | memoryview):
        raise InvalidInputError(f"audio must be the audio file's bytes, got {type(audio).__name__}", field="audio")
    data = bytes(audio)
    if not data:
        raise InvalidInputError("audio is empty", field="audio", limit=1)
    return data


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _words(items: Any) -> list[Word]:
    out: list[Word] = []
    if not isinstance(items, list):
        return out
    for w in items:
        if isinstance(w, Mapping) and isinstance(w.get("word"), str):
            out.append(Word(word=w["word"], start=_float(w.get("start")) or 0.0, end=_float(w.get("end")) or 0.0))
    return out


def parse_transcription(model: str, resp: RawResponse) -> TranscriptionResult:
    result = unwrap(resp)
    if not isinstance(result, Mapping):
        raise CloudflareError(f"unexpected transcription answer from {model}: {str(result)[:200]}")
    words = _words(result.get("words"))
    segments = result.get("segments")
    if not words and isinstance(segments, list):
        words = [w for seg in segments if isinstance(seg, Mapping) for w in _words(seg.get("words"))]
    info_block = result.get("transcription_info")
    info_block = info_block if isinstance(info_block, Mapping) else {}
    language = info_block.get("language", result.get("language"))
    count = result.get("word_count")
    vtt = result.get("vtt")
    return TranscriptionResult(
        text=str(result.get("text") or ""), words=words, vtt=vtt if isinstance(vtt, str) else None,
        language=language if isinstance(language, str) else None,
        duration=_float(info_block.get("duration", result.get("duration"))),
        word_count=int(count) if isinstance(count, int | float) and not isinstance(count, bool) else None,
        raw=dict(result), model=model, gateway=resp.gateway)


def transcribe(model: str, audio: bytes, *, language: str | None = None, task: str | None = None,
               extra: Mapping[str, Any] | None = None, gateway: GatewayArg = None) -> Call[TranscriptionResult]:
    """Transcribe (or, with ``task="translate"``, translate to English) an audio file's bytes."""
    model = checks.model_id(model)
    info = catalog.info(model)
    checks.task(info, "Automatic Speech Recognition", "transcribe")
    data = _audio(audio)
    fields = checks.extra(extra)
    gw = checks.gateway(gateway)
    path, gateway_path = f"/ai/run/{model}", f"workers-ai/{model}"
    if info.audio_input == "bytes_or_int_array":
        for name, value in (("language", language), ("task", task)):
            if value is not None:
                raise InvalidInputError(f"{name}: {model} takes only the audio", field=name, item=value)
        if fields:
            request = ApiRequest(method="POST", path=path, gateway_path=gateway_path,
                                 json={"audio": list(data), **fields}, gateway=gw)
        else:
            # The raw body is the compact form (a JSON int array is ~4x the size).
            request = ApiRequest(method="POST", path=path, gateway_path=gateway_path, content=data, gateway=gw,
                                 headers={"content-type": sniff(data) or "application/octet-stream"})
    else:
        body: dict[str, Any] = {"audio": base64.b64encode(data).decode("ascii")}
        if language is not None:
            body["language"] = checks.text(language, "language")
        if task is not None:
            if task not in TASKS:
                raise InvalidInputError(f"task must be one of {list(TASKS)}, got {task!r}", field="task",
                                        limit=list(TASKS), item=task)
            body["task"] = task
        body.update(fields)
        request = ApiRequest(method="POST", path=path, gateway_path=gateway_path, json=body, gateway=gw)
    return Call(request, partial(parse_transcription, model))
