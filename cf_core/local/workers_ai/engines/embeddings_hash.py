"""Hashed lexical embeddings: texts that share words are close, texts that do not are not.

Features of a text: its lower-cased words (weight 1.0), adjacent word pairs (0.5) and the character
3-grams of each padded word (0.25 spread over the word's grams). Each feature maps to ``_TAPS``
signed positions of the output dimension, taken from a blake2b digest of the feature (stable across
processes, unlike ``hash()``), and the weighted sum is L2-normalised.

``pooling`` chooses the hashing salt: ``mean`` and ``cls`` vectors of one text live in unrelated
spaces, so mixing them gives meaningless scores, as with the real models. The vectors depend on the
model id and pooling only (not on the emulator seed), so stored vectors stay comparable.

Per-feature positions are cached; a batch is accumulated with one ``numpy.bincount``.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading

import numpy as np

_WORD = re.compile(r"[^\W_]+")
_TAPS = 8
_CACHE_LIMIT = 500_000


class _Table:
    """Signed positions of every feature seen so far, for one (salt, dimension)."""

    def __init__(self, salt: str, dim: int) -> None:
        self.salt, self.dim = salt, dim
        self.ids: dict[str, int] = {}
        self.words: dict[str, tuple[list[int], list[float]]] = {}
        self.positions = np.zeros((1024, _TAPS), dtype=np.int64)
        self.signs = np.zeros((1024, _TAPS), dtype=np.float64)

    def id(self, feature: str, lock: threading.Lock) -> int:
        found = self.ids.get(feature)
        if found is not None:
            return found
        digest = hashlib.blake2b(f"{self.salt}\x00{feature}".encode(), digest_size=4 * _TAPS).digest()
        raw = np.frombuffer(digest, dtype="<u4").astype(np.int64)
        with lock:
            found = self.ids.get(feature)
            if found is not None:
                return found
            new = len(self.ids)
            if new >= len(self.positions):
                self.positions = np.concatenate([self.positions, np.zeros_like(self.positions)])
                self.signs = np.concatenate([self.signs, np.zeros_like(self.signs)])
            self.positions[new] = (raw >> 1) % self.dim
            self.signs[new] = np.where(raw & 1, 1.0, -1.0)
            self.ids[feature] = new
        return new


class HashEmbedder:
    name = "hash"

    def __init__(self) -> None:
        self._tables: dict[tuple[str, int], _Table] = {}
        self._lock = threading.Lock()

    def _table(self, salt: str, dim: int) -> _Table:
        table = self._tables.get((salt, dim))
        if table is None or len(table.ids) > _CACHE_LIMIT:
            with self._lock:
                table = _Table(salt, dim)
                self._tables[(salt, dim)] = table
        return table

    @staticmethod
    def word_features(word: str) -> list[tuple[str, float]]:
        """A lower-cased word's own feature and its character 3-grams."""
        padded = f"<{word}>"
        grams = [padded[i:i + 3] for i in range(len(padded) - 2)]
        weight = 0.25 * 3 / max(len(grams), 3)
        return [("w:" + word, 1.0)] + [("c:" + g, weight) for g in grams]

    @classmethod
    def features(cls, text: str) -> list[tuple[str, float]]:
        """Every weighted feature of ``text`` (what :meth:`embed` sums)."""
        words = [w.lower() for w in _WORD.findall(text)]
        out = [f for w in words for f in cls.word_features(w)]
        out += [(f"b:{a} {b}", 0.5) for a, b in itertools.pairwise(words)]
        return out or [("raw:" + text, 1.0)]

    def _word(self, table: _Table, word: str) -> tuple[list[int], list[float]]:
        found = table.words.get(word)
        if found is None:
            feats = self.word_features(word)
            found = ([table.id(f, self._lock) for f, _ in feats], [w for _, w in feats])
            table.words[word] = found
        return found

    def embed(self, texts: list[str], *, model: str, dim: int, pooling: str) -> np.ndarray:
        """``(len(texts), dim)`` float32 rows, each of unit length."""
        table = self._table(f"{model}|{pooling}", dim)
        ids: list[int] = []
        weights: list[float] = []
        offsets: list[int] = []
        for row, text in enumerate(texts):
            start = len(ids)
            words = [w.lower() for w in _WORD.findall(text)]
            for w in words:
                word_ids, word_weights = self._word(table, w)
                ids += word_ids
                weights += word_weights
            for a, b in itertools.pairwise(words):
                ids.append(table.id(f"b:{a} {b}", self._lock))
                weights.append(0.5)
            if not words:
                ids.append(table.id("raw:" + text, self._lock))
                weights.append(1.0)
            offsets += [row * dim] * (len(ids) - start)
        index = np.asarray(ids, dtype=np.int64)
        flat = table.positions[index] + np.asarray(offsets, dtype=np.int64)[:, None]
        values = table.signs[index] * np.asarray(weights)[:, None]
        matrix = np.bincount(flat.ravel(), weights=values.ravel(), minlength=len(texts) * dim)
        matrix = matrix.reshape(len(texts), dim)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        out: np.ndarray = (matrix / norms).astype(np.float32)
        return out
