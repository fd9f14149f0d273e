"""The Workers AI model catalog: each model's task, limits, capabilities and quirks, as data.

The data lives in ``cf_core/data/models.json``; code asks questions of it (``info(model).supports_tools``)
instead of branching on model names. Unknown models get safe defaults derived from their id.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

Task = Literal[
    "Text Generation", "Text Embeddings", "Text Classification", "Translation",
    "Automatic Speech Recognition", "Text-to-Image", "Summarization", "Image-to-Text",
    "Image Classification", "Object Detection",
]
ToolCallStyle = Literal["flat", "openai", "text", "none"]


class Price(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    neurons_per_m_input_tokens: float | None = None
    neurons_per_m_output_tokens: float | None = None
    neurons_per_audio_minute: float | None = None
    neurons_per_512_tile: float | None = None
    neurons_per_step: float | None = None


class ModelInfo(BaseModel):
    """One catalog entry. Defaults are the safe choice for a model we know nothing about."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    task: Task
    known: bool = True
    """False for a model not in the catalog (its entry is a guess from the id)."""
    context_window: int | None = None
    default_max_tokens: int | None = None
    default_temperature: float | None = None
    supports_tools: bool = False
    supports_json_mode: bool = False
    supports_streaming: bool = False
    supports_vision: bool = False
    vision_input: Literal["image_field", "content_parts"] | None = None
    tool_call_style: ToolCallStyle = "none"
    structured_output_param: Literal["response_format", "guided_json"] | None = None
    tool_calling_reliable: bool = False
    """Whether tool calling is dependable enough to carry structured output."""
    tool_call_id_pattern: str | None = None
    dimensions: int | None = None
    max_batch_size: int | None = None
    image_output: Literal["png", "base64_json"] | None = None
    max_steps: int | None = None
    accepts_size: bool | None = None
    audio_input: Literal["bytes_or_int_array", "base64"] | None = None
    rate_limit_rpm: int | None = None
    price: Price = Field(default_factory=Price)
    beta: bool = False
    deprecated: bool = False
    notes: str = ""
    # Fields below were added for the emulator's per-model request validation (additive).
    supports_lora: bool = False
    """Accepts a ``lora`` adapter; other text models answer 5005 (HTTP 405) to one."""
    requires_agreement: bool = False
    """Needs a one-time ``{"prompt": "agree"}`` per account (code 5016 until then)."""
    structured_output_also: tuple[Literal["response_format", "guided_json"], ...] = ()
    """Structured-output parameters accepted besides ``structured_output_param``."""
    embedding_input_forms: tuple[Literal["text", "contexts", "query_contexts"], ...] = ()
    """Input forms of an embedding model (empty means ``text`` only)."""
    pooling_options: tuple[Literal["mean", "cls"], ...] = ()
    """Values accepted for ``pooling`` (empty: the field is not accepted)."""
    default_pooling: Literal["mean", "cls"] | None = None
    """The pooling an embedding model uses (and echoes) when none is given."""

    @property
    def is_chat(self) -> bool:
        return self.task == "Text Generation"

    @property
    def is_embedding(self) -> bool:
        return self.task == "Text Embeddings"


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True)

    usd_per_neuron: float
    free_neurons_per_day: int
    models: tuple[ModelInfo, ...]

    # Built once per catalog: hashing a frozen model to key a cache walks every field, which cost
    # more than the lookup it saved on each call.
    _by_id: dict[str, ModelInfo] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        self._by_id.update((m.id, m) for m in self.models)

    def get(self, model: str) -> ModelInfo | None:
        return self._by_id.get(model)


@cache
def load_catalog() -> Catalog:
    raw = json.loads(resources.files("cf_core.data").joinpath("models.json").read_text("utf-8"))
    raw.pop("_comment", None)
    return Catalog.model_validate(raw)


def all_models() -> tuple[ModelInfo, ...]:
    return load_catalog().models


@cache
def info(model: str) -> ModelInfo:
    """The catalog entry for ``model``, or safe defaults guessed from its id when unknown."""
    found = load_catalog().get(model)
    if found is not None:
        return found
    return _guess(model)


def _guess(model: str) -> ModelInfo:
    name = model.lower()
    if "bge" in name or "embed" in name:
        return ModelInfo(id=model, task="Text Embeddings", known=False, max_batch_size=100, rate_limit_rpm=3000)
    if "whisper" in name or "nova" in name:
        return ModelInfo(id=model, task="Automatic Speech Recognition", known=False, audio_input="base64")
    if "diffusion" in name or "flux" in name or "dreamshaper" in name:
        return ModelInfo(id=model, task="Text-to-Image", known=False, image_output="base64_json")
    # A text model we do not know: stream, no tools, no JSON mode, 256 tokens unless told otherwise.
    return ModelInfo(id=model, task="Text Generation", known=False, supports_streaming=True,
                     default_max_tokens=256, tool_call_style="text", rate_limit_rpm=300)


def usd_for_neurons(neurons: float) -> float:
    return neurons * load_catalog().usd_per_neuron
