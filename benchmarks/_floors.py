"""Framework floors: the thinnest possible LangChain / LlamaIndex models, each a bare httpx call.

They send exactly the bare-httpx request and parse it the bare way, so their per-call time minus
bare httpx is what the framework itself (callbacks, message objects, run managers) costs. An
adapter cannot be cheaper than its framework's floor; the distance to it is the adapter's own cost.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Generator, Iterator, Sequence
from typing import Any

import httpx

from . import _data as D

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "user": "user", "assistant": "assistant"}


def bare_chat(http: httpx.Client, account: str, messages: list[dict[str, str]], **extra: Any) -> str:
    resp = http.post(f"accounts/{account}/ai/run/{D.CHAT_MODEL}", json={"messages": messages, **extra})
    resp.raise_for_status()
    return str(resp.json()["result"]["response"])


def bare_stream(http: httpx.Client, account: str, messages: list[dict[str, str]], **extra: Any) -> Iterator[str]:
    body = {"messages": messages, "stream": True, **extra}
    with http.stream("POST", f"accounts/{account}/ai/run/{D.CHAT_MODEL}", json=body) as resp:
        resp.raise_for_status()
        for line in resp.iter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                return
            text = json.loads(data).get("response")
            if text:
                yield text


def bare_embed(http: httpx.Client, account: str, text: str) -> list[float]:
    resp = http.post(f"accounts/{account}/ai/run/{D.EMBED_MODEL}", json={"text": [text]})
    resp.raise_for_status()
    return list(resp.json()["result"]["data"][0])


def langchain_floor(http: httpx.Client, account: str, **extra: Any) -> tuple[Any, Any]:
    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    def wire(messages: list[BaseMessage]) -> list[dict[str, str]]:
        return [{"role": _ROLES.get(m.type, m.type), "content": str(m.content)} for m in messages]

    class BareChat(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "bare-httpx"

        def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                      run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
            text = bare_chat(http, account, wire(messages), **extra)
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

        def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                    run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
            for text in bare_stream(http, account, wire(messages), **extra):
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager is not None:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk

    class BareEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [bare_embed(http, account, t) for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return bare_embed(http, account, text)

    return BareChat(), BareEmbeddings()


def llamaindex_floor(http: httpx.Client, account: str, **extra: Any) -> tuple[Any, Any]:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        ChatResponseGen,
        CompletionResponse,
        LLMMetadata,
        MessageRole,
    )
    from llama_index.core.llms import LLM
    from llama_index.core.llms.callbacks import llm_chat_callback

    def wire(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
        return [{"role": m.role.value, "content": m.content or ""} for m in messages]

    class BareLLM(LLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(model_name=D.CHAT_MODEL, is_chat_model=True)

        @llm_chat_callback()
        def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
            text = bare_chat(http, account, wire(messages), **extra)
            return ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=text))

        @llm_chat_callback()
        def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
            pieces = bare_stream(http, account, wire(messages), **extra)

            def gen() -> Generator[ChatResponse, None, None]:
                content = ""
                for text in pieces:
                    content += text
                    yield ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT, content=content), delta=text)

            return gen()

        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            raise NotImplementedError

        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError

        async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
            raise NotImplementedError

        async def acomplete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            raise NotImplementedError

        async def astream_chat(self, messages: Sequence[ChatMessage],
                               **kwargs: Any) -> AsyncGenerator[ChatResponse, None]:
            raise NotImplementedError

        async def astream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError

    class BareEmbedding(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return bare_embed(http, account, query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return bare_embed(http, account, text)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            raise NotImplementedError

    return BareLLM(), BareEmbedding(model_name="bare-httpx")
