"""The Workers AI tools: artifacts, file handling, schemas per model, errors, gateway routing."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import ToolException

from cf_core import NotFoundError
from cf_langchain import (
    CloudflareImageGenerationTool,
    CloudflareSpeechToTextTool,
    CloudflareTextClassificationTool,
    CloudflareTranslationTool,
)
from tests.support import wav_bytes

if TYPE_CHECKING:
    from tests.langchain.conftest import Wire

SDXL = "@cf/bytedance/stable-diffusion-xl-lightning"


def clients(wire: Wire) -> dict[str, Any]:
    return {"client": wire.client, "async_client": wire.aclient}


def call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "args": args, "id": "call-1", "type": "tool_call"}


# -- image generation --------------------------------------------------------------------------


def test_image_is_an_artifact_not_model_context(wire: Wire) -> None:
    tool = CloudflareImageGenerationTool(**clients(wire))
    message = tool.invoke(call(tool.name, {"prompt": "a red bicycle"}))
    assert isinstance(message, ToolMessage)
    artifact = message.artifact
    assert artifact["type"] == "image" and artifact["mime_type"].startswith("image/")
    image = base64.b64decode(artifact["base64"])
    assert image.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8"))
    assert artifact["base64"] not in message.content  # the model sees only a description
    assert len(message.content) < 300 and "a red bicycle" in message.content


def test_image_args_follow_the_model(wire: Wire) -> None:
    flux = CloudflareImageGenerationTool(**clients(wire))
    sdxl = CloudflareImageGenerationTool(model=SDXL, **clients(wire))
    assert set(flux.get_input_schema().model_json_schema()["properties"]) == {"prompt"}
    assert {"width", "height", "seed", "negative_prompt"} <= set(sdxl.get_input_schema().model_json_schema()["properties"])
    sdxl.invoke({"prompt": "a cat", "width": 512, "height": 768, "seed": 5})
    (body,) = wire.bodies()
    assert body == {"prompt": "a cat", "width": 512, "height": 768, "seed": 5}


async def test_image_async(wire: Wire) -> None:
    tool = CloudflareImageGenerationTool(model=SDXL, num_steps=4, **clients(wire))
    message = await tool.ainvoke(call(tool.name, {"prompt": "a lighthouse"}))
    assert message.artifact["base64"]
    assert wire.bodies()[0]["num_steps"] == 4


def test_bad_image_size_becomes_a_tool_error_the_agent_can_read(wire: Wire) -> None:
    tool = CloudflareImageGenerationTool(model=SDXL, handle_tool_error=True, **clients(wire))
    message = tool.invoke(call(tool.name, {"prompt": "x", "width": 10}))
    assert isinstance(message, ToolMessage) and message.status == "error"
    assert "width" in message.content
    assert wire.requests == []  # refused before sending


# -- speech to text ----------------------------------------------------------------------------


def test_transcribe_from_path_and_from_bytes(wire: Wire, tmp_path: Path) -> None:
    audio = tmp_path / "hello.wav"
    audio.write_bytes(wav_bytes(2.0))
    tool = CloudflareSpeechToTextTool(**clients(wire))
    from_path = tool.invoke(call(tool.name, {"audio": str(audio)}))
    from_bytes = tool.invoke({"audio": audio.read_bytes()})
    assert isinstance(from_path, ToolMessage) and from_path.content
    assert from_bytes == from_path.content
    assert from_path.artifact["duration"] == pytest.approx(2.0, abs=0.1)
    bodies = wire.bodies()
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert base64.b64decode(bodies[0]["audio"]) == audio.read_bytes()


def test_root_dir_confines_which_files_may_be_read(wire: Wire, tmp_path: Path) -> None:
    inside = tmp_path / "audio"
    inside.mkdir()
    (inside / "ok.wav").write_bytes(wav_bytes(1.0))
    (tmp_path / "secret.wav").write_bytes(wav_bytes(1.0))
    tool = CloudflareSpeechToTextTool(root_dir=str(inside), **clients(wire))
    assert tool.invoke({"audio": "ok.wav"})
    with pytest.raises(ToolException, match="outside the allowed directory"):
        tool.invoke({"audio": "../secret.wav"})
    with pytest.raises(ToolException, match="outside the allowed directory"):
        tool.invoke({"audio": str(tmp_path / "secret.wav")})
    assert len(wire.requests) == 1


def test_missing_empty_and_oversized_audio_are_refused(wire: Wire, tmp_path: Path) -> None:
    tool = CloudflareSpeechToTextTool(max_bytes=1000, **clients(wire))
    with pytest.raises(ToolException, match="not found"):
        tool.invoke({"audio": str(tmp_path / "nope.wav")})
    with pytest.raises(ToolException, match="empty"):
        tool.invoke({"audio": b""})
    big = tmp_path / "big.wav"
    big.write_bytes(wav_bytes(1.0))
    with pytest.raises(ToolException, match="limit is 1000"):
        tool.invoke({"audio": str(big)})
    assert wire.requests == []


# -- translation and classification ------------------------------------------------------------


def test_translation_sends_languages(wire: Wire) -> None:
    tool = CloudflareTranslationTool(**clients(wire))
    text = tool.invoke({"text": "Good morning", "target_lang": "es"})
    assert isinstance(text, str) and text
    (body,) = wire.bodies()
    assert body == {"text": "Good morning", "source_lang": "en", "target_lang": "es"}


def test_translation_accepts_language_names(wire: Wire) -> None:
    CloudflareTranslationTool(**clients(wire)).invoke({"text": "Hallo", "target_lang": "French",
                                                       "source_lang": "German"})
    (body,) = wire.bodies()
    assert body["source_lang"] == "de" and body["target_lang"] == "fr"


async def test_classification_top_label_and_all_scores(wire: Wire) -> None:
    tool = CloudflareTextClassificationTool(**clients(wire))
    positive = await tool.ainvoke(call(tool.name, {"text": "Wonderful, I love it, excellent work!"}))
    negative = await tool.ainvoke(call(tool.name, {"text": "Terrible, awful, I hate it, broken."}))
    assert positive.content.startswith("POSITIVE") and negative.content.startswith("NEGATIVE")
    labels = {item["label"] for item in positive.artifact}
    assert labels == {"POSITIVE", "NEGATIVE"}
    assert json.loads(json.dumps(positive.artifact))  # plain data


def test_core_errors_surface_as_tool_exceptions_chained_to_the_typed_error(wire: Wire) -> None:
    tool = CloudflareTranslationTool(model="@cf/meta/m2m100-9000b", **clients(wire))
    with pytest.raises(ToolException) as info:
        tool.invoke({"text": "hi", "target_lang": "fr"})
    assert isinstance(info.value.__cause__, NotFoundError)


def test_tools_route_through_the_gateway(wire: Wire) -> None:
    CloudflareTextClassificationTool(ai_gateway="tools-gw", **clients(wire)).invoke({"text": "great"})
    assert "/tools-gw/workers-ai/@cf/huggingface/distilbert-sst-2-int8" in wire.paths()[0]
