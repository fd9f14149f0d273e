"""langchain-tests standard suites for ChatCloudflareWorkersAI, against the in-process emulator.

Two models run the integration suite: Llama 3.3 70B (flat tool calls, text only) and Llama 4 Scout
(OpenAI-style tool calls, vision). Capability flags are set from what the real models support.
"""

from __future__ import annotations

import functools
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from cf_core.local import Emulator, local_async_client, local_client
from cf_langchain import ChatCloudflareWorkersAI

LLAMA_33 = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
SCOUT = "@cf/meta/llama-4-scout-17b-16e-instruct"


@functools.cache
def _shared_emulator() -> Emulator:
    # One emulator for a whole suite: building one per test would add ~0.2 s to each of ~100 tests.
    return Emulator()


def _emulator_params(model: str) -> dict[str, Any]:
    emulator = _shared_emulator()
    return {"model": model, "client": local_client(emulator), "async_client": local_async_client(emulator)}


def _png(width: int = 4, height: int = 3) -> bytes:
    """A small valid PNG, built here so no test downloads an image."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class TestChatUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatCloudflareWorkersAI]:
        return ChatCloudflareWorkersAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": LLAMA_33, "account_id": "unit-account"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"CLOUDFLARE_ACCOUNT_ID": "env-account", "CLOUDFLARE_API_TOKEN": "env-token",
             "CLOUDFLARE_BASE_URL": "https://example.invalid/client/v4"},
            {"model": LLAMA_33},
            {"account_id": "env-account", "api_token": "env-token",
             "base_url": "https://example.invalid/client/v4"},
        )


class _EmulatorChatIntegration(ChatModelIntegrationTests):
    """Shared settings; subclasses pick the model."""

    model_id: str = LLAMA_33

    @property
    def chat_model_class(self) -> type[ChatCloudflareWorkersAI]:
        return ChatCloudflareWorkersAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return _emulator_params(self.model_id)

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        # Workers AI only takes base64 data URIs; a remote URL is refused with a clear error.
        return False

    @property
    def model_override_value(self) -> str:
        return "@cf/mistralai/mistral-small-3.1-24b-instruct"


class TestChatLlama33Integration(_EmulatorChatIntegration):
    model_id = LLAMA_33


class TestChatScoutIntegration(_EmulatorChatIntegration):
    model_id = SCOUT

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @pytest.fixture(autouse=True)
    def _local_images(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        """The standard image test downloads a PNG from GitHub; serve a local PNG instead.

        ``httpx.get`` is replaced for the duration of each test of this class; our clients go
        through the emulator transport and never call ``httpx.get``, so the test runs unchanged.
        """
        import langchain_tests.integration_tests.chat_models as standard

        def fake_get(url: str, *args: Any, **kwargs: Any) -> httpx.Response:
            return httpx.Response(200, content=_png(), headers={"content-type": "image/png"},
                                  request=httpx.Request("GET", url))

        monkeypatch.setattr(standard.httpx, "get", fake_get)
        yield

