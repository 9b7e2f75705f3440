"""The vector index behind ``ragline.ports.VectorIndex``, chosen by ``RAGLINE_QDRANT_ENGINE``.

- ``server``: a Qdrant server by URL + API key (production: Qdrant Cloud or self-hosted).
- ``edge``:   qdrant-edge, Qdrant's Rust engine in-process, on disk (the local default).
- ``local``:  qdrant-client's pure-Python local mode (slow, single-threaded; for parity checks).
"""

from __future__ import annotations

from ragline.index.schema import Fusion
from ragline.ports import VectorIndex
from ragline.settings import Settings


def fusion_from(settings: Settings) -> Fusion:
    return Fusion(
        method=settings.fusion,
        k=settings.rrf_k,
        dense_weight=settings.fusion_dense_weight,
        sparse_weight=settings.fusion_sparse_weight,
    )


def make_index(settings: Settings) -> VectorIndex:
    if settings.qdrant_engine == "server":
        from ragline.index.qdrant_index import QdrantIndex
        from ragline.secrets import qdrant_api_key

        if not settings.qdrant_url:
            raise ValueError("RAGLINE_QDRANT_ENGINE=server needs RAGLINE_QDRANT_URL")
        return QdrantIndex(
            settings.collection, url=settings.qdrant_url, api_key=qdrant_api_key(settings), fusion=fusion_from(settings)
        )
    if settings.qdrant_engine == "local":
        from ragline.index.qdrant_index import QdrantIndex

        return QdrantIndex(settings.collection, path=settings.qdrant_path, fusion=fusion_from(settings))
    if settings.qdrant_engine == "edge":
        from ragline.index.edge_index import EdgeIndex

        return EdgeIndex(settings.qdrant_path, settings.collection, fusion=fusion_from(settings))
    raise ValueError(f"unknown RAGLINE_QDRANT_ENGINE {settings.qdrant_engine!r}: use server, edge or local")
