"""The rule-based chat stand-in: deterministic, general, labelled.

What it does, in order:

1. Tool calls. A tool is *asked for* when its name, or all of its content words (the name split on
   ``_``/``-``/camelCase, minus generic verbs such as get/fetch/lookup), appear in the latest user
   message (light stemming: weather/weathers, multiply/multiplied). Every asked-for tool without a
   result yet (a ``tool`` message after the latest user message) is called, in the order the text
   mentions them, with arguments from :mod:`.instances`. ``tool_choice`` by name forces that tool;
   ``required``/``any`` forces the best-matching tool when nothing was asked for and no result is
   in yet; ``none`` forbids calls.
2. With tool results in: a labelled answer that quotes each result.
3. JSON mode: an instance of the schema filled from the latest user message.
4. Otherwise a labelled answer built from the context it was given: the sentences of the system
   messages, earlier user/tool messages and the non-question sentences of the latest user message
   that share the most (IDF-weighted, stemmed) words with the question, in their original order.
   Images are described by format and byte size.

``max_tokens`` (whitespace words) and stop sequences are obeyed. Temperature and seed do not change
the answer (the stand-in is deterministic by design).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass

from ....catalog import info
from ..chat_types import (
    ChatRequest,
    ChatResult,
    ImageInput,
    ToolCallOut,
    ToolSpec,
    Turn,
    count_tokens,
    truncate_tokens,
)
from .instances import InstanceError, synthesize
from .text_facts import STOPWORDS, name_words

LABEL = "[stand-in] "
GENERIC_TOOL_WORDS = frozenset([
    "get", "set", "fetch", "lookup", "look", "up", "find", "retrieve", "do", "run", "call", "make",
    "query", "tool", "func", "function", "compute", "perform", "execute", "current", "info", "data",
    "api", "load", "read",
])
_QUOTED_KEY = re.compile(r"""['"`]([A-Za-z_][A-Za-z0-9_]{0,63})['"`]""")
# A sentence ends at . ! or ? followed by white space (so "0.011" and "v1.5" stay whole) or a line end.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_TOKEN = re.compile(r"[^\W_]+")


def stem(word: str) -> str:
    w = word.lower()
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: len(w) - len(suffix)] + repl
    return w


def content_stems(text: str) -> list[str]:
    return [stem(t) for t in _TOKEN.findall(text) if t.lower() not in STOPWORDS]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def describe_image(image: ImageInput) -> str:
    data = image.data
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "PNG"
    elif data.startswith(b"\xff\xd8"):
        kind = "JPEG"
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        kind = "GIF"
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = "WebP"
    else:
        kind = image.declared_type or "unrecognised"
    return f"The attached image is {kind} data of {len(data)} bytes."


@dataclass
class _Conversation:
    question: str
    """The latest user message."""
    results: list[tuple[str, str]]
    """(tool name, result text) of tool messages after the latest user message."""
    context: list[str]
    """Texts the answer may draw on."""


def _parse_text_calls(content: str) -> list[tuple[str, str | None]]:
    """Tool calls an assistant wrote as JSON text (the docs' continuation form)."""
    try:
        data = json.loads(content)
    except ValueError:
        return []
    items = data if isinstance(data, list) else [data]
    return [(str(item["name"]), None) for item in items if isinstance(item, dict) and "name" in item]


def read_conversation(turns: list[Turn]) -> _Conversation:
    last_user = max((i for i, t in enumerate(turns) if t.role == "user"), default=-1)
    question = turns[last_user].content if last_user >= 0 else ""
    results: list[tuple[str, str]] = []
    pending: list[tuple[str, str | None]] = []
    for turn in turns[last_user + 1:]:
        if turn.role == "assistant":
            pending = [(c.name, c.id) for c in turn.tool_calls] or _parse_text_calls(turn.content)
        elif turn.role in ("tool", "ipython", "function"):
            name = turn.name
            if name is None and turn.tool_call_id is not None:
                name = next((n for n, i in pending if i == turn.tool_call_id), None)
            if name is None and pending:
                name = pending[0][0]
            pending = [p for p in pending if p[0] != name] if name else pending
            results.append((name or "tool", turn.content))
    context = [t.content for i, t in enumerate(turns)
               if i != last_user and t.role in ("system", "developer", "user", "tool", "ipython")]
    return _Conversation(question, results, context)


def _tool_position(tool: ToolSpec, text: str) -> int | None:
    whole = re.search(rf"(?<!\w){re.escape(tool.name)}(?!\w)", text, re.I)
    words = [w for w in name_words(tool.name) if w not in GENERIC_TOOL_WORDS and w not in STOPWORDS]
    if not words:
        return whole.start() if whole else None
    first: dict[str, int] = {}
    for m in _TOKEN.finditer(text):
        first.setdefault(stem(m.group(0)), m.start())
    positions = [first.get(stem(w)) for w in words]
    if all(p is not None for p in positions):
        found = min(p for p in positions if p is not None)
        return min(found, whole.start()) if whole else found
    return whole.start() if whole else None


def _best_tool(tools: list[ToolSpec], text: str) -> ToolSpec:
    asked = set(content_stems(text))

    def overlap(tool: ToolSpec) -> int:
        return len(asked & set(content_stems(" ".join(name_words(tool.name)) + " " + tool.description)))

    return max(tools, key=lambda t: (overlap(t), -tools.index(t)))


def make_call_id(req: ChatRequest, index: int, seed: int) -> str:
    digest = hashlib.blake2b(f"{seed}|{index}|{req.fingerprint()}".encode(), digest_size=16).hexdigest()
    pattern = info(req.model).tool_call_id_pattern
    if pattern and "{9}" in pattern:  # Mistral: nine alphanumerics
        return digest[:9]
    return f"chatcmpl-tool-{digest}"


class StandInChatEngine:
    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def generate(self, req: ChatRequest) -> ChatResult:
        convo = read_conversation(req.turns)
        result = ChatResult(prompt_tokens=req.prompt_tokens())
        calls = self._tool_calls(req, convo)
        if calls:
            result.tool_calls = calls
            result.finish_reason = "tool_calls"
            result.completion_tokens = count_tokens(json.dumps(
                [{"name": c.name, "arguments": c.arguments} for c in calls], ensure_ascii=False))
            return result
        if req.json_schema is not None:
            value = self._json_value(req, convo)
            result.is_json, result.json_value = True, value
            result.text = json.dumps(value, ensure_ascii=False)
            result.completion_tokens = count_tokens(result.text)
            return result
        text = self._answer(req, convo)
        text, stopped = _apply_stop(text, req.stop)
        text, cut = truncate_tokens(text, req.max_tokens)
        result.text = text
        result.completion_tokens = count_tokens(text)
        result.finish_reason = "length" if cut and not stopped else "stop"
        return result

    # -- tools --------------------------------------------------------------------------------

    def _tool_calls(self, req: ChatRequest, convo: _Conversation) -> list[ToolCallOut]:
        if not req.tools or req.tool_choice == "none":
            return []
        done = {name for name, _ in convo.results}
        by_name = {t.name: t for t in req.tools}
        chosen: list[ToolSpec] = []
        if req.tool_choice not in ("auto", "required", "any"):
            forced = by_name.get(req.tool_choice)
            if forced is not None and forced.name not in done:
                chosen = [forced]
        else:
            asked = [(pos, t) for t in req.tools if (pos := _tool_position(t, convo.question)) is not None]
            chosen = [t for _, t in sorted(asked, key=lambda p: p[0]) if t.name not in done]
            if not chosen and req.tool_choice in ("required", "any") and not convo.results:
                chosen = [_best_tool(req.tools, convo.question)]
        calls = []
        used: set[str] = set()
        for i, tool in enumerate(chosen):
            ignore = frozenset(name_words(tool.name))
            try:
                args = synthesize(tool.parameters, convo.question, ignore_words=ignore, used=used)
            except InstanceError:
                args = {}
            if not isinstance(args, dict):
                args = {}
            calls.append(ToolCallOut(make_call_id(req, i, self.seed), tool.name, args))
        return calls

    # -- JSON mode ----------------------------------------------------------------------------

    def _json_value(self, req: ChatRequest, convo: _Conversation) -> object:
        schema = req.json_schema or {}
        answer = self._answer_text(req, convo)
        source = " ".join([convo.question, *(content for _, content in convo.results)])
        if not schema.get("properties") and schema.get("type", "object") == "object" and "$ref" not in schema \
                and not any(k in schema for k in ("anyOf", "oneOf", "allOf")):
            # Schema-less JSON mode: use the keys the request names in quotes ("... with 'setup' and
            # 'punchline' keys"), as a model following the instruction would; else one "response" key.
            keys = _QUOTED_KEY.findall(convo.question)
            return {key: answer for key in dict.fromkeys(keys)} if keys else {"response": answer}
        return synthesize(schema, source, include_optional=True, fallback_text=answer)

    # -- answers ------------------------------------------------------------------------------

    def _answer(self, req: ChatRequest, convo: _Conversation) -> str:
        parts = [describe_image(image) for image in req.images]
        if convo.results:
            parts += [f"The {name} tool returned: {content.strip()}" for name, content in convo.results]
        else:
            parts.append(self._answer_text(req, convo))
        return LABEL + " ".join(p for p in parts if p)

    def _answer_text(self, req: ChatRequest, convo: _Conversation) -> str:
        asked = sentences(convo.question)
        questions = [s for s in asked if s.endswith("?")]
        question = questions[-1] if questions else (asked[-1] if asked else convo.question)
        passages = [s for text in convo.context for s in sentences(text)]
        passages += [s for s in asked if s != question]
        chosen = _best_passages(question, passages)
        if chosen:
            return " ".join(chosen)
        terms = [t for t in _TOKEN.findall(question) if t.lower() not in STOPWORDS]
        if not terms:
            return "No context was given to answer from."
        return "No context was given that mentions " + ", ".join(terms[:8]) + "."


def _best_passages(question: str, passages: list[str], limit: int = 3) -> list[str]:
    wanted = set(content_stems(question))
    if not wanted or not passages:
        return []
    bags = [set(content_stems(p)) for p in passages]
    df = {t: sum(1 for b in bags if t in b) for t in wanted}
    n = len(passages)
    scores = [sum(math.log(1 + n / df[t]) for t in wanted & bag) for bag in bags]
    best = max(scores)
    if best <= 0:
        return []
    ranked = sorted(range(n), key=lambda i: (-scores[i], i))
    keep = sorted(i for i in ranked[:limit] if scores[i] >= best * 0.5)
    out: list[str] = []
    for i in keep:
        if passages[i] not in out:
            out.append(passages[i])
    return out


def _apply_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    if cut < 0:
        return text, False
    return text[:cut].rstrip(), True
