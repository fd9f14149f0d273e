"""The sync and async Workers AI resources are built from the same builders: same names, signatures
and docstrings; plus the small helpers the builders share (ids, content sniffing)."""

from __future__ import annotations

import inspect
import re

import pytest

from cf_core import InvalidInputError
from cf_core.workers_ai import AsyncWorkersAI, WorkersAI
from cf_core.workers_ai.ids import new_id
from cf_core.workers_ai.mime import image_input, sniff

OPERATIONS = ["chat", "stream_chat", "embed", "embed_batch", "generate_image", "transcribe", "classify",
              "translate", "run", "openai_chat", "openai_embeddings", "search_models"]


@pytest.mark.parametrize("name", OPERATIONS)
def test_twins_share_signature_and_doc(name: str) -> None:
    sync, asyn = getattr(WorkersAI, name), getattr(AsyncWorkersAI, name)
    assert inspect.signature(sync.__wrapped__) == inspect.signature(asyn.__wrapped__)
    assert sync.__wrapped__ is asyn.__wrapped__  # one builder, two senders
    assert sync.__doc__ and sync.__doc__ == asyn.__doc__


def test_stream_chat_takes_the_same_arguments_as_chat() -> None:
    chat = inspect.signature(WorkersAI.chat.__wrapped__).parameters
    stream = inspect.signature(WorkersAI.stream_chat.__wrapped__).parameters
    assert list(chat) == list(stream)


def test_generated_ids_follow_simple_patterns() -> None:
    assert re.fullmatch(r"[a-zA-Z0-9]{9}", new_id("^[a-zA-Z0-9]{9}$"))
    assert re.fullmatch(r"[0-9]{4}", new_id("^[0-9]{4}$"))
    plain = {new_id() for _ in range(1000)}
    assert len(plain) == 1000 and all(i.startswith("call_") for i in plain)


@pytest.mark.parametrize(("data", "kind"), [
    (b"\x89PNG\r\n\x1a\n....", "image/png"), (b"\xff\xd8\xff\xe0....", "image/jpeg"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), (b"GIF89a....", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"), (b"plain text", None),
])
def test_sniff(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_image_input_forms() -> None:
    png = b"\x89PNG\r\n\x1a\nrest"
    assert image_input(png, "image") == (png, "image/png")
    assert image_input("data:image/png;base64,iVBORw0KGgpyZXN0", "image") == (png, "image/png")
    assert image_input("iVBORw0KGgpyZXN0", "image") == (png, "image/png")
    with pytest.raises(InvalidInputError):
        image_input("https://example.com/cat.png", "image")
    with pytest.raises(InvalidInputError):
        image_input("not base64 at all!", "image")
