"""Catalog endpoints: ``GET /ai/models/search``, ``/ai/models/schema``, ``/ai/tasks/search``,
``/ai/authors/search`` (reference 1.10).

Entries follow the reference: ``id`` (a UUID; here a stable uuid5 of the name), ``source`` (1 for
``@cf``, 2 for ``@hf``), ``name``, ``description``, ``task {id, name, description}``, ``tags``,
``properties`` whose values are strings except ``price`` (a list of ``{unit, price, currency}``).
Descriptions are the emulator's own. ``result_info`` has ``page``, ``per_page``, ``count`` and
``total_count``. Bad paging values are answered 400 with code 7001 (UNCONFIRMED, the emulator's
choice). The schema endpoint answers ``{"input": ..., "output": ...}`` (shape UNCONFIRMED).
"""

from __future__ import annotations

import uuid
from typing import Any

from ...catalog import ModelInfo, all_models, load_catalog
from ..router import Router
from ..wire import ApiError, EmuRequest, EmuResponse, envelope
from .routes import lookup
from .schemas import input_schema, output_schema

TASK_DESCRIPTIONS = {
    "Text Generation": "Generates text from a prompt or a conversation.",
    "Text Embeddings": "Turns text into vectors for search and similarity.",
    "Text Classification": "Assigns labels such as sentiment to a text.",
    "Translation": "Translates text between languages.",
    "Automatic Speech Recognition": "Transcribes speech in audio to text.",
    "Text-to-Image": "Draws an image from a text prompt.",
}


def _uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cf-emulator/{kind}/{name}"))


def author(model: str) -> str:
    parts = model.split("/")
    return parts[1] if len(parts) > 2 else ""


def _price(info: ModelInfo) -> list[dict[str, Any]]:
    usd = load_catalog().usd_per_neuron
    p = info.price
    units = [("per M input tokens", p.neurons_per_m_input_tokens),
             ("per M output tokens", p.neurons_per_m_output_tokens),
             ("per audio minute", p.neurons_per_audio_minute),
             ("per 512 by 512 tile", p.neurons_per_512_tile), ("per step", p.neurons_per_step)]
    return [{"unit": unit, "price": round(neurons * usd, 6), "currency": "USD"}
            for unit, neurons in units if neurons is not None]


def _properties(info: ModelInfo) -> list[dict[str, Any]]:
    props: list[dict[str, Any]] = []

    def add(pid: str, value: Any) -> None:
        props.append({"property_id": pid, "value": value})

    if info.beta:
        add("beta", "true")
    if info.is_embedding:
        if info.context_window:
            add("max_input_tokens", str(info.context_window))
        if info.dimensions:
            add("output_dimensions", str(info.dimensions))
    elif info.context_window:
        add("context_window", str(info.context_window))
    if info.supports_tools:
        add("function_calling", "true")
    if info.supports_lora:
        add("lora", "true")
    price = _price(info)
    if price:
        add("price", price)
    return props


def entry(info: ModelInfo) -> dict[str, Any]:
    description = f"{info.task} model {info.id} (emulator catalog entry; stand-in engine)."
    if info.deprecated:
        description += " Deprecated."
    return {"id": _uuid("model", info.id), "source": 1 if info.id.startswith("@cf/") else 2, "name": info.id,
            "description": description,
            "task": {"id": _uuid("task", info.task), "name": info.task,
                     "description": TASK_DESCRIPTIONS.get(info.task, info.task)},
            "tags": [], "properties": _properties(info)}


def _int(req: EmuRequest, name: str, default: int, high: int) -> int:
    raw = req.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, 7001, f"'{name}' must be an integer, got {raw!r}") from None
    if not 1 <= value <= high:
        raise ApiError(400, 7001, f"'{name}' must be between 1 and {high}, got {value}")
    return value


def search(req: EmuRequest) -> EmuResponse:
    q = req.query
    found = list(all_models())
    if q.get("search"):
        term = q["search"].lower()
        found = [m for m in found if term in m.id.lower() or term in m.task.lower()]
    if q.get("task"):
        found = [m for m in found if m.task.lower() == q["task"].lower()]
    if q.get("author"):
        found = [m for m in found if author(m.id).lower() == q["author"].lower()]
    if q.get("source"):
        want = q["source"]
        found = [m for m in found if str(1 if m.id.startswith("@cf/") else 2) == want]
    if q.get("hide_experimental", "").lower() in ("true", "1"):
        found = [m for m in found if not m.beta]
    page, per_page = _int(req, "page", 1, 10_000), _int(req, "per_page", 20, 1000)
    chunk = found[(page - 1) * per_page: page * per_page]
    return envelope([entry(m) for m in chunk],
                    result_info={"page": page, "per_page": per_page, "count": len(chunk),
                                 "total_count": len(found)})


def schema(req: EmuRequest) -> EmuResponse:
    model = req.query.get("model")
    if not model:
        raise ApiError(400, 5006, "AiError: Bad input: Error: required query parameter 'model' is missing")
    info = lookup(model)
    return envelope({"input": input_schema(info), "output": output_schema(info)})


def tasks(req: EmuRequest) -> EmuResponse:
    names = sorted({m.task for m in all_models()})
    return envelope([{"id": _uuid("task", n), "name": n, "description": TASK_DESCRIPTIONS.get(n, n)}
                     for n in names])


def authors(req: EmuRequest) -> EmuResponse:
    names = sorted({author(m.id) for m in all_models() if author(m.id)})
    return envelope([{"id": _uuid("author", n), "name": n, "description": f"Models published by {n}."}
                     for n in names])


def register(router: Router) -> None:
    router.add("GET", "/accounts/{account}/ai/models/search", search)
    router.add("GET", "/accounts/{account}/ai/models/schema", schema)
    router.add("GET", "/accounts/{account}/ai/tasks/search", tasks)
    router.add("GET", "/accounts/{account}/ai/authors/search", authors)
