"""CloudflareVectorize against the emulator: ids, stored text, metadata round-trip, k, get/delete,
waiting for mutations, from_texts sizing, index helpers and secrets. Wire checks look at what the
store sent to Vectorize (the recorded requests)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from cf_core import CloudflareClient, InvalidInputError
from cf_core.errors import PartialWriteError
from cf_core.local import (
    LOCAL_ACCOUNT_ID,
    LOCAL_API_TOKEN,
    LOCAL_BASE_URL,
    Emulator,
    EmulatorTransport,
    local_client,
)
from cf_langchain import _vectorize_ops, vectorstores
from cf_langchain.embeddings import CloudflareWorkersAIEmbeddings
from cf_langchain.vectorstores import CloudflareVectorize

if TYPE_CHECKING:
    from conftest import Wire

Factory = Callable[..., CloudflareVectorize]


@pytest.fixture
def make_store(wire: Wire) -> Factory:
    def make(embedding: Embeddings | None = None, *, create: bool = True, metric: str = "cosine",
             **kwargs: Any) -> CloudflareVectorize:
        store = CloudflareVectorize(embedding=embedding or DeterministicFakeEmbedding(size=8),
                                    index_name=kwargs.pop("index_name", f"t-{uuid.uuid4().hex[:10]}"),
                                    client=wire.client, async_client=wire.aclient, **kwargs)
        if create:
            store.create_index(metric=metric)  # type: ignore[arg-type]
        wire.clear()
        return store
    return make


def _upserted(wire: Wire) -> list[dict[str, Any]]:
    """Every vector sent in upsert bodies (NDJSON)."""
    out = []
    for r in wire.requests:
        if r.url.path.endswith("/upsert"):
            out += [json.loads(line) for line in r.body.decode().splitlines() if line.strip()]
    return out


# -- ids ---------------------------------------------------------------------------------------------

def test_given_ids_are_used_and_returned(make_store: Factory, wire: Wire) -> None:
    store = make_store()
    assert store.add_texts(["alpha", "beta"], ids=["id-a", "id-b"]) == ["id-a", "id-b"]
    assert [v["id"] for v in _upserted(wire)] == ["id-a", "id-b"]
    assert {d.id for d in store.similarity_search("alpha", k=2)} == {"id-a", "id-b"}


def test_document_ids_are_honoured_and_missing_ones_generated(make_store: Factory) -> None:
    store = make_store()
    ids = store.add_documents([Document(id="keep-me", page_content="one"), Document(page_content="two")])
    assert ids[0] == "keep-me"
    assert uuid.UUID(ids[1]).version == 4
    got = {d.id: d.page_content for d in store.get_by_ids(ids)}
    assert got == {"keep-me": "one", ids[1]: "two"}


def test_same_id_replaces(make_store: Factory) -> None:
    store = make_store()
    store.add_texts(["old text"], [{"v": 1}], ids=["x"])
    store.add_texts(["new text"], [{"v": 2, "extra": True}], ids=["x"])
    assert store.get_by_ids(["x"]) == [Document(id="x", page_content="new text", metadata={"v": 2, "extra": True})]


def test_bad_ids_and_lengths_fail_before_sending(make_store: Factory, wire: Wire) -> None:
    store = make_store()
    with pytest.raises(InvalidInputError, match="ids"):
        store.add_texts(["a", "b"], ids=["only-one"])
    with pytest.raises(InvalidInputError, match="metadatas"):
        store.add_texts(["a"], metadatas=[{}, {}])
    with pytest.raises(InvalidInputError, match="more than once"):
        store.add_texts(["a", "b"], ids=["same", "same"])
    with pytest.raises(InvalidInputError, match="64 bytes"):
        store.add_texts(["a"], ids=["x" * 65])
    assert not any(r.url.path.endswith("/upsert") for r in wire.requests)


# -- stored text and metadata ------------------------------------------------------------------------

def test_text_is_stored_under_the_reserved_key_and_stripped_on_read(make_store: Factory, wire: Wire) -> None:
    store = make_store()
    store.add_texts(["the passage"], [{"source": "a.md"}], ids=["p1"])
    (sent,) = _upserted(wire)
    assert sent["metadata"] == {"source": "a.md", "__text": "the passage"}
    assert "namespace" not in sent  # nothing injected when no namespace is used
    expected = Document(id="p1", page_content="the passage", metadata={"source": "a.md"})
    assert store.similarity_search("the passage", k=1) == [expected]
    assert store.get_by_ids(["p1"]) == [expected]
    assert store.max_marginal_relevance_search("the passage", k=1) == [expected]


def test_reserved_key_in_user_metadata_is_rejected(make_store: Factory, wire: Wire) -> None:
    store = make_store()
    with pytest.raises(InvalidInputError, match="__text"):
        store.add_texts(["x"], [{"__text": "sneaky"}])
    assert wire.requests == []


def test_custom_text_key(make_store: Factory, wire: Wire) -> None:
    store = make_store(text_key="body")
    store.add_texts(["hello"], [{"__text": "allowed here"}], ids=["h"])
    assert _upserted(wire)[0]["metadata"] == {"__text": "allowed here", "body": "hello"}
    assert store.get_by_ids(["h"]) == [Document(id="h", page_content="hello", metadata={"__text": "allowed here"})]
    with pytest.raises(ValueError, match="must not contain"):
        make_store(text_key="a.b", create=False)


def test_metadata_round_trips_exactly(make_store: Factory) -> None:
    meta = {"int": 1, "float": 2.5, "neg": -3, "bool": False, "str": "naïve — ünïcode 文字", "tags": ["a", "b"],
            "nested": {"deep": {"n": 42}, "flag": True}, "empty": {}}
    store = make_store()
    store.add_documents([Document(id="m", page_content="text", metadata=meta)])
    (doc,) = store.get_by_ids(["m"])
    assert doc.metadata == meta
    assert type(doc.metadata["int"]) is int
    (found,) = store.similarity_search("text", k=1)
    assert found.metadata == meta


def test_unencodable_metadata_fails_before_sending(make_store: Factory, wire: Wire) -> None:
    store = make_store()
    with pytest.raises(InvalidInputError, match="metadata"):
        store.add_texts(["x"], [{"bad.key": 1}])
    with pytest.raises(InvalidInputError, match=r"10 KiB|bytes"):
        store.add_texts(["x"], [{"big": "y" * 11_000}])
    assert not any(r.url.path.endswith("/upsert") for r in wire.requests)


# -- k -------------------------------------------------------------------------------------------------

def test_k_is_honoured(make_store: Factory, wire: Wire) -> None:
    store = make_store()
    store.add_texts([f"text {i}" for i in range(10)])
    wire.clear()
    assert len(store.similarity_search("text 3", k=3)) == 3
    (query,) = wire.bodies("/query")
    assert query["topK"] == 3 and query["returnMetadata"] == "all" and query["returnValues"] is False
    assert len(store.similarity_search("text 3")) == 4  # LangChain's default k


def test_k_above_the_metadata_cap_fetches_by_id(make_store: Factory, wire: Wire) -> None:
    store = make_store()
    store.add_texts([f"text {i}" for i in range(70)], ids=[f"id{i}" for i in range(70)])
    wire.clear()
    results = store.similarity_search_with_score("text 5", k=60)
    assert len(results) == 60
    assert all(doc.page_content == f"text {doc.id[2:]}" for doc, _ in results)
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)  # cosine: best (highest) first
    (query,) = wire.bodies("/query")
    assert query["topK"] == 60 and query["returnMetadata"] == "none"
    assert len(wire.bodies("/get_by_ids")[0]["ids"]) == 60


@pytest.mark.parametrize("k", [0, -1, 101])
def test_bad_k_is_rejected(make_store: Factory, wire: Wire, k: int) -> None:
    store = make_store()
    with pytest.raises(InvalidInputError, match="k must be"):
        store.similarity_search("x", k=k)
    assert wire.requests == []


# -- get_by_ids / delete -------------------------------------------------------------------------------

def test_get_by_ids_semantics(make_store: Factory, wire: Wire) -> None:
    store = make_store()
    store.add_texts(["a", "b"], ids=["1", "2"])
    wire.clear()
    assert store.get_by_ids([]) == []
    assert wire.requests == []
    assert store.get_by_ids(["missing"]) == []
    assert [d.id for d in store.get_by_ids(["2", "missing", "1", "2"])] == ["2", "1"]


def test_delete_semantics(make_store: Factory) -> None:
    store = make_store()
    store.add_texts(["a", "b", "c"], ids=["1", "2", "3"])
    assert store.delete(["1", "does-not-exist"]) is True
    assert [d.id for d in store.get_by_ids(["1", "2", "3"])] == ["2", "3"]
    assert store.delete([]) is True
    assert store.delete() is True  # None: everything
    assert store.similarity_search("a", k=5) == []


def test_writes_wait_for_their_mutation(wire: Wire, emulator: Emulator, make_store: Factory) -> None:
    emulator.config.mutation_delay_s = 0.3
    store = make_store()
    store.add_texts(["visible at once"], ids=["v"])
    assert [d.id for d in store.similarity_search("visible at once", k=1)] == ["v"]
    store.delete(["v"])
    assert store.similarity_search("visible at once", k=1) == []
    assert any(r.url.path.endswith("/info") for r in wire.requests)  # the mutation was polled


def test_wait_false_returns_before_the_write_is_visible(emulator: Emulator, make_store: Factory) -> None:
    emulator.config.mutation_delay_s = 30.0
    store = make_store(wait=False)
    store.add_texts(["not yet"], ids=["n"])
    assert store.similarity_search("not yet", k=1) == []


def test_large_adds_are_chunked_and_wait_once(make_store: Factory, wire: Wire,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # The embed + upsert path (any LangChain embedding; the core's ingest covers large Workers AI adds).
    monkeypatch.setattr(_vectorize_ops, "WRITE_CHUNK", 4)
    store = make_store()
    ids = store.add_texts([f"t{i}" for i in range(10)])
    upserts = [r for r in wire.requests if r.url.path.endswith("/upsert")]
    assert [len(r.body.decode().splitlines()) for r in upserts] == [4, 4, 2]
    assert [v["id"] for v in _upserted(wire)] == ids
    assert len(store.get_by_ids(ids)) == 10


def _stored(wire: Wire, index: str, ids: list[str]) -> dict[str, tuple[list[float], dict[str, Any] | None]]:
    return {v.id: ([round(x, 5) for x in v.values], v.metadata) for v in wire.client.vectorize.get_by_ids(index, ids)}


def test_large_workers_ai_adds_use_the_core_ingest(wire: Wire, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectorstores, "INGEST_MIN_TEXTS", 3)
    calls: list[str] = []
    original = type(wire.client.vectorize).ingest

    def spy(self: Any, index: str, texts: Any, **kwargs: Any) -> Any:
        calls.append(index)
        return original(self, index, texts, **kwargs)

    monkeypatch.setattr(type(wire.client.vectorize), "ingest", spy)
    emb = CloudflareWorkersAIEmbeddings(model="@cf/baai/bge-small-en-v1.5", client=wire.client)
    texts = [f"passage about topic {i}" for i in range(4)]
    metas = [{"n": i} for i in range(4)]
    ids = [f"p{i}" for i in range(4)]
    bulk = CloudflareVectorize.from_texts(texts, emb, metas, ids=ids, index_name="bulk", client=wire.client)
    CloudflareVectorize.from_texts(texts, emb, metas, ids=ids, index_name="plain", client=wire.client,
                                   use_ingest=False)
    assert calls == ["bulk"]
    # Same vectors and metadata (text under the reserved key) whichever path wrote them.
    assert _stored(wire, "bulk", ids) == _stored(wire, "plain", ids)
    assert bulk.get_by_ids(["p2"]) == [Document(id="p2", page_content=texts[2], metadata={"n": 2})]
    assert [d.id for d in bulk.similarity_search(texts[3], k=1)] == ["p3"]
    # Settings ingest cannot reproduce keep the embed + upsert path.
    prefixed = CloudflareWorkersAIEmbeddings(model="@cf/baai/bge-small-en-v1.5", client=wire.client,
                                             document_prefix="passage: ")
    CloudflareVectorize.from_texts(texts, prefixed, index_name="prefixed", client=wire.client)
    assert calls == ["bulk"]


def test_a_pooled_embedding_keeps_its_pooling_through_the_core_ingest(wire: Wire,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """cls pooling reaches every embedding request of the bulk path, so stored vectors are the ones
    the same embedding gives queries (mean and cls vectors are not comparable)."""
    monkeypatch.setattr(vectorstores, "INGEST_MIN_TEXTS", 3)
    emb = CloudflareWorkersAIEmbeddings(model="@cf/baai/bge-small-en-v1.5", client=wire.client, pooling="cls")
    texts = [f"passage about topic {i}" for i in range(4)]
    ids = [f"p{i}" for i in range(4)]
    CloudflareVectorize.from_texts(texts, emb, ids=ids, index_name="pooled", client=wire.client)
    embeds = [json.loads(r.body) for r in wire.requests if "/ai/run/" in r.url.path]
    assert embeds and all(body.get("pooling") == "cls" for body in embeds)
    stored = {v.id: v.values for v in wire.client.vectorize.get_by_ids("pooled", ids)}
    expected = emb.embed_documents(texts)
    for vid, want in zip(ids, expected, strict=True):
        assert [round(x, 5) for x in stored[vid]] == [round(x, 5) for x in want]


class _FailNthUpsert(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, fail_on: int) -> None:
        self.inner, self.fail_on, self.seen = inner, fail_on, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/upsert"):
            self.seen += 1
            if self.seen == self.fail_on:
                return httpx.Response(400, json={"success": False, "errors": [{"code": 40012, "message": "boom"}],
                                                 "messages": [], "result": None})
        return self.inner.handle_request(request)


def test_failure_part_way_reports_what_was_written(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_vectorize_ops, "WRITE_CHUNK", 2)
    client = CloudflareClient(transport=_FailNthUpsert(EmulatorTransport(emulator), fail_on=2),
                              account_id=LOCAL_ACCOUNT_ID, api_token=LOCAL_API_TOKEN, base_url=LOCAL_BASE_URL)
    store = CloudflareVectorize(embedding=DeterministicFakeEmbedding(size=4), index_name="partial", client=client)
    store.create_index()
    with pytest.raises(PartialWriteError) as caught:
        store.add_texts(["a", "b", "c", "d", "e"], ids=["1", "2", "3", "4", "5"])
    assert caught.value.written_ids == ["1", "2"]
    assert caught.value.failed_ids == ["3", "4", "5"]


# -- from_texts and index helpers ------------------------------------------------------------------------

def test_from_texts_sizes_the_index_from_the_embedding(wire: Wire) -> None:
    store = CloudflareVectorize.from_texts(["a", "b"], DeterministicFakeEmbedding(size=6), index_name="six",
                                           client=wire.client, async_client=wire.aclient)
    info = wire.client.vectorize.get_index("six")
    assert (info.dimensions, info.metric) == (6, "cosine")
    assert [len(store.get_by_ids([i])) for i in wire.client.vectorize.all_vector_ids("six")] == [1, 1]


def test_from_texts_uses_catalog_dimensions_without_a_probe(wire: Wire) -> None:
    emb = CloudflareWorkersAIEmbeddings(model="@cf/baai/bge-small-en-v1.5", client=wire.client)
    CloudflareVectorize.from_texts(["solar power"], emb, index_name="small", metric="dot-product",
                                   client=wire.client)
    info = wire.client.vectorize.get_index("small")
    assert (info.dimensions, info.metric) == (384, "dot-product")
    embed_bodies = wire.bodies("/ai/run/")
    assert embed_bodies == [{"text": ["solar power"]}]  # no "dimension probe" call


def test_from_documents_keeps_ids_and_reuses_a_same_size_index(wire: Wire) -> None:
    emb = DeterministicFakeEmbedding(size=5)
    docs = [Document(id="d1", page_content="one", metadata={"n": 1})]
    CloudflareVectorize.from_documents(docs, emb, index_name="reuse", client=wire.client)
    store = CloudflareVectorize.from_documents([Document(id="d2", page_content="two")], emb, index_name="reuse",
                                               client=wire.client)
    assert {d.id for d in store.get_by_ids(["d1", "d2"])} == {"d1", "d2"}
    with pytest.raises(InvalidInputError, match="5 dimensions"):
        CloudflareVectorize.from_texts(["x"], DeterministicFakeEmbedding(size=7), index_name="reuse",
                                       client=wire.client)


def test_from_texts_creates_metadata_indexes_before_writing(wire: Wire) -> None:
    store = CloudflareVectorize.from_texts(
        ["red apple", "green pear"], DeterministicFakeEmbedding(size=4), metadatas=[{"c": "red"}, {"c": "green"}],
        index_name="mdi", metadata_indexes={"c": "string"}, client=wire.client)
    assert [m.property_name for m in wire.client.vectorize.list_metadata_indexes("mdi")] == ["c"]
    assert [d.page_content for d in store.similarity_search("x", k=2, filter={"c": "green"})] == ["green pear"]


def test_index_helpers(make_store: Factory, wire: Wire) -> None:
    store = make_store(create=False)
    info = store.create_index(dimensions=8, metric="euclidean", description="docs")
    assert (info.dimensions, info.metric) == (8, "euclidean")
    mutation = store.create_metadata_index("genre", "string")
    assert isinstance(mutation, str) and mutation
    assert [(m.property_name, m.index_type) for m in wire.client.vectorize.list_metadata_indexes(store.index_name)] \
        == [("genre", "string")]
    store.delete_index()
    assert store.index_name not in [i.name for i in wire.client.vectorize.list_indexes()]


def test_bad_construction_is_rejected() -> None:
    emb = DeterministicFakeEmbedding(size=4)
    with pytest.raises(ValueError, match="64 bytes"):
        CloudflareVectorize(embedding=emb, index_name="x" * 65)
    with pytest.raises(ValueError, match="namespace"):
        CloudflareVectorize(embedding=emb, index_name="ok", namespace="n" * 65)
    with pytest.raises(ValueError, match="unexpected_field"):
        CloudflareVectorize(embedding=emb, index_name="ok", unexpected_field=1)


def test_unknown_search_keywords_are_rejected(make_store: Factory) -> None:
    store = make_store()
    with pytest.raises(TypeError, match="nmespace"):
        store.similarity_search("x", nmespace="typo")


# -- secrets -------------------------------------------------------------------------------------------

def test_secret_absent_from_repr_str_and_dump() -> None:
    secret = "vz-secret-token-42"
    store = CloudflareVectorize(embedding=DeterministicFakeEmbedding(size=4), index_name="s", account_id="acc",
                                api_token=secret)
    assert store.api_token is not None and store.api_token.get_secret_value() == secret
    for shown in (repr(store), str(store), str(store.model_dump()), store.model_dump_json()):
        assert secret not in shown


def test_credentials_checked_at_first_request_not_construction() -> None:
    emulator = Emulator(tokens={"good"})
    store = CloudflareVectorize(embedding=DeterministicFakeEmbedding(size=4), index_name="late",
                                client=local_client(emulator, api_token="bad"))
    with pytest.raises(Exception, match="Authentication"):
        store.create_index()


def test_delete_many_is_chunked_and_waits_once(make_store: Factory, wire: Wire, emulator: Emulator,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_vectorize_ops, "ID_CHUNK", 2)
    emulator.config.mutation_delay_s = 0.2
    store = make_store(namespace="ns")
    store.add_texts(["a", "b", "c", "d", "e"], ids=["1", "2", "3", "4", "5"])
    store.add_texts(["other"], ids=["x"], namespace="elsewhere")
    wire.clear()
    store.delete()
    deletes = [json.loads(r.body)["ids"] for r in wire.requests if r.url.path.endswith("/delete_by_ids")]
    assert deletes == [["1", "2"], ["3", "4"], ["5"]]
    assert [d.id for d in store.get_by_ids(["1", "2", "3", "4", "5", "x"])] == ["x"]  # waited, and kept "x"


@pytest.mark.parametrize("count", [40, 1200])  # below and above the bulk-ingest threshold
def test_add_texts_reports_progress(client, aclient, count: int) -> None:  # type: ignore[no-untyped-def]
    from cf_langchain import CloudflareVectorize, CloudflareWorkersAIEmbeddings

    emb = CloudflareWorkersAIEmbeddings(model="@cf/baai/bge-small-en-v1.5", client=client, async_client=aclient)
    store = CloudflareVectorize.from_texts(["seed"], emb, index_name=f"progress-{count}", client=client,
                                           async_client=aclient)
    seen: list[tuple[int, int | None]] = []
    ids = store.add_texts([f"text number {i}" for i in range(count)], on_progress=lambda d, t: seen.append((d, t)))
    assert len(ids) == count
    assert seen and seen[-1] == (count, count)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_show_progress_draws_a_bar_on_stderr(make_store: Factory, capsys: pytest.CaptureFixture[str]) -> None:
    store = make_store()
    ids = store.add_texts([f"t{i}" for i in range(5)], show_progress=True)
    err = capsys.readouterr().err
    assert f"Vectorize {store.index_name}" in err and "5/5" in err
    assert len(store.get_by_ids(ids)) == 5
    store.add_texts(["quiet"])
    assert capsys.readouterr().err == ""
