"""Text-to-image, speech recognition, classification and translation on ``/ai/run``."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import httpx
import pytest

from tests.support import wav_bytes

SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
WHISPER = "@cf/openai/whisper"
TURBO = "@cf/openai/whisper-large-v3-turbo"
SST2 = "@cf/huggingface/distilbert-sst-2-int8"
M2M = "@cf/meta/m2m100-1.2b"


def run(client: httpx.Client, model: str, body: Any = None, **kw: Any) -> httpx.Response:
    if body is not None:
        kw["json"] = body
    return client.post(f"/accounts/acc-test/ai/run/{model}", **kw)


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the unfiltered pixel rows of an 8-bit RGB PNG, checking every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    assert len(raw) == height * (width * 3 + 1)
    return width, height, raw


def test_sdxl_family_returns_raw_png(emu_client: httpx.Client) -> None:
    for model in (SDXL, "@cf/bytedance/stable-diffusion-xl-lightning", "@cf/lykon/dreamshaper-8-lcm"):
        resp = run(emu_client, model, {"prompt": "a lighthouse at dusk"})
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "image/png"
        width, height, _ = decode_png(resp.content)
        assert (width, height) == (1024, 1024)
        assert len(resp.content) < 64_000


def test_png_size_and_pixels_follow_the_request(emu_client: httpx.Client) -> None:
    resp = run(emu_client, SDXL, {"prompt": "a red kite", "width": 512, "height": 256, "num_steps": 20})
    assert decode_png(resp.content)[:2] == (512, 256)
    again = run(emu_client, SDXL, {"prompt": "a red kite", "width": 512, "height": 256})
    other = run(emu_client, SDXL, {"prompt": "a blue kite", "width": 512, "height": 256})
    assert again.content == resp.content
    assert decode_png(other.content)[2] != decode_png(resp.content)[2]


@pytest.mark.parametrize(("body", "path"), [
    ({"prompt": "x", "width": 100}, "'/width'"),
    ({"prompt": "x", "height": 4096}, "'/height'"),
    ({"prompt": "x", "num_steps": 21}, "'/num_steps'"),
    ({"prompt": "x", "strength": 2}, "'/strength'"),
    ({"prompt": ""}, "'/prompt'"),
    ({"prompt": "x", "stream": True}, "'/stream'"),
])
def test_sdxl_validation(emu_client: httpx.Client, body: dict[str, Any], path: str) -> None:
    resp = run(emu_client, SDXL, body)
    assert resp.status_code == 400
    assert path in resp.json()["errors"][0]["message"]


def test_flux_returns_base64_json(emu_client: httpx.Client) -> None:
    resp = run(emu_client, FLUX, {"prompt": "a fox", "steps": 4})
    assert resp.headers["content-type"] == "application/json"
    image = base64.b64decode(resp.json()["result"]["image"])
    assert decode_png(image)[:2] == (1024, 1024)
    bad = run(emu_client, FLUX, {"prompt": "a fox", "steps": 9})
    assert bad.status_code == 400 and "'/steps'" in bad.json()["errors"][0]["message"]
    assert run(emu_client, FLUX, {"prompt": "x" * 2049}).status_code == 400


def test_whisper_raw_body_reads_the_wav_duration(emu_client: httpx.Client) -> None:
    audio = wav_bytes(2.5, rate=16000)
    resp = run(emu_client, WHISPER, content=audio, headers={"content-type": "audio/wav"})
    assert resp.status_code == 200
    result = resp.json()["result"]
    assert result["text"].startswith("[stand-in transcript]")
    assert "2.50 seconds" in result["text"]
    assert result["word_count"] == len(result["words"]) == len(result["text"].split())
    assert result["words"][0]["start"] == 0.0
    assert result["words"][-1]["end"] == pytest.approx(2.5, abs=0.01)
    assert all(w["start"] <= w["end"] for w in result["words"])
    assert result["vtt"].startswith("WEBVTT")
    assert "00:00:02.500" in result["vtt"]


def test_whisper_int_array_form_and_stereo(emu_client: httpx.Client) -> None:
    audio = wav_bytes(1.0, rate=8000, channels=2)
    result = run(emu_client, WHISPER, {"audio": list(audio)}).json()["result"]
    assert "1.00 seconds" in result["text"]
    bad = run(emu_client, WHISPER, {"audio": [0, 300]})
    assert bad.status_code == 400 and "'/audio/1'" in bad.json()["errors"][0]["message"]


def test_whisper_non_wav_estimates_from_length(emu_client: httpx.Client) -> None:
    result = run(emu_client, WHISPER, content=b"ID3" + bytes(31997),
                 headers={"content-type": "audio/mpeg"}).json()["result"]
    assert "mp3 audio, 32000 bytes, 2.00 seconds" in result["text"]
    empty = run(emu_client, WHISPER, content=b"", headers={"content-type": "audio/mpeg"})
    assert empty.status_code == 400 and empty.json()["errors"][0]["code"] == 3003


def test_whisper_turbo(emu_client: httpx.Client) -> None:
    audio = base64.b64encode(wav_bytes(3.0, rate=16000)).decode()
    result = run(emu_client, TURBO, {"audio": audio, "language": "de"}).json()["result"]
    info = result["transcription_info"]
    assert info["language"] == "de" and info["duration"] == pytest.approx(3.0)
    [segment] = result["segments"]
    assert segment["end"] == pytest.approx(3.0) and segment["text"] == result["text"]
    assert segment["words"][-1]["end"] == pytest.approx(3.0, abs=0.01)
    assert "words" not in result
    assert result["text"].startswith("[stand-in transcript]")
    bad = run(emu_client, TURBO, {"audio": "%%% not base64"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == 5004
    assert run(emu_client, TURBO, {"audio": list(b"abc")}).status_code == 400
    assert run(emu_client, TURBO, {"audio": audio, "task": "summarise"}).status_code == 400
    raw = run(emu_client, TURBO, content=wav_bytes(1.0, rate=16000), headers={"content-type": "audio/wav"})
    assert raw.status_code == 400


def test_sentiment(emu_client: httpx.Client) -> None:
    def scores(text: str) -> dict[str, float]:
        result = run(emu_client, SST2, {"text": text}).json()["result"]
        assert [r["label"] for r in result] == ["NEGATIVE", "POSITIVE"]
        assert sum(r["score"] for r in result) == pytest.approx(1.0)
        return {r["label"]: r["score"] for r in result}
    assert scores("I love this, it is excellent")["POSITIVE"] > 0.9
    assert scores("terrible and slow, a waste")["NEGATIVE"] > 0.9
    assert scores("this is not good")["NEGATIVE"] > 0.5
    assert scores("the box is blue")["POSITIVE"] == pytest.approx(0.5)
    assert run(emu_client, SST2, {"text": ""}).status_code == 400


def test_translation(emu_client: httpx.Client) -> None:
    result = run(emu_client, M2M, {"text": "good morning", "target_lang": "fr"}).json()["result"]
    assert result == {"translated_text": "[stand-in translation en->fr] good morning"}
    result = run(emu_client, M2M, {"text": "hola", "source_lang": "spanish", "target_lang": "german"}).json()["result"]
    assert result["translated_text"].startswith("[stand-in translation es->de]")
    for body, path in (({"text": "x", "target_lang": "xx"}, "'/target_lang'"),
                       ({"text": "x", "target_lang": "fr", "source_lang": "elvish"}, "'/source_lang'"),
                       ({"text": "x"}, "'target_lang'")):
        resp = run(emu_client, M2M, body)
        assert resp.status_code == 400 and path in resp.json()["errors"][0]["message"]
