"""Usage and cost tracking for Cloudflare chat models, used like LangChain's OpenAI callback::

    from cf_langchain.callbacks import get_cloudflare_usage_callback

    with get_cloudflare_usage_callback() as cb:
        llm.invoke("Hello")
        chain.batch([...])
    print(cb)                 # per-model table
    cb.total_tokens, cb.total_neurons, cb.total_cost, cb.cache_hits

Every chat model run inside the ``with`` block (in this thread/task and the runs it starts) is
counted from its ``usage_metadata`` and ``response_metadata``: tokens, neurons (the service's
figure, else the catalog's price estimate), estimated USD and cache hits. A hit in AI Gateway's
cache or in LangChain's LLM cache costs no neurons and is counted as a cache hit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook

from cf_core import GatewayInfo
from cf_core.usage import ModelUsage, UsageTracker
from cf_core.workers_ai.types import Usage

__all__ = ["CloudflareUsageCallbackHandler", "get_cloudflare_usage_callback"]


class CloudflareUsageCallbackHandler(BaseCallbackHandler):
    """Adds up tokens, neurons, estimated USD and cache hits per model. Thread-safe."""

    raise_error: bool = False

    def __init__(self) -> None:
        super().__init__()
        self.tracker = UsageTracker()

    # -- totals ----------------------------------------------------------------------------------

    @property
    def totals(self) -> ModelUsage:
        return self.tracker.totals()

    def by_model(self) -> dict[str, ModelUsage]:
        return self.tracker.by_model()

    @property
    def successful_requests(self) -> int:
        return self.totals.requests

    @property
    def prompt_tokens(self) -> int:
        return self.totals.prompt_tokens

    @property
    def completion_tokens(self) -> int:
        return self.totals.completion_tokens

    @property
    def total_tokens(self) -> int:
        return self.totals.total_tokens

    @property
    def total_neurons(self) -> float:
        return self.totals.neurons

    @property
    def total_cost(self) -> float:
        """Estimated US dollars (neurons at Cloudflare's list price, before the daily free allocation)."""
        return self.totals.usd

    @property
    def cache_hits(self) -> int:
        return self.totals.cache_hits

    def reset(self) -> None:
        self.tracker.reset()

    def __repr__(self) -> str:
        t = self.totals
        return (f"CloudflareUsageCallbackHandler(requests={t.requests}, total_tokens={t.total_tokens}, "
                f"neurons={t.neurons:.2f}, usd={t.usd:.6f}, cache_hits={t.cache_hits})")

    def __str__(self) -> str:
        rows = [("model", "requests", "prompt", "completion", "total", "neurons", "USD", "cache hits")]
        per_model = sorted(self.by_model().items())
        for model, u in [*per_model, ("TOTAL", self.totals)]:
            rows.append((model, str(u.requests), str(u.prompt_tokens), str(u.completion_tokens),
                         str(u.total_tokens), f"{u.neurons:.2f}", f"${u.usd:.6f}", str(u.cache_hits)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths,
                                                                                                          strict=True)))
                 for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.insert(len(lines) - 1, "-" * len(lines[0]))
        return "Cloudflare usage\n" + "\n".join(lines)

    # -- recording -------------------------------------------------------------------------------

    @property
    def always_verbose(self) -> bool:
        return True

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                if isinstance(generation, ChatGeneration) and isinstance(generation.message, AIMessage):
                    self._record(generation.message)

    def _record(self, message: AIMessage) -> None:
        meta = message.response_metadata or {}
        if meta.get("model_provider") != "cloudflare":
            return
        model = str(meta.get("model_name") or "unknown")
        usage_meta = message.usage_metadata
        usage: Usage | None = None
        if usage_meta is not None:
            cached = (usage_meta.get("input_token_details") or {}).get("cache_read")
            neurons = meta.get("neurons")
            usage = Usage(prompt_tokens=usage_meta["input_tokens"], completion_tokens=usage_meta["output_tokens"],
                          total_tokens=usage_meta["total_tokens"], cached_tokens=cached,
                          neurons=float(neurons) if isinstance(neurons, int | float) else None)
        # LangChain marks answers served from its own LLM cache with total_cost 0.
        llm_cache_hit = usage_meta is not None and usage_meta.get("total_cost") == 0
        status = "HIT" if llm_cache_hit else meta.get("cache_status")
        gateway = GatewayInfo(cache_status=status) if status else None
        self.tracker.record(model, usage, gateway)


_usage_callback_var: ContextVar[CloudflareUsageCallbackHandler | None] = ContextVar(
    "cloudflare_usage_callback", default=None)
register_configure_hook(_usage_callback_var, inheritable=True)


@contextmanager
def get_cloudflare_usage_callback() -> Iterator[CloudflareUsageCallbackHandler]:
    """Count the usage of every Cloudflare chat model call made inside the ``with`` block."""
    handler = CloudflareUsageCallbackHandler()
    token = _usage_callback_var.set(handler)
    try:
        yield handler
    finally:
        _usage_callback_var.reset(token)
