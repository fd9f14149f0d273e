"""Workers AI: chat (streaming, tools, JSON mode, vision), embeddings, images, speech, classification,
translation, the OpenAI-compatible endpoints and model search.

Each operation is one pure builder (in the modules of this package); :class:`WorkersAI` and
:class:`AsyncWorkersAI` only choose who sends it.
"""

from .._facade import AsyncResource, SyncResource, async_call, async_stream, sync_call, sync_stream
from .chat import chat as _chat
from .embeddings import embed as _embed
from .embeddings import embed_batch as _embed_batch
from .media import generate_image as _generate_image
from .media import transcribe as _transcribe
from .models import search_models as _search_models
from .openai_compat import openai_chat as _openai_chat
from .openai_compat import openai_embeddings as _openai_embeddings
from .openai_compat import stream_openai_chat as _stream_openai_chat
from .stream import stream_chat as _stream_chat
from .text import classify as _classify
from .text import run as _run
from .text import translate as _translate
from .types import (
    ChatChunk,
    ChatResult,
    Classification,
    ClassificationResult,
    EmbeddingResult,
    ImageResult,
    ToolCall,
    ToolCallChunk,
    TranscriptionResult,
    TranslationResult,
    Usage,
    Word,
)

__all__ = [
    "AsyncWorkersAI", "ChatChunk", "ChatResult", "Classification", "ClassificationResult", "EmbeddingResult",
    "ImageResult", "ToolCall", "ToolCallChunk", "TranscriptionResult", "TranslationResult", "Usage", "Word",
    "WorkersAI",
]


class WorkersAI(SyncResource):
    """``client.workers_ai`` of a :class:`~cf_core.CloudflareClient`."""

    chat = sync_call(_chat)
    stream_chat = sync_stream(_stream_chat)
    embed = sync_call(_embed)
    embed_batch = sync_call(_embed_batch)
    generate_image = sync_call(_generate_image)
    transcribe = sync_call(_transcribe)
    classify = sync_call(_classify)
    translate = sync_call(_translate)
    run = sync_call(_run)
    openai_chat = sync_call(_openai_chat)
    stream_openai_chat = sync_stream(_stream_openai_chat)
    openai_embeddings = sync_call(_openai_embeddings)
    search_models = sync_call(_search_models)


class AsyncWorkersAI(AsyncResource):
    """``client.workers_ai`` of an :class:`~cf_core.AsyncCloudflareClient` (same methods, awaitable)."""

    chat = async_call(_chat)
    stream_chat = async_stream(_stream_chat)
    embed = async_call(_embed)
    embed_batch = async_call(_embed_batch)
    generate_image = async_call(_generate_image)
    transcribe = async_call(_transcribe)
    classify = async_call(_classify)
    translate = async_call(_translate)
    run = async_call(_run)
    openai_chat = async_call(_openai_chat)
    stream_openai_chat = async_stream(_stream_openai_chat)
    openai_embeddings = async_call(_openai_embeddings)
    search_models = async_call(_search_models)
