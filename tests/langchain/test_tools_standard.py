"""langchain-tests standard tool suites for the four Workers AI tools, against the emulator."""

from __future__ import annotations

import functools
from typing import Any

from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from cf_core.local import Emulator, local_async_client, local_client
from cf_langchain import (
    CloudflareImageGenerationTool,
    CloudflareSpeechToTextTool,
    CloudflareTextClassificationTool,
    CloudflareTranslationTool,
)
from tests.support import wav_bytes


@functools.cache
def _emulator() -> Emulator:
    return Emulator()


def _clients() -> dict[str, Any]:
    return {"client": local_client(_emulator()), "async_client": local_async_client(_emulator())}


_ENV = ({"CLOUDFLARE_ACCOUNT_ID": "env-account", "CLOUDFLARE_API_TOKEN": "env-token"}, {},
        {"account_id": "env-account", "api_token": "env-token"})


class _Suite:
    tool_class: type[BaseTool]
    example: dict[str, Any]

    @property
    def tool_constructor(self) -> type[BaseTool]:
        return self.tool_class

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return _clients()

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return self.example

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return _ENV


class _Image(_Suite):
    tool_class = CloudflareImageGenerationTool  # default model FLUX-1 schnell: prompt only
    example = {"prompt": "a lighthouse at dusk"}


class _SizedImage(_Suite):
    tool_class = CloudflareImageGenerationTool
    example = {"prompt": "a lighthouse at dusk", "width": 512, "height": 512, "seed": 3,
               "negative_prompt": "people"}

    @property
    def tool_constructor_params(self) -> dict[str, Any]:
        return {**_clients(), "model": "@cf/bytedance/stable-diffusion-xl-lightning"}


class _Speech(_Suite):
    tool_class = CloudflareSpeechToTextTool
    example = {"audio": wav_bytes(), "language": "en"}


class _Translate(_Suite):
    tool_class = CloudflareTranslationTool
    example = {"text": "Good morning", "target_lang": "fr"}


class _Classify(_Suite):
    tool_class = CloudflareTextClassificationTool
    example = {"text": "I love this product, it works perfectly."}


class TestImageToolUnit(_Image, ToolsUnitTests):
    pass


class TestImageToolIntegration(_Image, ToolsIntegrationTests):
    pass


class TestSizedImageToolIntegration(_SizedImage, ToolsIntegrationTests):
    pass


class TestSpeechToolUnit(_Speech, ToolsUnitTests):
    pass


class TestSpeechToolIntegration(_Speech, ToolsIntegrationTests):
    pass


class TestTranslateToolUnit(_Translate, ToolsUnitTests):
    pass


class TestTranslateToolIntegration(_Translate, ToolsIntegrationTests):
    pass


class TestClassifyToolUnit(_Classify, ToolsUnitTests):
    pass


class TestClassifyToolIntegration(_Classify, ToolsIntegrationTests):
    pass
