"""Every ```python block of README.md runs, as written, against the emulator.

The examples are written for a real account (credentials from the environment), so each block runs
with CLOUDFLARE_ACCOUNT_ID / CLOUDFLARE_API_TOKEN set and CLOUDFLARE_BASE_URL /
CLOUDFLARE_AI_GATEWAY_BASE_URL pointing at a fresh emulator served on 127.0.0.1: exactly what a
reader copies, with only the endpoint swapped. Blocks run in a fresh namespace each, so each one
must be self-contained. The models are stand-ins, so the checks are that the block runs and prints
what it says it prints, not what a real model would answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cf_core.local import Emulator
from cf_core.local.server import RunningServer, running_server

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[int, str]]:
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in FENCE.finditer(text)]


BLOCKS = blocks()

# Something each block must print (by its first line number), so a block that silently does
# nothing fails. Keys are substrings of the block, to survive edits elsewhere in the README.
EXPECTED_OUTPUT = {
    "CloudflareVectorize.from_texts": "Vectorize is Cloudflare's vector database.",
    "VectorStoreIndex.from_documents": "[stand-in]",
    "Gateway(id=\"default\", cache_ttl=3600": "HIT",
    "get_cloudflare_usage_callback": "MISS HIT",
    "local_async_client(emulator)": "[stand-in] Workers AI runs models.",
    "FaultConfig(burst_429=2": "2 retries",
    '"x" * 65': "id 64 -",
    "PartialWriteError": "250 vectors, queryable now",
}


def test_readme_starts_with_make_demo_and_make_test() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# ")
    first_block = lines[lines.index("```bash") + 1: lines.index("```")]
    assert lines.index("```bash") <= 3
    assert [line.split("#")[0].strip() for line in first_block] == ["make demo", "make test"]


def test_every_expected_example_is_present() -> None:
    for needle in EXPECTED_OUTPUT:
        assert any(needle in code for _, code in BLOCKS), needle
    assert len(BLOCKS) >= len(EXPECTED_OUTPUT)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    for key in [k for k in list(__import__("os").environ) if k.startswith(("CLOUDFLARE_", "CF_"))]:
        monkeypatch.delenv(key)
    with running_server(Emulator()) as server:
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "readme-account")
        monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "readme-token")
        monkeypatch.setenv("CLOUDFLARE_BASE_URL", server.base_url)
        monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", server.gateway_base_url)
        yield server


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_example_runs(line: int, code: str, served: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    from llama_index.core import Settings

    previous = (Settings._llm, Settings._embed_model)  # examples may set LlamaIndex's global defaults
    try:
        exec(compile(code, f"README.md:{line}", "exec"), {"__name__": f"readme_{line}"})
    finally:
        Settings._llm, Settings._embed_model = previous
    printed = capsys.readouterr().out
    for needle, expected in EXPECTED_OUTPUT.items():
        if needle in code:
            assert expected in " ".join(printed.split()), printed
    # Examples that create indexes clean up after themselves.
    import httpx

    indexes = httpx.get(f"{served.base_url}/accounts/readme-account/vectorize/v2/indexes",
                        headers={"Authorization": "Bearer readme-token"}, timeout=10).json()["result"]
    assert indexes == []
