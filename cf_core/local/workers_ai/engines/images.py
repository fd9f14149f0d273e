"""Stand-in text-to-image: a valid PNG of the requested size whose pixels depend on the prompt.

The picture is an 8x8 grid of flat colours taken from a SHAKE-256 digest of (seed, prompt, negative
prompt, seed field); flat rows compress to a few KB with zlib even at 2048x2048. It is not an image
of anything: tests can check size, format, determinism and that prompts change the pixels.
"""

from __future__ import annotations

import hashlib
import struct
import zlib

import numpy as np

_GRID = 8


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def render_png(prompt: str, width: int = 1024, height: int = 1024, *, salt: str = "") -> bytes:
    digest = hashlib.shake_256(f"{salt}\x00{prompt}".encode()).digest(_GRID * _GRID * 3)
    colours = np.frombuffer(digest, dtype=np.uint8).reshape(_GRID, _GRID, 3)
    rows = np.minimum(np.arange(height) * _GRID // height, _GRID - 1)
    cols = np.minimum(np.arange(width) * _GRID // width, _GRID - 1)
    pixels = colours[rows][:, cols]  # (height, width, 3)
    raw = np.zeros((height, width * 3 + 1), dtype=np.uint8)  # filter byte 0 per row
    raw[:, 1:] = pixels.reshape(height, width * 3)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + _chunk(b"IEND", b""))
