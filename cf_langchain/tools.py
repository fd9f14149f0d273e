"""LangChain tools backed by Workers AI task models: image generation, speech-to-text, translation
and text classification.

Each tool is a ``BaseTool`` with the usual connection settings (:class:`CloudflareClientMixin`), a
``model`` field and a pydantic ``args_schema``. Sync and async runs share everything but the core
call. Core errors surface as :class:`~langchain_core.tools.ToolException` (chained to the typed
cf_core error), so ``handle_tool_error=True`` turns them into a message an agent can read.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.messages.content import create_image_block
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cf_core import CloudflareError, InvalidInputError
from cf_core import info as model_info
from cf_core.workers_ai.types import (
    ClassificationResult,
    ImageResult,
    TranscriptionResult,
    TranslationResult,
)

from ._client import CloudflareClientMixin

__all__ = [
    "CloudflareImageGenerationTool",
    "CloudflareSpeechToTextTool",
    "CloudflareTextClassificationTool",
    "CloudflareTranslationTool",
]

T = TypeVar("T")
ContentAndArtifact = tuple[str, Any]


def _call(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except CloudflareError as exc:
        raise ToolException(str(exc)) from exc


async def _acall(fn: Callable[[], Awaitable[T]]) -> T:
    try:
        return await fn()
    except CloudflareError as exc:
        raise ToolException(str(exc)) from exc


class _CloudflareTool(CloudflareClientMixin, BaseTool):
    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True)


# --------------------------------------------------------------------------------------------
# Image generation
# --------------------------------------------------------------------------------------------

class PromptOnlyImageInput(BaseModel):
    prompt: str = Field(description="What the image should show, in detail.")


class ImageGenerationInput(BaseModel):
    prompt: str = Field(description="What the image should show, in detail.")
    negative_prompt: str | None = Field(default=None, description="What the image should not show.")
    width: int | None = Field(default=None, description="Width in pixels (model default if omitted).")
    height: int | None = Field(default=None, description="Height in pixels (model default if omitted).")
    seed: int | None = Field(default=None, description="Random seed, for a reproducible image.")


class CloudflareImageGenerationTool(_CloudflareTool):
    """Generate an image from a text prompt with a Workers AI text-to-image model.

    The image is returned as the tool message's *artifact* (a LangChain ``image`` content block
    with base64 data), not as content: the model only sees a short description, so megabytes of
    base64 never enter its context.

    The arguments offered to the model follow the model's catalog entry: FLUX-style models take
    only a prompt, Stable-Diffusion-style models also size, seed and a negative prompt.
    """

    name: str = "generate_image"
    description: str = (
        "Generate an image from a text description. Input: a detailed prompt. Returns a short "
        "confirmation; the image itself is delivered to the user separately.")
    args_schema: type[BaseModel] = ImageGenerationInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    model: str = "@cf/black-forest-labs/flux-1-schnell"
    num_steps: int | None = None
    """Diffusion steps (model default if unset)."""

    @model_validator(mode="after")
    def _schema_for_model(self) -> CloudflareImageGenerationTool:
        if "args_schema" not in self.model_fields_set and model_info(self.model).accepts_size is False:
            self.args_schema = PromptOnlyImageInput
        return self

    def _kwargs(self, prompt: str, negative_prompt: str | None, width: int | None, height: int | None,
                seed: int | None) -> dict[str, Any]:
        args: dict[str, Any] = {"negative_prompt": negative_prompt, "width": width, "height": height,
                                "seed": seed, "num_steps": self.num_steps, "gateway": self._gateway()}
        return {k: v for k, v in args.items() if v is not None}

    def _format(self, prompt: str, result: ImageResult) -> ContentAndArtifact:
        artifact = create_image_block(base64=base64.b64encode(result.image).decode("ascii"),
                                      mime_type=result.content_type, model=result.model, prompt=prompt)
        content = (f"Generated one {result.content_type} image ({len(result.image)} bytes) with "
                   f"{result.model} for the prompt: {prompt!r}. It is attached for the user.")
        return content, artifact

    def _run(self, prompt: str, negative_prompt: str | None = None, width: int | None = None,
             height: int | None = None, seed: int | None = None,
             run_manager: CallbackManagerForToolRun | None = None) -> ContentAndArtifact:
        kwargs = self._kwargs(prompt, negative_prompt, width, height, seed)
        result = _call(lambda: self._sync_client().workers_ai.generate_image(self.model, prompt, **kwargs))
        return self._format(prompt, result)

    async def _arun(self, prompt: str, negative_prompt: str | None = None, width: int | None = None,
                    height: int | None = None, seed: int | None = None,
                    run_manager: AsyncCallbackManagerForToolRun | None = None) -> ContentAndArtifact:
        kwargs = self._kwargs(prompt, negative_prompt, width, height, seed)
        result = await _acall(lambda: self._async_client().workers_ai.generate_image(self.model, prompt, **kwargs))
        return self._format(prompt, result)


# --------------------------------------------------------------------------------------------
# Speech to text
# --------------------------------------------------------------------------------------------

class SpeechToTextInput(BaseModel):
    audio: str | bytes = Field(description="Path of an audio file (mp3, wav, ...) to transcribe, or its raw bytes.")
    language: str | None = Field(default=None, description="Spoken language code such as 'en' (optional).")


class CloudflareSpeechToTextTool(_CloudflareTool):
    """Transcribe speech with a Workers AI speech-recognition model (Whisper).

    ``audio`` is a file path or the raw bytes. Set ``root_dir`` to confine the files an agent may
    read to one directory (recommended whenever the path comes from a model).
    """

    name: str = "transcribe_audio"
    description: str = "Transcribe speech in an audio file to text. Input: the path of the audio file."
    args_schema: type[BaseModel] = SpeechToTextInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    model: str = "@cf/openai/whisper-large-v3-turbo"
    root_dir: str | None = None
    """If set, only files inside this directory may be read."""
    max_bytes: int = 25 * 1024 * 1024
    """Largest audio file accepted (checked before reading it)."""

    def _audio_bytes(self, audio: str | bytes) -> bytes:
        if isinstance(audio, bytes | bytearray):
            data = bytes(audio)
        else:
            path = Path(audio).expanduser()
            if self.root_dir is not None:
                root = Path(self.root_dir).expanduser().resolve()
                path = (root / path).resolve()
                if not path.is_relative_to(root):
                    raise ToolException(f"audio path {audio!r} is outside the allowed directory {str(root)!r}")
            if not path.is_file():
                raise ToolException(f"audio file not found: {str(path)!r}")
            size = path.stat().st_size
            if size > self.max_bytes:
                raise ToolException(f"audio file {str(path)!r} is {size} bytes; the limit is {self.max_bytes}")
            data = path.read_bytes()
        if not data:
            raise ToolException("the audio is empty")
        if len(data) > self.max_bytes:
            raise ToolException(f"audio is {len(data)} bytes; the limit is {self.max_bytes}")
        return data

    def _kwargs(self, language: str | None) -> dict[str, Any]:
        args: dict[str, Any] = {"language": language, "gateway": self._gateway()}
        return {k: v for k, v in args.items() if v is not None}

    @staticmethod
    def _format(result: TranscriptionResult) -> ContentAndArtifact:
        artifact = {"text": result.text, "words": [w.model_dump() for w in result.words], "vtt": result.vtt,
                    "language": result.language, "duration": result.duration}
        return result.text, artifact

    def _run(self, audio: str | bytes, language: str | None = None,
             run_manager: CallbackManagerForToolRun | None = None) -> ContentAndArtifact:
        data = self._audio_bytes(audio)
        kwargs = self._kwargs(language)
        return self._format(_call(lambda: self._sync_client().workers_ai.transcribe(self.model, data, **kwargs)))

    async def _arun(self, audio: str | bytes, language: str | None = None,
                    run_manager: AsyncCallbackManagerForToolRun | None = None) -> ContentAndArtifact:
        data = self._audio_bytes(audio)
        kwargs = self._kwargs(language)
        return self._format(await _acall(
            lambda: self._async_client().workers_ai.transcribe(self.model, data, **kwargs)))


# --------------------------------------------------------------------------------------------
# Translation
# --------------------------------------------------------------------------------------------

# Models often name languages instead of giving codes; these are the names Cloudflare's catalog
# lists for m2m100.
_LANGUAGE_NAMES = {"english": "en", "chinese": "zh", "french": "fr", "spanish": "es", "arabic": "ar",
                   "russian": "ru", "german": "de", "japanese": "ja", "portuguese": "pt", "hindi": "hi"}


def _language_code(value: str) -> str:
    cleaned = value.strip()
    return _LANGUAGE_NAMES.get(cleaned.lower(), cleaned.lower() if len(cleaned) <= 3 else cleaned)


class TranslationInput(BaseModel):
    text: str = Field(description="The text to translate.")
    target_lang: str = Field(description="Language to translate into: an ISO 639-1 code such as 'fr' or 'es'.")
    source_lang: str = Field(default="en", description="Language of the text: an ISO 639-1 code (default 'en').")


class CloudflareTranslationTool(_CloudflareTool):
    """Translate text between languages with a Workers AI translation model (m2m100)."""

    name: str = "translate_text"
    description: str = ("Translate text from one language to another. Inputs: the text, the target "
                        "language code (e.g. 'fr') and optionally the source language code (default 'en').")
    args_schema: type[BaseModel] = TranslationInput
    model: str = "@cf/meta/m2m100-1.2b"

    def _kwargs(self, target_lang: str, source_lang: str) -> dict[str, Any]:
        return {"target_lang": _language_code(target_lang), "source_lang": _language_code(source_lang),
                "model": self.model, "gateway": self._gateway()}

    def _run(self, text: str, target_lang: str, source_lang: str = "en",
             run_manager: CallbackManagerForToolRun | None = None) -> str:
        kwargs = self._kwargs(target_lang, source_lang)
        result: TranslationResult = _call(lambda: self._sync_client().workers_ai.translate(text, **kwargs))
        return result.text

    async def _arun(self, text: str, target_lang: str, source_lang: str = "en",
                    run_manager: AsyncCallbackManagerForToolRun | None = None) -> str:
        kwargs = self._kwargs(target_lang, source_lang)
        result: TranslationResult = await _acall(lambda: self._async_client().workers_ai.translate(text, **kwargs))
        return result.text


# --------------------------------------------------------------------------------------------
# Text classification
# --------------------------------------------------------------------------------------------

class TextClassificationInput(BaseModel):
    text: str = Field(description="The text to classify.")


class CloudflareTextClassificationTool(_CloudflareTool):
    """Classify text (by default: sentiment, POSITIVE or NEGATIVE) with a Workers AI classifier.

    Content is the top label and its score; the artifact lists every label with its score.
    """

    name: str = "classify_sentiment"
    description: str = ("Classify the sentiment of a text as POSITIVE or NEGATIVE, with a confidence "
                        "score. Input: the text.")
    args_schema: type[BaseModel] = TextClassificationInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"
    model: str = "@cf/huggingface/distilbert-sst-2-int8"

    @staticmethod
    def _check(text: str) -> None:
        if not text.strip():
            raise ToolException(str(InvalidInputError("text to classify is empty", field="text")))

    @staticmethod
    def _format(result: ClassificationResult) -> ContentAndArtifact:
        top = result.top
        artifact = [{"label": c.label, "score": c.score} for c in result.labels]
        return f"{top.label} (score {top.score:.3f})", artifact

    def _run(self, text: str, run_manager: CallbackManagerForToolRun | None = None) -> ContentAndArtifact:
        self._check(text)
        return self._format(_call(lambda: self._sync_client().workers_ai.classify(
            text, model=self.model, gateway=self._gateway())))

    async def _arun(self, text: str,
                    run_manager: AsyncCallbackManagerForToolRun | None = None) -> ContentAndArtifact:
        self._check(text)
        return self._format(await _acall(lambda: self._async_client().workers_ai.classify(
            text, model=self.model, gateway=self._gateway())))
