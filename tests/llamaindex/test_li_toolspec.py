"""CloudflareToolSpec: each tool's request and result on the emulator (stand-in models), the tool
list an agent sees, and an agent using two of the tools."""

from __future__ import annotations

from pathlib import Path

import pytest
from li_support import Wire, make_store
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult
from llama_index.core.tools.tool_spec.base import BaseToolSpec

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.errors import InvalidInputError
from cf_llamaindex import (
    CloudflareToolSpec,
    CloudflareWorkersAI,
    CloudflareWorkersAIEmbedding,
)
from tests.support import wav_bytes


@pytest.fixture
def spec(client: CloudflareClient, aclient: AsyncCloudflareClient, tmp_path: Path) -> CloudflareToolSpec:
    return CloudflareToolSpec(client=client, async_client=aclient, image_dir=tmp_path / "images")


@pytest.fixture
def searchable(client: CloudflareClient, aclient: AsyncCloudflareClient,
               embed_model: CloudflareWorkersAIEmbedding) -> CloudflareToolSpec:
    store = make_store(client, aclient, "tool-docs")
    VectorStoreIndex.from_documents(
        [Document(text="The lighthouse on Vela Island is painted cobalt blue."),
         Document(text="Quokka biscuits are baked with oats and honey.")],
        storage_context=StorageContext.from_defaults(vector_store=store), embed_model=embed_model)
    return CloudflareToolSpec(client=client, async_client=aclient, vector_store=store, embed_model=embed_model,
                              search_top_k=1)


def test_tool_list(spec: CloudflareToolSpec, searchable: CloudflareToolSpec) -> None:
    assert isinstance(spec, BaseToolSpec)
    tools = spec.to_tool_list()
    assert [t.metadata.name for t in tools] == ["generate_image", "transcribe_audio", "translate_text", "classify_text"]
    assert all(len(t.metadata.description) <= 1024 for t in tools)
    assert all(t.async_fn is not None for t in tools)
    params = tools[2].metadata.get_parameters_dict()
    assert params["required"] == ["text", "target_lang"]
    assert "search_documents" in [t.metadata.name for t in searchable.to_tool_list()]


def test_generate_image_saves_a_png(spec: CloudflareToolSpec, wire: Wire) -> None:
    out = spec.generate_image("a lighthouse at dusk", width=512, height=512)
    path = Path(out.rsplit("saved at ", 1)[1])
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert wire[-1].json() == {"prompt": "a lighthouse at dusk"}  # flux takes no size: dropped


async def test_agenerate_image(spec: CloudflareToolSpec) -> None:
    out = await spec.agenerate_image("a quokka")
    assert Path(out.rsplit("saved at ", 1)[1]).is_file()


def test_transcribe_audio(spec: CloudflareToolSpec, tmp_path: Path, wire: Wire) -> None:
    audio = tmp_path / "a.wav"
    audio.write_bytes(wav_bytes(0.5, rate=16000))
    text = spec.transcribe_audio(str(audio))
    assert "stand-in" in text
    assert "/ai/run/@cf/openai/whisper" in str(wire[-1].url)
    with pytest.raises(InvalidInputError, match="does not exist"):
        spec.transcribe_audio(str(tmp_path / "missing.wav"))


async def test_translate_and_classify(spec: CloudflareToolSpec, wire: Wire) -> None:
    out = spec.translate_text("Good morning", target_lang="fr")
    assert wire[-1].json() == {"text": "Good morning", "source_lang": "en", "target_lang": "fr"}
    assert "Good morning" in out
    assert "Good morning" in await spec.atranslate_text("Good morning", target_lang="es")
    labels = spec.classify_text("I love it, wonderful")
    assert labels.startswith("POSITIVE (")
    assert (await spec.aclassify_text("terrible, awful, I hate it")).startswith("NEGATIVE (")


async def test_search_documents(searchable: CloudflareToolSpec) -> None:
    out = searchable.search_documents("What colour is the lighthouse?")
    assert out.startswith("[1]") and "cobalt blue" in out and "Quokka" not in out
    assert "cobalt blue" in await searchable.asearch_documents("What colour is the lighthouse?")


async def test_agent_uses_two_tools_of_the_spec(spec: CloudflareToolSpec, llm: CloudflareWorkersAI) -> None:
    agent = FunctionAgent(tools=spec.to_tool_list(), llm=llm)
    handler = agent.run("Please classify text 'what a great day' and generate image of a lighthouse.")
    events = [e async for e in handler.stream_events()]
    result = await handler
    results = [e for e in events if isinstance(e, ToolCallResult)]
    assert sorted(e.tool_name for e in results) == ["classify_text", "generate_image"]
    assert not any(e.tool_output.is_error for e in results)
    assert "POSITIVE (" in str(result) and "saved at" in str(result)
