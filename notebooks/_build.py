"""Writes the notebooks in this folder from the cell sources below, with no outputs.

Run ``.venv/bin/python notebooks/_build.py`` after editing; ``tests/notebooks`` checks that the
committed ``.ipynb`` files match this script and executes every notebook against the emulator.
Each notebook reads its backend from the environment: Cloudflare when CLOUDFLARE_ACCOUNT_ID and
CLOUDFLARE_API_TOKEN are set, otherwise the in-process emulator (whose models are stand-ins, and
every output that comes from one is labelled so).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

Cell = tuple[str, str]  # ("md" | "code", source)


def md(text: str) -> Cell:
    return ("md", textwrap.dedent(text).strip())


def code(text: str) -> Cell:
    return ("code", textwrap.dedent(text).strip())


SETUP = code('''
    # Backend: Cloudflare when CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are set, else the local emulator.
    import os
    import uuid

    from cf_core import AsyncCloudflareClient, CloudflareClient

    ON_CLOUDFLARE = bool(os.environ.get("CLOUDFLARE_ACCOUNT_ID") and os.environ.get("CLOUDFLARE_API_TOKEN"))
    if ON_CLOUDFLARE:
        emulator = None
        client, aclient = CloudflareClient(), AsyncCloudflareClient()
        print(f"Backend: Cloudflare, account {client.config.account_id} (real models, billed in neurons)")
    else:
        from cf_core.local import Emulator, local_async_client, local_client

        emulator = Emulator()  # one emulator behind both clients, so sync and async calls share state
        client, aclient = local_client(emulator), local_async_client(emulator)
        print("Backend: local emulator (in process, no account). Its models are STAND-INS: deterministic "
              "engines that speak Cloudflare's wire format, not real models. Outputs from them are labelled.")

    SOURCE = "Workers AI" if ON_CLOUDFLARE else "emulator stand-in model"
    conn = {"client": client, "async_client": aclient}  # every adapter takes the same two clients
    RUN = uuid.uuid4().hex[:6]  # keeps the names of what this notebook creates unique on a shared account


    def show(what, value):
        """Print a model output, labelled with where it came from."""
        print(f"[{SOURCE}] {what}: {value}")
''')

CORPUS = code('''
    # The corpus the demo uses: short documents about this project and Cloudflare's limits.
    import json
    from pathlib import Path

    root = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "demo" / "corpus.json").exists())
    corpus = json.loads((root / "demo" / "corpus.json").read_text())
    print(len(corpus), "documents; topics:", sorted({d["topic"] for d in corpus}))
''')

# --------------------------------------------------------------------------------------------
# 01: Workers AI tour
# --------------------------------------------------------------------------------------------

TOUR: list[Cell] = [
    md('''
        # 1. A tour of Workers AI

        Chat, streaming, tool calling, structured output, image generation, speech recognition,
        embeddings, text classification, translation and vision, through `cf_langchain` and the
        shared core `cf_core`.

        Runs on the local emulator by default (no account needed); set `CLOUDFLARE_ACCOUNT_ID` and
        `CLOUDFLARE_API_TOKEN` to run it on Cloudflare. On the emulator the models are **stand-ins**:
        they show that requests and responses are handled correctly, not what a real model would say.
    '''),
    SETUP,
    code('''
        CHAT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
        VISION_MODEL = "@cf/meta/llama-4-scout-17b-16e-instruct"
        EMBEDDING_MODEL = "@cf/baai/bge-small-en-v1.5"
        IMAGE_MODEL = "@cf/black-forest-labs/flux-1-schnell"
        SPEECH_MODEL = "@cf/openai/whisper-large-v3-turbo"
    '''),
    md('''
        ## Chat

        `ChatCloudflareWorkersAI` is a LangChain chat model. The answer carries LangChain's
        `usage_metadata`, and `response_metadata` adds the neurons and an estimated price.
    '''),
    code('''
        from cf_langchain import ChatCloudflareWorkersAI

        llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, temperature=0, max_tokens=200, **conn)
        reply = llm.invoke([
            ("system", "Workers AI runs machine learning models on Cloudflare's global network, close to users. "
                       "It is billed in neurons."),
            ("human", "Where does Workers AI run models?"),
        ])
        show("chat", reply.text)
        print("usage:", reply.usage_metadata)
        print("neurons:", reply.response_metadata.get("neurons"), " estimated USD:",
              reply.response_metadata.get("estimated_usd"))
    '''),
    md("## Streaming\n\nThe same call, token by token (`|` separates the chunks)."),
    code('''
        chunks = [chunk.text for chunk in llm.stream("Vectorize is Cloudflare's vector database. What is Vectorize?")]
        show(f"stream ({len(chunks)} chunks)", "|".join(chunks))
    '''),
    md('''
        ## Tool calling

        `bind_tools` offers tools to the model; the model asks for calls, we run them and send the
        results back, and the model answers from them.
    '''),
    code('''
        from langchain_core.messages import HumanMessage
        from langchain_core.tools import tool


        @tool
        def get_weather(city: str) -> str:
            """Get the current weather for a city."""
            return f"18 degrees and sunny in {city}"  # a fixed answer: this tool is an example


        with_tools = llm.bind_tools([get_weather])
        messages = [HumanMessage("What is the weather in Lisbon?")]
        request = with_tools.invoke(messages)
        show("tool calls", [(c["name"], c["args"]) for c in request.tool_calls])
        messages += [request, *[get_weather.invoke(call) for call in request.tool_calls]]
        show("answer", with_tools.invoke(messages).text)
    '''),
    md('''
        ## Structured output

        `with_structured_output` returns a validated pydantic object (tool calling or JSON mode,
        whichever the model supports, chosen from the model catalog).
    '''),
    code('''
        from pydantic import BaseModel, Field


        class Product(BaseModel):
            """A product launch mentioned in a text."""

            name: str = Field(description="The product's name")
            year: int = Field(description="The year it launched")
            open_beta: bool = Field(description="Whether it launched as an open beta")


        product = llm.with_structured_output(Product).invoke("Cloudflare launched Workers AI in 2023 as an open beta.")
        show("structured output", repr(product))
    '''),
    md('''
        ## Image generation

        The core returns the image as bytes whatever the model's answer format (raw PNG or base64
        JSON). On the emulator the picture is an 8x8 grid of colours derived from the prompt, not a
        drawing of it.
    '''),
    code('''
        from IPython.display import Image, display

        image = client.workers_ai.generate_image(IMAGE_MODEL, "a lighthouse on a cliff at dusk, watercolour")
        show("image", f"{image.content_type}, {len(image.image):,} bytes")
        display(Image(data=image.image, width=256))
    '''),
    md('''
        ## Speech recognition

        The notebook writes a short WAV file (a two-tone chime: there is no offline speech
        synthesiser here) and transcribes it. A real model hears no words in it; the emulator's
        stand-in reports what it received.
    '''),
    code('''
        import math
        import struct
        import tempfile
        import wave
        from pathlib import Path

        audio_path = Path(tempfile.mkdtemp()) / "chime.wav"
        rate = 16_000
        with wave.open(str(audio_path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            samples = (int(6000 * math.sin(2 * math.pi * (440 if i < rate else 660) * i / rate)) for i in range(2 * rate))
            wav.writeframes(b"".join(struct.pack("<h", s) for s in samples))

        transcript = client.workers_ai.transcribe(SPEECH_MODEL, audio_path.read_bytes())
        show("transcript", repr(transcript.text))
        print(f"duration {transcript.duration} s, {len(transcript.words)} word timings")
    '''),
    md('''
        ## Embeddings

        `CloudflareWorkersAIEmbeddings` batches at most 100 texts per request and keeps the input
        order. The stand-in embeddings match shared words, not meaning: the first two sentences are
        close because they share words.
    '''),
    code('''
        import numpy as np

        from cf_langchain import CloudflareWorkersAIEmbeddings

        embeddings = CloudflareWorkersAIEmbeddings(model=EMBEDDING_MODEL, **conn)
        sentences = ["The cat sleeps on the warm mat.", "A cat sleeps on a mat.", "Stock markets fell sharply today."]
        vectors = np.array(embeddings.embed_documents(sentences))
        print(f"[{SOURCE}] {vectors.shape[0]} vectors of {vectors.shape[1]} dimensions; cosine similarities:")
        similarity = vectors @ vectors.T / np.outer(np.linalg.norm(vectors, axis=1), np.linalg.norm(vectors, axis=1))
        for sentence, row in zip(sentences, similarity):
            print(f"  {sentence:<36}", "  ".join(f"{value:5.2f}" for value in row))
    '''),
    md("## Text classification"),
    code('''
        for text in ["This library made my afternoon wonderful.", "The upload failed again and I am annoyed."]:
            result = client.workers_ai.classify(text)
            show("sentiment", f"{result.top.label} ({result.top.score:.3f})  <- {text!r}")
    '''),
    md("## Translation"),
    code('''
        translation = client.workers_ai.translate("The index is ready for queries.", target_lang="fr")
        show("translation en->fr", translation.text)
    '''),
    md('''
        ## Vision

        An image goes in as a LangChain image content part; the core adapts it to what the model
        expects (content parts for Llama 4 Scout, an `image` field for Llama 3.2 Vision). The
        emulator's stand-in can only describe the format and size of the image.
    '''),
    code('''
        import base64

        data_uri = "data:image/png;base64," + base64.b64encode(image.image).decode()
        question = HumanMessage(content=[
            {"type": "text", "text": "Describe this image in one sentence."},
            {"type": "image_url", "image_url": {"url": data_uri}},
        ])
        show("vision", llm.invoke([question], model=VISION_MODEL).text)
    '''),
]

# --------------------------------------------------------------------------------------------
# 02: RAG with LangChain and Vectorize
# --------------------------------------------------------------------------------------------

RAG_LANGCHAIN: list[Cell] = [
    md('''
        # 2. RAG with LangChain and Vectorize

        Create an index and its metadata indexes, ingest the demo corpus, search with filters,
        namespaces and MMR, and answer questions with a RAG chain that cites its sources.

        On the emulator, embeddings and the chat model are **stand-ins** (embeddings match shared
        words, not meaning; the chat model quotes its context), and outputs that come from them are
        labelled.
    '''),
    SETUP,
    CORPUS,
    md('''
        ## Create the index and its metadata indexes

        `create_index()` sizes the index from the embedding model (768 dimensions for
        bge-base-en-v1.5). Filters only see properties that have a metadata index, and only for
        vectors written after it exists, so the metadata index comes first.
    '''),
    code('''
        from cf_langchain import CloudflareVectorize, CloudflareWorkersAIEmbeddings

        INDEX = f"nb02-{RUN}"
        embeddings = CloudflareWorkersAIEmbeddings(model="@cf/baai/bge-base-en-v1.5", **conn)
        store = CloudflareVectorize(embedding=embeddings, index_name=INDEX, **conn)
        info = store.create_index(metadata_indexes={"topic": "string"})
        print(f"index {info.name}: {info.dimensions} dimensions, {info.metric}")
        print("metadata indexes:", [(m.property_name, m.index_type) for m in client.vectorize.list_metadata_indexes(INDEX)])
    '''),
    md('''
        ## Ingest

        Documents about this project go to the namespace `project`; documents about Cloudflare's
        services go to `cloudflare`. `add_texts` embeds, upserts and waits until the writes are
        queryable (Vectorize applies writes asynchronously).
    '''),
    code('''
        def add(namespace, docs):
            return store.add_texts([d["text"] for d in docs], ids=[d["id"] for d in docs], namespace=namespace,
                                   metadatas=[{"topic": d["topic"], "title": d["title"]} for d in docs])


        project_docs = [d for d in corpus if d["topic"] in ("project", "emulator")]
        cloudflare_docs = [d for d in corpus if d["topic"] not in ("project", "emulator")]
        print(len(add("project", project_docs)), "documents in namespace 'project'")
        print(len(add("cloudflare", cloudflare_docs)), "documents in namespace 'cloudflare'")
        print("vectors in the index:", client.vectorize.index_info(INDEX).vector_count)
    '''),
    md('''
        ## Search: plain, filtered, namespaced

        Scores are Vectorize's cosine similarities (higher is closer).
    '''),
    code('''
        def print_hits(label, hits):
            print(f"[{SOURCE}] search, {label}:")
            for doc, score in hits:
                print(f"   {score:.3f}  {doc.id:<28} topic={doc.metadata['topic']}")


        QUERY = "limits of a Vectorize index"
        print_hits("all namespaces", store.similarity_search_with_score(QUERY, k=3))
        print_hits("filter topic = kv or ai-gateway",
                   store.similarity_search_with_score(QUERY, k=3, filter={"topic": {"$in": ["kv", "ai-gateway"]}}))
        print_hits("namespace 'project' only", store.similarity_search_with_score(QUERY, k=3, namespace="project"))
    '''),
    md('''
        ## Maximal marginal relevance

        MMR picks documents that are relevant *and* different from each other, from `fetch_k`
        candidates. Compare it with plain similarity on the same query.
    '''),
    code('''
        QUERY = "Vectorize metadata"
        print(f"[{SOURCE}] similarity:   ", [d.id for d in store.similarity_search(QUERY, k=4)])
        print(f"[{SOURCE}] MMR:          ",
              [d.id for d in store.max_marginal_relevance_search(QUERY, k=4, fetch_k=12, lambda_mult=0.3)])
        retriever = store.as_retriever(search_type="mmr", search_kwargs={"k": 3, "fetch_k": 12})
        print(f"[{SOURCE}] MMR retriever:", [d.id for d in retriever.invoke(QUERY)])
    '''),
    md('''
        ## A RAG chain with sources

        Retrieve with scores, number the passages, ask the model to cite them, and return the answer
        together with the sources.
    '''),
    code('''
        from langchain_core.prompts import ChatPromptTemplate
        from langchain_core.runnables import RunnableLambda, RunnableParallel, RunnablePassthrough

        from cf_langchain import ChatCloudflareWorkersAI

        llm = ChatCloudflareWorkersAI(model="@cf/meta/llama-3.3-70b-instruct-fp8-fast", temperature=0, max_tokens=256,
                                      **conn)
        prompt = ChatPromptTemplate.from_messages([
            ("system", "Answer from the numbered passages only and cite them like [1].\\n\\n{context}"),
            ("human", "{question}"),
        ])


        def context(x):
            passages = "\\n".join(f"[{n}] {doc.page_content}" for n, (doc, _) in enumerate(x["hits"], 1))
            return {"question": x["question"], "context": passages}


        retrieve = RunnableLambda(lambda question: store.similarity_search_with_score(question, k=3))
        chain = (RunnableParallel(question=RunnablePassthrough(), hits=retrieve)
                 | RunnablePassthrough.assign(answer=RunnableLambda(context) | prompt | llm))

        for question in ["How is Workers AI billed?", "How large can a Workers KV key and value be?"]:
            result = chain.invoke(question)
            print("Q:", question)
            show("A", result["answer"].text)
            for n, (doc, score) in enumerate(result["hits"], 1):
                print(f"   [{n}] {score:.3f} {doc.id} ({doc.metadata['title']})")
            print()
    '''),
    md("## Clean up\n\nDeletes the index this notebook created."),
    code('''
        store.delete_index()
        print("deleted", INDEX)
    '''),
]

# --------------------------------------------------------------------------------------------
# 03: RAG with LlamaIndex and Vectorize
# --------------------------------------------------------------------------------------------

RAG_LLAMAINDEX: list[Cell] = [
    md('''
        # 3. RAG with LlamaIndex and Vectorize

        The same journey with LlamaIndex: a `CloudflareVectorizeVectorStore` behind a
        `VectorStoreIndex`, metadata filters, a namespace, MMR, and a query engine that returns its
        source nodes.

        LlamaIndex defaults to OpenAI models, so the first thing to do is set `Settings.llm` and
        `Settings.embed_model` to Workers AI. On the emulator both are **stand-ins**.
    '''),
    SETUP,
    CORPUS,
    code('''
        from llama_index.core import Document, Settings, StorageContext, VectorStoreIndex

        from cf_llamaindex import CloudflareVectorizeVectorStore, CloudflareWorkersAI, CloudflareWorkersAIEmbedding

        Settings.llm = CloudflareWorkersAI(model="@cf/meta/llama-3.3-70b-instruct-fp8-fast", temperature=0, **conn)
        Settings.embed_model = CloudflareWorkersAIEmbedding(model_name="@cf/baai/bge-base-en-v1.5", **conn)
        documents = [Document(text=d["text"], id_=d["id"], metadata={"topic": d["topic"], "title": d["title"]})
                     for d in corpus]
    '''),
    md('''
        ## Create the index and its metadata indexes

        `create_index` also creates a metadata index on `ref_doc_id` (so documents can be deleted
        by id) and the ones asked for, before anything is written.
    '''),
    code('''
        INDEX = f"nb03-{RUN}"
        store = CloudflareVectorizeVectorStore(index_name=INDEX, **conn)
        info = store.create_index(dimensions=Settings.embed_model.dimensions, metadata_indexes={"topic": "string"})
        print(f"index {info.name}: {info.dimensions} dimensions, {info.metric}")
        print("metadata indexes:", [m.property_name for m in client.vectorize.list_metadata_indexes(INDEX)])
    '''),
    md("## Ingest with a `VectorStoreIndex`"),
    code('''
        index = VectorStoreIndex.from_documents(documents, storage_context=StorageContext.from_defaults(vector_store=store))
        print("vectors in the index:", client.vectorize.index_info(INDEX).vector_count)
    '''),
    md('''
        ## Retrieve: plain, filtered, MMR

        Plain and filtered scores are similarities in [0, 1]; MMR scores are LlamaIndex's MMR
        objective (relevance minus similarity to what was already picked), which can be negative.
    '''),
    code('''
        from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters


        def print_nodes(label, nodes):
            print(f"[{SOURCE}] search, {label}:")
            for n in nodes:
                print(f"   {n.score:.3f}  {n.node.ref_doc_id or n.node.node_id:<28} topic={n.node.metadata['topic']}")


        QUERY = "How many vectors can an index hold?"
        print_nodes("plain", index.as_retriever(similarity_top_k=3).retrieve(QUERY))
        only_limits = MetadataFilters(filters=[MetadataFilter(key="topic", value=["kv", "workers-ai"],
                                                              operator=FilterOperator.IN)])
        print_nodes("filter topic in (kv, workers-ai)",
                    index.as_retriever(similarity_top_k=3, filters=only_limits).retrieve(QUERY))
        print_nodes("MMR", index.as_retriever(similarity_top_k=3, vector_store_query_mode="mmr",
                                              vector_store_kwargs={"mmr_threshold": 0.4}).retrieve(QUERY))
    '''),
    md('''
        ## A query engine with sources

        On the emulator the stand-in answers by quoting the sentences of its prompt that share the
        most words with the question, which can include LlamaIndex's own instructions.
    '''),
    code('''
        engine = index.as_query_engine(similarity_top_k=3)
        for question in ["How does AI Gateway cache answers?", "What does the emulator's stand-in chat model do?"]:
            response = engine.query(question)
            print("Q:", question)
            show("A", str(response))
            for n, source in enumerate(response.source_nodes, 1):
                print(f"   [{n}] {source.score:.3f} {source.node.ref_doc_id} ({source.node.metadata['title']})")
            print()
    '''),
    md('''
        ## A namespace

        A store with `namespace=` writes to and searches in that namespace only, like a tenant.
        (A store without one searches every namespace.) The bulk path `ingest_nodes` embeds and
        writes in one overlapped pass, with progress.
    '''),
    code('''
        from llama_index.core.schema import TextNode

        tenant = CloudflareVectorizeVectorStore(index_name=INDEX, namespace="tenant-b", **conn)
        notes = ["Tenant B stores invoices in Vectorize.", "Tenant B caches answers with AI Gateway."]
        nodes = [TextNode(text=t, id_=f"tenant-b-{i}", metadata={"topic": "tenant"}) for i, t in enumerate(notes)]
        tenant.ingest_nodes(nodes, Settings.embed_model, on_progress=lambda done, total: print(f"  written {done}/{total}"))
        tenant_index = VectorStoreIndex.from_vector_store(tenant)
        print_nodes("namespace 'tenant-b'", tenant_index.as_retriever(similarity_top_k=3).retrieve("AI Gateway caching"))
    '''),
    md("## Clean up"),
    code('''
        client.vectorize.delete_index(INDEX)
        print("deleted", INDEX)
    '''),
]

# --------------------------------------------------------------------------------------------
# 04: Agents
# --------------------------------------------------------------------------------------------

AGENTS: list[Cell] = [
    md('''
        # 4. Agents with tool calling, in LangChain and LlamaIndex

        Both frameworks get the same tools: Workers AI task models (image generation, speech
        recognition, translation, sentiment) and a search over a Vectorize index.

        On the emulator the chat model is a **stand-in** that calls the tools a request names, with
        arguments taken from the text, and then quotes their results: it shows the loop working,
        not a model's judgement.
    '''),
    SETUP,
    CORPUS,
    code('''
        from cf_langchain import ChatCloudflareWorkersAI, CloudflareVectorize, CloudflareWorkersAIEmbeddings

        INDEX = f"nb04-{RUN}"
        CHAT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
        store = CloudflareVectorize.from_texts(
            [d["text"] for d in corpus], CloudflareWorkersAIEmbeddings(model="@cf/baai/bge-base-en-v1.5", **conn),
            ids=[d["id"] for d in corpus], metadatas=[{"source": d["id"], "topic": d["topic"]} for d in corpus],
            index_name=INDEX, **conn)
        print("vectors in", INDEX, ":", client.vectorize.index_info(INDEX).vector_count)
    '''),
    md('''
        ## LangChain

        A plain agent loop: the model asks for tool calls, we run them and send the results back
        until it answers. Images come back as a tool *artifact*, so the image bytes never enter
        the model's context.
    '''),
    code('''
        from langchain_core.messages import HumanMessage

        from cf_langchain import (
            CloudflareImageGenerationTool,
            CloudflareTextClassificationTool,
            CloudflareTranslationTool,
            CloudflareVectorizeSearchTool,
        )

        tools = [CloudflareVectorizeSearchTool(vectorstore=store, k=2), CloudflareTextClassificationTool(**conn),
                 CloudflareTranslationTool(**conn), CloudflareImageGenerationTool(**conn)]
        llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, temperature=0, max_tokens=300, **conn)


        def run_agent(task, max_steps=4):
            by_name = {t.name: t for t in tools}
            model = llm.bind_tools(tools)
            messages = [HumanMessage(task)]
            for step in range(1, max_steps + 1):
                reply = model.invoke(messages)
                messages.append(reply)
                if not reply.tool_calls:
                    show(f"step {step} answer", reply.text[:400])
                    return messages
                for call in reply.tool_calls:
                    result = by_name[call["name"]].invoke(call)
                    messages.append(result)
                    print(f"step {step}: {call['name']}({call['args']}) -> {str(result.content)[:120]}")
            return messages


        messages = run_agent("Search the handbook with vectorize_search for 'gateway metadata entries', then use "
                             "classify_sentiment on the review 'The emulator made testing wonderful and fast'.")
    '''),
    code('''
        messages = run_agent("Use generate_image to draw 'a lighthouse at dusk'.")
        image_results = [m for m in messages if getattr(m, "name", None) == "generate_image"]
        if image_results:
            from IPython.display import Image, display
            import base64

            artifact = image_results[0].artifact
            print(f"[{SOURCE}] image artifact: {artifact['mime_type']}, shown below (the model saw only a description)")
            display(Image(data=base64.b64decode(artifact["base64"]), width=192))
    '''),
    md('''
        ## LlamaIndex

        `CloudflareToolSpec` turns the same Workers AI tasks and a Vectorize search into LlamaIndex
        tools for a `FunctionAgent`. The agent runs as a workflow; its events show each tool call.
    '''),
    code('''
        from llama_index.core import Settings
        from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult

        from cf_llamaindex import (
            CloudflareToolSpec,
            CloudflareVectorizeVectorStore,
            CloudflareWorkersAI,
            CloudflareWorkersAIEmbedding,
        )

        Settings.llm = CloudflareWorkersAI(model=CHAT_MODEL, temperature=0, **conn)
        Settings.embed_model = CloudflareWorkersAIEmbedding(model_name="@cf/baai/bge-base-en-v1.5", **conn)
        # Nodes written by LlamaIndex carry their text in a different metadata layout, so it gets its own index.
        li_store = CloudflareVectorizeVectorStore(index_name=f"nb04-li-{RUN}", **conn)
        li_store.create_index(dimensions=Settings.embed_model.dimensions)
        from llama_index.core import Document, StorageContext, VectorStoreIndex

        VectorStoreIndex.from_documents([Document(text=d["text"], id_=d["id"]) for d in corpus],
                                        storage_context=StorageContext.from_defaults(vector_store=li_store))
        spec = CloudflareToolSpec(vector_store=li_store, embed_model=Settings.embed_model, search_top_k=2, **conn)
        agent = FunctionAgent(tools=spec.to_tool_list(), llm=Settings.llm,
                              system_prompt="You help with questions about a software project. Use the tools.")
        print("tools:", [t.metadata.name for t in spec.to_tool_list()])
    '''),
    code('''
        handler = agent.run("Use search_documents to find 'gateway metadata entries', then use classify_text on "
                            "the review 'The emulator made testing wonderful and fast'.")
        async for event in handler.stream_events():
            if isinstance(event, ToolCallResult):
                print(f"{event.tool_name}({event.tool_kwargs}) -> {str(event.tool_output)[:120]}")
        show("answer", str(await handler)[:400])
    '''),
    md("## Clean up"),
    code('''
        for name in (INDEX, f"nb04-li-{RUN}"):
            client.vectorize.delete_index(name)
            print("deleted", name)
    '''),
]

# --------------------------------------------------------------------------------------------
# 05: AI Gateway
# --------------------------------------------------------------------------------------------

GATEWAY: list[Cell] = [
    md('''
        # 5. AI Gateway

        Routing through a gateway, caching, metadata and logs, fallback between providers through
        the universal endpoint, rate limiting, and cost tracking, ending with a plot of latency and
        cache hits over a run.

        On the emulator the gateway is emulated in full (cache, logs, rate limits, fallback), the
        models are **stand-ins**, and model latency is simulated (see the plot section). On
        Cloudflare, this notebook creates two gateways and deletes them at the end (the token needs
        AI Gateway edit permission).
    '''),
    SETUP,
    code('''
        from cf_core import Gateway

        MODEL = "@cf/meta/llama-3.1-8b-instruct"
        GATEWAY_ID = f"nb05-{RUN}"
        created = client.ai_gateway.create_gateway(GATEWAY_ID, collect_logs=True)
        print("gateway", created["id"], "- logs:", created["collect_logs"], " cache TTL:", created["cache_ttl"])


        CONTEXT = ("AI Gateway sits between an application and its AI providers. It caches answers, logs requests, "
                   "limits request rates and falls back to another provider when one fails.")


        def ask(question, gateway, **kwargs):
            messages = [{"role": "system", "content": CONTEXT}, {"role": "user", "content": question}]
            return client.workers_ai.chat(MODEL, messages, gateway=gateway, max_tokens=64, **kwargs)
    '''),
    md('''
        ## Routing

        Any call can carry a gateway (an id, or a `Gateway` with options); the client rewrites the
        URL to the gateway form and reads back what the gateway reported. LangChain and LlamaIndex
        models take the same value as `ai_gateway=`.
    '''),
    code('''
        from cf_langchain import ChatCloudflareWorkersAI

        result = ask("What does AI Gateway do?", GATEWAY_ID)
        show("answer", result.text)
        print("gateway info:", result.gateway)

        llm = ChatCloudflareWorkersAI(model=MODEL, max_tokens=64, ai_gateway=GATEWAY_ID, **conn)
        reply = llm.invoke("Name one AI Gateway feature.")
        show("LangChain answer", reply.text)
        print("response metadata:", {k: reply.response_metadata.get(k) for k in ("cache_status", "log_id")})
    '''),
    md('''
        ## Caching

        `cache_ttl` turns on caching for a request; the same request again is a HIT that costs no
        neurons. `skip_cache` bypasses it, and `cache_key` sets your own key.
    '''),
    code('''
        cached = Gateway(id=GATEWAY_ID, cache_ttl=600)
        for label, gateway in [("first", cached), ("again", cached), ("skip_cache", cached.model_copy(update={"skip_cache": True})),
                               ("custom key", cached.model_copy(update={"cache_key": f"faq-{RUN}"})),
                               ("custom key, other text", cached.model_copy(update={"cache_key": f"faq-{RUN}"}))]:
            question = "What is Vectorize?" if label != "custom key, other text" else "Tell me about Vectorize."
            print(f"{label:<24} cache {ask(question, gateway).gateway.cache_status}")
    '''),
    md('''
        ## Metadata and logs

        Up to five metadata entries travel with a request and land in the gateway's log, where
        they can be filtered on. (On Cloudflare, logs take a few seconds to appear.)
    '''),
    code('''
        import time

        tagged = Gateway(id=GATEWAY_ID, metadata={"team": "docs", "notebook": "05", "run": RUN}, event_id=f"evt-{RUN}")
        ask("How are gateway logs filtered?", tagged)


        def logs_where(gateway_id, wait_s=30, **filters):
            deadline = time.monotonic() + (wait_s if ON_CLOUDFLARE else 0)
            while True:
                found = client.ai_gateway.list_logs(gateway_id, **filters)
                if found or time.monotonic() >= deadline:
                    return found
                time.sleep(2)


        entries = logs_where(GATEWAY_ID, filters=[{"key": "metadata.value", "operator": "eq", "value": [RUN]}])
        for entry in entries:
            print(f"log {entry.id}: {entry.model}, status {entry.status_code}, tokens {entry.tokens_in}/{entry.tokens_out}, "
                  f"cost ${entry.cost or 0:.8f}, metadata {entry.metadata}, event {entry.event_id}")
        all_logs = logs_where(GATEWAY_ID, per_page=50)
        print(f"{len(all_logs)} log entries so far, {sum(1 for e in all_logs if e.cached)} of them cache hits")
    '''),
    md('''
        ## Fallback between providers (universal endpoint)

        The gateway tries the steps in order and answers with the first that succeeds. Here the
        OpenAI step fails on purpose: on the emulator its OpenAI stand-in's `error-503` model always
        fails; on Cloudflare the key is not a real one. Workers AI answers instead.
    '''),
    code('''
        from cf_core.ai_gateway import FallbackStep

        messages = [{"role": "user", "content": "Say hello from the fallback."}]
        steps = [
            FallbackStep.openai("gpt-4o-mini" if ON_CLOUDFLARE else "error-503", messages, api_key="sk-not-a-real-key"),
            FallbackStep.workers_ai(MODEL, {"messages": messages, "max_tokens": 32}),
        ]
        answer = client.ai_gateway.universal(steps, gateway=GATEWAY_ID, workers_ai_token=client.config.api_token)
        print(f"answered by step {answer.step} ({steps[answer.step].provider}), HTTP {answer.status}")
        show("answer", answer.body["result"]["response"])
    '''),
    md('''
        ## Rate limiting

        A second gateway allows three requests a minute. The fourth gets HTTP 429, raised as
        `GatewayRateLimitError` with the `Retry-After` delay. The client used here does not retry,
        so the error shows at once (the default client would wait and retry).
    '''),
    code('''
        from cf_core import RateLimitError  # GatewayRateLimitError when the gateway says it was its limit

        LIMITED = f"nb05-limited-{RUN}"
        client.ai_gateway.create_gateway(LIMITED, rate_limiting_limit=3, rate_limiting_interval=60,
                                         rate_limiting_technique="fixed")
        no_retry = CloudflareClient(max_retries=0) if ON_CLOUDFLARE else local_client(emulator, max_retries=0)
        for i in range(1, 5):
            try:
                no_retry.workers_ai.chat(MODEL, [{"role": "user", "content": f"request {i}"}], gateway=LIMITED, max_tokens=8)
                print(f"request {i}: ok")
            except RateLimitError as exc:
                print(f"request {i}: rate limited ({type(exc).__name__}), retry after {exc.retry_after} s: {exc}")
    '''),
    md('''
        ## Cost tracking

        Each result carries its usage, neurons and estimated price; a `UsageTracker` adds them up
        per model and counts cache hits as free. The gateway's logs keep their own cost figures.
    '''),
    code('''
        from cf_core.usage import UsageTracker

        tracker = UsageTracker()
        for question in ["What is Workers AI?", "What is Workers AI?", "What is Workers KV?"]:
            result = ask(question, cached)
            tracker.record(MODEL, result.usage, result.gateway)
        for model, usage in tracker.by_model().items():
            print(f"{model}: {usage.requests} requests, {usage.cache_hits} cache hits, {usage.total_tokens} tokens, "
                  f"{usage.neurons:.2f} neurons, ${usage.usd:.6f}")
        logged = logs_where(GATEWAY_ID, per_page=50)
        print(f"gateway logs: {len(logged)} entries, total cost ${sum(e.cost or 0 for e in logged):.6f}")
    '''),
    md('''
        ## Latency and cache hits over a run

        Twenty-four requests cycling over six questions: the first round misses the cache, the
        rest hit it. On the emulator, 150 ms of model latency is **simulated** (fault injection on
        the Workers AI path only), so the difference a cache makes is visible; the gateway itself
        adds none. On Cloudflare the latencies are real.
    '''),
    code('''
        if emulator is not None:
            from cf_core.local import FaultConfig

            emulator.faults.configure(FaultConfig(latency_ms=150, paths="/ai/run/"))

        questions = [f"Question {n} about Cloudflare's AI platform." for n in range(6)]
        latencies, hits = [], []
        for i in range(24):
            started = time.perf_counter()
            status = ask(questions[i % 6], cached).gateway.cache_status
            latencies.append((time.perf_counter() - started) * 1000)
            hits.append(status == "HIT")
        if emulator is not None:
            emulator.faults.configure(FaultConfig())
        misses = [ms for ms, hit in zip(latencies, hits) if not hit]
        cached_ms = [ms for ms, hit in zip(latencies, hits) if hit]
        print(f"{len(cached_ms)} hits of {len(hits)}; mean latency: miss {sum(misses) / max(len(misses), 1):.0f} ms, "
              f"hit {sum(cached_ms) / max(len(cached_ms), 1):.0f} ms")
    '''),
    code('''
        import io

        import matplotlib

        matplotlib.use("Agg")  # non-interactive: the figure is rendered to PNG and displayed
        import matplotlib.pyplot as plt
        from IPython.display import Image, display
        from matplotlib.patches import Patch

        fig, ax = plt.subplots(figsize=(9, 4))
        requests = range(1, len(latencies) + 1)
        ax.bar(requests, latencies, color=["tab:green" if hit else "tab:orange" for hit in hits])
        ax.set_xlabel("request")
        ax.set_ylabel("latency (ms)")
        ax2 = ax.twinx()
        hit_rate = [sum(hits[: i + 1]) / (i + 1) for i in range(len(hits))]
        ax2.plot(requests, hit_rate, color="tab:blue", marker=".")
        ax2.set_ylim(0, 1.05)
        ax2.set_ylabel("cumulative cache hit rate")
        ax.legend(handles=[Patch(color="tab:orange", label="cache MISS"), Patch(color="tab:green", label="cache HIT"),
                           Patch(color="tab:blue", label="hit rate")], loc="center right")
        backend = "Cloudflare" if ON_CLOUDFLARE else "emulator, simulated model latency"
        ax.set_title(f"AI Gateway: latency per request and cache hit rate\\n({backend})")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        plt.close(fig)
        display(Image(data=buffer.getvalue()))
    '''),
    md("## Clean up\n\nDeletes the two gateways (and their logs)."),
    code('''
        for gateway_id in (GATEWAY_ID, LIMITED):
            client.ai_gateway.delete_gateway(gateway_id)
            print("deleted gateway", gateway_id)
    '''),
]

NOTEBOOKS: dict[str, list[Cell]] = {
    "01_workers_ai_tour.ipynb": TOUR,
    "02_rag_langchain_vectorize.ipynb": RAG_LANGCHAIN,
    "03_rag_llamaindex_vectorize.ipynb": RAG_LLAMAINDEX,
    "04_agents.ipynb": AGENTS,
    "05_ai_gateway.ipynb": GATEWAY,
}


def build(cells: list[Cell]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for n, (kind, source) in enumerate(cells):
        cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
        cell.id = f"cell-{n:02d}"  # stable ids keep rebuilds byte-identical
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render() -> dict[str, str]:
    """File name -> notebook JSON, exactly as written to disk."""
    return {name: nbformat.writes(build(cells)) + "\n" for name, cells in NOTEBOOKS.items()}


def main() -> int:
    for name, text in render().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print("wrote", HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
