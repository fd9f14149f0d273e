"""Tool-call ids: generated when a model gives none, and rewritten for models that constrain them.

A catalog ``tool_call_id_pattern`` of the form ``^[<class>]{n}$`` (Mistral Small 3.1's
``^[a-zA-Z0-9]{9}$``) is turned into an alphabet and a length; ids are drawn from a hash, so they are
reproducible within a run and unique (a process-wide counter feeds the hash).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import string
from functools import cache

_SIMPLE_PATTERN = re.compile(r"^\^?\[([^\]]+)\]\{(\d+)\}\$?$")
_counter = itertools.count(1)
_DEFAULT_ALPHABET = string.ascii_letters + string.digits


@cache
def _format(pattern: str | None) -> tuple[str, int] | None:
    """(alphabet, length) of a simple character-class pattern, else ``None``."""
    if pattern is None:
        return None
    m = _SIMPLE_PATTERN.match(pattern)
    if m is None:
        return None
    spec, length = m.group(1), int(m.group(2))
    chars: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            chars.extend(chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1))
            i += 3
        else:
            chars.append(spec[i])
            i += 1
    alphabet = "".join(dict.fromkeys(chars))
    return (alphabet, length) if alphabet and length > 0 else None


def _encode(material: str, alphabet: str, length: int) -> str:
    digest = int.from_bytes(hashlib.blake2b(material.encode(), digest_size=32).digest(), "big")
    out = []
    for _ in range(length):
        digest, rem = divmod(digest, len(alphabet))
        out.append(alphabet[rem])
    return "".join(out)


def _from_material(material: str, pattern: str | None) -> str:
    fmt = _format(pattern)
    if fmt is not None:
        return _encode(material, *fmt)
    candidate = "call_" + _encode(material, _DEFAULT_ALPHABET, 24)
    if pattern is not None and not re.fullmatch(pattern, candidate):
        # A pattern we cannot read: a short alphanumeric id fits most.
        candidate = _encode(material, _DEFAULT_ALPHABET, 9)
    return candidate


def new_id(pattern: str | None = None, hint: str = "") -> str:
    """A fresh id, matching ``pattern`` when it is a simple character-class pattern."""
    return _from_material(f"{next(_counter)}:{hint}", pattern)


def matches(pattern: str | None, value: str) -> bool:
    return pattern is None or re.fullmatch(pattern, value) is not None


class IdMapper:
    """Maps a conversation's tool-call ids onto ones the model accepts, the same way every time."""

    def __init__(self, pattern: str | None) -> None:
        self.pattern = pattern
        self._map: dict[str, str] = {}
        self._used: set[str] = set()

    def __call__(self, original: str | None) -> str:
        if original is None or original == "":
            fresh = new_id(self.pattern, "conversation")
            self._used.add(fresh)
            return fresh
        if original in self._map:
            return self._map[original]
        if matches(self.pattern, original) and original not in self._used:
            mapped = original
        else:
            salt = 0
            mapped = _from_material(f"map:{original}:{salt}", self.pattern)
            while mapped in self._used:
                salt += 1
                mapped = _from_material(f"map:{original}:{salt}", self.pattern)
        self._map[original] = mapped
        self._used.add(mapped)
        return mapped
