"""Embeddings, images, speech, classification, translation, the /ai/v1 endpoints, model search and the
raw run call, over the wire against the emulator, sync and async.

The emulator's models are stand-ins (hashing embeddings, a generated PNG, a placeholder transcript):
these tests check requests, batching, order and parsing, not model quality.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cf_core import AsyncCloudflareClient, BadRequestError, CloudflareClient
from cf_core.workers_ai import ClassificationResult
from tests.support import wav_bytes

BGE = "@cf/baai/bge-small-en-v1.5"
M3 = "@cf/baai/bge-m3"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
WHISPER = "@cf/openai/whisper"
TURBO = "@cf/openai/whisper-large-v3-turbo"
LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct"


def test_embed_batches_of_100_in_order(rclient: CloudflareClient, recorder: Any) -> None:
    texts = [f"document number {i} about topic {i % 7}" for i in range(250)]
    result = rclient.workers_ai.embed(BGE, texts, concurrency=3)
    # concurrent batches may arrive in any order
    assert sorted(len(s.json()["text"]) for s in recorder.sent) == [50, 100, 100]
    assert rclient.stats["requests"] == 3
    assert result.shape == (250, 384) and len(result.vectors) == 250
    assert result.pooling == "mean"
    # order: each vector is the one that text gets on its own
    for i in (0, 99, 100, 199, 200, 249):
        single = rclient.workers_ai.embed(BGE, texts[i])
        assert single.vectors[0] == pytest.approx(result.vectors[i])
    assert result.vectors[0] != pytest.approx(result.vectors[1])


async def test_embed_batches_async(raclient: AsyncCloudflareClient, recorder: Any) -> None:
    texts = [f"text {i}" for i in range(201)]
    result = await raclient.workers_ai.embed(BGE, texts, batch_size=100)
    assert sorted(len(s.json()["text"]) for s in recorder.sent) == [1, 100, 100]
    sync_first = (await raclient.workers_ai.embed(BGE, [texts[200]])).vectors[0]
    assert result.vectors[200] == pytest.approx(sync_first)


def test_embed_small_batch_size_and_pooling(rclient: CloudflareClient, recorder: Any) -> None:
    result = rclient.workers_ai.embed(BGE, ["a", "b", "c"], batch_size=2, pooling="cls")
    assert [s.json() for s in recorder.sent] == [{"text": ["a", "b"], "pooling": "cls"},
                                                  {"text": ["c"], "pooling": "cls"}]
    assert result.shape == (3, 384) and result.pooling == "cls"


def test_embed_bge_m3(client: CloudflareClient) -> None:
    result = client.workers_ai.embed(M3, ["one text", "another"])
    assert result.shape == (2, 1024) and result.pooling == "cls"


def test_embed_batch_is_one_request(rclient: CloudflareClient, recorder: Any) -> None:
    result = rclient.workers_ai.embed_batch(BGE, [f"t{i}" for i in range(100)])
    assert len(recorder.sent) == 1 and result.shape == (100, 384)


def test_image_raw_png_model(rclient: CloudflareClient, recorder: Any) -> None:
    result = rclient.workers_ai.generate_image(SDXL, "a lighthouse", width=512, height=256, num_steps=4,
                                               negative_prompt="fog", guidance=6.5, seed=3)
    assert recorder.last.json() == {"prompt": "a lighthouse", "negative_prompt": "fog", "width": 512,
                                    "height": 256, "num_steps": 4, "guidance": 6.5, "seed": 3}
    assert result.content_type == "image/png" and result.image.startswith(b"\x89PNG\r\n\x1a\n")
    assert result.model == SDXL


def test_image_base64_json_model(rclient: CloudflareClient, recorder: Any) -> None:
    result = rclient.workers_ai.generate_image(FLUX, "a lighthouse", num_steps=4)
    assert recorder.last.json() == {"prompt": "a lighthouse", "steps": 4}
    raw = rclient.workers_ai.run(FLUX, {"prompt": "a lighthouse", "steps": 4})
    assert result.image == base64.b64decode(raw["image"])  # the JSON form, decoded to bytes
    assert result.content_type in ("image/png", "image/jpeg")
    assert result.image[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")


async def test_image_async(aclient: AsyncCloudflareClient) -> None:
    png = await aclient.workers_ai.generate_image(SDXL, "a cat")
    flux = await aclient.workers_ai.generate_image(FLUX, "a cat")
    assert png.content_type == "image/png" and flux.image


def test_transcribe_whisper_raw_body(rclient: CloudflareClient, recorder: Any) -> None:
    audio = wav_bytes()
    result = rclient.workers_ai.transcribe(WHISPER, audio)
    assert recorder.last.body == audio and recorder.last.headers["content-type"] == "audio/wav"
    assert result.text and result.word_count == len(result.words) > 0
    assert result.vtt is not None and result.vtt.startswith("WEBVTT")
    assert all(w.end >= w.start for w in result.words)


def test_transcribe_whisper_int_array_form(rclient: CloudflareClient, recorder: Any) -> None:
    """With extra fields whisper gets the JSON form {"audio": [ints], ...}. Its schema takes nothing but
    audio, so the emulator answers 5006 to the extra field; the form itself is parsed through run()."""
    audio = wav_bytes(0.1)
    with pytest.raises(BadRequestError) as err:
        rclient.workers_ai.transcribe(WHISPER, audio, extra={"initial_prompt": "x"})
    assert err.value.code == 5006
    assert recorder.last.json() == {"audio": list(audio), "initial_prompt": "x"}
    assert rclient.workers_ai.run(WHISPER, {"audio": list(audio)})["text"]


def test_transcribe_turbo_base64(rclient: CloudflareClient, recorder: Any) -> None:
    audio = wav_bytes(1.0)
    result = rclient.workers_ai.transcribe(TURBO, audio, language="en", task="transcribe")
    sent = recorder.last.json()
    assert base64.b64decode(sent["audio"]) == audio and sent["language"] == "en" and sent["task"] == "transcribe"
    assert result.language == "en" and result.duration == pytest.approx(1.0)
    assert result.words and result.words[0].word  # taken from inside segments
    assert result.text


async def test_transcribe_async(aclient: AsyncCloudflareClient) -> None:
    result = await aclient.workers_ai.transcribe(TURBO, wav_bytes())
    assert result.text and result.language is not None


def test_classify(rclient: CloudflareClient, recorder: Any) -> None:
    result = rclient.workers_ai.classify("I love this wonderful film")
    assert recorder.last.url.path.endswith("/ai/run/@cf/huggingface/distilbert-sst-2-int8")
    assert recorder.last.json() == {"text": "I love this wonderful film"}
    assert isinstance(result, ClassificationResult)
    assert {c.label for c in result.labels} == {"POSITIVE", "NEGATIVE"}
    assert result.labels[0].score >= result.labels[1].score and result.top == result.labels[0]


def test_translate(rclient: CloudflareClient, recorder: Any) -> None:
    result = rclient.workers_ai.translate("good morning", target_lang="fr")
    assert recorder.last.json() == {"text": "good morning", "source_lang": "en", "target_lang": "fr"}
    raw = rclient.workers_ai.run("@cf/meta/m2m100-1.2b", recorder.last.json())
    assert result.text == raw["translated_text"]
    assert (result.source_lang, result.target_lang) == ("en", "fr")


async def test_classify_and_translate_async(aclient: AsyncCloudflareClient) -> None:
    assert (await aclient.workers_ai.classify("bad awful")).top.label in ("POSITIVE", "NEGATIVE")
    assert (await aclient.workers_ai.translate("hi", target_lang="de", source_lang="en")).text


def test_openai_chat_and_embeddings(rclient: CloudflareClient, recorder: Any) -> None:
    body = {"model": LLAMA_8B, "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 20}
    out = rclient.workers_ai.openai_chat(body)
    assert recorder.last.url.path == "/client/v4/accounts/local-account/ai/v1/chat/completions"
    assert recorder.last.json() == body
    assert out["object"] == "chat.completion" and out["choices"][0]["message"]["role"] == "assistant"
    emb = rclient.workers_ai.openai_embeddings(BGE, ["a", "b"])
    assert recorder.last.url.path.endswith("/ai/v1/embeddings")
    assert recorder.last.json() == {"model": BGE, "input": ["a", "b"]}
    assert [d["index"] for d in emb["data"]] == [0, 1] and len(emb["data"][0]["embedding"]) == 384


async def test_openai_chat_async(aclient: AsyncCloudflareClient) -> None:
    out = await aclient.workers_ai.openai_chat({"model": LLAMA_8B, "messages": [{"role": "user", "content": "x"}]})
    assert out["choices"][0]["finish_reason"] in ("stop", "length")


def test_search_models(rclient: CloudflareClient, recorder: Any) -> None:
    models = rclient.workers_ai.search_models(task="Text Embeddings", per_page=50)
    assert recorder.last.method == "GET" and recorder.last.url.params["task"] == "Text Embeddings"
    names = {m["name"] for m in models}
    assert BGE in names and all(m["task"]["name"] == "Text Embeddings" for m in models)
    assert [m["name"] for m in rclient.workers_ai.search_models(search="whisper-large")] == [TURBO]


def test_run_raw(client: CloudflareClient) -> None:
    assert set(client.workers_ai.run(BGE, {"text": ["a"]})) >= {"shape", "data"}
    png = client.workers_ai.run(SDXL, {"prompt": "x"})
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
