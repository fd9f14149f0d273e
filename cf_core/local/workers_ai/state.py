"""The Workers AI component's state: engines, rate limiter and per-account licence agreements."""

from __future__ import annotations

import threading
from typing import Any, Protocol

import numpy as np

from ..emulator import EmulatorConfig
from .chat_types import ChatRequest, ChatResult
from .engines.chat_remote import RemoteChatEngine
from .engines.chat_standin import StandInChatEngine
from .engines.embeddings_hash import HashEmbedder
from .engines.embeddings_minilm import EngineUnavailable, MiniLMEmbedder
from .ratelimit import RateLimiter


class ChatEngine(Protocol):
    def generate(self, req: ChatRequest) -> ChatResult: ...


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str], *, model: str, dim: int, pooling: str) -> np.ndarray: ...


def build_embedder(name: str) -> Embedder:
    if name == "hash":
        return HashEmbedder()
    if name == "minilm":
        return MiniLMEmbedder()
    raise EngineUnavailable(f"unknown embedding_engine {name!r}: use 'hash' or 'minilm'")


class WorkersAIState:
    """Kept at ``emulator.components["workers_ai"]``."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.limiter = RateLimiter()
        self.embedder: Embedder = build_embedder(config.embedding_engine)
        self.chat_engine: ChatEngine = (RemoteChatEngine(config.chat_engine_url, seed=config.seed)
                                        if config.chat_engine_url else StandInChatEngine(config.seed))
        self._agreed: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self.runs: dict[str, int] = {}
        """Requests answered per model (for tests and stats)."""

    def agreed(self, account: str, model: str) -> bool:
        with self._lock:
            return (account, model) in self._agreed

    def agree(self, account: str, model: str) -> None:
        with self._lock:
            self._agreed.add((account, model))

    def count(self, model: str) -> None:
        with self._lock:
            self.runs[model] = self.runs.get(model, 0) + 1

    def close(self) -> None:
        closer: Any = getattr(self.chat_engine, "close", None)
        if callable(closer):
            closer()
