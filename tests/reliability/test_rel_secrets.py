"""Secrets never leak: recognisable tokens (API token, Vectorize token, AI Gateway token, a provider key
in a universal step) are put into every public class of cf_core, cf_langchain and cf_llamaindex that
can hold or reach one; each object is used for real over the loopback socket (so the tokens are sent,
and checked by the emulator), and then none of the tokens may appear in: repr, str, model_dump /
model_dump_json / to_json / to_dict / LangChain dumpd, pickle, any log record at DEBUG level (httpx
and httpcore included), or the message, attributes and formatted traceback of any exception raised
with the tokens configured. ``test_every_public_class_is_covered`` keeps the list complete.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pickle
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pydantic
import pytest
from langchain_core.exceptions import ModelAuthenticationError
from langchain_core.load import dumpd
from langchain_core.load.serializable import Serializable
from langchain_core.outputs import Generation
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery
from rel_support import CHAT_MODEL, DIMS, EMBED_MODEL

import cf_core
from cf_core import AsyncCloudflareClient, CloudflareClient, CloudflareConfig, Gateway, RetryPolicy
from cf_core.ai_gateway import FallbackStep
from cf_core.local import (
    LOCAL_BASE_URL,
    LOCAL_GATEWAY_BASE_URL,
    AsyncEmulatorTransport,
    Emulator,
    EmulatorTransport,
    FaultConfig,
    RecordingTransport,
    SentRequest,
    local_client,
)
from cf_core.local.server import RunningServer, running_server
from cf_core.workers_ai.chat import chat as chat_builder
from cf_core.workers_ai.stream import stream_chat as stream_builder
from cf_langchain import (
    ChatCloudflareWorkersAI,
    CloudflareImageGenerationTool,
    CloudflareKVCache,
    CloudflareSpeechToTextTool,
    CloudflareTextClassificationTool,
    CloudflareTranslationTool,
    CloudflareUsageCallbackHandler,
    CloudflareVectorize,
    CloudflareVectorizeSearchTool,
    CloudflareWorkersAIEmbeddings,
)
from cf_llamaindex import (
    CloudflareConnection,
    CloudflareToolSpec,
    CloudflareVectorizeVectorStore,
    CloudflareWorkersAI,
    CloudflareWorkersAIEmbedding,
)

API = "cfut_API_7f3a9c1e5b2d4a6c_SECRET"
VECTORIZE = "cfut_VEC_2b8d4e6f0a1c3e5a_SECRET"
GATEWAY = "cfut_AIG_9e1c3a5b7d9f1b3d_SECRET"
PROVIDER = "sk-proj-PROVIDER_4c6e8a0b2d4f6a8c_SECRET"
SECRETS = (API, VECTORIZE, GATEWAY, PROVIDER)
ACCOUNT = "secret-test-account"
LOCKED = "locked-gw"
INDEX = "sec"

# -- which public classes exist, and which of them hold or reach a credential ------------------------

PUBLIC_MODULES = ("cf_core", "cf_core.workers_ai", "cf_core.vectorize", "cf_core.ai_gateway", "cf_core.kv",
                  "cf_core.http", "cf_core.usage", "cf_core.catalog", "cf_core.local", "cf_langchain",
                  "cf_llamaindex")

VALUE_CLASSES = {
    # Results, settings and errors: built from service answers or plain settings, never from a credential.
    "ChatChunk", "ChatResult", "Classification", "ClassificationResult", "EmbeddingResult", "ImageResult",
    "ToolCall", "ToolCallChunk", "TranscriptionResult", "TranslationResult", "Usage", "Word", "IndexInfo",
    "IndexStats", "Match", "MetadataIndex", "MutationResult", "QueryResult", "Vector", "VectorIdPage",
    "GatewayLog", "StepConfig", "UniversalResult", "KVKey", "KVKeyPage", "KVNamespace", "GatewayInfo", "ModelInfo",
    "Price", "Catalog", "RetryPolicy", "ModelUsage", "UsageTracker", "RawResponse", "Gather", "Pace", "Sleep",
    "SSEDecoder", "RequestPacer", "TransportStats", "StreamParser", "FaultConfig", "SyncResource", "AsyncResource",
    "CloudflareUsageCallbackHandler",
}
"""Errors (every CloudflareError subclass) are checked through the exceptions actually raised below."""

SERVER_SIDE = {"Emulator", "EmulatorConfig", "EmulatorTransport", "AsyncEmulatorTransport", "RecordingTransport",
               "SentRequest"}
"""The emulator's own configuration is the list of tokens it accepts, and a recorded request is what
was sent: they never print the tokens (repr, logs), but their pickles keep them by design, so pickle
is not checked for these."""


def public_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        for attr in names:
            value = getattr(module, attr, None)
            if inspect.isclass(value) and value.__module__.split(".")[0] in ("cf_core", "cf_langchain",
                                                                             "cf_llamaindex"):
                found[attr] = value
    return found


# -- the world: an emulator that accepts exactly these tokens, served on loopback --------------------


@dataclass
class World:
    server: RunningServer
    emulator: Emulator
    objects: dict[str, Any] = field(default_factory=dict)
    errors: list[BaseException] = field(default_factory=list)

    def core(self) -> dict[str, Any]:
        return {"account_id": ACCOUNT, "api_token": API, "vectorize_api_token": VECTORIZE,
                "base_url": self.server.base_url, "gateway_base_url": self.server.gateway_base_url}

    def fields(self) -> dict[str, Any]:
        """How a user configures an adapter class: settings fields, no ready-made client."""
        return {"account_id": ACCOUNT, "api_token": API, "base_url": self.server.base_url}


def gateway() -> Gateway:
    return Gateway(id=LOCKED, auth_token=GATEWAY, collect_log=True)


def build_and_use(w: World) -> None:
    """Every credential-holding public class, configured with the tokens and used once for real."""
    o = w.objects
    o["CloudflareConfig"] = CloudflareConfig.resolve(**w.core(), gateway_id=LOCKED, environ={})
    o["Gateway"] = gateway()
    client = o["CloudflareClient"] = CloudflareClient(**w.core(), gateway=gateway())
    o["WorkersAI"], o["Vectorize"], o["KV"], o["AIGatewayAPI"] = (client.workers_ai, client.vectorize, client.kv,
                                                                  client.ai_gateway)
    o["SyncTransport"] = o["TransportBase"] = client.transport
    assert client.workers_ai.chat(CHAT_MODEL, [{"role": "user", "content": "hi"}]).gateway is not None
    client.vectorize.create_index(INDEX, dimensions=DIMS)
    namespace = client.kv.create_namespace("secrets").id
    client.kv.put(namespace, "k", "v")
    steps = [FallbackStep.openai("gpt-4o-mini", [{"role": "user", "content": "hi"}], api_key=PROVIDER),
             FallbackStep.workers_ai(CHAT_MODEL, {"prompt": "hi"}, api_token=API)]
    o["FallbackStep"] = steps[0]
    assert client.ai_gateway.universal(steps).status == 200
    call = o["Call"] = chat_builder(CHAT_MODEL, [{"role": "user", "content": "hi"}], gateway=gateway())
    o["ApiRequest"] = call.request
    o["StreamCall"] = stream_builder(CHAT_MODEL, [{"role": "user", "content": "hi"}], gateway=gateway())

    aclient = o["AsyncCloudflareClient"] = AsyncCloudflareClient(**w.core(), gateway=gateway())
    o["AsyncWorkersAI"], o["AsyncVectorize"], o["AsyncKV"], o["AsyncAIGatewayAPI"] = (
        aclient.workers_ai, aclient.vectorize, aclient.kv, aclient.ai_gateway)
    o["AsyncTransport"] = aclient.transport

    sent: list[SentRequest] = []
    recording = o["RecordingTransport"] = RecordingTransport(EmulatorTransport(w.emulator), sent)
    with CloudflareClient(**{**w.core(), "base_url": LOCAL_BASE_URL, "gateway_base_url": LOCAL_GATEWAY_BASE_URL},
                          transport=recording, gateway=gateway()) as recorded:
        recorded.workers_ai.chat(CHAT_MODEL, [{"role": "user", "content": "hi"}])
    o["SentRequest"] = sent[-1]
    assert sent[-1].headers["cf-aig-authorization"] == f"Bearer {GATEWAY}"  # it does hold the token
    o["Emulator"], o["EmulatorConfig"] = w.emulator, w.emulator.config
    o["EmulatorTransport"], o["AsyncEmulatorTransport"] = EmulatorTransport(w.emulator), AsyncEmulatorTransport(
        w.emulator)

    # LangChain, configured by fields (each builds its own core clients from them).
    llm = o["ChatCloudflareWorkersAI"] = ChatCloudflareWorkersAI(model=CHAT_MODEL, ai_gateway=gateway(), **w.fields())
    assert llm.invoke("Say hi.").content
    emb = o["CloudflareWorkersAIEmbeddings"] = CloudflareWorkersAIEmbeddings(model=EMBED_MODEL, **w.fields())
    store = o["CloudflareVectorize"] = CloudflareVectorize(embedding=emb, index_name=INDEX, **w.fields())
    store.add_texts(["secrets stay secret"], ids=["s1"])
    search = o["CloudflareVectorizeSearchTool"] = CloudflareVectorizeSearchTool(vectorstore=store)
    assert "secrets stay secret" in search.invoke({"query": "secret"})
    cache = o["CloudflareKVCache"] = CloudflareKVCache(namespace_id=namespace, **w.fields())
    cache.update("prompt", "llm", [Generation(text="cached")])
    assert cache.lookup("prompt", "llm") == [Generation(text="cached")]
    translate = o["CloudflareTranslationTool"] = CloudflareTranslationTool(**w.fields())
    assert translate.invoke({"text": "hello", "target_lang": "fr"})
    classify = o["CloudflareTextClassificationTool"] = CloudflareTextClassificationTool(**w.fields())
    assert classify.invoke({"text": "wonderful"})
    o["CloudflareImageGenerationTool"] = CloudflareImageGenerationTool(**w.fields())
    o["CloudflareSpeechToTextTool"] = CloudflareSpeechToTextTool(**w.fields())
    o["CloudflareUsageCallbackHandler"] = CloudflareUsageCallbackHandler()

    # LlamaIndex, configured by fields.
    conn = o["CloudflareConnection"] = CloudflareConnection(ai_gateway=gateway(), **w.fields())
    assert conn.client.workers_ai.translate("hi", target_lang="de").text
    li_llm = o["CloudflareWorkersAI"] = CloudflareWorkersAI(model=CHAT_MODEL, ai_gateway=gateway(), **w.fields())
    assert li_llm.complete("Say hi.").text
    li_emb = o["CloudflareWorkersAIEmbedding"] = CloudflareWorkersAIEmbedding(model_name=EMBED_MODEL, **w.fields())
    li_store = o["CloudflareVectorizeVectorStore"] = CloudflareVectorizeVectorStore(index_name=INDEX, **w.fields())
    li_store.add([TextNode(id_="n1", text="nodes too", embedding=li_emb.get_text_embedding("nodes too"))])
    assert li_store.query(VectorStoreQuery(query_embedding=li_emb.get_query_embedding("nodes"),
                                           similarity_top_k=1)).ids
    spec = o["CloudflareToolSpec"] = CloudflareToolSpec(api_token=API, account_id=ACCOUNT, base_url=w.server.base_url,
                                                        ai_gateway=gateway())
    assert spec.translate_text("hello", target_lang="es")


def raise_with_secrets(w: World) -> None:
    """Failures of every kind, each with the tokens configured; the exceptions are kept for inspection."""
    def keep(fn: Callable[[], Any]) -> None:
        try:
            fn()
        except Exception as exc:
            w.errors.append(exc)
        else:
            raise AssertionError("expected an exception")

    chat = [{"role": "user", "content": "hi"}]
    rejecting = Emulator(tokens={"someone-else"})
    local_client(rejecting, account_id=ACCOUNT, api_token="someone-else").ai_gateway.create_gateway(
        LOCKED, authentication=True)
    refused = CloudflareClient(account_id=ACCOUNT, api_token=API, transport=EmulatorTransport(rejecting),
                               gateway_base_url="http://emulator.local/v1", retry_policy=RetryPolicy(max_retries=0))
    keep(lambda: refused.workers_ai.chat(CHAT_MODEL, chat))  # 401
    keep(lambda: refused.workers_ai.chat(CHAT_MODEL, chat, gateway=gateway()))  # gateway 401
    keep(lambda: ChatCloudflareWorkersAI(model=CHAT_MODEL, client=refused).invoke("hi"))
    keep(lambda: CloudflareTranslationTool(client=refused).invoke({"text": "hi", "target_lang": "fr"}))
    keep(lambda: CloudflareWorkersAI(model=CHAT_MODEL, client=refused).complete("hi"))
    with running_server(Emulator()) as gone:
        closed: dict[str, Any] = {"base_url": gone.base_url, "gateway_base_url": gone.gateway_base_url}
    keep(lambda: CloudflareClient(account_id=ACCOUNT, api_token=API, **closed, gateway=gateway(),
                                  retry_policy=RetryPolicy(max_retries=0)).workers_ai.chat(CHAT_MODEL, chat))
    w.emulator.faults.configure(FaultConfig(slow_rate=1.0, slow_ms=600, paths="/ai/run/"))
    keep(lambda: CloudflareClient(**w.core(), timeout=0.2, retry_policy=RetryPolicy(max_retries=0))
         .workers_ai.chat(CHAT_MODEL, chat))
    w.emulator.faults.configure(FaultConfig(stream_cut_rate=1.0, stream_cut_after=2, paths="/ai/run/"))
    keep(lambda: list(CloudflareClient(**w.core()).workers_ai.stream_chat(CHAT_MODEL, chat)))
    w.emulator.faults.configure(FaultConfig())
    keep(lambda: CloudflareClient(api_token=API).workers_ai.chat(CHAT_MODEL, chat))  # no account id
    keep(lambda: CloudflareClient(**w.core(), gateway=gateway()).workers_ai.chat(CHAT_MODEL, chat, temperature=9))
    keep(lambda: CloudflareConfig.resolve(api_token=API, vectorize_api_token=VECTORIZE, base_url="ftp://nowhere"))
    # A token given under a wrong name must not be echoed by the validation error.
    keep(lambda: ChatCloudflareWorkersAI(cloudflare_api_token=API))
    keep(lambda: CloudflareWorkersAIEmbeddings(api_token=API, account=API))
    keep(lambda: CloudflareKVCache(namespace_id="n", api_token=API, token=API))
    keep(lambda: Gateway(id="gw", token=GATEWAY))
    keep(lambda: Gateway(id="gw/bad", auth_token=GATEWAY))
    keep(lambda: CloudflareClient(**w.core()).workers_ai.chat(CHAT_MODEL, chat, gateway={"id": "g", "authtoken": GATEWAY}))
    keep(lambda: CloudflareWorkersAI(api_token=API, temperature=99))
    keep(lambda: FallbackStep.openai("gpt", [], api_key=PROVIDER, config={"maxAttempts": 99}))


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[World]:
    for name in ("CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "CF_ACCOUNT_ID", "CF_API_TOKEN", "CF_AI_API_TOKEN",
                 "CF_VECTORIZE_API_TOKEN", "CLOUDFLARE_BASE_URL", "CLOUDFLARE_AI_GATEWAY_ID"):
        monkeypatch.delenv(name, raising=False)
    emulator = Emulator(tokens={API, VECTORIZE, GATEWAY})
    with running_server(emulator) as server:
        # The adapters take no gateway URL field: they read it from the environment, like users do.
        monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", server.gateway_base_url)
        caplog.set_level(logging.DEBUG)
        local_client(emulator, account_id=ACCOUNT, api_token=API).ai_gateway.create_gateway(
            LOCKED, authentication=True)
        w = World(server, emulator)
        build_and_use(w)
        raise_with_secrets(w)
        yield w
    emulator.close()


# -- the checks --------------------------------------------------------------------------------------


def assert_clean(where: str, text: str | bytes) -> None:
    for secret in SECRETS:
        if isinstance(text, bytes):
            assert secret.encode() not in text, f"{secret[:12]}... leaked through {where}"
        else:
            assert secret not in text, f"{secret[:12]}... leaked through {where}"


def serialised_forms(obj: Any) -> Iterator[tuple[str, Callable[[], Any]]]:
    if isinstance(obj, pydantic.BaseModel):
        yield "model_dump", lambda: obj.model_dump()
        yield "model_dump(json)", lambda: obj.model_dump(mode="json")
        yield "model_dump_json", obj.model_dump_json
    for method in ("to_json", "to_dict"):  # LangChain Serializable / LlamaIndex BaseComponent
        produce = getattr(obj, method, None)
        if callable(produce):
            yield method, produce
    if isinstance(obj, Serializable):
        yield "dumpd", lambda: dumpd(obj)


def test_every_public_class_is_covered(world: World) -> None:
    missing = [name for name, cls in public_classes().items()
               if name not in world.objects and name not in VALUE_CLASSES and not issubclass(cls, cf_core.CloudflareError)]
    assert not missing, f"public classes with no secret check: {missing}"
    assert set(world.objects) <= set(public_classes()), "keep the list in step with the public API"


def test_tokens_are_in_no_repr_str_dump_or_pickle(world: World) -> None:
    assert len(world.objects) >= 35
    for name, obj in world.objects.items():
        assert_clean(f"repr({name})", repr(obj))
        assert_clean(f"str({name})", str(obj))
        for form, produce in serialised_forms(obj):
            try:
                value = produce()
            except Exception as exc:  # not serialisable: the refusal must not quote a token either
                assert_clean(f"{name}.{form} error", f"{exc!r} {exc}")
            else:
                assert_clean(f"{name}.{form}", repr(value))
        if name in SERVER_SIDE:
            continue
        try:
            data = pickle.dumps(obj)
        except Exception as exc:
            assert_clean(f"pickle({name}) error", f"{exc!r} {exc}")
        else:
            assert_clean(f"pickle({name})", data)


def test_tokens_are_in_no_log_record(world: World, caplog: pytest.LogCaptureFixture) -> None:
    records = caplog.get_records("setup")  # the world was built and used while setting up
    loggers = {r.name.split(".")[0] for r in records}
    assert any(r.levelno == logging.DEBUG for r in records) and {"httpx", "httpcore"} <= loggers
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in records:
        assert_clean(f"log record {record.name}", formatter.format(record))
        assert_clean(f"log record args {record.name}", repr(record.args))
    assert len(records) > 100


def test_tokens_are_in_no_exception(world: World) -> None:
    kinds = {type(e).__name__ for e in world.errors}
    assert {"AuthenticationError", "GatewayAuthenticationError", "ModelAuthenticationError", "APIConnectionError",
            "TimeoutError", "StreamError", "ConfigurationError", "InvalidInputError", "ValidationError",
            "ToolException"} <= kinds, kinds
    assert any(isinstance(e, ModelAuthenticationError) for e in world.errors)
    for err in world.errors:
        name = type(err).__name__
        assert_clean(f"str({name})", str(err))
        assert_clean(f"repr({name})", repr(err))
        assert_clean(f"attributes of {name}", repr(vars(err)) if hasattr(err, "__dict__") else "")
        assert_clean(f"traceback of {name}", "".join(traceback.format_exception(err)))
        if isinstance(err, pydantic.ValidationError):
            # hide_input_in_errors keeps the input out of the message, but pydantic still keeps it in
            # .errors() and therefore in a pickle of the error: a known gap, see docs/RELIABILITY.md.
            continue
        try:
            data = pickle.dumps(err)
        except Exception as exc:
            assert_clean(f"pickle({name}) error", str(exc))
        else:
            assert_clean(f"pickle({name})", data)
