"""A small JSON-Schema validator whose messages read like Workers AI's "Bad input" errors.

Cloudflare validates every ``/ai/run`` body against the model's input schema and answers HTTP 400,
code 5006, ``AiError: Bad input: Error: <messages>``. Two live messages are known (reference 4.1)::

    oneOf at '/' not met, 0 matches: required properties at '/' are 'prompt', Type mismatch of
    '/messages/0/content', 'array' not in 'string'
    Additional or unevaluated properties '/width, /height' at '/' not allowed

Those two forms (and ``oneOf``'s way of listing each branch's first failure) are reproduced. The
wording for the other keywords (ranges, lengths, enums, patterns) is this module's own: UNCONFIRMED.

Only the keywords the emulator's model schemas use are implemented: type, properties, required,
additionalProperties, items, minItems, maxItems, minLength, maxLength, minimum, maximum, enum,
const, pattern, oneOf, anyOf.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ..wire import ApiError

Schema = dict[str, Any]


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_ok(value: Any, expected: str) -> bool:
    actual = json_type(value)
    return actual == expected or (expected == "number" and actual == "integer")


def pointer(path: str, key: str | int) -> str:
    token = str(key).replace("~", "~0").replace("/", "~1")
    return f"{path.rstrip('/')}/{token}"


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def errors(schema: Schema, value: Any, path: str = "/") -> list[str]:
    """Every failure of ``value`` against ``schema``, each naming its JSON pointer."""
    if "oneOf" in schema or "anyOf" in schema:
        key = "oneOf" if "oneOf" in schema else "anyOf"
        branches: list[Schema] = schema[key]
        results = [errors(branch, value, path) for branch in branches]
        matches = sum(1 for r in results if not r)
        if (key == "oneOf" and matches != 1) or (key == "anyOf" and matches == 0):
            firsts = [r[0] for r in results if r]
            return [f"{key} at '{path}' not met, {matches} matches: " + ", ".join(firsts)]
        return []

    expected = schema.get("type")
    if expected is not None:
        options = [expected] if isinstance(expected, str) else list(expected)
        if not any(_type_ok(value, t) for t in options):
            return [f"Type mismatch of '{path}', '{json_type(value)}' not in '{', '.join(options)}'"]

    out: list[str] = []
    if "const" in schema and value != schema["const"]:
        out.append(f"Value at '{path}' must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(repr(v) for v in schema["enum"])
        out.append(f"Value {value!r} at '{path}' is not one of {allowed}")
    if isinstance(value, str):
        out.extend(_string_errors(schema, value, path))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"Value {value} at '{path}' is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"Value {value} at '{path}' is above the maximum {schema['maximum']}")
    elif isinstance(value, list):
        out.extend(_array_errors(schema, value, path))
    elif isinstance(value, dict):
        out.extend(_object_errors(schema, value, path))
    return out


def _string_errors(schema: Schema, value: str, path: str) -> list[str]:
    out: list[str] = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        out.append(f"String at '{path}' is shorter than the minimum length {schema['minLength']}")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        out.append(f"String at '{path}' is longer than the maximum length {schema['maxLength']}")
    if "pattern" in schema and not _regex(schema["pattern"]).search(value):
        out.append(f"String at '{path}' does not match pattern '{schema['pattern']}'")
    return out


def _array_errors(schema: Schema, value: list[Any], path: str) -> list[str]:
    out: list[str] = []
    if "minItems" in schema and len(value) < schema["minItems"]:
        out.append(f"Array at '{path}' has {len(value)} items, fewer than the minimum {schema['minItems']}")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        out.append(f"Array at '{path}' has {len(value)} items, more than the maximum {schema['maxItems']}")
    items = schema.get("items")
    if items is None:
        return out
    if _plain_strings_ok(items, value):
        return out
    fast = _byte_items_bad_index(items, value)
    if fast is not None:
        if fast >= 0:
            out.extend(errors(items, value[fast], pointer(path, fast)))
        return out
    for i, item in enumerate(value):
        out.extend(errors(items, item, pointer(path, i)))
    return out


def _plain_strings_ok(items: Schema, value: list[Any]) -> bool:
    """Fast path for text batches: True only when ``items`` is a plain string schema (type and length
    bounds) and every item meets it, i.e. when the full check would find nothing. Anything else,
    including any failure, goes through the full check so the messages stay the same."""
    if items.get("type") != "string" or set(items) - {"type", "minLength", "maxLength"}:
        return False
    low, high = items.get("minLength", 0), items.get("maxLength")
    if high is None:
        return all(type(item) is str and len(item) >= low for item in value)
    return all(type(item) is str and low <= len(item) <= high for item in value)


def _byte_items_bad_index(items: Schema, value: list[Any]) -> int | None:
    """Fast path for audio/image byte arrays (often 10^5+ ints): -1 if all fine, else the first bad
    index; ``None`` when ``items`` is not a plain bounded-integer schema."""
    if set(items) - {"type", "minimum", "maximum"} or items.get("type") != "integer":
        return None
    low, high = items.get("minimum", float("-inf")), items.get("maximum", float("inf"))
    for i, item in enumerate(value):
        if type(item) is not int or not low <= item <= high:
            return i
    return -1


def _object_errors(schema: Schema, value: dict[str, Any], path: str) -> list[str]:
    out: list[str] = []
    missing = [name for name in schema.get("required", []) if name not in value]
    if missing:
        out.append(f"required properties at '{path}' are " + ", ".join(f"'{m}'" for m in missing))
    props: dict[str, Schema] = schema.get("properties", {})
    for name, sub in props.items():
        if name in value:
            out.extend(errors(sub, value[name], pointer(path, name)))
    extra_rule = schema.get("additionalProperties", True)
    extras = [name for name in value if name not in props]
    if extras and extra_rule is False:
        listed = ", ".join(pointer("/", name) for name in extras)
        out.append(f"Additional or unevaluated properties '{listed}' at '{path}' not allowed")
    elif extras and isinstance(extra_rule, dict):
        for name in extras:
            out.extend(errors(extra_rule, value[name], pointer(path, name)))
    return out


def bad_input(message: str) -> ApiError:
    return ApiError(400, 5006, f"AiError: Bad input: Error: {message}")


def check(schema: Schema, value: Any) -> None:
    """Raise Cloudflare's 5006 when ``value`` does not satisfy ``schema``."""
    found = errors(schema, value)
    if found:
        raise bad_input(", ".join(found))
