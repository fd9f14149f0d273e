"""Stand-in speech recognition: real audio duration, a clearly labelled placeholder transcript.

The duration comes from the WAV header (``fmt `` and ``data`` chunks) when the bytes are a RIFF/WAVE
file; otherwise it is estimated from the byte length at 16,000 bytes per second (about a 128 kbit/s
compressed stream; UNCONFIRMED, only an estimate). The transcript names the stand-in, the format,
the byte size and the duration; its words are spread evenly over the duration.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

TRANSCRIPT_LABEL = "[stand-in transcript]"
_BYTES_PER_SECOND_GUESS = 16_000


@dataclass
class AudioFacts:
    format: str
    duration: float
    size: int


def sniff(data: bytes) -> AudioFacts:
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        duration = _wav_duration(data)
        if duration is not None:
            return AudioFacts("wav", duration, len(data))
    kind = "unknown"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        kind = "mp3"
    elif data[:4] == b"OggS":
        kind = "ogg"
    elif data[:4] == b"fLaC":
        kind = "flac"
    elif data[4:8] == b"ftyp":
        kind = "mp4"
    elif data[:4] == b"\x1a\x45\xdf\xa3":
        kind = "webm"
    return AudioFacts(kind, round(len(data) / _BYTES_PER_SECOND_GUESS, 3), len(data))


def _wav_duration(data: bytes) -> float | None:
    pos, byte_rate = 12, 0
    data_len_found: int | None = None
    while pos + 8 <= len(data):
        kind, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if kind == b"fmt " and size >= 16:
            _fmt, _channels, _rate, byte_rate = struct.unpack("<HHII", data[body:body + 12])
        elif kind == b"data":
            data_len_found = min(int(size), len(data) - body)
            break
        pos = body + size + (size & 1)
    if not byte_rate or data_len_found is None:
        return None
    return round(data_len_found / int(byte_rate), 3)


def _timestamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _words(text: str, duration: float) -> list[dict[str, Any]]:
    tokens = text.split()
    step = duration / max(len(tokens), 1)
    return [{"word": w, "start": round(i * step, 3), "end": round((i + 1) * step, 3)} for i, w in enumerate(tokens)]


def transcript_text(facts: AudioFacts, task: str = "transcribe") -> str:
    verb = "translation" if task == "translate" else "speech"
    return (f"{TRANSCRIPT_LABEL} {verb} not recognised by the emulator; {facts.format} audio, "
            f"{facts.size} bytes, {facts.duration:.2f} seconds.")


def _vtt(text: str, duration: float) -> str:
    return f"WEBVTT\n\n{_timestamp(0)} --> {_timestamp(duration)}\n{text}\n"


def whisper(data: bytes) -> dict[str, Any]:
    """``@cf/openai/whisper`` output: text, word_count, words, vtt."""
    facts = sniff(data)
    text = transcript_text(facts)
    words = _words(text, facts.duration)
    return {"text": text, "word_count": len(words), "words": words, "vtt": _vtt(text, facts.duration)}


def whisper_turbo(data: bytes, *, language: str = "en", task: str = "transcribe") -> dict[str, Any]:
    """``whisper-large-v3-turbo`` output: transcription_info, text, word_count, segments, vtt."""
    facts = sniff(data)
    text = transcript_text(facts, task)
    words = _words(text, facts.duration)
    segment = {"start": 0.0, "end": facts.duration, "text": text, "temperature": 0.0, "avg_logprob": 0.0,
               "compression_ratio": 1.0, "no_speech_prob": 0.0, "words": words}
    return {
        "transcription_info": {"language": language, "language_probability": 1.0, "duration": facts.duration,
                               "duration_after_vad": facts.duration},
        "text": text,
        "word_count": len(words),
        "segments": [segment],
        "vtt": _vtt(text, facts.duration),
    }
