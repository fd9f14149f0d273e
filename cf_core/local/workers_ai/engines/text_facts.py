"""Reading values out of free text: numbers, quoted strings, capitalised names, name words.

Shared by the instance generator (tool arguments, JSON mode) and the chat stand-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

STOPWORDS = frozenset([
    "a", "an", "the", "and", "or", "but", "if", "then", "than", "of", "to", "in", "on", "at", "by",
    "for", "from", "with", "without", "about", "into", "over", "under", "is", "are", "was", "were",
    "be", "been", "being", "am", "do", "does", "did", "have", "has", "had", "i", "me", "my", "we",
    "our", "you", "your", "he", "she", "it", "its", "they", "them", "their", "this", "that", "these",
    "those", "what", "which", "who", "whom", "whose", "where", "when", "why", "how", "please", "can",
    "could", "would", "should", "will", "shall", "may", "might", "must", "let", "lets", "let's", "tell",
    "give", "show", "find", "get", "set", "make", "call", "use", "using", "tool", "function", "also",
    "just", "some", "any", "all", "no", "not", "yes", "as", "so", "very", "much", "many", "more",
    "most", "other", "such", "only", "own", "same", "too", "up", "out", "hi", "hello", "hey", "thanks",
    "thank", "there", "here", "now", "then",
])

# Verbs that open a request ("Compare Rome and Madrid"): capitalised only by position.
_IMPERATIVES = frozenset([
    "compare", "book", "find", "show", "list", "search", "send", "create", "add", "convert",
    "calculate", "check", "translate", "schedule", "plan", "order", "buy", "email", "remind", "look",
    "fetch", "summarise", "summarize", "describe", "explain", "draw", "write", "reserve", "fly",
    "travel", "invite", "cancel", "update", "delete", "remove", "open", "close", "start", "stop", "play",
])
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_QUOTED = re.compile(r"\"([^\"]+)\"|'([^']{2,})'|“([^”]+)”|«([^»]+)»")
WORD = re.compile(r"[^\W_][\w'\u2019-]*")


def name_words(name: str) -> list[str]:
    """``get_current_weather`` / ``maxResults`` / ``user-id`` -> lower-case words."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[\s_\-.]+", spaced) if w]


def connector() -> str:
    verbs = "is|are|was|were|=|:|of|to|as|be|at|in|for|named|called|equals?|should be|set to"
    return rf"\s*(?:(?:{verbs})\s*)?(?:(?:the|a|an)\s+)?"


@dataclass
class TextFacts:
    text: str
    numbers: list[str] = field(default_factory=list)
    quoted: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, text: str) -> TextFacts:
        facts = cls(text)
        facts.quoted = [next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)]
        unquoted = _QUOTED.sub(" ", text)
        facts.numbers = [m.group(0) for m in _NUMBER.finditer(unquoted)]
        facts.names = capitalised_phrases(unquoted)
        return facts

    def take(self, pool: list[str]) -> str | None:
        for item in pool:
            if item not in self.used:
                self.used.add(item)
                return item
        return None

    def take_all(self, pool: list[str]) -> list[str]:
        out = [item for item in pool if item not in self.used]
        self.used.update(out)
        return out


def is_stopword(word: str) -> bool:
    lowered = word.lower().replace("\u2019", "'")
    return lowered in STOPWORDS or lowered.split("'")[0] in STOPWORDS


def capitalised_phrases(text: str) -> list[str]:
    """Runs of capitalised words, mid-sentence ones first (a sentence's first word is usually
    capitalised only by position: "Book a flight", "Compare Paris and Rome")."""
    inner: list[str] = []
    initial: list[str] = []
    current: list[str] = []
    current_initial = False
    previous_end = 0

    def flush() -> None:
        if current:
            (initial if current_initial else inner).append(" ".join(current))
            current.clear()

    for m in WORD.finditer(text):
        word = m.group(0)
        gap = text[previous_end:m.start()]
        sentence_start = previous_end == 0 or bool(re.search(r"[.!?\n]", gap))
        previous_end = m.end()
        if word[0].isupper() and not is_stopword(word):
            if current and gap == " ":
                current.append(word)
                continue
            flush()
            if sentence_start and word.lower() in _IMPERATIVES:
                continue
            current.append(word)
            current_initial = sentence_start
        else:
            flush()
    flush()
    out: list[str] = []
    for phrase in inner + initial:
        if phrase not in out:
            out.append(phrase)
    return out


def as_number(text: str, integer: bool) -> int | float:
    value = float(text)
    if integer:
        return round(value)
    return int(value) if value.is_integer() and "." not in text else value
