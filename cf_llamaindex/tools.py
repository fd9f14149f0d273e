"""``CloudflareToolSpec``: Workers AI and Vectorize as agent tools (each with a sync and async form)."""

# No `from __future__ import annotations`: tool descriptions show the signatures as written.

import tempfile
import uuid
from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.tools.tool_spec.base import BaseToolSpec
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryResult

from cf_core import AsyncCloudflareClient, CloudflareClient, Gateway, catalog
from cf_core.errors import InvalidInputError
from cf_core.usage import UsageTracker
from cf_core.workers_ai import (
    ClassificationResult,
    ImageResult,
    TranscriptionResult,
    TranslationResult,
)

from ._client import CloudflareConnection
from .vector_stores import CloudflareVectorizeVectorStore

_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


class CloudflareToolSpec(BaseToolSpec):
    """Image generation, speech-to-text, translation, sentiment and Vectorize search for agents.

    Vectorize search is offered when ``vector_store`` (or ``index_name``) and ``embed_model`` are given.
    Generated images are written to ``image_dir`` (a temporary directory by default).
    """

    spec_functions = [
        ("generate_image", "agenerate_image"),
        ("transcribe_audio", "atranscribe_audio"),
        ("translate_text", "atranslate_text"),
        ("classify_text", "aclassify_text"),
        ("search_documents", "asearch_documents"),
    ]

    def __init__(self, *, client: CloudflareClient | None = None,
                 async_client: AsyncCloudflareClient | None = None, account_id: str | None = None,
                 api_token: str | None = None, base_url: str | None = None,
                 ai_gateway: Gateway | str | None = None, usage_tracker: UsageTracker | None = None,
                 image_model: str = "@cf/black-forest-labs/flux-1-schnell",
                 transcription_model: str = "@cf/openai/whisper",
                 translation_model: str = "@cf/meta/m2m100-1.2b",
                 classification_model: str = "@cf/huggingface/distilbert-sst-2-int8",
                 vector_store: CloudflareVectorizeVectorStore | None = None, index_name: str | None = None,
                 embed_model: BaseEmbedding | None = None, search_top_k: int = 4,
                 image_dir: str | Path | None = None) -> None:
        self._conn = CloudflareConnection(client=client, async_client=async_client, account_id=account_id,
                                          api_token=api_token, base_url=base_url, ai_gateway=ai_gateway,
                                          usage_tracker=usage_tracker)
        self.image_model = image_model
        self.transcription_model = transcription_model
        self.translation_model = translation_model
        self.classification_model = classification_model
        if vector_store is None and index_name is not None:
            vector_store = CloudflareVectorizeVectorStore(index_name=index_name, client=client,
                                                          async_client=async_client, account_id=account_id,
                                                          api_token=api_token, base_url=base_url)
        self.vector_store = vector_store
        self.embed_model = embed_model
        self.search_top_k = search_top_k
        self.image_dir = Path(image_dir) if image_dir is not None else None
        if vector_store is None or embed_model is None:
            self.spec_functions = [f for f in self.spec_functions if f[0] != "search_documents"]

    def _gateway(self) -> dict[str, Any]:
        gateway = self._conn.gateway_arg
        return {"gateway": gateway} if gateway is not None else {}

    def _image_kwargs(self, width: int | None, height: int | None) -> dict[str, Any]:
        # Sizes are dropped for models without size control (flux), so an agent's guess cannot fail the call.
        kwargs = self._gateway()
        if catalog.info(self.image_model).accepts_size is not False:
            kwargs.update({k: v for k, v in (("width", width), ("height", height)) if v is not None})
        return kwargs

    # -- image ----------------------------------------------------------------------------------

    def _save_image(self, result: ImageResult, prompt: str) -> str:
        self._conn.record_usage(result.model, None, result.gateway)
        folder = self.image_dir or Path(tempfile.mkdtemp(prefix="cf-images-"))
        self.image_dir = folder
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"image-{uuid.uuid4().hex[:12]}{_EXTENSIONS.get(result.content_type, '.bin')}"
        path.write_bytes(result.image)
        return f"Generated an image ({result.content_type}, {len(result.image)} bytes) for {prompt!r}; saved at {path}"

    def generate_image(self, prompt: str, width: int | None = None, height: int | None = None) -> str:
        """Generate an image from a text description and save it to a file.

        Args:
            prompt: What the image should show.
            width: Image width in pixels (optional; ignored by models without size control).
            height: Image height in pixels (optional; ignored by models without size control).
        """
        result = self._conn.client.workers_ai.generate_image(
            self.image_model, prompt, **self._image_kwargs(width, height))
        return self._save_image(result, prompt)

    async def agenerate_image(self, prompt: str, width: int | None = None, height: int | None = None) -> str:
        """Generate an image from a text description and save it to a file (async)."""
        result = await self._conn.async_client.workers_ai.generate_image(
            self.image_model, prompt, **self._image_kwargs(width, height))
        return self._save_image(result, prompt)

    # -- speech ---------------------------------------------------------------------------------

    @staticmethod
    def _read_audio(file_path: str) -> bytes:
        path = Path(file_path)
        if not path.is_file():
            raise InvalidInputError(f"audio file {file_path!r} does not exist", field="file_path", item=file_path)
        return path.read_bytes()

    def _transcript(self, result: TranscriptionResult) -> str:
        self._conn.record_usage(result.model or self.transcription_model, None, result.gateway)
        return result.text

    def transcribe_audio(self, file_path: str, language: str | None = None) -> str:
        """Transcribe speech in an audio file (mp3, wav...) to text.

        Args:
            file_path: Path of the audio file.
            language: Spoken language code such as "en" (optional).
        """
        audio = self._read_audio(file_path)
        return self._transcript(self._conn.client.workers_ai.transcribe(
            self.transcription_model, audio, language=language, **self._gateway()))

    async def atranscribe_audio(self, file_path: str, language: str | None = None) -> str:
        """Transcribe speech in an audio file to text (async)."""
        audio = self._read_audio(file_path)
        return self._transcript(await self._conn.async_client.workers_ai.transcribe(
            self.transcription_model, audio, language=language, **self._gateway()))

    # -- translation ----------------------------------------------------------------------------

    def _translation(self, result: TranslationResult) -> str:
        self._conn.record_usage(result.model or self.translation_model, None, result.gateway)
        return result.text

    def translate_text(self, text: str, target_lang: str, source_lang: str = "en") -> str:
        """Translate text from one language to another.

        Args:
            text: The text to translate.
            target_lang: Language code to translate into, such as "fr" or "es".
            source_lang: Language code of the text (default "en").
        """
        return self._translation(self._conn.client.workers_ai.translate(
            text, target_lang=target_lang, source_lang=source_lang, model=self.translation_model,
            **self._gateway()))

    async def atranslate_text(self, text: str, target_lang: str, source_lang: str = "en") -> str:
        """Translate text from one language to another (async)."""
        return self._translation(await self._conn.async_client.workers_ai.translate(
            text, target_lang=target_lang, source_lang=source_lang, model=self.translation_model,
            **self._gateway()))

    # -- classification -------------------------------------------------------------------------

    def _labels(self, result: ClassificationResult) -> str:
        self._conn.record_usage(result.model or self.classification_model, None, result.gateway)
        ranked = sorted(result.labels, key=lambda c: -c.score)
        return ", ".join(f"{c.label} ({c.score:.3f})" for c in ranked)

    def classify_text(self, text: str) -> str:
        """Classify the sentiment of a text; returns labels (POSITIVE/NEGATIVE) with scores, best first.

        Args:
            text: The text to classify.
        """
        return self._labels(self._conn.client.workers_ai.classify(
            text, model=self.classification_model, **self._gateway()))

    async def aclassify_text(self, text: str) -> str:
        """Classify the sentiment of a text (async)."""
        return self._labels(await self._conn.async_client.workers_ai.classify(
            text, model=self.classification_model, **self._gateway()))

    # -- Vectorize search -----------------------------------------------------------------------

    def _search_parts(self) -> tuple[CloudflareVectorizeVectorStore, BaseEmbedding]:
        if self.vector_store is None or self.embed_model is None:
            raise InvalidInputError("search_documents needs vector_store (or index_name) and embed_model",
                                    field="vector_store")
        return self.vector_store, self.embed_model

    @staticmethod
    def _passages(result: VectorStoreQueryResult) -> str:
        nodes = result.nodes or []
        if not nodes:
            return "No matching documents."
        scores = result.similarities or [0.0] * len(nodes)
        return "\n\n".join(f"[{i + 1}] (score {s:.3f}) {n.get_content()}"
                           for i, (n, s) in enumerate(zip(nodes, scores, strict=False)))

    def search_documents(self, query: str) -> str:
        """Search the document index for passages relevant to a query.

        Args:
            query: What to look for, in natural language.
        """
        store, embed = self._search_parts()
        q = VectorStoreQuery(query_embedding=embed.get_query_embedding(query),
                             similarity_top_k=self.search_top_k, query_str=query)
        return self._passages(store.query(q))

    async def asearch_documents(self, query: str) -> str:
        """Search the document index for passages relevant to a query (async)."""
        store, embed = self._search_parts()
        q = VectorStoreQuery(query_embedding=await embed.aget_query_embedding(query),
                             similarity_top_k=self.search_top_k, query_str=query)
        return self._passages(await store.aquery(q))
