"""``/ai/run`` answers for the non-chat tasks: embeddings, classification, translation, speech,
text-to-image. Bodies arrive validated against the model's schema (see :mod:`.schemas`)."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any

import numpy as np

from ...catalog import ModelInfo
from ..wire import ApiError, EmuResponse, envelope
from .engines import audio, classify, images, translate
from .validator import bad_input

if TYPE_CHECKING:
    from .state import WorkersAIState


def vectors(state: WorkersAIState, info: ModelInfo, texts: list[str], pooling: str) -> np.ndarray:
    return state.embedder.embed(texts, model=info.id, dim=info.dimensions or 768, pooling=pooling)


def as_lists(matrix: np.ndarray) -> np.ndarray:
    """The rows as float32 (what the service returns); the JSON writer serialises arrays directly."""
    return np.ascontiguousarray(matrix, dtype=np.float32)


def embeddings(state: WorkersAIState, info: ModelInfo, body: dict[str, Any]) -> EmuResponse:
    pooling = str(body.get("pooling") or info.default_pooling or "mean")
    if "text" in body:
        texts = [body["text"]] if isinstance(body["text"], str) else list(body["text"])
        matrix = vectors(state, info, texts, pooling)
        return envelope({"shape": list(matrix.shape), "data": as_lists(matrix), "pooling": pooling})
    contexts = [str(c["text"]) for c in body["contexts"]]
    matrix = vectors(state, info, contexts, pooling)
    if "query" not in body:
        return envelope({"response": as_lists(matrix), "shape": list(matrix.shape), "pooling": pooling})
    query = vectors(state, info, [str(body["query"])], pooling)[0]
    scores = np.clip(matrix @ query, 0.0, 1.0)
    ranking = sorted(({"id": i, "score": round(float(s), 6)} for i, s in enumerate(scores)),
                     key=lambda r: (-float(r["score"]), int(r["id"])))
    return envelope({"response": ranking})


def classification(body: dict[str, Any]) -> EmuResponse:
    return envelope(classify.sentiment(str(body["text"])))


def translation(body: dict[str, Any]) -> EmuResponse:
    source_raw = str(body.get("source_lang", "en"))
    source = translate.language_code(source_raw)
    target = translate.language_code(str(body["target_lang"]))
    if source is None:
        raise bad_input(f"Value {source_raw!r} at '/source_lang' is not a supported language")
    if target is None:
        raise bad_input(f"Value {body['target_lang']!r} at '/target_lang' is not a supported language")
    return envelope(translate.translate(str(body["text"]), source, target))


def speech(info: ModelInfo, body: dict[str, Any] | bytes) -> EmuResponse:
    if isinstance(body, bytes):
        if info.audio_input == "base64":
            raise bad_input("Type mismatch of '/', 'binary' not in 'object'")
        return envelope(audio.whisper(body))
    raw = body["audio"]
    if isinstance(raw, list):
        return envelope(audio.whisper(bytes(raw)))
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, 5004, "AiError: Invalid data type for base64 input at '/audio'") from None
    if not data:
        raise bad_input("String at '/audio' is shorter than the minimum length 1")
    return envelope(audio.whisper_turbo(data, language=str(body.get("language", "en")),
                                        task=str(body.get("task", "transcribe"))))


def text_to_image(state: WorkersAIState, info: ModelInfo, body: dict[str, Any]) -> EmuResponse:
    width, height = int(body.get("width", 1024)), int(body.get("height", 1024))
    salt = f"{state.config.seed}|{body.get('negative_prompt', '')}|{body.get('seed', '')}"
    png = images.render_png(str(body["prompt"]), width, height, salt=salt)
    if info.image_output == "png":
        return EmuResponse(200, {"content-type": "image/png"}, png)
    return envelope({"image": base64.b64encode(png).decode("ascii")})
