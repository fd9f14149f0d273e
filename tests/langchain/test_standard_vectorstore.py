"""langchain-tests ``VectorStoreIntegrationTests`` for CloudflareVectorize, against the in-process emulator.

All 25 cases run (sync and async; ``has_sync``/``has_async``/``has_get_by_ids`` keep their True
defaults); nothing is overridden. The fixture creates a fresh index per test, sized by the store from
the suite's 6-dimension fake embedding (a probe call), and deletes it in teardown. The suite never
filters on metadata, so the fixture creates no metadata index.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from cf_core import CloudflareClient
from cf_core.local import Emulator, local_async_client
from cf_langchain.vectorstores import CloudflareVectorize


class TestVectorizeStandard(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, emulator: Emulator, client: CloudflareClient) -> Iterator[CloudflareVectorize]:
        store = CloudflareVectorize(embedding=self.get_embeddings(), index_name=f"std-{uuid.uuid4().hex[:12]}",
                                    client=client, async_client=local_async_client(emulator))
        info = store.create_index()
        assert info.dimensions == 6  # sized from the fake embedding, not a fixed default
        yield store
        store.delete_index()
