"""Hashed lexical embeddings: texts that share words are close, texts that do not are not.

Features of a text: its lower-cased words (weight 1.0, ``_WORD_TAPS`` signed positions each), the
character 3-grams of each padded word (0.25 spread over the word's grams, ``_GRAM_TAPS`` positions
each) and adjacent word pairs (0.5, ``_WORD_TAPS`` positions). English function words ("the", "is",
"how"...) and the pairs they are in weigh a fifth of that. A text with no words is one feature, its
whole text (1.0). The weighted sum is L2-normalised to float32.

Hashing: every word and 3-gram gets a 64-bit key from blake2b over ``model|pooling`` and the feature
(stable across processes, unlike ``hash()``). A word pair's key mixes its two words' keys, and the
``t``-th tap of any key is ``mix(key + t * golden)`` with ``mix`` splitmix64's finaliser, so pairs
are hashed in a few vectorised numpy passes. A tap's position is the high 32 bits scaled to the
dimension; its sign is the low bit.

``pooling`` is part of the salt: ``mean`` and ``cls`` vectors of one text live in unrelated spaces,
so mixing them gives meaningless scores, as with the real models. The vectors depend on the model
id and pooling only (not on the emulator seed), so stored vectors stay comparable.

Speed (100 texts of 30 words in under a millisecond, warm): each word seen is cached (per model,
pooling and dimension; at most ``_WORD_LIMIT`` words, then the cache starts over; rows depend on
the word only, so a restart changes no vector) as one fixed row of ``_ROW`` (position, weight)
entries: its own taps and its grams' taps merged by position, heaviest first (past ~8 letters the
lightest gram taps do not fit and are dropped). A batch of ASCII texts is split into words by one
``bytes.translate``; words become row numbers, rows are gathered in one numpy step, pair taps are
computed in a few, and the batch is summed by one ``numpy.add.at`` into per-thread buffers that are
reused (fresh megabyte-sized temporaries per request cost more in page faults than the arithmetic).
Each text's entries are summed in the same order whatever else is in the batch, so a text's vector
does not depend on its batch.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable

import numpy as np

_WORD = re.compile(r"[^\W_]+")
_WORD_TAPS = 8
_GRAM_TAPS = 2
_ROW = 24
"""Entries kept per cached word: its 8 taps plus 2 per gram cover words of up to 8 letters."""
_WORD_LIMIT = 20_000
"""Words cached per table (about 500 bytes each)."""
_TABLE_LIMIT = 64
_SCRATCH_LIMIT = 1 << 19
"""Entries (and output slots) past which a request's buffers are not kept for the next one."""
_SEP = b"\x00"
"""Token between two texts of a batch; row 0 of every table, which weighs nothing."""

_ASCII_WORDS = bytes(ord(chr(c).lower()) if chr(c).isalnum() and c < 128 else (0 if c == 0 else 32)
                     for c in range(256))
"""``bytes.translate`` table: ASCII letters lower-cased, digits kept, NUL kept, all else a space. For
ASCII text the runs it leaves are exactly what ``[^\\W_]+`` finds."""

_FUNCTION_WORDS = frozenset(b"""a an the and or but if of to in on at by for from with about as into over than then
so not no is are was were be been being am do does did has have had having it its this that these those
there here i you he she we they me him her us them my your his our their what which who whom whose when
where why how can could will would shall should may might must just also very too any all each some such
only own same other more most s t""".split())
"""English function words: they weigh ``_FUNCTION_WEIGHT`` (and so do the word pairs they are part
of), the way a trained model pays them little attention, so a question's "how is ... ?" does not
outweigh the words it is about."""
_FUNCTION_WEIGHT = 0.2
_GRAM_ENERGY = 4.0
"""Squared norm of a word's 3-grams together (its own taps have 8), so spellings that share a stem,
such as "index" and "indexes", score about 0.15-0.25 instead of 0."""

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_STEPS = np.arange(1, _WORD_TAPS + 1, dtype=np.uint64) * _GOLDEN
_FOLLOW = _U64(0x2545F4914F6CDD1D)
"""Salt for a word's key as the second word of a pair: pairs are ordered."""


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place over a fresh uint64 array (numpy arrays wrap on overflow)."""
    z ^= z >> _U64(30)
    z *= _U64(0xBF58476D1CE4E5B9)
    z ^= z >> _U64(27)
    z *= _U64(0x94D049BB133111EB)
    z ^= z >> _U64(31)
    return z


def _taps(keys: np.ndarray, taps: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``(len(keys), taps)`` positions in ``[0, dim)`` (int64) and signs (+-1.0) of each key."""
    mixed = _mix(keys[:, None] + _STEPS[:taps])
    positions = ((mixed >> _U64(32)) * _U64(dim)) >> _U64(32)
    signs = (mixed & _U64(1)).astype(np.float64) * 2.0 - 1.0
    return positions.astype(np.int64), signs


def _keys(salt: bytes, features: Iterable[bytes]) -> np.ndarray:
    """The 64-bit blake2b key of each feature under ``salt``."""
    blake2b = hashlib.blake2b
    digests = b"".join([blake2b(salt + f, digest_size=8).digest() for f in features])
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def _grams(word: str) -> list[str]:
    padded = f"<{word}>"
    return [padded[i:i + 3] for i in range(len(padded) - 2)]


def word_scale(words: list[bytes]) -> np.ndarray:
    """Each word's weight: ``_FUNCTION_WEIGHT`` for a function word, else 1."""
    return np.array([_FUNCTION_WEIGHT if w in _FUNCTION_WORDS else 1.0 for w in words], dtype=np.float64)


def word_rows(salt: bytes, dim: int, words: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each word's key and its ``_ROW`` merged (position, weight) entries, padded with weight 0."""
    count = len(words)
    keys = _keys(salt + b"w:", words)
    grams = [_grams(w.decode()) for w in words]
    gram_owner = np.repeat(np.arange(count, dtype=np.int64), [len(g) for g in grams])
    gram_weight = np.repeat([(_GRAM_ENERGY / (max(len(g), 3) * _GRAM_TAPS)) ** 0.5 for g in grams],
                            [len(g) for g in grams])
    gram_keys = _keys(salt + b"c:", (g.encode() for gs in grams for g in gs))
    word_pos, word_sign = _taps(keys, _WORD_TAPS, dim)
    gram_pos, gram_sign = _taps(gram_keys, _GRAM_TAPS, dim)
    owner = np.concatenate([np.repeat(np.arange(count, dtype=np.int64), _WORD_TAPS),
                            np.repeat(gram_owner, _GRAM_TAPS)])
    codes = owner * dim + np.concatenate([word_pos.ravel(), gram_pos.ravel()])
    weights = np.concatenate([word_sign.ravel(), (gram_sign * gram_weight[:, None]).ravel()])
    unique, inverse = np.unique(codes, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=weights, minlength=len(unique))
    owners, positions = unique // dim, unique % dim
    order = np.lexsort((positions, -np.abs(summed), owners))  # per word: heaviest first, then by position
    owners, positions, summed = owners[order], positions[order], summed[order]
    per_word = np.bincount(owners, minlength=count)
    rank = np.arange(len(owners)) - np.repeat(np.cumsum(per_word) - per_word, per_word)
    keep = rank < _ROW
    row_pos = np.zeros((count, _ROW), dtype=np.int64)
    row_val = np.zeros((count, _ROW), dtype=np.float64)
    row_pos[owners[keep], rank[keep]] = positions[keep]
    row_val[owners[keep], rank[keep]] = summed[keep]
    row_val *= word_scale(words)[:, None]
    return keys, row_pos, row_val


class _Words:
    """Cached rows of the words seen so far, for one (salt, dimension). Row 0 is the text separator."""

    def __init__(self, salt: bytes, dim: int) -> None:
        self.salt, self.dim = salt, dim
        self.index: dict[bytes, int] = {_SEP: 0}
        self._size = 1
        self.keys = np.zeros(1024, dtype=np.uint64)
        self.follows = np.zeros(1024, dtype=np.uint64)
        self.scales = np.zeros(1024, dtype=np.float64)
        self.positions = np.zeros((1024, _ROW), dtype=np.int64)
        self.values = np.zeros((1024, _ROW), dtype=np.float64)

    def _grow(self, capacity: int) -> None:
        """Grow by copy before publishing any new index: readers holding an index always find its row."""
        size = self._size
        keys = np.zeros(capacity, dtype=np.uint64)
        follows = np.zeros(capacity, dtype=np.uint64)
        scales = np.zeros(capacity, dtype=np.float64)
        positions = np.zeros((capacity, _ROW), dtype=np.int64)
        values = np.zeros((capacity, _ROW), dtype=np.float64)
        keys[:size], follows[:size], scales[:size] = self.keys[:size], self.follows[:size], self.scales[:size]
        positions[:size], values[:size] = self.positions[:size], self.values[:size]
        self.keys, self.follows, self.scales = keys, follows, scales
        self.positions, self.values = positions, values

    def add(self, words: list[bytes], lock: threading.Lock) -> None:
        """Give every word in ``words`` a row (hashing outside the lock: rows depend on the word only)."""
        missing = [w for w in dict.fromkeys(words) if w not in self.index]
        if not missing:
            return
        keys, positions, values = word_rows(self.salt, self.dim, missing)
        follows = _mix(keys ^ _FOLLOW)
        scales = word_scale(missing)
        with lock:
            keep = [i for i, w in enumerate(missing) if w not in self.index]  # another thread may have won
            if not keep:
                return
            start, count = self._size, len(keep)
            capacity = len(self.keys)
            while capacity < start + count:
                capacity *= 2
            if capacity > len(self.keys):
                self._grow(capacity)
            end = start + count
            self.keys[start:end], self.follows[start:end] = keys[keep], follows[keep]
            self.scales[start:end] = scales[keep]
            self.positions[start:end], self.values[start:end] = positions[keep], values[keep]
            self._size = end
            for offset, i in enumerate(keep):
                self.index[missing[i]] = start + offset


def tokens(texts: list[str]) -> list[bytes]:
    """Every text's lower-cased words (UTF-8), with ``_SEP`` between consecutive texts."""
    joined = "\x00".join(texts)
    if joined.isascii():
        data = joined.encode("ascii")
        if data.count(_SEP) == len(texts) - 1:  # no NUL inside a text
            return data.translate(_ASCII_WORDS).replace(_SEP, b" \x00 ").split()
    out: list[bytes] = []
    for i, text in enumerate(texts):
        if i:
            out.append(_SEP)
        # Lower-casing first is the same for ASCII only: elsewhere it can add marks \w does not match.
        words = _WORD.findall(text.lower()) if text.isascii() else [w.lower() for w in _WORD.findall(text)]
        out.extend(w.encode() for w in words)
    return out


class _Scratch(threading.local):
    """Per-thread buffers reused across requests (the server embeds from several threads)."""

    def __init__(self) -> None:
        self.flat = np.zeros(0, dtype=np.int64)
        self.weights = np.zeros(0, dtype=np.float64)
        self.total = np.zeros(0, dtype=np.float64)

    def arrays(self, entries: int, slots: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Views of ``entries`` flat indices and weights, and ``slots`` zeroed sums."""
        if entries > len(self.flat):
            if entries > _SCRATCH_LIMIT:
                return np.empty(entries, np.int64), np.empty(entries, np.float64), np.zeros(slots)
            self.flat = np.empty(min(max(entries, 2 * len(self.flat)), _SCRATCH_LIMIT), dtype=np.int64)
            self.weights = np.empty(len(self.flat), dtype=np.float64)
        if slots > len(self.total):
            if slots > _SCRATCH_LIMIT:
                return self.flat[:entries], self.weights[:entries], np.zeros(slots)
            self.total = np.empty(min(max(slots, 2 * len(self.total)), _SCRATCH_LIMIT), dtype=np.float64)
        total = self.total[:slots]
        total.fill(0.0)
        return self.flat[:entries], self.weights[:entries], total


class HashEmbedder:
    name = "hash"

    def __init__(self) -> None:
        self._tables: dict[tuple[str, int], _Words] = {}
        self._lock = threading.Lock()
        self._scratch = _Scratch()

    def _table(self, salt: str, dim: int) -> _Words:
        table = self._tables.get((salt, dim))
        if table is None or len(table.index) > _WORD_LIMIT:
            with self._lock:
                table = self._tables.get((salt, dim))
                if table is None or len(table.index) > _WORD_LIMIT:
                    if len(self._tables) >= _TABLE_LIMIT:
                        self._tables.clear()
                    table = _Words(f"{salt}\x00".encode(), dim)
                    self._tables[(salt, dim)] = table
        return table

    def embed(self, texts: list[str], *, model: str, dim: int, pooling: str) -> np.ndarray:
        """``(len(texts), dim)`` float32 rows, each of unit length."""
        count = len(texts)
        if not count:
            return np.zeros((0, dim), dtype=np.float32)
        table = self._table(f"{model}|{pooling}", dim)
        words = tokens(texts)
        found = list(map(table.index.get, words))
        if None in found:
            table.add([w for w, i in zip(words, found, strict=True) if i is None], self._lock)
            found = list(map(table.index.get, words))
        ids = np.array(found, dtype=np.intp)
        # Read the arrays only now: they hold the rows of every index already published.
        keys, follows, scales = table.keys, table.follows, table.scales
        positions, values = table.positions, table.values
        is_sep = ids == 0
        row_start = np.cumsum(is_sep) * dim  # the flat offset of each token's text
        inner = np.flatnonzero(~is_sep[:-1] & ~is_sep[1:])
        wordless = np.flatnonzero(np.bincount(row_start[~is_sep] // dim, minlength=count) == 0)
        word_end = len(ids) * _ROW
        pair_end = word_end + len(inner) * _WORD_TAPS
        flat, weights, total = self._scratch.arrays(pair_end + len(wordless) * _WORD_TAPS, count * dim)
        word_flat = flat[:word_end].reshape(len(ids), _ROW)
        np.take(positions, ids, axis=0, out=word_flat)
        word_flat += row_start[:, None]
        np.take(values, ids, axis=0, out=weights[:word_end].reshape(len(ids), _ROW))
        # A word used n times in a text weighs sqrt(n), not n: a passage repeating one query word does
        # not outrank one that holds all of them (what BM25's saturation does for search).
        _, inverse, counts = np.unique(row_start * len(keys) + ids, return_inverse=True, return_counts=True)
        weights[:word_end].reshape(len(ids), _ROW)[...] /= np.sqrt(counts[inverse])[:, None]
        if len(inner):
            pair_pos, pair_sign = _taps(_mix(keys[ids[inner]] ^ follows[ids[inner + 1]]), _WORD_TAPS, dim)
            np.add(pair_pos, row_start[inner, None], out=flat[word_end:pair_end].reshape(pair_pos.shape))
            pair_weight = 0.5 * np.minimum(scales[ids[inner]], scales[ids[inner + 1]])
            np.multiply(pair_sign, pair_weight[:, None], out=weights[word_end:pair_end].reshape(pair_pos.shape))
        if len(wordless):
            raw = (texts[i].encode("utf-8", "surrogatepass") for i in wordless.tolist())
            raw_pos, raw_sign = _taps(_keys(table.salt + b"raw:", raw), _WORD_TAPS, dim)
            np.add(raw_pos, wordless[:, None] * dim, out=flat[pair_end:].reshape(raw_pos.shape))
            weights[pair_end:] = raw_sign.ravel()
        np.add.at(total, flat, weights)  # sums each slot in entry order, like bincount
        matrix = total.reshape(count, dim)
        norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
        norms[norms == 0] = 1.0
        out = np.empty((count, dim), dtype=np.float32)
        np.divide(matrix, norms[:, None], out=out)
        return out
