"""Bulk ingest: N synthetic chunks embedded with bge-base (768 dims) and written into Vectorize.

Every contender gets the same chunks (ids, texts, metadata), its own account on the emulator (so
rate-limit windows and indexes never mix), and an index created beforehand by the harness. The
anchors are configured at their largest documented embedding batch (100), which favours them:
their defaults (langchain-cloudflare 50, llama-index 10) send two and ten times more requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import _data as D
from ._harness import LoopbackEmulator, delta, run_task
from ._measure import measure

LANGCHAIN_CLOUDFLARE_MAX_INSERT = 5000  # its add_texts refuses more per call


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    job: str
    """What the contender does: ``embed+write`` or ``embed only``."""
    writes: bool


CONTENDERS = [
    Contender("cf_core", "cf_core `vectorize.ingest` (reference)", "embed+write", True),
    Contender("cf_langchain", "cf_langchain `CloudflareVectorize.add_documents`", "embed+write", True),
    Contender("cf_llamaindex", "cf_llamaindex `VectorStoreIndex` (sync)", "embed+write", True),
    Contender("cf_llamaindex_async", "cf_llamaindex `VectorStoreIndex(use_async=True)`", "embed+write", True),
    Contender("cf_llamaindex_ingest", "cf_llamaindex `CloudflareVectorizeVectorStore.ingest_nodes`", "embed+write",
              True),
    Contender("langchain_cloudflare", "langchain-cloudflare 0.4 `CloudflareVectorize.add_documents`",
              "embed+write", True),
    Contender("cf_llamaindex_embed", "cf_llamaindex `CloudflareWorkersAIEmbedding` (embed only)",
              "embed only", False),
    Contender("llamaindex_cloudflare_embed", "llama-index-embeddings-cloudflare-workersai 0.6 (embed only)",
              "embed only", False),
    Contender("llamaindex_floor", "LlamaIndex floor: `VectorStoreIndex` over a mock embedding and a no-op store",
              "framework only", False),
]
BY_KEY = {c.key: c for c in CONTENDERS}
RATE_LIMITED = ("cf_core", "cf_langchain", "cf_llamaindex", "cf_llamaindex_async", "cf_llamaindex_ingest")
"""Contenders also run against the rate-limited emulator. The anchors send their requests one after
another (a few hundred per minute, far below the 3,000/min limit), so the limit cannot change their
numbers; they run once, without it, to keep the whole benchmark within a few minutes."""


# -- contenders (run inside the worker process) -----------------------------------------------------

@dataclass
class Inputs:
    """One contender's input, built before the clock starts: the chunks, and the framework objects a
    user of that framework already holds (LangChain ``Document``s, LlamaIndex ``TextNode``s)."""

    ids: list[str]
    texts: list[str]
    metas: list[dict[str, Any]]
    objects: list[Any] = field(default_factory=list)


def _documents(inp: Inputs) -> list[Any]:
    from langchain_core.documents import Document

    return [Document(id=i, page_content=t, metadata=m) for i, t, m in zip(inp.ids, inp.texts, inp.metas, strict=True)]


def _llama_nodes(inp: Inputs) -> list[Any]:
    from llama_index.core.schema import TextNode

    return [TextNode(id_=i, text=t, metadata=m) for i, t, m in zip(inp.ids, inp.texts, inp.metas, strict=True)]


_OBJECTS: dict[str, Callable[[Inputs], list[Any]]] = {
    "cf_langchain": _documents, "langchain_cloudflare": _documents, "cf_llamaindex": _llama_nodes,
    "cf_llamaindex_async": _llama_nodes, "cf_llamaindex_ingest": _llama_nodes, "llamaindex_floor": _llama_nodes,
}

def _cf_core(p: dict[str, Any], inp: Inputs) -> int:
    from cf_core import CloudflareClient

    with CloudflareClient(account_id=p["account"], api_token=D.TOKEN, base_url=p["base_url"]) as client:
        result = client.vectorize.ingest(p["index"], inp.texts, embedding_model=D.EMBED_MODEL, ids=inp.ids,
                                         metadatas=inp.metas, text_key="text")
    return len(result.ids)


def _cf_langchain(p: dict[str, Any], inp: Inputs) -> int:
    from cf_langchain import CloudflareVectorize, CloudflareWorkersAIEmbeddings

    docs = inp.objects
    conn = {"account_id": p["account"], "api_token": D.TOKEN, "base_url": p["base_url"]}
    store = CloudflareVectorize(embedding=CloudflareWorkersAIEmbeddings(model=D.EMBED_MODEL, **conn),
                                index_name=p["index"], **conn)
    return len(store.add_documents(docs))


def _cf_llamaindex(p: dict[str, Any], inp: Inputs, use_async: bool = False) -> int:
    from llama_index.core import StorageContext, VectorStoreIndex

    from cf_llamaindex import CloudflareVectorizeVectorStore, CloudflareWorkersAIEmbedding

    nodes = inp.objects
    conn = {"account_id": p["account"], "api_token": D.TOKEN, "base_url": p["base_url"]}
    store = CloudflareVectorizeVectorStore(index_name=p["index"], **conn)
    embed = CloudflareWorkersAIEmbedding(model_name=D.EMBED_MODEL, **conn)
    VectorStoreIndex(nodes, storage_context=StorageContext.from_defaults(vector_store=store),
                     embed_model=embed, use_async=use_async)
    return len(nodes)


def _cf_llamaindex_ingest(p: dict[str, Any], inp: Inputs) -> int:
    from cf_llamaindex import CloudflareVectorizeVectorStore, CloudflareWorkersAIEmbedding

    nodes = inp.objects
    conn = {"account_id": p["account"], "api_token": D.TOKEN, "base_url": p["base_url"]}
    store = CloudflareVectorizeVectorStore(index_name=p["index"], **conn)
    return len(store.ingest_nodes(nodes, CloudflareWorkersAIEmbedding(model_name=D.EMBED_MODEL, **conn)))


def _cf_llamaindex_embed(p: dict[str, Any], inp: Inputs) -> int:
    from cf_llamaindex import CloudflareWorkersAIEmbedding

    embed = CloudflareWorkersAIEmbedding(model_name=D.EMBED_MODEL, account_id=p["account"], api_token=D.TOKEN,
                                         base_url=p["base_url"])
    vectors = embed.get_text_embedding_batch(inp.texts)
    return sum(1 for v in vectors if len(v) == D.DIMENSIONS)


def _langchain_cloudflare(p: dict[str, Any], inp: Inputs) -> int:
    from langchain_cloudflare import CloudflareVectorize, CloudflareWorkersAIEmbeddings

    docs = inp.objects
    embedding = CloudflareWorkersAIEmbeddings(account_id=p["account"], api_token=D.TOKEN, model_name=D.EMBED_MODEL,
                                              api_base_url=p["base_url"] + "/accounts", batch_size=100)
    store = CloudflareVectorize(embedding=embedding, account_id=p["account"], api_token=D.TOKEN,
                                base_url=p["base_url"], index_name=p["index"])
    written = 0
    for start in range(0, len(docs), LANGCHAIN_CLOUDFLARE_MAX_INSERT):
        written += len(store.add_documents(docs[start:start + LANGCHAIN_CLOUDFLARE_MAX_INSERT]))
    return written


def _llamaindex_cloudflare_embed(p: dict[str, Any], inp: Inputs) -> int:
    import llama_index.embeddings.cloudflare_workersai.base as anchor  # type: ignore[import-untyped]

    # The package has no base-URL setting: its URL is this module constant.
    original, anchor.API_URL_TEMPLATE = anchor.API_URL_TEMPLATE, p["base_url"] + "/accounts/{}/ai/run/{}"
    try:
        embed = anchor.CloudflareEmbedding(account_id=p["account"], auth_token=D.TOKEN, model=D.EMBED_MODEL,
                                           embed_batch_size=100)
        vectors = embed.get_text_embedding_batch(inp.texts)
    finally:
        anchor.API_URL_TEMPLATE = original
    return sum(1 for v in vectors if len(v) == D.DIMENSIONS)


def _llamaindex_floor(p: dict[str, Any], inp: Inputs) -> int:
    """What LlamaIndex's own loop costs (node handling, embedding bookkeeping, index structs) with
    embeddings that cost nothing and a store that keeps nothing: no integration can be faster."""
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.vector_stores.types import BasePydanticVectorStore

    added: list[int] = []

    class NullStore(BasePydanticVectorStore):
        stores_text: bool = True

        @property
        def client(self) -> Any:
            return None

        def add(self, nodes: Any, **kwargs: Any) -> list[str]:
            added.append(sum(1 for node in nodes if len(node.embedding or ()) == D.DIMENSIONS))
            return [node.node_id for node in nodes]

        def delete(self, ref_doc_id: str, **kwargs: Any) -> None:
            return None

        def query(self, query: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    VectorStoreIndex(inp.objects, storage_context=StorageContext.from_defaults(vector_store=NullStore()),
                     embed_model=MockEmbedding(embed_dim=D.DIMENSIONS))
    return sum(added)


_JOBS: dict[str, Callable[[dict[str, Any], Inputs], int]] = {
    "cf_core": _cf_core,
    "cf_langchain": _cf_langchain,
    "cf_llamaindex": _cf_llamaindex,
    "cf_llamaindex_async": lambda p, inp: _cf_llamaindex(p, inp, use_async=True),
    "cf_llamaindex_ingest": _cf_llamaindex_ingest,
    "cf_llamaindex_embed": _cf_llamaindex_embed,
    "langchain_cloudflare": _langchain_cloudflare,
    "llamaindex_cloudflare_embed": _llamaindex_cloudflare_embed,
    "llamaindex_floor": _llamaindex_floor,
}


def _warm_imports(key: str) -> None:
    """Import the contender's libraries before the clock starts (import time is not ingest time)."""
    if key.startswith("cf_llamaindex") or key.startswith("llamaindex"):
        import llama_index.core
    if key.startswith("cf_llamaindex"):
        import cf_llamaindex  # noqa: F401
    if key == "llamaindex_cloudflare_embed":
        import llama_index.embeddings.cloudflare_workersai  # noqa: F401
    if key == "cf_langchain":
        import cf_langchain  # noqa: F401
    if key == "langchain_cloudflare":
        import langchain_cloudflare  # noqa: F401
    import cf_core  # noqa: F401


def worker(p: dict[str, Any]) -> dict[str, Any]:
    key = p["contender"]
    _warm_imports(key)
    inp = Inputs(*D.chunks(p["chunks"], p["seed"]))
    if key in _OBJECTS:
        inp.objects = _OBJECTS[key](inp)
    cpu = time.process_time()
    with measure() as window:
        count = _JOBS[key](p, inp)
    return {"seconds": window.seconds, "client_cpu_s": time.process_time() - cpu,
            "peak_delta_bytes": window.peak_delta_bytes, "count": count, "notes": window.notes}


# -- orchestration (run in the harness process) -----------------------------------------------------

def bound_seconds(chunks: int, per_minute: int, writes: bool, max_batch: int = 100, write_batch: int = 5000) -> float:
    """The issue's bound: (embedding requests at the API's max batch + writes) at the allowed rate."""
    requests = -(-chunks // max_batch) + (-(-chunks // write_batch) if writes else 0)
    return requests / (per_minute / 60.0)


def _run_once(server: LoopbackEmulator, mode: str, contender: Contender, *, chunks: int, seed: int,
              in_process: bool) -> dict[str, Any]:
    from cf_core import CloudflareClient

    account = f"bench-{mode}-{contender.key}".replace("_", "-")
    index = "bench-ingest"
    if contender.writes:
        with CloudflareClient(account_id=account, api_token=D.TOKEN, base_url=server.base_url) as admin:
            admin.vectorize.create_index(index, dimensions=D.DIMENSIONS, metric="cosine")
    before, cpu_before, errors_before = server.requests(), server.cpu_seconds(), server.error_counts()
    params = {"contender": contender.key, "base_url": server.base_url, "account": account, "index": index,
              "chunks": chunks, "seed": seed}
    result = run_task("ingest", params, in_process=in_process)
    sent = delta(server.requests(), before)
    row: dict[str, Any] = {"mode": mode, "contender": contender.key, "label": contender.label,
                           "job": contender.job, "chunks": chunks, "requests": sent,
                           "emulator_cpu_s": server.cpu_seconds() - cpu_before,
                           "error_answers": dict(server.error_counts() - errors_before), **result}
    if contender.writes and "error" not in result:
        stored = server.stored_ids(account, index)
        expected = set(D.chunks(chunks, seed)[0])
        row["arrived"] = len(expected & set(stored))
        row["complete"] = row["arrived"] == chunks and len(stored) == chunks
    elif "error" not in result:
        row["arrived"] = result.get("count", 0)
        row["complete"] = row["arrived"] == chunks
    if "seconds" in result and result["seconds"] > 0:
        row["chunks_per_s"] = chunks / result["seconds"]
    if contender.writes:
        server.drop_index(account, index)
    return row


def run(servers: dict[str, LoopbackEmulator], *, chunks: int, seed: int, in_process: bool,
        contenders: list[str] | None = None, repeats: int = 1) -> list[dict[str, Any]]:
    """Every contender ``repeats`` times in turn (round robin, so a slow minute of the machine is
    shared out); each row is the run of median time, with every run's seconds in ``runs_s``."""
    rows = []
    for mode, server in servers.items():
        chosen = [c for c in CONTENDERS if (contenders is None or c.key in contenders)
                  and (mode != "rate_limits_on" or c.key in RATE_LIMITED)]
        runs: dict[str, list[dict[str, Any]]] = {c.key: [] for c in chosen}
        for _ in range(repeats):
            for contender in chosen:
                runs[contender.key].append(_run_once(server, mode, contender, chunks=chunks, seed=seed,
                                                     in_process=in_process))
        for contender in chosen:
            done = runs[contender.key]
            failed = [r for r in done if "error" in r or not r.get("complete")]
            if failed:
                rows.append(failed[0])  # a failure is reported, never averaged away
                continue
            done.sort(key=lambda r: r["seconds"])
            row = dict(done[len(done) // 2])
            row["runs_s"] = [r["seconds"] for r in runs[contender.key]]
            rows.append(row)
    return rows
