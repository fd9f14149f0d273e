"""``CloudflareKVCache``: LangChain's LLM cache in Workers KV.

Generations are stored under a hash of (llm_string, prompt), with an expiry TTL, so they survive
restarts and are shared by every process that uses the same namespace. Use it like any LangChain
cache::

    from langchain_core.globals import set_llm_cache
    set_llm_cache(CloudflareKVCache(namespace_id="...", ttl=3600))

``clear()`` lists the keys under ``key_prefix`` and deletes them, so it clears the cache for
every process sharing the namespace (and touches nothing else in it).

KV is eventually consistent across Cloudflare locations (up to about 60 s); within one location a
write is visible to the next read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from collections.abc import Sequence
from typing import Any

from langchain_core._api import LangChainBetaWarning
from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.load import dumpd, load
from langchain_core.outputs import Generation
from pydantic import ConfigDict, Field, field_validator

from cf_core import CloudflareError

from ._client import CloudflareClientMixin

__all__ = ["CloudflareKVCache"]

logger = logging.getLogger(__name__)

MIN_TTL_S = 60  # Workers KV's minimum expiration_ttl
_FORMAT = 1


class CloudflareKVCache(CloudflareClientMixin, BaseCache):
    """An LLM cache in a Workers KV namespace, with a TTL, shared between processes.

    Args:
        namespace_id: the KV namespace id (create one with ``client.kv.create_namespace(title)``).
        ttl: seconds an entry lives (at least 60, KV's minimum); ``None`` keeps entries forever.
        key_prefix: prefix of every key, to share a namespace with other data.
        raise_errors: if ``False`` (default), a KV failure is logged and treated as a miss, so the
            cache never breaks a model call.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, extra="forbid")

    namespace_id: str = Field(min_length=1)
    ttl: int | None = 24 * 3600
    key_prefix: str = Field(default="langchain-llm-cache", min_length=1, max_length=100)
    raise_errors: bool = False

    @field_validator("ttl")
    @classmethod
    def _check_ttl(cls, value: int | None) -> int | None:
        if value is not None and value < MIN_TTL_S:
            raise ValueError(f"ttl must be at least {MIN_TTL_S} seconds (Workers KV's minimum), got {value}")
        return value

    # -- pure parts -----------------------------------------------------------------------------

    def _key(self, prompt: str, llm_string: str) -> str:
        digest = hashlib.sha256(json.dumps([llm_string, prompt], ensure_ascii=False).encode("utf-8")).hexdigest()
        return f"{self.key_prefix}:{digest}"

    @staticmethod
    def _encode(return_val: Sequence[Generation]) -> str:
        return json.dumps({"format": _FORMAT, "generations": [dumpd(g) for g in return_val]}, ensure_ascii=False)

    @staticmethod
    def _decode(raw: bytes | None) -> RETURN_VAL_TYPE | None:
        if raw is None:
            return None
        try:
            payload = json.loads(raw)
            if payload.get("format") != _FORMAT:
                return None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LangChainBetaWarning)  # load() is marked beta
                generations = [load(g, allowed_objects="core") for g in payload["generations"]]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            logger.warning("ignoring an unreadable LLM cache entry: %s", exc)
            return None
        if not all(isinstance(g, Generation) for g in generations):
            return None
        return generations

    def _failed(self, action: str, exc: CloudflareError) -> None:
        if self.raise_errors:
            raise exc
        logger.warning("Cloudflare KV cache %s failed, continuing without the cache: %s", action, exc)

    # -- sync ------------------------------------------------------------------------------------

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        try:
            raw = self._sync_client().kv.get(self.namespace_id, self._key(prompt, llm_string))
        except CloudflareError as exc:
            self._failed("lookup", exc)
            return None
        return self._decode(raw)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        value = self._encode(return_val)
        try:
            self._sync_client().kv.put(self.namespace_id, self._key(prompt, llm_string), value,
                                       expiration_ttl=self.ttl)
        except CloudflareError as exc:
            self._failed("update", exc)

    def clear(self, **kwargs: Any) -> None:
        """Delete every entry under ``key_prefix`` (for every process sharing the namespace)."""
        kv = self._sync_client().kv
        cursor: str | None = None
        while True:
            page = kv.list_keys(self.namespace_id, prefix=f"{self.key_prefix}:", cursor=cursor)
            for key in page.keys:
                kv.delete(self.namespace_id, key.name)
            if page.cursor is None:
                return
            cursor = page.cursor

    # -- async -----------------------------------------------------------------------------------

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        try:
            raw = await self._async_client().kv.get(self.namespace_id, self._key(prompt, llm_string))
        except CloudflareError as exc:
            self._failed("lookup", exc)
            return None
        return self._decode(raw)

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        value = self._encode(return_val)
        try:
            await self._async_client().kv.put(self.namespace_id, self._key(prompt, llm_string), value,
                                              expiration_ttl=self.ttl)
        except CloudflareError as exc:
            self._failed("update", exc)

    async def aclear(self, **kwargs: Any) -> None:
        kv = self._async_client().kv
        cursor: str | None = None
        while True:
            page = await kv.list_keys(self.namespace_id, prefix=f"{self.key_prefix}:", cursor=cursor)
            for key in page.keys:
                await kv.delete(self.namespace_id, key.name)
            if page.cursor is None:
                return
            cursor = page.cursor
