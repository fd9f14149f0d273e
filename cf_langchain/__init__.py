"""LangChain integrations for Cloudflare Workers AI, Vectorize, AI Gateway and Workers KV."""

from .cache import CloudflareKVCache
from .callbacks import CloudflareUsageCallbackHandler, get_cloudflare_usage_callback
from .chat_models import ChatCloudflareWorkersAI
from .embeddings import CloudflareWorkersAIEmbeddings
from .tools import (
    CloudflareImageGenerationTool,
    CloudflareSpeechToTextTool,
    CloudflareTextClassificationTool,
    CloudflareTranslationTool,
)
from .vectorize_tool import CloudflareVectorizeSearchTool
from .vectorstores import CloudflareVectorize

__all__ = [
    "ChatCloudflareWorkersAI",
    "CloudflareImageGenerationTool",
    "CloudflareKVCache",
    "CloudflareSpeechToTextTool",
    "CloudflareTextClassificationTool",
    "CloudflareTranslationTool",
    "CloudflareUsageCallbackHandler",
    "CloudflareVectorize",
    "CloudflareVectorizeSearchTool",
    "CloudflareWorkersAIEmbeddings",
    "get_cloudflare_usage_callback",
]
