"""The vector index behind ``ragline.ports.VectorIndex``, chosen by ``RAGLINE_QDRANT_ENGINE``.

- ``server``: a Qdrant server by URL + API key (production: Qdrant Cloud or self-hosted).
- ``edge``:   qdrant-edge, Qdrant's Rust engine in-process, on disk (the local default).
- ``local``:  qdrant-client's pure-Python local mode (slow, single-threaded; for parity checks).
"""

from __future__ import annotations

from ragline.ports import VectorIndex
from ragline.settings import Settings


def make_index(settings: Settings) -> VectorIndex:
    if settings.qdrant_engine == "server":
        from ragline.index.qdrant_index import QdrantIndex
        from ragline.secrets import qdrant_api_key

        if not settings.qdrant_url:
            raise ValueError("RAGLINE_QDRANT_ENGINE=server needs RAGLINE_QDRANT_URL")
        return QdrantIndex(settings.collection, url=settings.qdrant_url, api_key=qdrant_api_key(settings))
    if settings.qdrant_engine == "local":
        from ragline.index.qdrant_index import QdrantIndex

        return QdrantIndex(settings.collection, path=settings.qdrant_path)
    if settings.qdrant_engine == "edge":
        from ragline.index.edge_index import EdgeIndex

        return EdgeIndex(settings.qdrant_path, settings.collection)
    raise ValueError(f"unknown RAGLINE_QDRANT_ENGINE {settings.qdrant_engine!r}: use server, edge or local")
