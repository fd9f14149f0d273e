"""LlamaIndex integrations for Cloudflare Workers AI, Vectorize and AI Gateway (built on cf_core)."""

from ._client import CloudflareConnection
from .embeddings import CloudflareWorkersAIEmbedding
from .llms import CloudflareWorkersAI
from .tools import CloudflareToolSpec
from .usage import track_usage
from .vector_stores import CloudflareVectorizeVectorStore

__all__ = [
    "CloudflareConnection",
    "CloudflareToolSpec",
    "CloudflareVectorizeVectorStore",
    "CloudflareWorkersAI",
    "CloudflareWorkersAIEmbedding",
    "track_usage",
]
