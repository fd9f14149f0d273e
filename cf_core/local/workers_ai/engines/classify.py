"""Stand-in sentiment (distilbert-sst-2): a small lexicon with negation, squashed to probabilities.

Each positive word adds one, each negative word subtracts one, and a negator ("not", "never",
"no", "n't") within the two previous words flips the sign. The score is a logistic of the sum, so
NEGATIVE + POSITIVE = 1 and a text with no lexicon word is 0.5/0.5.
"""

from __future__ import annotations

import math
import re
from typing import Any

POSITIVE = frozenset([
    "good", "great", "excellent", "amazing", "awesome", "wonderful", "fantastic", "love", "loved",
    "lovely", "like", "liked", "enjoy", "enjoyed", "happy", "glad", "pleased", "delightful",
    "brilliant", "best", "better", "nice", "superb", "perfect", "beautiful", "fun", "helpful", "fast",
    "recommend", "recommended", "impressive", "outstanding", "positive", "satisfied", "smooth", "easy",
    "friendly", "clean",
])
NEGATIVE = frozenset([
    "bad", "terrible", "awful", "horrible", "hate", "hated", "dislike", "poor", "worst", "worse",
    "boring", "sad", "angry", "disappointing", "disappointed", "broken", "slow", "ugly", "useless",
    "annoying", "fail", "failed", "failure", "wrong", "negative", "problem", "problems", "buggy",
    "rude", "dirty", "difficult", "hard", "painful", "waste", "expensive", "crash", "crashed",
])
_NEGATORS = frozenset(["not", "never", "no", "nothing", "neither", "nor", "hardly", "without"])
_WORD = re.compile(r"[a-z']+")


def sentiment(text: str) -> list[dict[str, Any]]:
    words = _WORD.findall(text.lower())
    total = 0.0
    for i, word in enumerate(words):
        polarity = 1.0 if word in POSITIVE else -1.0 if word in NEGATIVE else 0.0
        if not polarity:
            continue
        before = words[max(0, i - 2):i]
        if any(w in _NEGATORS or w.endswith("n't") for w in before):
            polarity = -polarity
        total += polarity
    positive = 1.0 / (1.0 + math.exp(-1.5 * total))
    return [{"label": "NEGATIVE", "score": round(1.0 - positive, 6)},
            {"label": "POSITIVE", "score": round(positive, 6)}]
