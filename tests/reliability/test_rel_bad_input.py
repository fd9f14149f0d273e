"""Table of bad inputs across chat, embeddings, Vectorize and the gateway, through the core and both
adapters. Each must raise a typed error whose message names the problem; when the problem can be
known locally the error is an ``InvalidInputError`` raised before any request is sent; and in every
case the stored data (two Vectorize indexes and a KV namespace) is left exactly as it was.

Requests are counted by a recording transport in front of the in-process emulator; the same
transport can stand in for a misbehaving proxy (an HTML error page, a truncated JSON body).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pydantic
import pytest
from langchain_core.documents import Document
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from rel_support import CHAT_MODEL, DIMS, EMBED_MODEL

from cf_core import (
    APIError,
    AuthenticationError,
    BadRequestError,
    CloudflareClient,
    CloudflareError,
    GatewayAuthenticationError,
    InvalidInputError,
    NotFoundError,
    RetryPolicy,
    ServerError,
    info,
)
from cf_core.ai_gateway import FallbackStep
from cf_core.local import Emulator, EmulatorTransport, local_client
from cf_langchain import ChatCloudflareWorkersAI, CloudflareVectorize, CloudflareWorkersAIEmbeddings
from cf_llamaindex import (
    CloudflareVectorizeVectorStore,
    CloudflareWorkersAI,
    CloudflareWorkersAIEmbedding,
)

TOKEN = "bad-input-token"
ACCOUNT = "bad-input-account"
RAW = "raw"  # a 4-dimension index written with the core
DOCS = "docs"  # a 384-dimension index written by the LangChain store
NODES = "nodes"  # a 384-dimension index written by the LlamaIndex store
AUTH_GATEWAY = "locked"
VISION_FREE = CHAT_MODEL


class Proxy(httpx.BaseTransport):
    """Records every request; answers with ``canned`` (a misbehaving proxy) instead of the emulator when set."""

    def __init__(self, emulator: Emulator) -> None:
        self.inner = EmulatorTransport(emulator)
        self.sent: list[str] = []
        self.canned: tuple[int, str, bytes] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.sent.append(f"{request.method} {request.url.path}")
        if self.canned is not None:
            status, content_type, body = self.canned
            return httpx.Response(status, headers={"content-type": content_type}, content=body, request=request)
        return self.inner.handle_request(request)


@dataclass
class H:
    emulator: Emulator
    proxy: Proxy
    client: CloudflareClient
    reader: CloudflareClient
    lc_chat: ChatCloudflareWorkersAI
    lc_emb: CloudflareWorkersAIEmbeddings
    lc_store: CloudflareVectorize
    li_llm: CloudflareWorkersAI
    li_emb: CloudflareWorkersAIEmbedding
    li_store: CloudflareVectorizeVectorStore
    kv_namespace: str

    def with_token(self, token: str) -> CloudflareClient:
        return CloudflareClient(account_id=ACCOUNT, api_token=token, base_url="http://emulator.local/client/v4",
                                gateway_base_url="http://emulator.local/v1", transport=self.proxy,
                                retry_policy=RetryPolicy(max_retries=0))

    def snapshot(self) -> dict[str, Any]:
        """Everything stored, read through a separate client (not counted as sent by the one under test)."""
        out: dict[str, Any] = {}
        for index in (RAW, DOCS, NODES):
            ids = sorted(self.reader.vectorize.all_vector_ids(index))
            out[index] = [(v.id, v.values, v.metadata, v.namespace) for v in self.reader.vectorize.get_by_ids(index, ids)]
            out[index + ":metadata-indexes"] = sorted(
                (m.property_name, m.index_type) for m in self.reader.vectorize.list_metadata_indexes(index))
        out["kv"] = [(k.name, self.reader.kv.get(self.kv_namespace, k.name))
                     for k in self.reader.kv.list_keys(self.kv_namespace).keys]
        return out


@pytest.fixture(scope="module")
def h() -> Iterator[H]:
    emulator = Emulator(tokens={TOKEN})
    proxy = Proxy(emulator)
    reader = local_client(emulator, account_id=ACCOUNT, api_token=TOKEN)
    client = CloudflareClient(account_id=ACCOUNT, api_token=TOKEN, base_url="http://emulator.local/client/v4",
                              gateway_base_url="http://emulator.local/v1", transport=proxy,
                              retry_policy=RetryPolicy(max_retries=2, base_delay_s=0.001, max_delay_s=0.005))
    reader.vectorize.create_index(RAW, dimensions=4)
    reader.vectorize.create_metadata_index(RAW, "kind", "string", wait=True)
    reader.vectorize.upsert(RAW, [{"id": f"r{i}", "values": [1.0, float(i), 0.5, -1.0], "metadata": {"kind": "a"},
                                   "namespace": "ns" if i % 2 else None} for i in range(6)], wait=True)
    reader.ai_gateway.create_gateway(AUTH_GATEWAY, authentication=True)
    namespace = reader.kv.create_namespace("bad-input").id
    reader.kv.put(namespace, "kept", "value")
    lc_emb = CloudflareWorkersAIEmbeddings(model=EMBED_MODEL, client=client)
    lc_store = CloudflareVectorize(embedding=lc_emb, index_name=DOCS, client=client)
    lc_store.create_index(metadata_indexes={"genre": "string"})
    lc_store.add_texts(["a story about ships", "a poem about rain"], [{"genre": "story"}, {"genre": "poem"}],
                       ids=["d1", "d2"])
    li_store = CloudflareVectorizeVectorStore(index_name=NODES, client=client)
    li_store.create_index(dimensions=DIMS)
    li_emb = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, client=client)
    li_store.add([TextNode(id_="n1", text="hello nodes", embedding=li_emb.get_text_embedding("hello nodes"))])
    harness = H(emulator, proxy, client, reader,
                ChatCloudflareWorkersAI(model=CHAT_MODEL, client=client), lc_emb, lc_store,
                CloudflareWorkersAI(model=CHAT_MODEL, client=client), li_emb, li_store, namespace)
    yield harness
    client.close()
    reader.close()
    emulator.close()


@dataclass(frozen=True)
class Bad:
    name: str
    call: Callable[[H], Any]
    says: str
    """A regex the error message must match: it names the problem."""
    error: type[BaseException] | tuple[type[BaseException], ...] = InvalidInputError
    local: bool = True
    """Knowable without the service: raised before anything is sent."""
    canned: tuple[int, str, bytes] | None = None
    """The proxy's answer instead of the emulator's."""


def msgs(text: str = "hi") -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def chat(h: H, **kwargs: Any) -> Any:
    args: dict[str, Any] = {"messages": msgs()}
    args.update(kwargs)
    return h.client.workers_ai.chat(args.pop("model", CHAT_MODEL), **args)


def tool(name: str = "get_weather", parameters: Any = None) -> dict[str, Any]:
    params = {"type": "object", "properties": {"city": {"type": "string"}}} if parameters is None else parameters
    return {"type": "function", "function": {"name": name, "description": "weather", "parameters": params}}


def vec(vid: str = "x", values: Any = None, **extra: Any) -> dict[str, Any]:
    return {"id": vid, "values": [0.1, 0.2, 0.3, 0.4] if values is None else values, **extra}


def upsert(h: H, *vectors: dict[str, Any], **kwargs: Any) -> Any:
    return h.client.vectorize.upsert(RAW, list(vectors), **kwargs)


def query(h: H, vector: Any = None, **kwargs: Any) -> Any:
    return h.client.vectorize.query(RAW, [1.0, 0.0, 0.0, 0.0] if vector is None else vector, **kwargs)


def li_query(h: H, filters: MetadataFilters) -> Any:
    return h.li_store.query(VectorStoreQuery(query_embedding=[0.1] * DIMS, similarity_top_k=2, filters=filters))


def oversized_prompt() -> str:
    window = info(CHAT_MODEL).context_window
    assert window
    return "word " * (window * 2)


HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1>cloudflare-proxy</body></html>"

CASES = [
    # -- chat ------------------------------------------------------------------------------------------
    Bad("chat-empty-messages", lambda h: chat(h, messages=[]), r"messages must not be empty"),
    Bad("chat-unknown-role", lambda h: chat(h, messages=[{"role": "wizard", "content": "x"}]), r"role.*wizard"),
    Bad("chat-content-not-text", lambda h: chat(h, messages=[{"role": "user", "content": 42}]),
        r"messages\[0\]\.content must be a string"),
    Bad("chat-empty-prompt", lambda h: chat(h, messages=None, prompt=""), r"prompt must not be empty"),
    Bad("chat-temperature-too-high", lambda h: chat(h, temperature=7), r"temperature.*between 0 and 5"),
    Bad("chat-temperature-nan", lambda h: chat(h, temperature=math.nan), r"temperature must be finite"),
    Bad("chat-max-tokens-zero", lambda h: chat(h, max_tokens=0), r"max_tokens must be >= 1"),
    Bad("chat-top-k-over-cap", lambda h: chat(h, top_k=51), r"top_k.*between 1 and 50"),
    Bad("chat-oversized-prompt", lambda h: chat(h, messages=msgs(oversized_prompt())), r"context window"),
    Bad("chat-tool-parameters-not-object", lambda h: chat(h, tools=[tool(parameters={"type": "string"})]),
        r"parameters must be a JSON schema of type 'object'"),
    Bad("chat-tool-without-name", lambda h: chat(h, tools=[{"type": "function", "function": {"parameters": {}}}]),
        r"has no name"),
    Bad("chat-duplicate-tool-names", lambda h: chat(h, tools=[tool(), tool()]), r"duplicate tool name"),
    Bad("chat-tool-choice-unknown-tool", lambda h: chat(h, tools=[tool()], tool_choice="get_time"),
        r"get_time.*not one of the tools"),
    Bad("chat-with-embedding-model", lambda h: chat(h, model=EMBED_MODEL), r"Text Generation model"),
    Bad("chat-image-on-text-model", lambda h: chat(h, image=b"\x89PNG\r\n\x1a\n0000"), r"does not take images"),
    Bad("chat-stop-empty-string", lambda h: chat(h, stop=[""]), r"stop must be a non-empty string"),
    Bad("chat-bad-model-id", lambda h: chat(h, model=""), r"model must be a non-empty model id"),
    Bad("chat-stream-checked-at-call", lambda h: h.client.workers_ai.stream_chat(CHAT_MODEL, msgs(), seed=-1),
        r"seed"),
    Bad("chat-unknown-model", lambda h: chat(h, model="@cf/nobody/no-such-model"), r"no-such-model|No such model",
        NotFoundError, local=False),
    Bad("langchain-unknown-call-argument", lambda h: h.lc_chat.invoke("hi", temprature=0.2), r"temprature"),
    Bad("langchain-tool-choice-unknown", lambda h: h.lc_chat.bind_tools([tool()], tool_choice="get_time"),
        r"get_time"),
    Bad("langchain-stream-bad-temperature", lambda h: next(iter(h.lc_chat.stream("hi", temperature=9))),
        r"temperature"),
    Bad("llamaindex-empty-message-list", lambda h: h.li_llm.chat([]), r"messages must not be empty"),
    Bad("llamaindex-tool-choice-unknown", lambda h: h.li_llm.chat([ChatMessage(role="user", content="hi")],
                                                                  tools=[tool()], tool_choice="get_time"),
        r"get_time"),
    # -- embeddings ----------------------------------------------------------------------------------
    Bad("embed-no-texts", lambda h: h.client.workers_ai.embed(EMBED_MODEL, []), r"texts must not be empty"),
    Bad("embed-empty-text", lambda h: h.client.workers_ai.embed(EMBED_MODEL, ["fine", ""]), r"texts\[1\] is empty"),
    Bad("embed-not-a-string", lambda h: h.client.workers_ai.embed(EMBED_MODEL, ["fine", 7]), r"texts\[1\] must be a string"),
    Bad("embed-bad-pooling", lambda h: h.client.workers_ai.embed(EMBED_MODEL, ["x"], pooling="max"), r"pooling must be one of"),
    Bad("embed-batch-over-100", lambda h: h.client.workers_ai.embed(EMBED_MODEL, ["x"], batch_size=101),
        r"batch_size.*between 1 and 100"),
    Bad("embed-with-chat-model", lambda h: h.client.workers_ai.embed(CHAT_MODEL, ["x"]), r"Text Embeddings model"),
    Bad("embed-unknown-model", lambda h: h.client.workers_ai.embed("@cf/nobody/no-embedder", ["x"]),
        r"no-embedder|No such model", NotFoundError, local=False),
    Bad("langchain-embed-empty-document", lambda h: h.lc_emb.embed_documents(["ok", ""]), r"is empty"),
    Bad("llamaindex-embed-empty-text", lambda h: h.li_emb.get_text_embedding(""), r"is empty"),
    # -- Vectorize writes --------------------------------------------------------------------------------
    Bad("vectorize-wrong-dimensions-for-index", lambda h: upsert(h, vec(values=[0.1, 0.2, 0.3])), r"expected 4 dimensions",
        BadRequestError, local=False),
    Bad("vectorize-mixed-dimensions", lambda h: upsert(h, vec("a"), vec("b", [0.1, 0.2])), r"2 dimensions; expected 4"),
    Bad("vectorize-dimensions-argument", lambda h: upsert(h, vec(values=[0.1, 0.2, 0.3]), dimensions=4),
        r"3 dimensions; expected 4"),
    Bad("vectorize-nan-value", lambda h: upsert(h, vec(values=[0.1, math.nan, 0.3, 0.4])), r"values\[1\].*NaN"),
    Bad("vectorize-infinite-value", lambda h: upsert(h, vec(values=[math.inf, 0.1, 0.3, 0.4])), r"infinity"),
    Bad("vectorize-boolean-value", lambda h: upsert(h, vec(values=[True, 0.1, 0.3, 0.4])), r"booleans"),
    Bad("vectorize-id-over-64-bytes", lambda h: upsert(h, vec("i" * 65)), r"65 bytes.*limit is 64"),
    Bad("vectorize-multibyte-id-over-64-bytes", lambda h: upsert(h, vec("é" * 33)), r"66 bytes.*limit is 64"),
    Bad("vectorize-empty-id", lambda h: upsert(h, vec("")), r"id must be a non-empty string"),
    Bad("vectorize-duplicate-ids", lambda h: upsert(h, vec("same"), vec("same")), r"appears at vectors\[0\]"),
    Bad("vectorize-metadata-over-10kib", lambda h: upsert(h, vec(metadata={"blob": "x" * 10_300})), r"10 KiB"),
    Bad("vectorize-metadata-dotted-key", lambda h: upsert(h, vec(metadata={"a.b": 1})), r"a\.b"),
    Bad("vectorize-metadata-dollar-key", lambda h: upsert(h, vec(metadata={"$set": 1})), r"'\$set' must not start with"),
    Bad("vectorize-metadata-nan", lambda h: upsert(h, vec(metadata={"score": math.nan})), r"finite"),
    Bad("vectorize-namespace-over-64-bytes", lambda h: upsert(h, vec(namespace="n" * 65)), r"namespace.*64 bytes"),
    Bad("vectorize-unknown-vector-field", lambda h: upsert(h, vec(vector=[1.0])), r"unknown field.*vector"),
    Bad("vectorize-batch-over-5000", lambda h: upsert(h, vec(), batch_size=5001), r"batch_size.*5000"),
    Bad("vectorize-index-name-over-64-bytes", lambda h: h.client.vectorize.upsert("x" * 65, [vec()]),
        r"index name .* limit is 64 bytes"),
    Bad("vectorize-create-too-many-dimensions", lambda h: h.client.vectorize.create_index("big", dimensions=2000),
        r"1536"),
    Bad("vectorize-create-unknown-metric", lambda h: h.client.vectorize.create_index("m", dimensions=4,
                                                                                     metric="manhattan"), r"metric must be one of"),
    Bad("vectorize-delete-id-over-64-bytes", lambda h: h.client.vectorize.delete_by_ids(RAW, ["r1", "i" * 70]),
        r"ids\[1\].*64 bytes"),
    # -- Vectorize reads ---------------------------------------------------------------------------------
    Bad("query-top-k-over-100", lambda h: query(h, top_k=101), r"top_k.*1 to 100"),
    Bad("query-top-k-over-cap-with-values", lambda h: query(h, top_k=51, return_values=True), r"limit is 50"),
    Bad("query-return-metadata-boolean", lambda h: query(h, return_metadata=True), r"return_metadata must be one of"),
    Bad("query-nan-vector", lambda h: query(h, [1.0, math.nan, 0.0, 0.0]), r"vector\[1\]"),
    Bad("query-vector-and-id", lambda h: h.client.vectorize.query(RAW, [1.0, 0, 0, 0], vector_id="r1"),
        r"exactly one of vector= and vector_id="),
    Bad("query-wrong-dimensions-for-index", lambda h: query(h, [1.0, 0.0]), r"expected 4 dimensions", BadRequestError,
        local=False),
    Bad("filter-or-operator", lambda h: query(h, filter={"$or": [{"kind": "a"}]}), r"\$or.*no \$and / \$or"),
    Bad("filter-unknown-operator", lambda h: query(h, filter={"kind": {"$regex": "a.*"}}), r"unknown operator"),
    Bad("filter-bad-combination", lambda h: query(h, filter={"kind": {"$eq": "a", "$gt": "b"}}), r"cannot be combined"),
    Bad("filter-over-2kib", lambda h: query(h, filter={"kind": {"$in": ["v" * 50] * 50}}), r"less than 2048 bytes"),
    Bad("filter-empty", lambda h: query(h, filter={}), r"non-empty object"),
    Bad("list-count-over-1000", lambda h: h.client.vectorize.list_vector_ids(RAW, count=5000), r"count.*1000"),
    Bad("langchain-k-zero", lambda h: h.lc_store.similarity_search("ships", k=0), r"k must be an integer from 1 to 100"),
    Bad("langchain-malformed-filter", lambda h: h.lc_store.similarity_search("ships", filter={"genre": {"$like": "s"}}),
        r"unknown operator"),
    Bad("langchain-reserved-metadata-key", lambda h: h.lc_store.add_texts(["x"], [{"__text": "clash"}]),
        r"__text.*reserves"),
    Bad("langchain-ids-length-mismatch", lambda h: h.lc_store.add_texts(["x", "y"], ids=["only-one"]), r"2 texts"),
    Bad("llamaindex-node-id-over-64-bytes",
        lambda h: h.li_store.add([TextNode(id_="n" * 80, text="t", embedding=[0.1] * DIMS)]), r"64 bytes"),
    Bad("llamaindex-node-metadata-over-10kib",
        lambda h: h.li_store.add([TextNode(id_="big", text="t" * 11_000, embedding=[0.1] * DIMS)]), r"10 KiB"),
    Bad("llamaindex-filter-without-metadata-index",
        lambda h: li_query(h, MetadataFilters(filters=[MetadataFilter(key="genre", value="x")])),
        r"metadata index.*'genre'", local=False),
    Bad("llamaindex-unsupported-filter-operator",
        lambda h: li_query(h, MetadataFilters(filters=[MetadataFilter(key="ref_doc_id", value="x",
                                                                      operator=FilterOperator.TEXT_MATCH)])),
        r"cannot express the TEXT_MATCH operator"),
    # -- the gateway -------------------------------------------------------------------------------------
    Bad("gateway-cache-ttl-below-minimum", lambda h: chat(h, gateway={"id": "gw", "cache_ttl": 5}), r"cache_ttl"),
    Bad("gateway-id-with-slash", lambda h: chat(h, gateway="team/gw"), r"gateway id"),
    Bad("gateway-too-much-metadata", lambda h: chat(h, gateway={"id": "gw", "metadata": {f"k{i}": i for i in range(6)}}),
        r"at most 5 entries"),
    Bad("gateway-max-attempts-over-5", lambda h: chat(h, gateway={"id": "gw", "max_attempts": 9}), r"max_attempts"),
    Bad("gateway-unknown-option", lambda h: chat(h, gateway={"id": "gw", "cache_tll": 60}), r"cache_tll"),
    Bad("gateway-universal-no-steps", lambda h: h.client.ai_gateway.universal([], gateway="gw"), r"non-empty list"),
    Bad("gateway-universal-without-gateway",
        lambda h: h.client.ai_gateway.universal([FallbackStep.workers_ai(CHAT_MODEL, {"prompt": "hi"}, api_token="t")]),
        r"needs an AI Gateway"),
    # A step without a token now gets the client's own; an empty explicit one is still refused.
    Bad("gateway-universal-empty-workers-ai-token",
        lambda h: h.client.ai_gateway.universal([FallbackStep.workers_ai(CHAT_MODEL, {"prompt": "hi"})], gateway="gw",
                                                workers_ai_token=""),
        r"API token/key must be a non-empty string"),
    Bad("gateway-wrong-auth-token", lambda h: chat(h, gateway={"id": AUTH_GATEWAY, "auth_token": "wrong"}),
        r"Unauthorized.*code 2009", GatewayAuthenticationError, local=False),
    Bad("langchain-gateway-bad-settings",
        lambda h: ChatCloudflareWorkersAI(model=CHAT_MODEL, client=h.client,
                                          ai_gateway={"id": "gw", "max_attempts": 9}).invoke("hi"),
        r"max_attempts", (InvalidInputError, pydantic.ValidationError)),
    # -- the wire: credentials and misbehaving proxies ----------------------------------------------------
    Bad("wrong-api-token", lambda h: h.with_token("not-the-token").workers_ai.chat(CHAT_MODEL, msgs()),
        r"Authentication error", AuthenticationError, local=False),
    Bad("wrong-api-token-langchain",
        lambda h: ChatCloudflareWorkersAI(model=CHAT_MODEL, client=h.with_token("nope")).invoke("hi"),
        r"Authentication error", AuthenticationError, local=False),
    Bad("html-error-page-from-proxy", lambda h: chat(h), r"non-JSON \(HTML\) error page", ServerError, local=False,
        canned=(502, "text/html", HTML)),
    Bad("html-200-page-from-proxy", lambda h: chat(h), r"expected JSON.*could not parse", APIError,
        local=False, canned=(200, "text/html; charset=utf-8", HTML)),
    Bad("truncated-json-answer", lambda h: chat(h), r"expected JSON.*could not parse.*EOF", APIError, local=False,
        canned=(200, "application/json", b'{"result": {"response": "Hel')),
    Bad("truncated-json-error-answer", lambda h: upsert(h, vec()), r"HTTP 400 with a non-JSON body", BadRequestError,
        local=False, canned=(400, "application/json", b'{"success": false, "errors": [{"co')),
    Bad("empty-error-body", lambda h: query(h), r"empty body", ServerError, local=False,
        canned=(500, "application/json", b"")),
    Bad("plain-text-error-from-proxy", lambda h: h.lc_emb.embed_query("hello"), r"Request Entity Too Large",
        APIError, local=False, canned=(413, "text/plain", b"413 Request Entity Too Large")),
]


def test_the_table_is_large_and_covers_every_area() -> None:
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)
    prefixes = {c.name.split("-")[0] for c in CASES}
    assert {"chat", "embed", "vectorize", "query", "filter", "gateway", "langchain", "llamaindex"} <= prefixes


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_bad_input_gives_a_typed_error_that_names_the_problem(h: H, case: Bad) -> None:
    before = h.snapshot()
    sent = len(h.proxy.sent)
    h.proxy.canned = case.canned
    try:
        with pytest.raises(case.error) as caught:
            case.call(h)
    finally:
        h.proxy.canned = None
    err = caught.value
    assert re.search(case.says, str(err)), f"{type(err).__name__}: {err}"
    if case.local:
        assert h.proxy.sent[sent:] == [], "a locally knowable problem must fail before sending"
        if isinstance(err, InvalidInputError):
            assert err.field, "InvalidInputError names the field"
    else:
        assert h.proxy.sent[sent:], "this problem can only be known from the service's answer"
    assert isinstance(err, CloudflareError | pydantic.ValidationError)
    assert h.snapshot() == before, "bad input must leave stored data untouched"


def test_langchain_add_documents_with_bad_metadata_writes_nothing(h: H) -> None:
    """A batch with one bad document among good ones is refused whole: no partial write."""
    before = h.snapshot()
    docs = [Document(page_content="good one", metadata={"genre": "ok"}),
            Document(page_content="bad one", metadata={"blob": "x" * 11_000})]
    sent = len(h.proxy.sent)
    with pytest.raises(InvalidInputError, match="10 KiB"):
        h.lc_store.add_documents(docs, ids=["g1", "g2"])
    assert h.snapshot() == before
    assert not [s for s in h.proxy.sent[sent:] if "upsert" in s]
