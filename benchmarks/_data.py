"""Synthetic, seeded inputs: every contender gets exactly the same chunks, prompts and vectors."""

from __future__ import annotations

import itertools
import random
import string
from typing import Any

TOKEN = "bench-token"
EMBED_MODEL = "@cf/baai/bge-base-en-v1.5"
CHAT_MODEL = "@cf/meta/llama-3.1-8b-instruct"
DIMENSIONS = 768
QUESTION = "What is Vectorize?"
STREAM_MAX_TOKENS = 256

_TECH = ("vector", "index", "query", "worker", "edge", "model", "embedding", "search", "cache", "gateway",
         "token", "latency", "region", "storage", "metadata", "filter", "cosine", "batch", "request", "stream")


def vocabulary(seed: int, size: int = 4000) -> list[str]:
    rng = random.Random(seed)
    words = {"".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10))) for _ in range(size)}
    return list(_TECH) + sorted(words)


CHUNK_WORDS = (20, 40)
"""Words per chunk (about 120-250 characters). The emulator's stand-in embedding costs time per
word; at this length it stays far below the per-request latency, so clients are what is measured."""


def chunks(n: int, seed: int = 0) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """``n`` chunks of CHUNK_WORDS words (Zipf-like word frequencies): ids, texts and small metadata."""
    rng = random.Random(seed)
    vocab = vocabulary(seed)
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(vocab))))
    ids = [f"chunk-{i:06d}" for i in range(n)]
    texts = []
    for _ in range(n):
        words = rng.choices(vocab, cum_weights=cumulative, k=rng.randint(*CHUNK_WORDS))
        texts.append(" ".join(words).capitalize() + ".")
    metadatas: list[dict[str, Any]] = [{"doc": f"doc-{i // 25:05d}", "position": i % 25} for i in range(n)]
    return ids, texts, metadatas


def chat_messages() -> list[dict[str, str]]:
    """The per-call chat request: one short user message."""
    return [{"role": "user", "content": QUESTION}]


def stream_messages() -> list[dict[str, str]]:
    """A request the stand-in answers at length: it quotes the (up to three) context sentences that
    best match the question, so three long matching sentences give a ~240-token answer."""
    filler = vocabulary(1)[20:100]
    context = " ".join(f"Vectorize stores vectors near where Workers AI models run in region {n}, "
                       + " ".join(filler[n * 25:(n + 1) * 25] * 3) + "." for n in range(3))
    return [{"role": "system", "content": context},
            {"role": "user", "content": "Where does Vectorize store vectors and where do Workers AI models run?"}]
