"""Content types from magic bytes, base64 and data URIs (images in and out, audio in)."""

from __future__ import annotations

import base64
import binascii
import re

from ..errors import InvalidInputError

_DATA_URI = re.compile(r"^data:([^;,]*)(;base64)?,(.*)$", re.S)
_URLSAFE = re.compile(r"[A-Za-z0-9_-]+=*")


def sniff(data: bytes) -> str | None:
    """The media type announced by ``data``'s first bytes, if recognisable."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"fLaC"):
        return "audio/flac"
    if data[4:8] == b"ftyp":
        return "audio/mp4"
    if data.startswith(b"\x1aE\xdf\xa3"):
        return "audio/webm"
    return None


def b64decode(value: str, field: str) -> bytes:
    text = re.sub(r"\s+", "", value)
    try:
        if _URLSAFE.fullmatch(text) and ("-" in text or "_" in text or len(text) % 4):
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(f"{field} is not valid base64", field=field) from None


def parse_data_uri(uri: str, field: str) -> tuple[bytes, str | None]:
    """(bytes, declared media type) of a ``data:`` URI."""
    m = _DATA_URI.match(uri.strip())
    if m is None:
        raise InvalidInputError(f"{field} must be a data: URI (data:image/png;base64,...)", field=field)
    declared = m.group(1) or None
    if not m.group(2):
        raise InvalidInputError(f"{field} must be a base64 data: URI", field=field)
    return b64decode(m.group(3), field), declared


def image_input(value: bytes | bytearray | memoryview | str, field: str) -> tuple[bytes, str]:
    """Image bytes and media type from raw bytes, a data URI or a base64 string.

    HTTP(S) URLs are refused: Workers AI only takes inline images (a ``^data:`` pattern in its schemas).
    """
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        declared: str | None = None
    elif isinstance(value, str):
        if value.startswith(("http://", "https://")):
            raise InvalidInputError(f"{field}: Workers AI takes images inline only (bytes or a data: URI), "
                                    f"not URLs; download the image first", field=field, item=value[:100])
        data, declared = parse_data_uri(value, field) if value.startswith("data:") else (b64decode(value, field), None)
    else:
        raise InvalidInputError(f"{field} must be bytes, a data: URI or base64 text, got {type(value).__name__}",
                                field=field)
    if not data:
        raise InvalidInputError(f"{field} is empty", field=field, limit=1)
    return data, sniff(data) or declared or "image/png"


def data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
