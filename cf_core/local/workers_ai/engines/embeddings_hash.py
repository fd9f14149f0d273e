"""Hashed lexical embeddings: texts that share words are close, texts that do not are not.

Features of a text: its lower-cased words (weight 1.0), adjacent word pairs (0.5) and the character
3-grams of each padded word (0.25 spread over the word's grams). Each feature maps to ``_TAPS``
signed positions of the output dimension, taken from a blake2b digest of the feature (stable across
processes, unlike ``hash()``), and the weighted sum is L2-normalised.

``pooling`` chooses the hashing salt: ``mean`` and ``cls`` vectors of one text live in unrelated
spaces, so mixing them gives meaningless scores, as with the real models. The vectors depend on the
model id and pooling only (not on the emulator seed), so stored vectors stay comparable.

Per-feature positions are cached; each word also keeps its taps' positions and signed weights as
two flat arrays (its features in order), so a batch concatenates cached arrays instead of gathering
feature by feature. Features first seen in a batch are hashed together and added to the table in
one numpy step; the batch is accumulated with one ``numpy.bincount``. Python work per text is a few list operations, so 100 texts of 60
words take a few milliseconds.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from operator import itemgetter

import numpy as np

_WORD = re.compile(r"[^\W_]+")
_TAPS = 8
_CACHE_LIMIT = 500_000
_WORD_CACHE_LIMIT = 20_000
"""Words whose rows are cached (about 1.2 KB each)."""
_Rows = tuple[np.ndarray, np.ndarray]
"""A word's tap positions and signed weights, flattened in feature order."""


class _Table:
    """Signed positions of every feature seen so far, for one (salt, dimension)."""

    def __init__(self, salt: str, dim: int) -> None:
        self.salt, self.dim = salt, dim
        self.ids: dict[str, int] = {}
        self.rows: dict[str, _Rows] = {}
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

    def ensure(self, features: list[str], lock: threading.Lock) -> None:
        """Give every feature in ``features`` an id, hashing the new ones in one batch."""
        missing = [f for f in dict.fromkeys(features) if f not in self.ids]
        if not missing:
            return
        salt, blake2b, size = f"{self.salt}\x00", hashlib.blake2b, 4 * _TAPS
        digests = b"".join([blake2b((salt + f).encode(), digest_size=size).digest() for f in missing])
        raw = np.frombuffer(digests, dtype="<u4").astype(np.int64).reshape(len(missing), _TAPS)
        with lock:
            keep = [i for i, f in enumerate(missing) if f not in self.ids]  # another thread may have won
            if not keep:
                return
            start, count = len(self.ids), len(keep)
            size = len(self.positions)
            while size < start + count:
                size *= 2
            if size > len(self.positions):
                # Grow by copy before publishing any new id: readers holding ids always find them.
                positions = np.zeros((size, _TAPS), dtype=np.int64)
                signs = np.zeros((size, _TAPS), dtype=np.float64)
                positions[:start], signs[:start] = self.positions[:start], self.signs[:start]
                self.positions, self.signs = positions, signs
            rows = raw[keep]
            self.positions[start:start + count] = (rows >> 1) % self.dim
            self.signs[start:start + count] = np.where(rows & 1, 1.0, -1.0)
            for offset, i in enumerate(keep):
                self.ids[missing[i]] = start + offset


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

    def _word_rows(self, table: _Table, rows: dict[str, _Rows], new_words: dict[str, list[tuple[str, float]]]) -> None:
        """Cache each new word's flattened tap positions and signed weights (its features in order)."""
        ids_of = table.ids
        positions, signs = table.positions, table.signs  # ids are published only after both are filled
        for word, feats in new_words.items():
            ids = [ids_of[f] for f, _ in feats]
            weights = np.asarray([w for _, w in feats], dtype=np.float64)
            rows[word] = (positions[ids].ravel(), (signs[ids] * weights[:, None]).ravel())

    def embed(self, texts: list[str], *, model: str, dim: int, pooling: str) -> np.ndarray:
        """``(len(texts), dim)`` float32 rows, each of unit length."""
        table = self._table(f"{model}|{pooling}", dim)
        if len(table.rows) > _WORD_CACHE_LIMIT:
            table.rows = {}
        rows = table.rows  # this request's view: a concurrent reset must not lose the rows it adds
        # Lower-casing first is the same for ASCII only: elsewhere it can add marks \w does not match.
        tokenised = [_WORD.findall(text.lower()) if text.isascii() else [w.lower() for w in _WORD.findall(text)]
                     for text in texts]
        # Word features come first and then the word pairs of every text; bincount sums each row's
        # contributions in that same order, whatever the order across rows, so rows are unchanged.
        new_words = {w: self.word_features(w) for words in tokenised for w in words if w not in rows}
        pairs = [[f"b:{a} {b}" for a, b in itertools.pairwise(words)] if words else ["raw:" + text]
                 for words, text in zip(tokenised, texts, strict=True)]
        table.ensure([f for feats in new_words.values() for f, _ in feats] + [k for keys in pairs for k in keys],
                     self._lock)
        self._word_rows(table, rows, new_words)
        entries = [rows[w] for words in tokenised for w in words]
        words_per_text = np.fromiter(map(len, tokenised), dtype=np.int64, count=len(texts))
        row_start = np.arange(len(texts), dtype=np.int64) * dim
        pairs_per_text = np.fromiter(map(len, pairs), dtype=np.int64, count=len(texts))
        pair_ids = [table.ids[k] for keys in pairs for k in keys]
        pair_weights = np.repeat(np.where(words_per_text > 0, 0.5, 1.0), pairs_per_text)
        pair_flat = (table.positions[pair_ids] + np.repeat(row_start, pairs_per_text)[:, None]).ravel()
        pair_values = (table.signs[pair_ids] * pair_weights[:, None]).ravel()
        if entries:
            taps_per_word = np.fromiter(map(len, map(itemgetter(0), entries)), dtype=np.int64, count=len(entries))
            word_offsets = np.repeat(np.repeat(row_start, words_per_text), taps_per_word)
            flat = np.concatenate([np.concatenate(list(map(itemgetter(0), entries))) + word_offsets, pair_flat])
            values = np.concatenate([*map(itemgetter(1), entries), pair_values])
        else:
            flat, values = pair_flat, pair_values
        matrix = np.bincount(flat, weights=values, minlength=len(texts) * dim)
        matrix = matrix.reshape(len(texts), dim)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        out: np.ndarray = (matrix / norms).astype(np.float32)
        return out
