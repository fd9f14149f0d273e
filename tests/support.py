"""Helpers shared by several test folders: ``from tests.support import wav_bytes``."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable
from typing import Any

from cf_core.workers_ai import ChatChunk


def wav_bytes(seconds: float = 0.5, rate: int = 8000, channels: int = 1) -> bytes:
    """A 16-bit PCM WAV built locally. Every sample is the same non-zero value, so a body that lost or
    zeroed its audio data would not compare equal (the emulator itself reads only the header and size)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x10" * int(seconds * rate) * channels)
    return buffer.getvalue()


class FakeClock:
    """A clock for an emulator component (``state.clock = FakeClock()``) that moves only when a test
    sets or advances ``now`` (by default a moment in November 2023, in epoch seconds)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def tool_calls_of(chunks: Iterable[ChatChunk]) -> dict[int, dict[str, Any]]:
    """Streamed tool-call pieces joined by index, the way LangChain merges them."""
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for tc in chunk.tool_call_chunks:
            call = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
            call["id"] = call["id"] or tc.id
            call["name"] = call["name"] or tc.name
            call["arguments"] += tc.arguments
    return calls
