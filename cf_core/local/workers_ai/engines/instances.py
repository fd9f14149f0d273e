"""Schema-driven instance generator: a JSON value valid against a JSON Schema, filled from text.

Used by the chat stand-in for tool-call arguments and for JSON mode. No rule here knows any
particular prompt, tool or schema: values come from the text by kind.

- numbers (integer/number): the number written right before or after the property's name words
  ("age 30", "3 adults", "limit: 5"), else the next unused number in the text; clamped to
  minimum/maximum, rounded for integers and ``multipleOf``.
- strings: the word(s) or quoted text after the property's name ("city is Paris", "unit to
  celsius"), else the next unused quoted string, else the next unused capitalised name ("Paris",
  "New York", "Zürich"); formats (date, date-time, email, uri, uuid) and patterns are looked up
  in the text; fall back to ``default`` or the caller's fallback text.
- enums: a value mentioned in the text (near the name first), else the first one.
- booleans: true/false/yes/no after the name; "no X"/"without X"/"not X" is false; X mentioned is
  true; else ``default`` or false.
- arrays: every unused matching value of the item kind (names, quoted strings, numbers, mentioned
  enum values), padded/truncated to minItems/maxItems; objects recurse.
- ``$ref`` (``#/$defs/...``, ``#/definitions/...``), ``allOf`` (merged), ``anyOf``/``oneOf``/type
  lists (the first non-null branch when the text gives it a value, else ``null`` when allowed).

Required properties are always present; optional ones only when the text gives them a value
(``include_optional=True``, used by JSON mode, includes them all).
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from .text_facts import STOPWORDS, WORD, TextFacts, as_number, connector, name_words

_MAX_DEPTH = 8


class InstanceError(Exception):
    """The schema cannot be satisfied from the text (e.g. an unmatchable ``pattern``)."""


@dataclass
class _Found:
    value: Any
    found: bool


class InstanceBuilder:
    """Build instances of ``root`` (which holds any ``$defs``) from one ``text``."""

    def __init__(self, root: dict[str, Any], text: str, *, include_optional: bool = False,
                 fallback_text: str | None = None, ignore_words: frozenset[str] = frozenset(),
                 used: set[str] | None = None) -> None:
        self.root = root
        self.facts = TextFacts.read(text)
        if used is not None:
            self.facts.used = used
        self.include_optional = include_optional
        self.fallback_text = fallback_text
        self.ignore_words = ignore_words

    def build(self) -> Any:
        return self._value(self.root, "", 0).value

    # -- schema plumbing ------------------------------------------------------------------------

    def _resolve(self, schema: Any, depth: int) -> dict[str, Any]:
        if schema is True or schema is None:
            return {}
        if schema is False:
            raise InstanceError("a 'false' schema admits no value")
        if not isinstance(schema, dict):
            return {}
        return self._expand(schema, depth)

    def _expand(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema:
            seen += 1
            if seen > 32:
                raise InstanceError("$ref cycle")
            target = self._follow(schema["$ref"])
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest}
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self._resolve(part, depth)
                props = {**part.get("properties", {}), **merged.get("properties", {})}
                required = sorted(set(part.get("required", [])) | set(merged.get("required", [])))
                merged = {**part, **merged}
                if props:
                    merged["properties"] = props
                if required:
                    merged["required"] = required
            schema = merged
        return schema

    def _follow(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#"):
            raise InstanceError(f"only local $ref is supported, got {ref!r}")
        node: Any = self.root
        for token in [t for t in ref[1:].split("/") if t]:
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or token not in node:
                raise InstanceError(f"unresolvable $ref {ref!r}")
            node = node[token]
        if not isinstance(node, dict):
            raise InstanceError(f"$ref {ref!r} is not a schema")
        found: dict[str, Any] = node
        return found

    def _value(self, schema: Any, name: str, depth: int) -> _Found:
        s = self._resolve(schema, depth)
        if "const" in s:
            return _Found(s["const"], True)
        if "enum" in s:
            return self._enum(s["enum"], name)
        branches = s.get("anyOf") or s.get("oneOf")
        types = s.get("type")
        if isinstance(types, list):
            branches = [{**{k: v for k, v in s.items() if k != "type"}, "type": t} for t in types]
        if branches:
            return self._branch(branches, s, name, depth)
        kind = types or _infer_type(s)
        if depth > _MAX_DEPTH and kind in ("object", "array"):
            if kind == "array" and not s.get("minItems"):
                return _Found([], False)
            if kind == "object" and not s.get("required"):
                return _Found({}, False)
            raise InstanceError(f"schema nests deeper than {_MAX_DEPTH} levels at {name!r}")
        if kind == "object":
            return self._object(s, depth)
        if kind == "array":
            return self._array(s, name, depth)
        if kind in ("integer", "number"):
            return self._number(s, name, integer=kind == "integer")
        if kind == "boolean":
            return self._boolean(s, name)
        if kind == "null":
            return _Found(None, False)
        return self._string(s, name)

    def _branch(self, branches: list[Any], parent: dict[str, Any], name: str, depth: int) -> _Found:
        resolved = [self._resolve(b, depth) for b in branches]
        nullable = any(b.get("type") == "null" for b in resolved)
        others = [b for b in resolved if b.get("type") != "null"]
        extra = {k: v for k, v in parent.items() if k not in ("anyOf", "oneOf", "type")}
        for branch in others:
            merged = {**extra, **branch}
            snapshot = set(self.facts.used)
            got = self._value(merged, name, depth + 1)
            if got.found or not nullable:
                return got
            self.facts.used.intersection_update(snapshot)
        if nullable:
            return _Found(None, False)
        return self._value({**extra, **others[0]}, name, depth + 1) if others else _Found(None, False)

    # -- kinds --------------------------------------------------------------------------------

    def _object(self, s: dict[str, Any], depth: int) -> _Found:
        props: dict[str, Any] = s.get("properties", {})
        required = set(s.get("required", []))
        out: dict[str, Any] = {}
        found_any = False
        for prop, sub in props.items():
            got = self._value(sub, prop, depth + 1)
            if prop in required or self.include_optional or got.found:
                out[prop] = got.value
                found_any = found_any or got.found
        for prop in sorted(required - set(props)):
            out[prop] = self._string({}, prop).value
        return _Found(out, found_any)

    def _array(self, s: dict[str, Any], name: str, depth: int) -> _Found:
        items = self._resolve(s.get("items", {}), depth)
        kind = items.get("type") or _infer_type(items)
        values: list[Any] = []
        if "enum" in items:
            values = [v for v in items["enum"] if self._mentioned(str(v))]
        elif kind in ("integer", "number"):
            values = [self._clamp(items, as_number(n, kind == "integer"))
                      for n in self.facts.take_all(self.facts.numbers)]
        elif kind == "string" and not items.get("format") and not items.get("pattern"):
            values = self.facts.take_all(self.facts.quoted) or self.facts.take_all(self.facts.names)
            values = [self._fit_length(items, v) for v in values]
        found = bool(values)
        low, high = int(s.get("minItems", 0)), s.get("maxItems")
        if not values and (kind in ("object", "array", "boolean") or low > 0 or "enum" in items):
            values = [self._value(items, name, depth + 1).value]
        if s.get("uniqueItems"):
            unique: list[Any] = []
            for v in values:
                if v not in unique:
                    unique.append(v)
            values = unique
        attempt = 0
        while len(values) < low:
            attempt += 1
            candidate = self._value(items, f"{name} {attempt}", depth + 1).value
            if s.get("uniqueItems") and candidate in values:
                candidate = _distinct(candidate, attempt)
            values.append(candidate)
            if attempt > low + 50:
                raise InstanceError(f"cannot fill {low} items for {name!r}")
        if high is not None:
            values = values[: int(high)]
        return _Found(values, found)

    def _enum(self, options: list[Any], name: str) -> _Found:
        near = self._near(name, r"([\w.-]+)")
        if near is not None:
            for option in options:
                if str(option).lower() == near.lower():
                    return _Found(option, True)
        for option in sorted(options, key=lambda o: self._position(str(o))):
            if self._mentioned(str(option)):
                return _Found(option, True)
        return _Found(options[0], False) if options else _Found(None, False)

    def _number(self, s: dict[str, Any], name: str, *, integer: bool) -> _Found:
        raw = self._near(name, r"(-?\d+(?:\.\d+)?)")
        if raw is None:
            raw = self._before(name)
        if raw is not None:
            self.facts.used.add(raw)
        else:
            raw = self.facts.take(self.facts.numbers)
        if raw is None:
            default = s.get("default")
            base: float = default if isinstance(default, int | float) else 0
            return _Found(self._clamp(s, int(base) if integer else base), False)
        return _Found(self._clamp(s, as_number(raw, integer)), True)

    def _clamp(self, s: dict[str, Any], value: int | float) -> int | float:
        integer = s.get("type") == "integer"
        low, high = s.get("minimum"), s.get("maximum")
        ex_low, ex_high = s.get("exclusiveMinimum"), s.get("exclusiveMaximum")
        if integer:
            if isinstance(ex_low, int | float):
                low = math.floor(ex_low) + 1
            if isinstance(ex_high, int | float):
                high = math.ceil(ex_high) - 1
        else:
            span_low = low if isinstance(low, int | float) else ex_low
            span_high = high if isinstance(high, int | float) else ex_high
            if isinstance(ex_low, int | float) and value <= ex_low:
                value = (ex_low + span_high) / 2 if isinstance(span_high, int | float) else ex_low + 1
            if isinstance(ex_high, int | float) and value >= ex_high:
                value = (ex_high + span_low) / 2 if isinstance(span_low, int | float) else ex_high - 1
        if isinstance(low, int | float) and value < low:
            value = math.ceil(low) if integer else low
        if isinstance(high, int | float) and value > high:
            value = math.floor(high) if integer else high
        multiple = s.get("multipleOf")
        if isinstance(multiple, int | float) and multiple > 0:
            value = round(value / multiple) * multiple
            if isinstance(low, int | float) and value < low:
                value += multiple
            if integer:
                value = int(value)
        return value

    def _boolean(self, s: dict[str, Any], name: str) -> _Found:
        said = self._near(name, r"(true|false|yes|no|on|off|enabled?|disabled?)")
        if said is not None:
            return _Found(said.lower() in ("true", "yes", "on", "enable", "enabled"), True)
        words = [w for w in name_words(name) if w not in STOPWORDS and w not in ("is", "has", "include")]
        if words:
            phrase = r"[\s_-]*".join(re.escape(w) for w in words)
            if re.search(rf"\b(?:no|not|without|don't|do not|never)\s+(?:\w+\s+)?{phrase}", self.facts.text, re.I):
                return _Found(False, True)
            if all(self._mentioned(w) for w in words):
                return _Found(True, True)
        default = s.get("default")
        return _Found(default if isinstance(default, bool) else False, False)

    def _string(self, s: dict[str, Any], name: str) -> _Found:
        fmt = s.get("format")
        if fmt:
            return _Found(self._formatted(str(fmt), name), True)
        if "pattern" in s:
            return _Found(self._fit_length(s, self._patterned(str(s["pattern"]), name)), True)
        near = self._near(name, r"(\"[^\"]+\"|'[^']+'|“[^”]+”|[^\s,.;!?]+(?:\s+[A-Z][\w'\u2019-]*)*)")
        if near is not None and near.strip("\"'“”").lower() not in STOPWORDS:
            value = near.strip("\"'“”")
            self.facts.used.add(value)
            return _Found(self._fit_length(s, value), True)
        taken = self.facts.take(self.facts.quoted) or self.facts.take(self.facts.names)
        if taken is not None:
            return _Found(self._fit_length(s, taken), True)
        if isinstance(s.get("default"), str):
            return _Found(s["default"], False)
        return _Found(self._fit_length(s, self._fallback(name)), False)

    # -- text helpers -------------------------------------------------------------------------

    def _near(self, name: str, value_pattern: str) -> str | None:
        words = name_words(name)
        if not words or not name.strip():
            return None
        phrase = r"[\s_-]*".join(re.escape(w) for w in words)
        m = re.search(rf"\b{phrase}s?\b{connector()}{value_pattern}", self.facts.text, re.I)
        if m is None:
            return None
        value = m.group(m.lastindex or 1)
        if value is None or value in self.facts.used:
            return None
        return value

    def _before(self, name: str) -> str | None:
        words = name_words(name)
        if not words:
            return None
        phrase = r"[\s_-]*".join(re.escape(w) for w in words)
        m = re.search(rf"(?<![\w.])(-?\d+(?:\.\d+)?)\s+{phrase}", self.facts.text, re.I)
        if m is None or m.group(1) in self.facts.used:
            return None
        return m.group(1)

    def _mentioned(self, word: str) -> bool:
        return self._position(word) < len(self.facts.text)

    def _position(self, word: str) -> int:
        if not word:
            return len(self.facts.text)
        m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", self.facts.text, re.I)
        return m.start() if m else len(self.facts.text)

    def _formatted(self, fmt: str, name: str) -> str:
        text = self.facts.text
        finders = {
            "date": r"\b\d{4}-\d{2}-\d{2}\b",
            "date-time": r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})\b",
            "email": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
            "uri": r"https?://[^\s\"'<>]+",
            "time": r"\b\d{2}:\d{2}:\d{2}\b",
        }
        pattern = finders.get(fmt)
        if pattern is not None:
            m = re.search(pattern, text)
            if m and m.group(0) not in self.facts.used:
                self.facts.used.add(m.group(0))
                return m.group(0)
        defaults = {"date": "2025-01-01", "date-time": "2025-01-01T00:00:00Z", "email": "someone@example.com",
                    "uri": "https://example.com/", "time": "00:00:00",
                    "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{name}:{text}"))}
        return defaults.get(fmt, self._fallback(name))

    def _patterned(self, pattern: str, name: str) -> str:
        regex = re.compile(pattern)
        near = self._near(name, r"([^\s,;!?]+)")
        for candidate in [near, *self.facts.quoted, *self.facts.names, *self.facts.numbers,
                          *self.facts.text.split()]:
            if candidate and candidate not in self.facts.used and regex.fullmatch(candidate):
                self.facts.used.add(candidate)
                return candidate
        loose = pattern.removeprefix("^").removesuffix("$")
        try:
            m = re.search(loose, self.facts.text)
        except re.error:
            m = None
        if m and regex.search(m.group(0)):
            return m.group(0)
        raise InstanceError(f"no text matches the pattern {pattern!r} of {name!r}")

    def _fit_length(self, s: dict[str, Any], value: str) -> str:
        high = s.get("maxLength")
        if isinstance(high, int) and len(value) > high:
            value = value[:high]
        low = s.get("minLength")
        if isinstance(low, int) and len(value) < low:
            value = value + "_" * (low - len(value))
        return value

    def _fallback(self, name: str) -> str:
        if self.fallback_text:
            return self.fallback_text
        words = [w for w in WORD.findall(self.facts.text)
                 if w.lower() not in STOPWORDS and w.lower() not in self.ignore_words]
        return " ".join(words[:6]) or (name or "value")


def _infer_type(s: dict[str, Any]) -> str:
    if "properties" in s or "required" in s or "additionalProperties" in s:
        return "object"
    if "items" in s or "minItems" in s:
        return "array"
    if "minimum" in s or "maximum" in s or "multipleOf" in s:
        return "number"
    return "string"


def _distinct(value: Any, n: int) -> Any:
    if isinstance(value, str):
        return f"{value} {n}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value + n
    return value


def synthesize(schema: dict[str, Any], text: str, *, include_optional: bool = False,
               fallback_text: str | None = None, ignore_words: frozenset[str] = frozenset(),
               used: set[str] | None = None) -> Any:
    """A value valid against ``schema``, filled from ``text``; raises :class:`InstanceError`.

    ``used`` (shared between calls) keeps values one instance took from being reused by the next,
    e.g. across several tool calls answering one message."""
    return InstanceBuilder(schema, text, include_optional=include_optional, fallback_text=fallback_text,
                           ignore_words=ignore_words, used=used).build()
