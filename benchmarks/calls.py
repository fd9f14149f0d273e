"""Per-call overhead (in-process emulator, no latency) and streaming (loopback server) per library.

Per call: a chat invoke, a fully consumed streamed chat and an ``embed_query``, each the same
request for every library (the bodies the emulator received are recorded to show it), timed one by
one after a warm-up; the median is reported. ``emulator`` is the emulator answering the bare
request with no client at all, so ``library - emulator`` is the client's own cost.

Streaming: time to the first non-empty text chunk and to the end of the stream, over a kept-alive
loopback connection to the harness's emulator (with its per-request latency), for a long answer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx

from . import _data as D
from ._measure import median, per_call_us

Op = Callable[[], Any]


@dataclass(frozen=True)
class Library:
    key: str
    label: str
    framework: str
    """``core``, ``langchain`` or ``llamaindex``: which floor it is compared with."""


LIBRARIES = [
    Library("emulator", "emulator alone (no client)", "core"),
    Library("bare_httpx", "bare httpx (floor)", "core"),
    Library("cf_core", "cf_core", "core"),
    Library("langchain_floor", "LangChain floor (BaseChatModel / Embeddings over bare httpx)", "langchain"),
    Library("cf_langchain", "cf_langchain", "langchain"),
    Library("langchain_cloudflare", "langchain-cloudflare 0.4", "langchain"),
    Library("llamaindex_floor", "LlamaIndex floor (LLM / BaseEmbedding over bare httpx)", "llamaindex"),
    Library("cf_llamaindex", "cf_llamaindex", "llamaindex"),
    Library("bare_requests", "bare requests (floor of the requests-based anchors)", "core"),
    Library("llamaindex_cloudflare_embed", "llama-index-embeddings-cloudflare-workersai 0.6", "llamaindex"),
]
BY_KEY = {lib.key: lib for lib in LIBRARIES}


@dataclass
class Target:
    """Where a library sends its requests: the in-process emulator (``emulator`` set) or a URL."""

    base_url: str
    account: str
    emulator: Any = None

    @property
    def origin(self) -> str:
        return self.base_url.removesuffix("/client/v4")

    def httpx_client(self, stack: ExitStack) -> httpx.Client:
        from cf_core.local import EmulatorTransport

        transport = EmulatorTransport(self.emulator) if self.emulator is not None else None
        return stack.enter_context(httpx.Client(base_url=self.base_url, transport=transport,
                                                headers={"authorization": f"Bearer {D.TOKEN}"}))

    def core_client(self, stack: ExitStack) -> Any:
        from cf_core import CloudflareClient
        from cf_core.local import EmulatorTransport

        transport = EmulatorTransport(self.emulator) if self.emulator is not None else None
        return stack.enter_context(CloudflareClient(account_id=self.account, api_token=D.TOKEN,
                                                    base_url=self.base_url, transport=transport))


def _emulator_ops(t: Target, messages: list[dict[str, str]], extra: dict[str, Any]) -> dict[str, Op]:
    from cf_core.local.wire import EmuRequest

    headers = {"authorization": f"Bearer {D.TOKEN}", "content-type": "application/json"}

    def call(model: str, body: dict[str, Any]) -> bytes:
        path = f"/client/v4/accounts/{t.account}/ai/run/{model}"
        answer = t.emulator.respond(EmuRequest.build("POST", path, "", headers, json.dumps(body).encode()), None)
        return answer.body if isinstance(answer.body, bytes) else b"".join(answer.body)

    return {"chat": lambda: call(D.CHAT_MODEL, {"messages": messages, **extra}),
            "stream": lambda: call(D.CHAT_MODEL, {"messages": messages, "stream": True, **extra}),
            "embed": lambda: call(D.EMBED_MODEL, {"text": [D.QUESTION]})}


def _langchain_input(messages: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in messages]


def _llama_input(messages: list[dict[str, str]]) -> list[Any]:
    from llama_index.core.base.llms.types import ChatMessage

    return [ChatMessage(role=m["role"], content=m["content"]) for m in messages]


def library_ops(key: str, t: Target, messages: list[dict[str, str]], max_tokens: int | None,
                stack: ExitStack) -> dict[str, Op]:
    """``chat`` / ``stream`` (returns an iterator of text pieces) / ``embed`` for one library."""
    from . import _floors as F

    extra: dict[str, Any] = {"max_tokens": max_tokens} if max_tokens else {}
    if key == "emulator":
        return _emulator_ops(t, messages, extra)
    if key == "bare_httpx":
        http = t.httpx_client(stack)
        return {"chat": lambda: F.bare_chat(http, t.account, messages, **extra),
                "stream": lambda: F.bare_stream(http, t.account, messages, **extra),
                "embed": lambda: F.bare_embed(http, t.account, D.QUESTION)}
    if key == "cf_core":
        client = t.core_client(stack)
        ai = client.workers_ai
        return {"chat": lambda: ai.chat(D.CHAT_MODEL, messages, **extra).text,
                "stream": lambda: (c.text for c in ai.stream_chat(D.CHAT_MODEL, messages, **extra)),
                "embed": lambda: ai.embed(D.EMBED_MODEL, D.QUESTION).vectors[0]}
    if key in ("langchain_floor", "cf_langchain", "langchain_cloudflare"):
        chat_model, embeddings = _langchain_models(key, t, extra, stack)
        lc_input = _langchain_input(messages)
        return {"chat": lambda: chat_model.invoke(lc_input).content,
                "stream": lambda: (c.content for c in chat_model.stream(lc_input)),
                "embed": lambda: embeddings.embed_query(D.QUESTION)}
    if key in ("llamaindex_floor", "cf_llamaindex"):
        llm, embedding = _llama_models(key, t, extra, stack)
        li_input = _llama_input(messages)
        return {"chat": lambda: llm.chat(li_input).message.content,
                "stream": lambda: (r.delta for r in llm.stream_chat(li_input)),
                "embed": lambda: embedding.get_query_embedding(D.QUESTION)}
    if key == "bare_requests":
        import requests

        from ._inproc_requests import EmulatorAdapter

        session = stack.enter_context(requests.Session())
        if t.emulator is not None:
            session.mount(t.origin, EmulatorAdapter(t.emulator))
        url = f"{t.base_url}/accounts/{t.account}/ai/run/{D.EMBED_MODEL}"
        auth = {"Authorization": f"Bearer {D.TOKEN}"}
        return {"embed": lambda: session.post(url, json={"text": [D.QUESTION]}, headers=auth).json()["result"]["data"][0]}
    if key == "llamaindex_cloudflare_embed":
        import llama_index.embeddings.cloudflare_workersai.base as anchor  # type: ignore[import-untyped]

        from ._inproc_requests import EmulatorAdapter

        original = anchor.API_URL_TEMPLATE
        anchor.API_URL_TEMPLATE = t.base_url + "/accounts/{}/ai/run/{}"  # its only base-URL setting
        stack.callback(setattr, anchor, "API_URL_TEMPLATE", original)
        emb = anchor.CloudflareEmbedding(account_id=t.account, auth_token=D.TOKEN, model=D.EMBED_MODEL)
        if t.emulator is not None:
            emb._session.mount(t.origin, EmulatorAdapter(t.emulator))
        return {"embed": lambda: emb.get_query_embedding(D.QUESTION)}
    raise KeyError(key)


def _langchain_models(key: str, t: Target, extra: dict[str, Any], stack: ExitStack) -> tuple[Any, Any]:
    from . import _floors as F

    if key == "langchain_floor":
        return F.langchain_floor(t.httpx_client(stack), t.account, **extra)
    if key == "cf_langchain":
        from cf_langchain import ChatCloudflareWorkersAI, CloudflareWorkersAIEmbeddings

        client = t.core_client(stack)
        return (ChatCloudflareWorkersAI(model=D.CHAT_MODEL, client=client, **extra),
                CloudflareWorkersAIEmbeddings(model=D.EMBED_MODEL, client=client))
    from langchain_cloudflare import ChatCloudflareWorkersAI as AnchorChat
    from langchain_cloudflare import CloudflareWorkersAIEmbeddings as AnchorEmbeddings

    from ._inproc_requests import route_requests

    kwargs: dict[str, Any] = {"account_id": t.account, "api_token": D.TOKEN, "model": D.CHAT_MODEL,
                              "base_url": t.base_url, **extra}
    if t.emulator is not None:
        # Its `client` field takes an httpx.Client: the same in-process transport bare httpx uses.
        kwargs["client"] = t.httpx_client(stack)
        stack.enter_context(route_requests(t.emulator, t.origin))  # its embeddings use requests.post
    return (AnchorChat(**kwargs),
            AnchorEmbeddings(account_id=t.account, api_token=D.TOKEN, model_name=D.EMBED_MODEL,
                             api_base_url=t.base_url + "/accounts"))


def _llama_models(key: str, t: Target, extra: dict[str, Any], stack: ExitStack) -> tuple[Any, Any]:
    from . import _floors as F

    if key == "llamaindex_floor":
        return F.llamaindex_floor(t.httpx_client(stack), t.account, **extra)
    from cf_llamaindex import CloudflareWorkersAI, CloudflareWorkersAIEmbedding

    client = t.core_client(stack)
    return (CloudflareWorkersAI(model=D.CHAT_MODEL, client=client, **extra),
            CloudflareWorkersAIEmbedding(model_name=D.EMBED_MODEL, client=client))


# -- measurement -------------------------------------------------------------------------------------

def _consume(op: Op, name: str) -> Op:
    if name != "stream":
        return op
    return lambda: list(op())


def _record_bodies(emulator: Any, ops: dict[str, Op]) -> dict[str, str]:
    """One more call per operation, keeping the JSON keys of the body the emulator received."""
    seen: list[bytes] = []
    original = emulator.respond

    def spy(req: Any, plan: Any = None) -> Any:
        seen.append(req.body)
        return original(req, plan)

    emulator.respond = spy
    out = {}
    try:
        for name, op in ops.items():
            seen.clear()
            _consume(op, name)()
            try:
                out[name] = ",".join(sorted(json.loads(seen[-1]))) if seen else "?"
            except ValueError:
                out[name] = "(not JSON)"
    finally:
        emulator.respond = original
    return out


def _per_call(key: str, calls: int, warmup: int) -> dict[str, Any]:
    from cf_core.local import LOCAL_BASE_URL, Emulator

    emulator = Emulator()
    target = Target(LOCAL_BASE_URL, "bench-calls", emulator)
    with ExitStack() as stack:
        ops = library_ops(key, target, D.chat_messages(), None, stack)
        timings = {name: per_call_us(_consume(op, name), calls=calls, warmup=warmup) for name, op in ops.items()}
        bodies = {} if key == "emulator" else _record_bodies(emulator, ops)
    emulator.close()
    return {"us": timings, "bodies": bodies}


def _streaming(key: str, base_url: str, account: str, reps: int) -> dict[str, Any]:
    with ExitStack() as stack:
        ops = library_ops(key, Target(base_url, account), D.stream_messages(), D.STREAM_MAX_TOKENS, stack)
        if "stream" not in ops:
            return {}
        first, last, pieces, chars = [], [], 0, 0
        for rep in range(reps + 2):  # two warm-up streams open the connection and fill caches
            started = time.perf_counter()
            ttft = None
            pieces = chars = 0
            for text in ops["stream"]():
                if text and ttft is None:
                    ttft = time.perf_counter() - started
                pieces += 1
                chars += len(text)
            end = time.perf_counter() - started
            if rep >= 2 and ttft is not None:
                first.append(ttft * 1000)
                last.append(end * 1000)
    return {"ttft_ms": median(first), "last_ms": median(last), "pieces": pieces, "chars": chars, "reps": reps}



def worker(p: dict[str, Any]) -> dict[str, Any]:
    key = p["library"]
    out: dict[str, Any] = {"per_call": _per_call(key, p["calls"], p["warmup"])}
    if p.get("stream_base_url") and key != "emulator":
        out["streaming"] = _streaming(key, p["stream_base_url"], p["stream_account"], p["stream_reps"])
    return out


def run(stream_base_url: str | None, *, calls: int, warmup: int, stream_reps: int, in_process: bool,
        libraries: list[str] | None = None) -> list[dict[str, Any]]:
    from ._harness import run_task

    rows = []
    for lib in LIBRARIES:
        if libraries is not None and lib.key not in libraries:
            continue
        params = {"library": lib.key, "calls": calls, "warmup": warmup, "stream_base_url": stream_base_url,
                  "stream_account": f"bench-stream-{lib.key}".replace("_", "-"), "stream_reps": stream_reps}
        rows.append({"library": lib.key, "label": lib.label, "framework": lib.framework,
                     **run_task("calls", params, in_process=in_process)})
    return rows
