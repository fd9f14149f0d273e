"""Bad input is refused locally with InvalidInputError naming the field, before any request is sent
(each test asserts the recording transport saw zero requests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cf_core import AsyncCloudflareClient, CloudflareClient, InvalidInputError
from cf_core.workers_ai import WorkersAI

LLAMA_8B = "@cf/meta/llama-3.1-8b-instruct"
LLAMA_3B = "@cf/meta/llama-3.2-3b-instruct"
LLAMA_70B = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
VISION_11B = "@cf/meta/llama-3.2-11b-vision-instruct"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"
BGE = "@cf/baai/bge-small-en-v1.5"
M3 = "@cf/baai/bge-m3"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"
FLUX = "@cf/black-forest-labs/flux-1-schnell"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
USER = [{"role": "user", "content": "hi"}]
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}

Case = tuple[str, Callable[[WorkersAI], Any], str]

CASES: list[Case] = [
    ("no messages or prompt", lambda w: w.chat(LLAMA_8B), "messages"),
    ("empty messages", lambda w: w.chat(LLAMA_8B, []), "messages"),
    ("both messages and prompt", lambda w: w.chat(LLAMA_8B, USER, prompt="x"), "prompt"),
    ("empty prompt", lambda w: w.chat(LLAMA_8B, prompt=""), "prompt"),
    ("messages not a list", lambda w: w.chat(LLAMA_8B, "hello"), "messages"),
    ("bad role", lambda w: w.chat(LLAMA_8B, [{"role": "robot", "content": "x"}]), "messages[0].role"),
    ("message not an object", lambda w: w.chat(LLAMA_8B, ["hi"]), "messages[0]"),
    ("bad content part", lambda w: w.chat(LLAMA_8B, [{"role": "user", "content": [{"type": "audio"}]}]),
     "messages[0].content[0]"),
    ("tool calls on a user message",
     lambda w: w.chat(LLAMA_8B, [{"role": "user", "content": "x", "tool_calls": [{"name": "a"}]}]),
     "messages[0].tool_calls"),
    ("tool without name", lambda w: w.chat(LLAMA_70B, USER, tools=[{"type": "function", "function": {}}]),
     "tools[0].name"),
    ("tool not an object", lambda w: w.chat(LLAMA_70B, USER, tools=["get_weather"]), "tools[0]"),
    ("tool schema not an object", lambda w: w.chat(LLAMA_70B, USER, tools=[
        {"name": "f", "parameters": {"type": "array"}}]), "tools[0].parameters"),
    ("duplicate tool", lambda w: w.chat(LLAMA_70B, USER, tools=[TOOL, TOOL]), "tools[1].name"),
    ("tool_choice unknown tool", lambda w: w.chat(LLAMA_70B, USER, tools=[TOOL], tool_choice="other"),
     "tool_choice"),
    ("tool_choice bad type", lambda w: w.chat(LLAMA_70B, USER, tools=[TOOL], tool_choice=3), "tool_choice"),
    ("image to non-vision model", lambda w: w.chat(LLAMA_8B, prompt="x", image=PNG), "image"),
    ("image part to non-vision model", lambda w: w.chat(LLAMA_8B, [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]),
     "messages[0].content[0]"),
    ("image URL instead of data", lambda w: w.chat(SCOUT, prompt="x", image="https://example.com/a.png"), "image"),
    ("two images for an image-field model", lambda w: w.chat(VISION_11B, [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]), "messages"),
    ("json_schema not a dict", lambda w: w.chat(LLAMA_70B, prompt="x", json_schema=42), "json_schema"),
    ("json mode on a model without it", lambda w: w.chat(LLAMA_3B, prompt="x", json_schema={"type": "object"}),
     "json_schema"),
    ("temperature too high", lambda w: w.chat(LLAMA_8B, prompt="x", temperature=5.5), "temperature"),
    ("temperature not a number", lambda w: w.chat(LLAMA_8B, prompt="x", temperature="hot"), "temperature"),
    ("top_p negative", lambda w: w.chat(LLAMA_8B, prompt="x", top_p=-0.1), "top_p"),
    ("top_k zero", lambda w: w.chat(LLAMA_8B, prompt="x", top_k=0), "top_k"),
    ("top_k not an int", lambda w: w.chat(LLAMA_8B, prompt="x", top_k=1.5), "top_k"),
    ("seed zero", lambda w: w.chat(LLAMA_8B, prompt="x", seed=0), "seed"),
    ("max_tokens zero", lambda w: w.chat(LLAMA_8B, prompt="x", max_tokens=0), "max_tokens"),
    ("max_tokens bool", lambda w: w.chat(LLAMA_8B, prompt="x", max_tokens=True), "max_tokens"),
    ("presence_penalty too high", lambda w: w.chat(LLAMA_8B, prompt="x", presence_penalty=2.5), "presence_penalty"),
    ("repetition_penalty nan", lambda w: w.chat(LLAMA_8B, prompt="x", repetition_penalty=float("nan")),
     "repetition_penalty"),
    ("prompt far over the context window", lambda w: w.chat(LLAMA_8B, prompt="word " * 20_000), "prompt"),
    ("messages far over the context window",
     lambda w: w.chat(LLAMA_8B, [{"role": "user", "content": "word " * 20_000}]), "messages"),
    ("lora on a model without LoRA", lambda w: w.chat(LLAMA_70B, prompt="x", lora="adapter"), "lora"),
    ("empty stop", lambda w: w.chat(LLAMA_8B, prompt="x", stop=[""]), "stop"),
    ("chat on an embedding model", lambda w: w.chat(BGE, prompt="x"), "model"),
    ("empty model id", lambda w: w.chat("", prompt="x"), "model"),
    ("extra not a mapping", lambda w: w.chat(LLAMA_8B, prompt="x", extra=["a"]), "extra"),
    ("bad gateway settings", lambda w: w.chat(LLAMA_8B, prompt="x", gateway={"id": "a/b"}), "gateway"),
    ("stream: empty messages", lambda w: w.stream_chat(LLAMA_8B, []), "messages"),
    ("stream: temperature", lambda w: w.stream_chat(LLAMA_8B, prompt="x", temperature=9), "temperature"),
    ("embed: no texts", lambda w: w.embed(BGE, []), "texts"),
    ("embed: empty text", lambda w: w.embed(BGE, ["a", ""]), "texts[1]"),
    ("embed: non-string", lambda w: w.embed(BGE, ["a", 3]), "texts[1]"),
    ("embed: bytes", lambda w: w.embed(BGE, b"abc"), "texts"),
    ("embed: batch_size over 100", lambda w: w.embed(BGE, ["a"], batch_size=101), "batch_size"),
    ("embed: concurrency zero", lambda w: w.embed(BGE, ["a"], concurrency=0), "concurrency"),
    ("embed: bad pooling", lambda w: w.embed(BGE, ["a"], pooling="max"), "pooling"),
    ("embed: pooling on bge-m3", lambda w: w.embed(M3, ["a"], pooling="mean"), "pooling"),
    ("embed_batch: more than 100", lambda w: w.embed_batch(BGE, ["a"] * 101), "texts"),
    ("embed: chat model", lambda w: w.embed(LLAMA_8B, ["a"]), "model"),
    ("image: empty prompt", lambda w: w.generate_image(SDXL, ""), "prompt"),
    ("image: width too small", lambda w: w.generate_image(SDXL, "cat", width=100), "width"),
    ("image: too many steps", lambda w: w.generate_image(SDXL, "cat", num_steps=21), "num_steps"),
    ("image: flux takes no size", lambda w: w.generate_image(FLUX, "cat", width=512), "width"),
    ("image: flux steps max 8", lambda w: w.generate_image(FLUX, "cat", num_steps=9), "num_steps"),
    ("audio: empty", lambda w: w.transcribe("@cf/openai/whisper", b""), "audio"),
    ("audio: not bytes", lambda w: w.transcribe("@cf/openai/whisper", "file.wav"), "audio"),
    ("audio: whisper takes no language", lambda w: w.transcribe("@cf/openai/whisper", b"RIFF", language="en"),
     "language"),
    ("audio: bad task", lambda w: w.transcribe("@cf/openai/whisper-large-v3-turbo", b"RIFF", task="sing"), "task"),
    ("classify: empty", lambda w: w.classify(""), "text"),
    ("translate: empty target", lambda w: w.translate("hello", target_lang=""), "target_lang"),
    ("openai_chat: stream", lambda w: w.openai_chat({"model": LLAMA_8B, "messages": USER, "stream": True}),
     "body.stream"),
    ("openai_chat: no messages", lambda w: w.openai_chat({"model": LLAMA_8B, "messages": []}), "body.messages"),
    ("openai_embeddings: empty text", lambda w: w.openai_embeddings(BGE, [""]), "texts[0]"),
    ("run: stream", lambda w: w.run(LLAMA_8B, {"prompt": "x", "stream": True}), "inputs.stream"),
    ("search: page zero", lambda w: w.search_models(page=0), "page"),
]


@pytest.mark.parametrize(("name", "call", "field"), CASES, ids=[c[0] for c in CASES])
def test_refused_locally_before_sending(name: str, call: Callable[[WorkersAI], Any], field: str,
                                        rclient: CloudflareClient, recorder: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        result = call(rclient.workers_ai)
        if name.startswith("stream"):
            list(result)
    assert err.value.field == field, str(err.value)
    assert isinstance(err.value, ValueError)
    assert recorder.sent == []
    assert rclient.stats["requests"] == 0


ASYNC_CASES = [c for c in CASES if c[0] in {
    "empty messages", "bad role", "tool without name", "image to non-vision model", "temperature too high",
    "embed: empty text", "embed: batch_size over 100", "image: flux takes no size", "audio: empty",
    "stream: empty messages"}]


@pytest.mark.parametrize(("name", "call", "field"), ASYNC_CASES, ids=[c[0] for c in ASYNC_CASES])
async def test_refused_locally_before_sending_async(name: str, call: Callable[[Any], Any], field: str,
                                                    raclient: AsyncCloudflareClient, recorder: Any) -> None:
    with pytest.raises(InvalidInputError) as err:
        result = call(raclient.workers_ai)
        if name.startswith("stream"):
            async for _ in result:
                pass
        else:
            await result
    assert err.value.field == field
    assert recorder.sent == []


def test_error_names_the_limit() -> None:
    from cf_core.workers_ai.chat import plan_chat

    with pytest.raises(InvalidInputError) as err:
        plan_chat(LLAMA_8B, prompt="x", top_k=51)
    assert err.value.limit == (1, 50) and "between 1 and 50" in str(err.value)
    with pytest.raises(InvalidInputError) as ctx:
        plan_chat(LLAMA_8B, prompt="word " * 20_000)
    assert ctx.value.limit == 7968 and "7968" in str(ctx.value)


def test_context_check_is_lenient_near_the_limit() -> None:
    """A prompt of about the context window's size in estimated tokens is left for the service to judge."""
    from cf_core.workers_ai.chat import plan_chat

    plan_chat(LLAMA_8B, prompt="abcd" * 7968)  # ~7968 estimated tokens: not refused locally
