"""CloudflareVectorizeSearchTool: the standard tool suites plus behaviour checks against the emulator.

Standard suites: every case runs, nothing is overridden. ``init_from_env_params`` is left empty, so
the suite's ``test_init_from_env`` checks nothing: the tool reads no environment variable itself
(the store's client settings do; the embeddings suite covers that mixin)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import ToolMessage
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests
from pydantic import ValidationError

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.local import Emulator, local_async_client
from cf_langchain.embeddings import CloudflareWorkersAIEmbeddings
from cf_langchain.vectorize_tool import NO_RESULTS, CloudflareVectorizeSearchTool
from cf_langchain.vectorstores import CloudflareVectorize

if TYPE_CHECKING:
    from conftest import Wire

PASSAGES = [
    ("Vectorize is Cloudflare's vector database for embeddings.", {"source": "vectorize.md", "team": "data"}),
    ("Workers AI runs machine learning models on Cloudflare's network.", {"source": "workers-ai.md", "team": "ai"}),
    ("AI Gateway caches, logs and rate-limits requests to AI providers.", {"source": "gateway.md", "team": "ai"}),
]


def _populated(client: CloudflareClient, aclient: AsyncCloudflareClient) -> CloudflareVectorize:
    embedding = CloudflareWorkersAIEmbeddings(client=client, async_client=aclient)
    store = CloudflareVectorize(embedding=embedding, index_name=f"kb-{uuid.uuid4().hex[:8]}", client=client,
                                async_client=aclient)
    store.create_index(metadata_indexes={"team": "string"})
    store.add_texts([t for t, _ in PASSAGES], [m for _, m in PASSAGES], ids=["vz", "wai", "gw"])
    return store


class TestVectorizeToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> type[CloudflareVectorizeSearchTool]:
        return CloudflareVectorizeSearchTool

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        # Building a store sends nothing, so the unit suite needs no emulator.
        return {"vectorstore": CloudflareVectorize(embedding=DeterministicFakeEmbedding(size=4), index_name="unit")}

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "what is vectorize", "k": 2}


class TestVectorizeToolIntegration(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> type[CloudflareVectorizeSearchTool]:
        return CloudflareVectorizeSearchTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "what is vectorize", "k": 2}

    @pytest.fixture
    def tool(self, emulator: Emulator, client: CloudflareClient) -> Iterator[CloudflareVectorizeSearchTool]:
        # The suite builds the tool from constructor params alone; the store needs the emulator
        # fixtures, so this fixture (not a test) supplies a populated one.
        yield CloudflareVectorizeSearchTool(vectorstore=_populated(client, local_async_client(emulator)))


# -- behaviour -----------------------------------------------------------------------------------------

@pytest.fixture
def kb(emulator: Emulator, wire: Wire) -> CloudflareVectorize:
    store = _populated(wire.client, wire.aclient)
    wire.clear()
    return store


def test_answer_lists_passages_with_sources_and_scores(kb: CloudflareVectorize) -> None:
    tool = CloudflareVectorizeSearchTool(vectorstore=kb, k=2)
    message = tool.invoke({"name": tool.name, "args": {"query": "vector database for embeddings"}, "id": "c1",
                           "type": "tool_call"})
    assert isinstance(message, ToolMessage)
    content = str(message.content)
    assert content.startswith("[1] source: vectorize.md (relevance ")
    assert "Vectorize is Cloudflare's vector database for embeddings." in content
    assert content.count("source:") == 2
    artifact: list[Document] = message.artifact
    assert artifact[0].id == "vz"
    scores = [d.metadata["relevance_score"] for d in artifact]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert "__text" not in artifact[0].metadata


def test_k_from_the_model_and_fixed_filter(kb: CloudflareVectorize, wire: Wire) -> None:
    tool = CloudflareVectorizeSearchTool(vectorstore=kb, filter={"team": "ai"})
    _, artifact = tool._run("models and providers", k=1)
    assert len(artifact) == 1 and artifact[0].metadata["team"] == "ai"
    (query,) = wire.bodies("/query")
    assert query["topK"] == 1 and query["filter"] == {"team": "ai"}
    with pytest.raises(ValidationError):
        tool.invoke({"query": "x", "k": 0})


async def test_async_and_threshold(kb: CloudflareVectorize) -> None:
    tool = CloudflareVectorizeSearchTool(vectorstore=kb, score_threshold=0.999)
    content = await tool.ainvoke({"query": "completely unrelated banana bread recipe"})
    assert content == NO_RESULTS
    exact = await tool.ainvoke({"query": PASSAGES[2][0]})
    assert "gateway.md" in exact and exact.count("source:") == 1


def test_long_passages_are_cut_for_the_model_only(emulator: Emulator, wire: Wire) -> None:
    store = CloudflareVectorize(embedding=DeterministicFakeEmbedding(size=4), index_name="long", client=wire.client)
    store.create_index()
    store.add_texts(["word " * 500], ids=["long"])
    tool = CloudflareVectorizeSearchTool(vectorstore=store, max_passage_chars=50)
    content, artifact = tool._run("word")
    assert content.endswith(" [...]") and len(content) < 150
    assert artifact[0].page_content == "word " * 500
    assert "source: long" in content  # no source metadata: the document id is shown
