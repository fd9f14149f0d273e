"""Provider requests behind the gateway and where the emulator sends them.

``workers-ai`` goes to the emulator's own Workers AI routes (through :meth:`Emulator.call_api`, so the
provider ``Authorization`` is checked there); ``openai`` goes to a labelled stand-in; any other
provider slug is answered with a gateway error, since the emulator reaches no real provider.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..emulator import API_PREFIX
from ..wire import EmuResponse
from . import openai_standin
from .errors import UNSUPPORTED_PROVIDER, gateway_error, invalid

if TYPE_CHECKING:
    from ..emulator import Emulator

KNOWN_PROVIDERS = (
    "workers-ai", "openai", "anthropic", "aws-bedrock", "azure-openai", "google-vertex-ai", "huggingface",
    "perplexity-ai", "replicate", "groq", "cohere", "google-ai-studio", "mistral", "grok", "openrouter",
    "deepseek", "cerebras", "cartesia", "elevenlabs", "adobe-firefly",
)
EMULATED_PROVIDERS = ("workers-ai", "openai")
_HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive", "te", "upgrade",
               "accept-encoding"}


def provider_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers that travel to the provider: everything but gateway controls and hop-by-hop ones."""
    out = {}
    for name, value in headers.items():
        low = name.lower()
        if low.startswith("cf-aig-") or low in ("cf-cache-ttl", "cf-skip-cache") or low in _HOP_BY_HOP:
            continue
        out[low] = str(value)
    return out


def _json_field(body: bytes, name: str) -> Any:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return data.get(name) if isinstance(data, dict) else None


@dataclass
class Upstream:
    """One provider request: ``endpoint`` is the provider-relative path (a model id for Workers AI)."""

    provider: str
    endpoint: str
    body: bytes
    headers: dict[str, str]
    method: str = "POST"
    query: dict[str, str] = field(default_factory=dict)

    @property
    def model(self) -> str:
        if self.provider == "workers-ai" and not self.endpoint.startswith("v1/"):
            return self.endpoint.removeprefix("run/")
        model = _json_field(self.body, "model")
        return model if isinstance(model, str) else ""

    @property
    def stream_requested(self) -> bool:
        return _json_field(self.body, "stream") is True

    def api_path(self, account: str) -> str:
        """The Workers AI API path (after ``/client/v4``) this request maps to."""
        if self.endpoint.startswith("v1/"):
            return f"/accounts/{account}/ai/{self.endpoint}"
        return f"/accounts/{account}/ai/run/{self.endpoint.removeprefix('run/')}"

    def fault_path(self, account: str) -> str:
        """The path the emulator's fault settings match for this upstream call (see the README)."""
        if self.provider == "workers-ai":
            return API_PREFIX + self.api_path(account)
        return f"/_upstream/{self.provider}/{self.endpoint}"


def compat_upstream(body: bytes, headers: Mapping[str, str]) -> Upstream:
    """``/compat/chat/completions`` with ``model: "{provider}/{model}"``."""
    try:
        data = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        raise invalid("body: not valid JSON") from None
    if not isinstance(data, dict):
        raise invalid("body: expected a Chat Completions JSON object")
    model = data.get("model")
    if not isinstance(model, str) or "/" not in model:
        raise invalid('model: expected "{provider}/{model}", e.g. "workers-ai/@cf/meta/llama-3.1-8b-instruct"')
    provider, _, name = model.partition("/")
    if not provider or not name:
        raise invalid(f"model: {model!r} is not of the form \"{{provider}}/{{model}}\"")
    data["model"] = name
    endpoint = "v1/chat/completions" if provider == "workers-ai" else "chat/completions"
    return Upstream(provider, endpoint, json.dumps(data).encode(), provider_headers(headers))


def call(emulator: Emulator, account: str, upstream: Upstream, new_id: Callable[[str], str]) -> EmuResponse:
    """Send ``upstream`` to the emulated provider and return its answer unchanged."""
    if upstream.provider == "workers-ai":
        if not upstream.endpoint or upstream.endpoint in ("run", "run/", "v1", "v1/"):
            return gateway_error(400, UNSUPPORTED_PROVIDER, "workers-ai: the endpoint needs a model id").to_response()
        return emulator.call_api(upstream.method, upstream.api_path(account), upstream.headers, upstream.body,
                                 upstream.query)
    if upstream.provider == "openai":
        endpoint = upstream.endpoint.removeprefix("v1/")
        if endpoint != "chat/completions" or upstream.method != "POST":
            return openai_standin.openai_error(
                404, f"Invalid URL ({upstream.method} /v1/{endpoint}): the stand-in openai provider "
                     "serves only POST chat/completions.")
        return openai_standin.chat_completions(upstream.headers, upstream.body, new_id)
    known = "a provider the emulator has no stand-in for" if upstream.provider in KNOWN_PROVIDERS \
        else "an unknown provider"
    return gateway_error(400, UNSUPPORTED_PROVIDER,
                         f"{upstream.provider!r} is {known}; emulated providers: "
                         f"{', '.join(EMULATED_PROVIDERS)}").to_response()
