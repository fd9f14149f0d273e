"""The bulk ingest pipeline: batching, validation before sending, partial failures, re-runs, async."""

from __future__ import annotations

import pytest

from cf_core import InvalidInputError, PartialWriteError
from cf_core.local import Emulator, FaultConfig, local_async_client, local_client
from cf_core.local.recording import SentRequest

MODEL = "@cf/baai/bge-small-en-v1.5"


def texts(n: int) -> list[str]:
    return [f"passage {i} on subject {i % 13} with term{i * 7 % 31}" for i in range(n)]


@pytest.fixture
def emu() -> Emulator:
    return Emulator()


def test_ingest_batches_writes_and_stores_text(emu: Emulator) -> None:
    progress: list[tuple[int, int | None]] = []
    with local_client(emu) as client:
        client.vectorize.create_index("kb", dimensions=384, metric="cosine")
        before = client.stats["requests"]
        result = client.vectorize.ingest(
            "kb", texts(450), embedding_model=MODEL, ids=[f"d{i}" for i in range(450)],
            metadatas=[{"n": i} for i in range(450)], text_key="__text", write_batch=200,
            on_progress=lambda done, total: progress.append((done, total)))
        sent = client.stats["requests"] - before
        assert result.ids == [f"d{i}" for i in range(450)]
        assert len(result.mutation_ids) == 3  # 450 items in write batches of 200
        # 5 embedding requests (100 + 100 | 100 + 100 | 50) + 3 upserts + one info poll: mutations apply in
        # order, so only the last is waited for, and the emulator applies it at once (no mutation delay)
        assert sent == 5 + 3 + 1
        assert client.vectorize.index_info("kb").vector_count == 450
        got = client.vectorize.get_by_ids("kb", ["d0", "d449"])
    assert {v.id: v.metadata for v in got} == {"d0": {"n": 0, "__text": texts(450)[0]},
                                                "d449": {"n": 449, "__text": texts(450)[449]}}
    assert progress[-1] == (450, 450) and [p[0] for p in progress] == sorted(p[0] for p in progress)


def test_retrieval_after_ingest_finds_the_passage(emu: Emulator) -> None:
    """Stand-in embeddings are lexical: this checks ids/vectors line up (order kept), not model quality."""
    docs = texts(300)
    with local_client(emu) as client:
        client.vectorize.create_index("kb", dimensions=384, metric="cosine")
        client.vectorize.ingest("kb", docs, embedding_model=MODEL, ids=[f"d{i}" for i in range(300)])
        query = client.workers_ai.embed(MODEL, docs[123]).vectors[0]
        top = client.vectorize.query("kb", query, top_k=1).matches[0]
    assert top.id == "d123"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"texts": ["ok", ""]}, "texts"),
    ({"ids": ["a", "a"]}, "ids"),
    ({"ids": ["x" * 65, "b"]}, "id"),
    ({"metadatas": [{"__text": "clash"}, None], "text_key": "__text"}, "metadata"),
    ({"metadatas": [{"bad.key": 1}, None]}, "metadata"),
    ({"embedding_model": "@cf/meta/llama-3.1-8b-instruct"}, "embedding_model"),
    ({"embed_batch_size": 101}, "embed_batch_size"),
])
def test_bad_input_is_rejected_before_anything_is_sent(emu: Emulator, kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"texts": ["one", "two"], "embedding_model": MODEL, "ids": ["a", "b"]}
    args.update(kwargs)
    with local_client(emu) as client:
        client.vectorize.create_index("kb", dimensions=384)
        before = client.stats["requests"]
        with pytest.raises(InvalidInputError) as info:
            client.vectorize.ingest("kb", **args)  # type: ignore[arg-type]
        assert client.stats["requests"] == before
        assert info.value.field is not None and field in info.value.field
        assert client.vectorize.index_info("kb").vector_count == 0


def test_partial_failure_lists_ids_and_rerun_completes(emu: Emulator) -> None:
    ids = [f"d{i}" for i in range(600)]
    with local_client(emu, max_retries=0) as client:
        client.vectorize.create_index("kb", dimensions=384)
        # Every upsert after the first two fails; embeddings keep working.
        client.vectorize.ingest("kb", texts(10), embedding_model=MODEL, ids=[f"warm{i}" for i in range(10)])
        emu.faults.configure(FaultConfig(error_rates={500: 1.0}, paths="/upsert"))
        calls = {"n": 0}
        original = emu.faults.plan

        def plan(path: str):  # type: ignore[no-untyped-def]
            if "/upsert" in path:
                calls["n"] += 1
                if calls["n"] <= 2:
                    return original("/no-fault")
            return original(path)

        emu.faults.plan = plan  # type: ignore[method-assign]
        with pytest.raises(PartialWriteError) as info:
            client.vectorize.ingest("kb", texts(600), embedding_model=MODEL, ids=ids, write_batch=100,
                                    wait=False)
        err = info.value
        assert len(err.written_ids) == 200 and len(err.failed_ids) == 400
        assert sorted(err.written_ids + err.failed_ids) == sorted(ids)
        stored = {v.id for v in client.vectorize.get_by_ids("kb", ids)}
        assert stored == set(err.written_ids)
        emu.faults.plan = original  # type: ignore[method-assign]
        emu.faults.configure(FaultConfig())
        client.vectorize.ingest("kb", texts(600), embedding_model=MODEL, ids=ids, write_batch=100)
        assert client.vectorize.index_info("kb").vector_count == 610


async def test_async_ingest_with_iterable_input(emu: Emulator) -> None:
    async with local_async_client(emu) as client:
        await client.vectorize.create_index("kb", dimensions=384)
        gen = (t for t in texts(250))  # not a list: read lazily, total unknown
        seen: list[tuple[int, int | None]] = []
        result = await client.vectorize.ingest("kb", gen, embedding_model=MODEL, write_batch=100,
                                               on_progress=lambda d, t: seen.append((d, t)))
        assert len(result.ids) == 250 and len(set(result.ids)) == 250
        assert (await client.vectorize.index_info("kb")).vector_count == 250
    assert seen[-1] == (250, None)


def test_invalid_item_mid_stream_reports_what_was_written(emu: Emulator) -> None:
    def gen():  # type: ignore[no-untyped-def]
        yield from texts(250)
        yield ""

    with local_client(emu) as client:
        client.vectorize.create_index("kb", dimensions=384)
        with pytest.raises(PartialWriteError) as info:
            client.vectorize.ingest("kb", gen(), embedding_model=MODEL, write_batch=100)
    assert len(info.value.written_ids) == 200


def test_a_long_input_ends_in_halving_chunks_so_the_last_write_is_small(emu: Emulator) -> None:
    """2,000 texts, writes of up to 1,000, waves of 2 x 100: chunks 1000, 500, 300, 200 (the last
    write, which no embedding overlaps, is one wave); every item still arrives once."""
    ids = [f"d{i}" for i in range(2000)]
    progress: list[int] = []
    with local_client(emu) as client:
        client.vectorize.create_index("kb", dimensions=384)
        result = client.vectorize.ingest("kb", texts(2000), embedding_model=MODEL, ids=ids, write_batch=1000,
                                         concurrency=2, on_progress=lambda done, total: progress.append(done))
        assert result.ids == ids
        assert client.vectorize.index_info("kb").vector_count == 2000
    assert len(result.mutation_ids) == 4
    assert progress == [1000, 1500, 1800, 2000]


def test_an_input_of_unknown_length_keeps_full_chunks(emu: Emulator) -> None:
    with local_client(emu) as client:
        client.vectorize.create_index("kb", dimensions=384)
        progress: list[int] = []
        client.vectorize.ingest("kb", iter(texts(2000)), embedding_model=MODEL, write_batch=1000, concurrency=2,
                                on_progress=lambda done, total: progress.append(done))
    assert progress == [1000, 2000]


def test_pooling_goes_with_every_embedding_request_and_is_checked_first(emu: Emulator) -> None:
    sent: list[SentRequest] = []
    with local_client(emu, record=sent) as client:
        client.vectorize.create_index("kb", dimensions=384)
        docs = texts(150)
        client.vectorize.ingest("kb", docs, embedding_model=MODEL, ids=[f"d{i}" for i in range(150)], pooling="cls")
        bodies = [r.json() for r in sent if "/ai/run/" in r.url.path]
        assert len(bodies) == 2 and all(b["pooling"] == "cls" for b in bodies)
        stored = client.vectorize.get_by_ids("kb", ["d7"])[0].values
        cls = client.workers_ai.embed(MODEL, docs[7], pooling="cls").vectors[0]
        mean = client.workers_ai.embed(MODEL, docs[7]).vectors[0]
        assert stored == pytest.approx(cls, abs=1e-6) and stored != pytest.approx(mean, abs=1e-3)
        before = client.stats["requests"]
        with pytest.raises(InvalidInputError) as info:
            client.vectorize.ingest("kb", docs, embedding_model=MODEL, pooling="max")
        assert info.value.field == "pooling" and client.stats["requests"] == before


def test_metadata_that_is_not_a_mapping_is_refused_before_sending(emu: Emulator) -> None:
    with local_client(emu) as client:
        client.vectorize.create_index("kb", dimensions=384)
        before = client.stats["requests"]
        for text_key in (None, "__text"):
            with pytest.raises(InvalidInputError) as info:
                client.vectorize.ingest("kb", ["one", "two"], embedding_model=MODEL, ids=["a", "b"],
                                        metadatas=[{"ok": 1}, ["not", "a", "mapping"]], text_key=text_key)
            assert info.value.field == "metadata" and "mapping" in str(info.value)
        assert client.stats["requests"] == before


def test_metadata_is_written_as_it_was_when_ingest_was_called(emu: Emulator) -> None:
    """Validated and encoded up front: a caller mutating its dicts afterwards (an iterator's consumer
    running ahead, say) cannot make the write differ from what was checked."""
    metas: list[dict[str, object]] = [{"n": i} for i in range(5)]

    def changing() -> object:
        for meta in metas:
            yield meta
            meta["n"] = "changed"  # after the item was read

    with local_client(emu) as client:
        client.vectorize.create_index("kb", dimensions=384)
        client.vectorize.ingest("kb", texts(5), embedding_model=MODEL, ids=[f"d{i}" for i in range(5)],
                                metadatas=changing())  # type: ignore[arg-type]
        got = {v.id: v.metadata for v in client.vectorize.get_by_ids("kb", [f"d{i}" for i in range(5)])}
    assert got == {f"d{i}": {"n": i} for i in range(5)}
