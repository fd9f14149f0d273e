"""A LangChain tool that lets an agent search a Cloudflare Vectorize store.

The model sees numbered passages with their source and a [0, 1] relevance; the program gets the
matching documents as the tool's artifact (``response_format="content_and_artifact"``).
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.documents import Document
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field

from cf_core.vectorize.validation import MAX_TOP_K_WITH_VALUES

from .vectorstores import CloudflareVectorize

__all__ = ["CloudflareVectorizeSearchTool", "VectorizeSearchInput"]

NO_RESULTS = "No relevant passages found."


class VectorizeSearchInput(BaseModel):
    """What the model passes to the tool."""

    query: str = Field(min_length=1, description="What to look for, as a natural-language question or phrase.")
    k: int | None = Field(default=None, ge=1, le=MAX_TOP_K_WITH_VALUES,
                          description="How many passages to return (default: the tool's setting).")


class CloudflareVectorizeSearchTool(BaseTool):
    """Search a :class:`CloudflareVectorize` store; answers with the top passages, sources and scores.

    Example:
        .. code-block:: python

            tool = CloudflareVectorizeSearchTool(vectorstore=store, k=3,
                                                 description="Search the product handbook.")
            agent = create_agent(llm, tools=[tool])

    Fixed ``filter`` / ``namespace`` settings scope every search (e.g. to one tenant); the model
    cannot change them. ``score_threshold`` drops passages below that relevance.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = "vectorize_search"
    description: str = (
        "Search the knowledge base for passages relevant to a question. Returns the most relevant passages, "
        "each with its source and a relevance score between 0 and 1. Use it before answering questions "
        "about the documents.")
    args_schema: type[BaseModel] = VectorizeSearchInput
    response_format: Literal["content", "content_and_artifact"] = "content_and_artifact"

    vectorstore: CloudflareVectorize = Field(exclude=True)
    """The store to search."""
    k: int = Field(default=4, ge=1, le=MAX_TOP_K_WITH_VALUES)
    """Passages returned when the model does not ask for a number."""
    filter: dict[str, Any] | None = None
    """A Vectorize metadata filter applied to every search."""
    namespace: str | None = None
    """Namespace searched (default: the store's)."""
    score_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    """Leave out passages whose relevance is below this."""
    source_key: str = "source"
    """Metadata key shown as a passage's source (the document id when absent)."""
    max_passage_chars: int | None = Field(default=2000, ge=1)
    """Long passages are cut to this many characters in the text the model sees (not in the artifact)."""

    def _search_kwargs(self, k: int | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"k": k or self.k}
        if self.filter is not None:
            kwargs["filter"] = self.filter
        if self.namespace is not None:
            kwargs["namespace"] = self.namespace
        if self.score_threshold is not None:
            kwargs["score_threshold"] = self.score_threshold
        return kwargs

    def _render(self, pairs: list[tuple[Document, float]]) -> tuple[str, list[Document]]:
        if not pairs:
            return NO_RESULTS, []
        blocks, artifact = [], []
        for n, (doc, relevance) in enumerate(pairs, 1):
            source = doc.metadata.get(self.source_key) or doc.id or "unknown"
            text = doc.page_content
            if self.max_passage_chars is not None and len(text) > self.max_passage_chars:
                text = text[: self.max_passage_chars] + " [...]"
            blocks.append(f"[{n}] source: {source} (relevance {relevance:.2f})\n{text}")
            artifact.append(Document(id=doc.id, page_content=doc.page_content,
                                     metadata={**doc.metadata, "relevance_score": relevance}))
        return "\n\n".join(blocks), artifact

    def _run(self, query: str, k: int | None = None,
             run_manager: CallbackManagerForToolRun | None = None) -> tuple[str, list[Document]]:
        pairs = self.vectorstore.similarity_search_with_relevance_scores(query, **self._search_kwargs(k))
        return self._render(pairs)

    async def _arun(self, query: str, k: int | None = None,
                    run_manager: AsyncCallbackManagerForToolRun | None = None) -> tuple[str, list[Document]]:
        pairs = await self.vectorstore.asimilarity_search_with_relevance_scores(query, **self._search_kwargs(k))
        return self._render(pairs)
