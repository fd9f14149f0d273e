"""Every notebook executes top to bottom against the in-process emulator, in under a minute, offline.

The kernel is the venv's Python (checked by an injected first cell), Cloudflare credentials are
removed from its environment (so the notebooks choose the emulator) and HTTP(S) egress goes to a
dead proxy. The models are stand-ins, so the checks are about what a reader sees: no errors, the
image and the plot are displayed, stand-in outputs are labelled, and the gateway cache hits. The
committed notebooks must carry no outputs and match what ``notebooks/_build.py`` generates.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
LABEL = "[emulator stand-in model]"
TIME_LIMIT_S = 60


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_five_notebooks_exist() -> None:
    assert NAMES == ["01_workers_ai_tour.ipynb", "02_rag_langchain_vectorize.ipynb",
                     "03_rag_llamaindex_vectorize.ipynb", "04_agents.ipynb", "05_ai_gateway.ipynb"]


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_no_outputs_and_matches_the_builder(name: str) -> None:
    text = (NOTEBOOKS / name).read_text(encoding="utf-8")
    assert text == _builder().render()[name], "stale notebook: run .venv/bin/python notebooks/_build.py"
    nb = nbformat.reads(text, as_version=4)  # type: ignore[no-untyped-call]
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def _texts(nb: Any) -> list[str]:
    """Every piece of text output, in order."""
    out = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                out.append(output.text)
            elif "data" in output and "text/plain" in output.data:
                out.append(output.data["text/plain"])
    return out


def _images(nb: Any) -> int:
    return sum(1 for cell in nb.cells for output in cell.get("outputs", [])
               if "data" in output and "image/png" in output.data)


@pytest.fixture
def offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel inherits this process's environment.
    for key in list(os.environ):
        if key.startswith(("CLOUDFLARE_", "CF_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("MPLBACKEND", "Agg")


def execute(name: str, timeout: int = TIME_LIMIT_S) -> tuple[Any, float]:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)  # type: ignore[no-untyped-call]
    # Proves the kernel runs on this venv's interpreter, not whatever `python` is on PATH.
    nb.cells.insert(0, nbformat.v4.new_code_cell(  # type: ignore[no-untyped-call]
        f"import sys\nassert sys.executable == {sys.executable!r}, sys.executable"))
    started = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", coalesce_streams=True,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb, time.perf_counter() - started


EXPECTED: dict[str, dict[str, Any]] = {
    # name: labelled outputs at least, images at least, phrases that must appear
    "01_workers_ai_tour.ipynb": {"labels": 11, "images": 1, "phrases": [
        "Backend: local emulator", "[emulator stand-in model] tool calls: [('get_weather', {'city': 'Lisbon'})]",
        "Product(name='Workers AI', year=2023, open_beta=True)", "image/png", "[stand-in transcript]",
        "sentiment: POSITIVE", "sentiment: NEGATIVE", "[stand-in translation en->fr]", "PNG data"]},
    "02_rag_langchain_vectorize.ipynb": {"labels": 7, "images": 0, "phrases": [
        "metadata indexes: [('topic', 'string')]", "documents in namespace 'project'", "vectors in the index: 42",
        "MMR retriever:", "[1]", "deleted nb02-"]},
    "03_rag_llamaindex_vectorize.ipynb": {"labels": 6, "images": 0, "phrases": [
        "vectors in the index: 42", "written 2/2", "tenant-b-", "deleted nb03-"]},
    "04_agents.ipynb": {"labels": 3, "images": 1, "phrases": [
        "vectorize_search({'query': 'gateway metadata entries'})", "classify_sentiment(", "generate_image(",
        "search_documents({'query': 'gateway metadata entries'})", "classify_text(", "POSITIVE"]},
    "05_ai_gateway.ipynb": {"labels": 3, "images": 1, "phrases": [
        "again                    cache HIT", "skip_cache               cache MISS",
        "custom key, other text   cache HIT", "metadata {'team': 'docs', 'notebook': '05'",
        "answered by step 1 (workers-ai)", "request 3: ok", "request 4: rate limited", "18 hits of 24",
        "deleted gateway nb05-limited-"]},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_on_the_emulator(name: str, offline_env: None) -> None:
    nb, elapsed = execute(name)
    assert elapsed < TIME_LIMIT_S, f"{name} took {elapsed:.1f} s"
    text = "\n".join(_texts(nb))
    expected = EXPECTED[name]
    assert "Backend: local emulator" in text
    assert text.count(LABEL) >= expected["labels"], text
    assert _images(nb) >= expected["images"]
    for phrase in expected["phrases"]:
        assert phrase in text, phrase
    # Chat answers from the stand-in carry its own label too.
    assert "Workers AI]" not in text  # nothing claims to come from the real service


LIVE = bool(os.environ.get("CLOUDFLARE_ACCOUNT_ID") and os.environ.get("CLOUDFLARE_API_TOKEN"))


@pytest.mark.live
@pytest.mark.skipif(not LIVE, reason="needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN")
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_on_cloudflare(name: str) -> None:
    """Each notebook on a real account (it reads the credentials from the environment it inherits)."""
    nb, _ = execute(name, timeout=300)
    text = "\n".join(_texts(nb))
    assert "Backend: Cloudflare, account" in text
    assert LABEL not in text
