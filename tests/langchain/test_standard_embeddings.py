"""langchain-tests standard suites for CloudflareWorkersAIEmbeddings, against the in-process emulator.

Nothing is overridden or skipped: all 3 unit and 5 integration cases run. The emulator's embedding
model is a deterministic lexical stand-in, so these check the plumbing (shapes, counts, async), as
the suites intend.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from cf_core import CloudflareClient
from cf_core.local import Emulator, local_async_client
from cf_langchain.embeddings import CloudflareWorkersAIEmbeddings

SMALL = "@cf/baai/bge-small-en-v1.5"


class TestEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[CloudflareWorkersAIEmbeddings]:
        return CloudflareWorkersAIEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": SMALL}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"CLOUDFLARE_ACCOUNT_ID": "env-account", "CLOUDFLARE_API_TOKEN": "env-token"},
            {"model": SMALL},
            {"account_id": "env-account", "api_token": "env-token", "model": SMALL},
        )


class TestEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[CloudflareWorkersAIEmbeddings]:
        return CloudflareWorkersAIEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": SMALL}

    @pytest.fixture
    def model(self, emulator: Emulator, client: CloudflareClient) -> CloudflareWorkersAIEmbeddings:
        # The suite builds the model from embedding_model_params alone; the emulator clients are
        # fixtures, so this fixture (not a test) supplies them.
        return CloudflareWorkersAIEmbeddings(**self.embedding_model_params, client=client,
                                             async_client=local_async_client(emulator))
