"""Local input checks shared by the Workers AI builders: each failure names the field and the limit."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..catalog import ModelInfo
from ..errors import InvalidInputError
from ..gateway import Gateway
from ..http import GatewayArg

# Native /ai/run sampling ranges (reference section 1.2): field -> (kind, low, high).
SAMPLING_RANGES: dict[str, tuple[type, float, float]] = {
    "max_tokens": (int, 1, math.inf),
    "temperature": (float, 0, 5),
    "top_p": (float, 0, 2),
    "top_k": (int, 1, 50),
    "seed": (int, 1, 9_999_999_999),
    "repetition_penalty": (float, 0, 2),
    "frequency_penalty": (float, 0, 2),
    "presence_penalty": (float, 0, 2),
}

CHARS_PER_TOKEN = 4
CONTEXT_SLACK = 1.5
"""Only reject a prompt whose estimate is this many times the context window: the 4-chars-per-token
estimate is rough, and the service is the judge of anything near the limit."""


def model_id(model: Any) -> str:
    if not isinstance(model, str) or not model.strip():
        raise InvalidInputError(f"model must be a non-empty model id such as '@cf/meta/llama-3.1-8b-instruct', "
                                f"got {model!r}", field="model", item=model)
    return model.strip()


def text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}", field=field, item=value)
    if not value:
        raise InvalidInputError(f"{field} must not be empty (minimum length 1)", field=field, limit=1)
    return value


def number(field: str, value: Any) -> int | float:
    """Check one sampling value against its documented range; returns it unchanged."""
    kind, low, high = SAMPLING_RANGES[field]
    is_num = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_num or (kind is int and not isinstance(value, int)):
        expected = "an integer" if kind is int else "a number"
        raise InvalidInputError(f"{field} must be {expected}, got {value!r}", field=field, item=value)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(f"{field} must be finite, got {value!r}", field=field, item=value)
    if not low <= value <= high:
        span = f">= {low:g}" if high == math.inf else f"between {low:g} and {high:g}"
        raise InvalidInputError(f"{field} must be {span}, got {value!r}", field=field,
                                limit=(low, high), item=value)
    checked: int | float = value
    return checked


def int_range(field: str, value: Any, low: int, high: int | None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInputError(f"{field} must be an integer, got {value!r}", field=field, item=value)
    if value < low or (high is not None and value > high):
        span = f">= {low}" if high is None else f"between {low} and {high}"
        raise InvalidInputError(f"{field} must be {span}, got {value}", field=field, limit=(low, high), item=value)
    return value


def gateway(value: GatewayArg) -> GatewayArg:
    """Coerce a gateway id or mapping now, so bad settings fail at the call, not at send time."""
    if isinstance(value, str | Mapping) and not isinstance(value, Gateway):
        return Gateway.coerce(value)
    return value


def extra(value: Any, field: str = "extra") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{field} must be a mapping of extra body fields, got {type(value).__name__}",
                                field=field, item=value)
    return dict(value)


def check_context(model: str, chars: int, context_window: int | None, field: str) -> None:
    if context_window is None:
        return
    estimate = chars // CHARS_PER_TOKEN
    if estimate > context_window * CONTEXT_SLACK:
        raise InvalidInputError(
            f"{field} is about {estimate} tokens ({chars} characters at ~{CHARS_PER_TOKEN} per token), far "
            f"over the {context_window}-token context window of {model}", field=field, limit=context_window)


def task(model_info: ModelInfo, expected: str, operation: str) -> None:
    """Refuse a catalog model of another task (unknown models are let through to the service)."""
    if model_info.known and model_info.task != expected:
        raise InvalidInputError(f"{operation} needs a {expected} model; {model_info.id} is a {model_info.task} "
                                f"model", field="model", limit=expected, item=model_info.id)
