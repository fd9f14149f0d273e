"""The results of Workers AI operations, one shape per task whatever the model's wire format."""

from __future__ import annotations

import warnings
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..gateway import GatewayInfo

__all__ = [
    "ChatChunk", "ChatResult", "Classification", "ClassificationResult", "EmbeddingResult", "ImageResult",
    "ToolCall", "ToolCallChunk", "TranscriptionResult", "TranslationResult", "Usage", "Word",
]


class Usage(BaseModel):
    """Token counts of one call; ``neurons``/``estimated_usd`` come from the catalog when the service gives none."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int | None = None
    neurons: float | None = None
    estimated_usd: float | None = None


class ToolCall(BaseModel):
    """A call the model asked for. ``id`` is always set (generated when the model gives none)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str | None = None
    """The model's argument text when it was not a JSON object (``arguments`` is then ``{}``)."""


# ``json`` is the contract's name for the parsed JSON-mode value; it deliberately hides
# BaseModel.json (deprecated in pydantic 2 in favour of model_dump_json).
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message='Field name "json"')

    class ChatResult(BaseModel):
        """One complete chat answer."""

        model_config = ConfigDict(frozen=True)

        model: str
        text: str = ""
        tool_calls: list[ToolCall] = Field(default_factory=list)
        usage: Usage | None = None
        finish_reason: str | None = None
        reasoning: str | None = None
        json: Any | None = None  # type: ignore[assignment]
        """The parsed JSON-mode output (``text`` then holds its JSON text)."""
        gateway: GatewayInfo | None = None
        raw: dict[str, Any] = Field(default_factory=dict)


class ToolCallChunk(BaseModel):
    """A piece of a streamed tool call; pieces with the same ``index`` concatenate."""

    model_config = ConfigDict(frozen=True)

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    """A fragment of the JSON text of the arguments."""


class ChatChunk(BaseModel):
    """One piece of a streamed answer. ``usage`` is on exactly one chunk, ``gateway`` on the first."""

    model_config = ConfigDict(frozen=True)

    text: str = ""
    reasoning: str = ""
    tool_call_chunks: list[ToolCallChunk] = Field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    gateway: GatewayInfo | None = None


class EmbeddingResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str
    vectors: list[list[float]]
    shape: tuple[int, int]
    pooling: str | None = None
    usage: Usage | None = None
    gateway: GatewayInfo | None = None


class ImageResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    image: bytes = Field(repr=False)
    content_type: str
    model: str
    gateway: GatewayInfo | None = None


class Word(BaseModel):
    model_config = ConfigDict(frozen=True)

    word: str
    start: float
    end: float


class TranscriptionResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    words: list[Word] = Field(default_factory=list)
    vtt: str | None = None
    language: str | None = None
    duration: float | None = None
    word_count: int | None = None
    raw: dict[str, Any] = Field(default_factory=dict)
    model: str | None = None
    gateway: GatewayInfo | None = None


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    score: float


class ClassificationResult(BaseModel):
    """Labels best first."""

    model_config = ConfigDict(frozen=True)

    labels: list[Classification]
    model: str | None = None
    gateway: GatewayInfo | None = None

    @property
    def top(self) -> Classification:
        if not self.labels:
            raise ValueError("the classifier returned no labels")
        return max(self.labels, key=lambda c: c.score)


class TranslationResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    source_lang: str
    target_lang: str
    model: str | None = None
    gateway: GatewayInfo | None = None
