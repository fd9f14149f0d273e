"""The demo's steps: ingest, RAG, agent, gateway cache, usage. Each takes the backend and a printer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel, RunnablePassthrough
from langchain_core.tools import BaseTool, ToolException
from pydantic import PrivateAttr

from cf_core import CloudflareError, Gateway
from cf_core import info as model_info
from cf_core.progress import ProgressBar
from cf_core.usage import estimate_usd
from cf_langchain import (
    ChatCloudflareWorkersAI,
    CloudflareTextClassificationTool,
    CloudflareVectorize,
    CloudflareVectorizeSearchTool,
    CloudflareWorkersAIEmbeddings,
)
from cf_langchain.callbacks import CloudflareUsageCallbackHandler

from .backend import Backend
from .corpus import Doc
from .printing import Printer

CHAT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
EMBEDDING_MODEL = "@cf/baai/bge-base-en-v1.5"
TEXT_KEY = "__text"  # where CloudflareVectorize keeps a document's text in its metadata
CHARS_PER_TOKEN = 4  # the rough estimate for embeddings, whose responses carry no token counts

# Worded to share words with the passages they are about: the emulator's stand-in embeddings match
# words, not meaning. A real model answers any phrasing.
QUESTIONS = (
    "How is Workers AI billed?",
    "How does AI Gateway cache answers?",
    "What does the emulator's stand-in chat model do?",
)
CACHED_QUESTION = QUESTIONS[1]
AGENT_TASK = ("Search the handbook with vectorize_search for 'gateway metadata entries', then use "
              "classify_sentiment on the review 'The emulator made testing wonderful and fast'.")
SYSTEM_PROMPT = ("You answer questions about a software project and Cloudflare's AI platform. Use only the "
                 "numbered context passages below, cite them like [1], and say so if they do not contain the "
                 "answer.\n\nContext:\n{context}")


class CountingEmbeddings(CloudflareWorkersAIEmbeddings):
    """Workers AI embeddings that also count the characters they embed (for the cost estimate)."""

    _chars: int = PrivateAttr(default=0)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self._chars += sum(len(t) for t in texts)
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self._chars += len(text)
        return super().embed_query(text)

    def add_chars(self, count: int) -> None:
        self._chars += count

    @property
    def chars(self) -> int:
        return self._chars


@dataclass
class Session:
    """What the steps share: the backend, the adapters built on its clients, and the usage meters."""

    backend: Backend
    out: Printer
    embeddings: CountingEmbeddings
    store: CloudflareVectorize
    llm: ChatCloudflareWorkersAI
    usage: CloudflareUsageCallbackHandler = field(default_factory=CloudflareUsageCallbackHandler)
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def open(cls, backend: Backend, out: Printer) -> Session:
        clients: dict[str, Any] = {"client": backend.client, "async_client": backend.async_client}
        embeddings = CountingEmbeddings(model=EMBEDDING_MODEL, **clients)
        store = CloudflareVectorize(embedding=embeddings, index_name=backend.index_name, text_key=TEXT_KEY, **clients)
        llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, temperature=0, max_tokens=256, **clients)
        return cls(backend=backend, out=out, embeddings=embeddings, store=store, llm=llm)

    def stand_in_note(self) -> str:
        return "  (stand-in model: the emulator's deterministic engine, not a real LLM)" if self.backend.stand_ins else ""


# -- 1. ingest ---------------------------------------------------------------------------------

def ingest(s: Session, docs: list[Doc]) -> None:
    vz = s.backend.client.vectorize
    dims = model_info(EMBEDDING_MODEL).dimensions
    vz.create_index(s.backend.index_name, dimensions=dims, metric="cosine",
                    description="cloudflare-ai-integrations demo (safe to delete)")
    s.backend.index_created = True
    s.out.line(f"  created index {s.backend.index_name!r}: {dims} dimensions, cosine ({EMBEDDING_MODEL})")
    bar = ProgressBar("embedding + upserting", len(docs), stream=s.out.stream)
    started = time.perf_counter()
    # Small write batches only so the bar visibly moves on 42 documents; the default is 5000 per request.
    result = vz.ingest(s.backend.index_name, [d.text for d in docs], ids=[d.id for d in docs],
                       metadatas=[d.metadata for d in docs], embedding_model=EMBEDDING_MODEL, text_key=TEXT_KEY,
                       write_batch=8, on_progress=bar.update)
    bar.close()
    s.timings["ingest"] = time.perf_counter() - started
    s.embeddings.add_chars(sum(len(d.text) for d in docs))
    stats = vz.index_info(s.backend.index_name)
    s.out.line(f"  {len(result.ids)} documents written in {len(result.mutation_ids)} mutations and applied "
               f"(index holds {stats.vector_count} vectors) in {s.timings['ingest']:.2f} s")


# -- 2. RAG ------------------------------------------------------------------------------------

def _context(hits: list[tuple[Document, float]]) -> str:
    return "\n".join(f"[{n}] ({doc.metadata.get('source')}) {doc.page_content}" for n, (doc, _) in enumerate(hits, 1))


def rag_chain(s: Session, llm: ChatCloudflareWorkersAI) -> Runnable[str, dict[str, Any]]:
    """question -> {"question", "hits": [(Document, score)], "answer": AIMessage}."""
    prompt = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", "{question}")])

    def retrieve(question: str) -> list[tuple[Document, float]]:
        return s.store.similarity_search_with_score(question, k=3)

    def inputs(x: dict[str, Any]) -> dict[str, str]:
        return {"question": x["question"], "context": _context(x["hits"])}

    generate: Runnable[dict[str, Any], BaseMessage] = RunnableLambda(inputs) | prompt | llm
    return RunnableParallel(question=RunnablePassthrough(), hits=RunnableLambda(retrieve)) | RunnablePassthrough.assign(answer=generate)


def _print_answer(s: Session, result: dict[str, Any]) -> None:
    s.out.wrap(result["answer"].text, indent="     ", first="  A: ")
    s.out.line("     sources (Vectorize cosine score, higher is closer):")
    for n, (doc, score) in enumerate(result["hits"], 1):
        s.out.line(f"       [{n}] {score:.3f}  {doc.metadata.get('source')}  \"{doc.metadata.get('title')}\"")


def rag(s: Session) -> None:
    chain = rag_chain(s, s.llm)
    if s.backend.stand_ins:
        s.out.line("  Answers below come from the emulator's stand-in chat model, which quotes the passages it was")
        s.out.line("  given; retrieval uses stand-in embeddings that match words, not meaning.")
    started = time.perf_counter()
    for question in QUESTIONS:
        s.out.line()
        s.out.line(f"  Q: {question}")
        _print_answer(s, chain.invoke(question, config={"callbacks": [s.usage]}))
    s.timings["rag"] = time.perf_counter() - started


# -- 3. agent ----------------------------------------------------------------------------------

def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _run_tool(tool: BaseTool, call: dict[str, Any]) -> ToolMessage:
    try:
        result = tool.invoke(call)
    except ToolException as exc:
        # Surface the typed core error (with its status and code) rather than LangChain's wrapper.
        if isinstance(exc.__cause__, CloudflareError):
            raise exc.__cause__ from None
        raise
    assert isinstance(result, ToolMessage)
    return result


def agent(s: Session, max_steps: int = 4) -> None:
    clients: dict[str, Any] = {"client": s.backend.client, "async_client": s.backend.async_client}
    tools: list[BaseTool] = [
        CloudflareVectorizeSearchTool(vectorstore=s.store, k=2),
        CloudflareTextClassificationTool(**clients),
    ]
    by_name = {t.name: t for t in tools}
    model = s.llm.bind_tools(tools)
    s.out.line(f"  tools: {', '.join(by_name)}")
    s.out.wrap(AGENT_TASK, indent="        ", first="  task: ")
    messages: list[BaseMessage] = [HumanMessage(AGENT_TASK)]
    started = time.perf_counter()
    for step in range(1, max_steps + 1):
        reply = model.invoke(messages, config={"callbacks": [s.usage]})
        assert isinstance(reply, AIMessage)
        messages.append(reply)
        if not reply.tool_calls:
            s.out.wrap(_short(reply.text, 400), indent="          ", first=f"  [{step}] answer: ")
            if s.backend.stand_ins:
                s.out.line(s.stand_in_note())
            break
        for call in reply.tool_calls:
            args = ", ".join(f"{k}={v!r}" for k, v in call["args"].items())
            s.out.line(f"  [{step}] model calls {call['name']}({args})")
            result = _run_tool(by_name[call["name"]], dict(call, type="tool_call"))
            messages.append(result)
            s.out.line(f"      -> {_short(str(result.content))}")
    else:
        s.out.line(f"  the agent stopped after {max_steps} steps without a final answer")
    s.timings["agent"] = time.perf_counter() - started


# -- 4. AI Gateway cache -----------------------------------------------------------------------

def gateway_cache(s: Session) -> None:
    b = s.backend
    # A cache key unique to this run, so an answer cached by an earlier run cannot make the first call a HIT.
    gateway = Gateway(id=b.gateway_id, cache_ttl=300, cache_key=f"cf-demo-{b.run_id}-q2",
                      metadata={"app": "cf-demo", "run": b.run_id})
    llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, temperature=0, max_tokens=256, ai_gateway=gateway,
                                  client=b.client, async_client=b.async_client)
    chain = rag_chain(s, llm)
    s.out.line(f"  gateway {gateway.id!r}: cache TTL {gateway.cache_ttl} s, metadata {gateway.metadata}")
    s.out.line(f"  Q: {CACHED_QUESTION}")
    statuses = []
    for attempt in (1, 2):
        started = time.perf_counter()
        result = chain.invoke(CACHED_QUESTION, config={"callbacks": [s.usage]})
        elapsed = time.perf_counter() - started
        meta = result["answer"].response_metadata
        status = str(meta.get("cache_status") or "none")
        statuses.append(status)
        neurons = "0 neurons (served from cache)" if status == "HIT" else f"{meta.get('neurons', 0):.2f} neurons"
        s.out.line(f"  call {attempt}: cache {status:<4}  {elapsed * 1000:6.0f} ms  {neurons}  "
                   f"log id {meta.get('log_id')}")
    s.out.wrap(_short(result["answer"].text, 200), indent="     ", first="  A: ")
    if statuses[-1] != "HIT":
        s.out.line("  (no HIT this time: AI Gateway's cache is best-effort; run the demo again to see one)")


# -- 5. usage ----------------------------------------------------------------------------------

def usage(s: Session) -> None:
    rows = []
    for model, u in sorted(s.usage.by_model().items()):
        rows.append([model, str(u.requests), str(u.cache_hits), str(u.prompt_tokens), str(u.completion_tokens),
                     f"{u.neurons:.2f}", f"${u.usd:.6f}"])
    chat = s.usage.totals
    price = model_info(EMBEDDING_MODEL).price.neurons_per_m_input_tokens or 0.0
    embed_tokens = s.embeddings.chars // CHARS_PER_TOKEN
    embed_neurons = embed_tokens * price / 1e6
    embed_usd = estimate_usd(embed_neurons)
    rows.append([f"{EMBEDDING_MODEL} (estimated)", "-", "-", f"~{embed_tokens}", "0", f"{embed_neurons:.2f}",
                 f"${embed_usd:.6f}"])
    s.out.table(["model", "requests", "cache hits", "tokens in", "tokens out", "neurons", "USD"], rows)
    total_neurons, total_usd = chat.neurons + embed_neurons, chat.usd + embed_usd
    s.out.line()
    s.out.line(f"  Estimated cost of this run: ${total_usd:.6f} ({total_neurons:.2f} neurons at $0.011 per 1,000; "
               f"the first 10,000 neurons a day are free)")
    stats = s.backend.client.stats
    s.out.line(f"  HTTP requests sent: {stats['requests']}, retries: {stats['retries']}")
    notes = ["Chat usage is what the service reported; neurons are estimated from the catalog's prices when the "
             "service gives none. Embedding responses carry no token counts, so their cost is estimated at ~4 "
             "characters per token. The sentiment classification call is not counted."]
    if s.backend.stand_ins:
        notes.append("On the emulator, token counts are whitespace words from the stand-in models, so these "
                     "figures show the accounting, not what a real run would cost.")
    for note in notes:
        s.out.wrap(note)
