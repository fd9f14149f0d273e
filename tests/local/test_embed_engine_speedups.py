"""The hashed embedding engine's fast paths give what the plain definitions give.

The engine (``engines/embeddings_hash.py``) tokenises a whole ASCII batch with one ``bytes.translate``,
caches one merged row per word, reuses per-thread buffers and sums with ``numpy.add.at``; the
validator skips the per-item walk for well-formed string arrays. Each test below compares a fast
path with a straightforward one (per-text regex, a per-text loop over features, the full validator)
on odd inputs, or checks a property the engine promises (batch independence, determinism across
processes, thread safety, bounded caches). No timing is asserted here.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import sys
import threading
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_core.local.workers_ai import validator
from cf_core.local.workers_ai.engines import embeddings_hash as eh

BASE = "@cf/baai/bge-base-en-v1.5"
_WORD = re.compile(r"[^\W_]+")

ODD_TEXTS = [
    "Solar panels, on the ROOF!", "snake_case_words and kebab-case", "v1.5 costs $3.20 (approx.)",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeed", "file\x1cgroup\x1drecord\x1eunit\x1fsep",
    "nul\x00inside", "\x00", "!!!", "   ", "x", "İstanbul ŞEHİR", "Straße GROSS", "naïve café", "東京 タワー",
    "emoji 🚀 rocket", "ǅemal title-case", "\u0130", "mixed ascii and ñ", "123 456", "a\u0301b combining",
]


def per_text_tokens(texts: list[str]) -> list[bytes]:
    """The plain definition: per text, ``[^\\W_]+`` over the lower-cased text for ASCII, else over
    the text with each word lower-cased; texts separated by the engine's separator token."""
    out: list[bytes] = []
    for i, text in enumerate(texts):
        if i:
            out.append(b"\x00")
        words = _WORD.findall(text.lower()) if text.isascii() else [w.lower() for w in _WORD.findall(text)]
        out += [w.encode() for w in words]
    return out


def reference_vector(text: str, *, model: str, dim: int, pooling: str) -> np.ndarray:
    """One text's vector summed feature by feature in a Python loop (no cache, no batch arrays)."""
    salt = f"{model}|{pooling}\x00".encode()
    words = per_text_tokens([text])
    total = np.zeros(dim)
    if words:
        keys, positions, values = eh.word_rows(salt, dim, words)
        uses = {w: words.count(w) for w in words}
        for word, row_pos, row_val in zip(words, positions, values, strict=True):
            for p, v in zip(row_pos, row_val, strict=True):
                total[p] += v / np.sqrt(uses[word])  # n uses of a word weigh sqrt(n)
        scale = [eh._FUNCTION_WEIGHT if w in eh._FUNCTION_WORDS else 1.0 for w in words]
        pair_keys = eh._mix(keys[:-1] ^ eh._mix(keys[1:] ^ eh._FOLLOW))
        pair_pos, pair_sign = eh._taps(pair_keys, eh._WORD_TAPS, dim)
        for i, (ps, ss) in enumerate(zip(pair_pos, pair_sign, strict=True)):
            for p, s in zip(ps, ss, strict=True):
                total[p] += 0.5 * min(scale[i], scale[i + 1]) * s
    else:
        raw_pos, raw_sign = eh._taps(eh._keys(salt + b"raw:", [text.encode("utf-8", "surrogatepass")]),
                                     eh._WORD_TAPS, dim)
        for p, s in zip(raw_pos.ravel(), raw_sign.ravel(), strict=True):
            total[p] += s
    return (total / np.sqrt(total @ total)).astype(np.float32)


def test_batch_tokeniser_matches_per_text_regex_on_odd_inputs() -> None:
    assert eh.tokens(ODD_TEXTS) == per_text_tokens(ODD_TEXTS)
    ascii_only = [t for t in ODD_TEXTS if t.isascii() and "\x00" not in t]
    assert eh.tokens(ascii_only) == per_text_tokens(ascii_only)  # the one-translate path
    for text in ODD_TEXTS:
        assert eh.tokens([text]) == per_text_tokens([text]), text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=30), min_size=1, max_size=5))
def test_batch_tokeniser_matches_per_text_regex_generated(texts: list[str]) -> None:
    assert eh.tokens(texts) == per_text_tokens(texts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(max_codepoint=127), max_size=40), min_size=1, max_size=5))
def test_batch_tokeniser_matches_per_text_regex_ascii(texts: list[str]) -> None:
    assert eh.tokens(texts) == per_text_tokens(texts)


@pytest.mark.parametrize("dim", [384, 768, 1024])
def test_engine_matches_the_feature_by_feature_sum(dim: int) -> None:
    engine = eh.HashEmbedder()
    texts = [*ODD_TEXTS, "the cat sat on the mat", "the the the the"]
    plain = [t for t in texts if t.isascii() and "\x00" not in t]  # the one-translate tokeniser
    for batch_texts in (texts, plain):
        batch = engine.embed(batch_texts, model=BASE, dim=dim, pooling="mean")
        assert batch.dtype == np.float32 and batch.shape == (len(batch_texts), dim)
        for text, row in zip(batch_texts, batch, strict=True):
            expected = reference_vector(text, model=BASE, dim=dim, pooling="mean")
            assert np.allclose(row, expected, rtol=0, atol=1e-6), text


def test_a_text_vector_does_not_depend_on_its_batch() -> None:
    """Bit-identical alone and in any batch, through either tokeniser path (a NUL forces the slow one)."""
    engine = eh.HashEmbedder()
    texts = ["solar panels on the roof", "!!!", "naïve café", "x", "nul\x00inside", "solar panels"]
    alone = np.vstack([engine.embed([t], model=BASE, dim=768, pooling="cls") for t in texts])
    fresh = eh.HashEmbedder()
    assert np.array_equal(fresh.embed(texts, model=BASE, dim=768, pooling="cls"), alone)
    assert np.array_equal(engine.embed(texts[::-1], model=BASE, dim=768, pooling="cls"), alone[::-1])
    assert np.array_equal(engine.embed([texts[0], texts[5]], model=BASE, dim=768, pooling="cls"), alone[[0, 5]])


def test_properties_of_the_space() -> None:
    engine = eh.HashEmbedder()
    texts = ["solar panels on the roof", "solar panels on a roof", "a recipe for lemon cake", "roof the on panels solar",
             "!!!", "???"]
    mean = engine.embed(texts, model=BASE, dim=768, pooling="mean")
    cls = engine.embed(texts, model=BASE, dim=768, pooling="cls")
    assert np.allclose(np.linalg.norm(mean, axis=1), 1.0, atol=1e-6)
    assert mean[0] @ mean[1] > 0.5 and mean[0] @ mean[2] < 0.2
    assert 0.5 < mean[0] @ mean[3] < 0.99  # same words, pairs in another order
    assert abs(mean[4] @ mean[5]) < 0.5  # wordless texts hash their whole text
    assert np.all(np.abs(np.sum(mean * cls, axis=1)) < 0.5)
    other_model = engine.embed(texts, model="@cf/baai/bge-small-en-v1.5", dim=768, pooling="mean")
    assert np.all(np.abs(np.sum(mean * other_model, axis=1)) < 0.5)
    assert engine.embed([], model=BASE, dim=768, pooling="mean").shape == (0, 768)


def _digest(texts: list[str]) -> str:
    out = eh.HashEmbedder().embed(texts, model=BASE, dim=768, pooling="mean")
    return hashlib.sha256(out.tobytes()).hexdigest()


def test_vectors_are_the_same_in_another_process() -> None:
    texts = ["solar panels on the roof", "naïve café", "!!!"]
    script = ("import sys, hashlib; from cf_core.local.workers_ai.engines import embeddings_hash as eh; "
              f"out = eh.HashEmbedder().embed({texts!r}, model={BASE!r}, dim=768, pooling='mean'); "
              "print(hashlib.sha256(out.tobytes()).hexdigest())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == _digest(texts)


def _vocab_batches(seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    vocab = [f"w{rng.randrange(10**6)}x{i}" for i in range(600)]
    return [[" ".join(rng.choices(vocab, k=rng.randint(1, 12))) for _ in range(20)] for _ in range(24)]


@pytest.mark.parametrize("word_limit", [eh._WORD_LIMIT, 40])
def test_threads_sharing_an_engine_get_the_sequential_answers(monkeypatch: pytest.MonkeyPatch, word_limit: int) -> None:
    """Eight threads add new words to the same tables at once (and, with a small limit, restart them)."""
    monkeypatch.setattr(eh, "_WORD_LIMIT", word_limit)
    batches = _vocab_batches(7)
    sequential = eh.HashEmbedder()
    expected = [sequential.embed(b, model=BASE, dim=384, pooling="mean") for b in batches]
    shared = eh.HashEmbedder()
    results: dict[int, np.ndarray] = {}
    barrier = threading.Barrier(8)

    def work(worker: int) -> None:
        barrier.wait()
        for i in range(worker % 3, len(batches), 2):
            results[i * 10 + worker] = shared.embed(batches[i], model=BASE, dim=384, pooling="mean")

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) > 50
    for key, got in results.items():
        assert np.array_equal(got, expected[key // 10]), key


def test_caches_stay_bounded_and_restarting_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eh, "_WORD_LIMIT", 100)
    engine = eh.HashEmbedder()
    batches = _vocab_batches(3)
    first = [engine.embed(b, model=BASE, dim=768, pooling="mean") for b in batches]
    table = engine._tables[(f"{BASE}|mean", 768)]
    assert len(table.index) <= 100 + max(len(eh.tokens(b)) for b in batches)
    again = [eh.HashEmbedder().embed(b, model=BASE, dim=768, pooling="mean") for b in batches]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_requests_past_the_scratch_limit_give_the_same_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [" ".join(f"word{i * 7 + j}" for j in range(40)) for i in range(30)]
    normal = eh.HashEmbedder().embed(texts, model=BASE, dim=768, pooling="mean")
    monkeypatch.setattr(eh, "_SCRATCH_LIMIT", 1000)
    engine = eh.HashEmbedder()
    assert np.array_equal(engine.embed(texts, model=BASE, dim=768, pooling="mean"), normal)
    assert np.array_equal(engine.embed(texts[:1], model=BASE, dim=768, pooling="mean"), normal[:1])


# --- validator: the string-array fast path ---------------------------------------------------------

TEXT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["text"], "additionalProperties": False,
    "properties": {"text": {"oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 100}]},
        "pooling": {"type": "string", "enum": ["mean", "cls"]}},
}
ITEM_SCHEMAS: list[dict[str, Any]] = [
    {"type": "string", "minLength": 1}, {"type": "string"}, {"type": "string", "minLength": 2, "maxLength": 3},
    {"type": "string", "maxLength": 0}, {"type": "string", "pattern": "^a"}, {"type": ["string", "null"]},
]


class Text(str):
    pass


ODD_ITEMS: list[list[Any]] = [
    ["ok"], ["ok", ""], [""], ["a", 1], [None], [True], [1.5], [["nested"]], [{"text": "x"}], ["abcd"], ["ab", "abc"],
    [Text("subclass")], [Text("")], [], ["x"] * 101, ["x"] * 100, ["a", "", None, 3, "bbbb"],
]


def _full_errors(monkeypatch: pytest.MonkeyPatch, schema: dict[str, Any], value: Any) -> list[str]:
    with monkeypatch.context() as patch:
        patch.setattr(validator, "_plain_strings_ok", lambda items, value: False)
        return validator.errors(schema, value)


def test_fast_path_fires_for_plain_text_batches() -> None:
    assert validator._plain_strings_ok({"type": "string", "minLength": 1}, ["a", "b"])
    assert not validator._plain_strings_ok({"type": "string", "minLength": 1}, ["a", ""])
    assert not validator._plain_strings_ok({"type": "string", "pattern": "a"}, ["a"])
    assert not validator._plain_strings_ok({"type": "string"}, [Text("a")])


@pytest.mark.parametrize("items", ODD_ITEMS)
def test_fast_path_errors_equal_the_full_check(monkeypatch: pytest.MonkeyPatch, items: list[Any]) -> None:
    for item_schema in ITEM_SCHEMAS:
        schema = {"type": "array", "items": item_schema, "maxItems": 100}
        assert validator.errors(schema, items) == _full_errors(monkeypatch, schema, items)
    body = {"text": items}
    assert validator.errors(TEXT_SCHEMA, body) == _full_errors(monkeypatch, TEXT_SCHEMA, body)


_ITEM = st.one_of(st.text(max_size=4), st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                  st.lists(st.text(max_size=2), max_size=2), st.builds(Text, st.text(max_size=3)))


@settings(max_examples=300, deadline=None)
@given(st.lists(_ITEM, max_size=6), st.sampled_from(ITEM_SCHEMAS))
def test_fast_path_errors_equal_the_full_check_generated(items: list[Any], item_schema: dict[str, Any]) -> None:
    schema = {"type": "array", "items": item_schema, "minItems": 1}
    fast = validator.errors(schema, items)
    original = validator._plain_strings_ok
    validator._plain_strings_ok = lambda items, value: False
    try:
        full = validator.errors(schema, items)
    finally:
        validator._plain_strings_ok = original
    assert fast == full


def test_function_words_weigh_little_and_shared_stems_count() -> None:
    """What makes the lexical stand-in rank sensibly: "how does ... ?" does not decide a match, and
    words sharing a stem ("index"/"indexes") are related while unrelated words are not."""
    engine = eh.HashEmbedder()
    q, topical, chatter, index, indexes, cat, dog = engine.embed(
        ["how does the gateway cache answers", "gateway cache answers", "how does the thing work",
         "index", "indexes", "cat", "dog"], model=BASE, dim=768, pooling="mean")
    assert q @ topical > 0.9 and q @ chatter < 0.3
    assert index @ indexes > 0.1 and abs(cat @ dog) < 0.05
