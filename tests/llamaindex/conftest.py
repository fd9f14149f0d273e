"""Fixtures for the LlamaIndex adapter tests: core clients on the in-process emulator (cf_core.local's
plugin) that record every request (so tests can check the wire), and the adapter objects wired to them.
LlamaIndex's global defaults (OpenAI) are replaced for every test, so nothing falls back to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from li_support import CHAT_MODEL, EMBED_DIMS, EMBED_MODEL, Wire
from llama_index.core import Settings

from cf_core import AsyncCloudflareClient, CloudflareClient
from cf_core.local import Emulator, local_async_client, local_client
from cf_llamaindex import CloudflareWorkersAI, CloudflareWorkersAIEmbedding


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def client(emulator: Emulator, wire: Wire) -> Iterator[CloudflareClient]:
    with local_client(emulator, record=wire, max_retries=0) as c:
        yield c


@pytest.fixture
async def aclient(emulator: Emulator, wire: Wire) -> AsyncIterator[AsyncCloudflareClient]:
    async with local_async_client(emulator, record=wire, max_retries=0) as c:
        yield c


@pytest.fixture
def llm(client: CloudflareClient, aclient: AsyncCloudflareClient) -> CloudflareWorkersAI:
    return CloudflareWorkersAI(model=CHAT_MODEL, client=client, async_client=aclient)


@pytest.fixture
def embed_model(client: CloudflareClient, aclient: AsyncCloudflareClient) -> CloudflareWorkersAIEmbedding:
    return CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client, async_client=aclient)


@pytest.fixture(autouse=True)
def _no_openai_defaults() -> Iterator[None]:
    """Fail loudly instead of reaching for OpenAI if a test forgets to pass its models."""
    from llama_index.core.embeddings.mock_embed_model import MockEmbedding
    from llama_index.core.llms.mock import MockLLM

    class _Forbidden(MockLLM):
        def complete(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a test reached Settings.llm; pass llm= explicitly")

        def chat(self, *args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a test reached Settings.llm; pass llm= explicitly")

    class _ForbiddenEmbedding(MockEmbedding):
        def _get_vector(self) -> list[float]:
            raise AssertionError("a test reached Settings.embed_model; pass embed_model= explicitly")

    Settings.llm = _Forbidden()
    Settings.embed_model = _ForbiddenEmbedding(embed_dim=EMBED_DIMS)
    yield
    Settings._llm = None
    Settings._embed_model = None
