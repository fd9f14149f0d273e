"""A RAG chain (retriever | prompt | ChatCloudflareWorkersAI | StrOutputParser) over Vectorize, end to
end against the emulator: sync, async, streaming and async streaming.

The emulator's chat model is a stand-in that answers by quoting the context it was given, so these
tests check the wire, not intelligence: which document the Vectorize query retrieved, that exactly
that passage (and no other) reached the chat request, and that the answer came back through the
chain's parser (and as several chunks when streaming)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from cf_langchain.chat_models import ChatCloudflareWorkersAI
from cf_langchain.embeddings import CloudflareWorkersAIEmbeddings
from cf_langchain.vectorstores import CloudflareVectorize

if TYPE_CHECKING:
    from conftest import Wire

CHAT_MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
FACTS = {
    "lighthouse": "The lighthouse festival takes place every August in the harbour town of Porthcawl.",
    "bakery": "The oldest bakery in the valley sells rye bread baked in a wood-fired oven.",
    "observatory": "The hilltop observatory opens its telescope to visitors on clear Friday nights.",
}
QUESTION = "When does the lighthouse festival take place?"


class Rag:
    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        embedding = CloudflareWorkersAIEmbeddings(client=wire.client, async_client=wire.aclient)
        self.store = CloudflareVectorize.from_texts(
            list(FACTS.values()), embedding, metadatas=[{"source": f"{k}.md"} for k in FACTS], ids=list(FACTS),
            index_name="rag", client=wire.client, async_client=wire.aclient)
        self.retrieved: list[Document] = []
        prompt = ChatPromptTemplate.from_messages([
            ("system", "Answer the question using only this context.\n\nContext:\n{context}"),
            ("human", "{question}"),
        ])
        llm = ChatCloudflareWorkersAI(model=CHAT_MODEL, client=wire.client, async_client=wire.aclient)
        retriever = self.store.as_retriever(search_kwargs={"k": 1})
        self.chain: Runnable[str, str] = (
            {"context": retriever | RunnableLambda(self._format), "question": RunnablePassthrough()}
            | prompt | llm | StrOutputParser())
        wire.clear()

    def _format(self, docs: list[Document]) -> str:
        self.retrieved.extend(docs)
        return "\n".join(f"[{d.metadata['source']}] {d.page_content}" for d in docs)

    def chat_bodies(self) -> list[dict[str, Any]]:
        return self.wire.bodies(f"/ai/run/{CHAT_MODEL}")

    def check_wire(self, answer: str, *, streamed: bool) -> None:
        # Vectorize was asked for exactly one match, and the lighthouse passage came back.
        (query,) = self.wire.bodies("/query")
        assert query["topK"] == 1
        assert [d.id for d in self.retrieved] == ["lighthouse"]
        # That passage, with its source, and no other, reached the chat model's request.
        (body,) = self.chat_bodies()
        assert bool(body.get("stream")) is streamed
        system, user = body["messages"]
        assert system["role"] == "system" and f"[lighthouse.md] {FACTS['lighthouse']}" in system["content"]
        assert FACTS["bakery"] not in system["content"] and FACTS["observatory"] not in system["content"]
        assert user == {"role": "user", "content": QUESTION}
        # The stand-in quotes the passage it was given; the parser handed back plain text.
        assert isinstance(answer, str) and "every August in the harbour town of Porthcawl" in answer


@pytest.fixture
def rag(wire: Wire) -> Iterator[Rag]:
    yield Rag(wire)


def test_rag_invoke(rag: Rag) -> None:
    rag.check_wire(rag.chain.invoke(QUESTION), streamed=False)


async def test_rag_ainvoke(rag: Rag) -> None:
    rag.check_wire(await rag.chain.ainvoke(QUESTION), streamed=False)


def test_rag_stream(rag: Rag) -> None:
    chunks = list(rag.chain.stream(QUESTION))
    assert len(chunks) > 1 and all(isinstance(c, str) for c in chunks)
    rag.check_wire("".join(chunks), streamed=True)


async def test_rag_astream(rag: Rag) -> None:
    chunks = [c async for c in rag.chain.astream(QUESTION)]
    assert len(chunks) > 1
    rag.check_wire("".join(chunks), streamed=True)


def test_rag_answer_follows_the_retrieved_document(rag: Rag) -> None:
    """A different question retrieves a different passage, and the answer changes with it."""
    answer = rag.chain.invoke("Which night can visitors use the observatory telescope?")
    assert [d.id for d in rag.retrieved] == ["observatory"]
    assert "clear Friday nights" in answer and "Porthcawl" not in answer
