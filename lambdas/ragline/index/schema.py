"""What both index engines store and how a search request is planned, defined once.

The server/local-mode engine (``qdrant_index``) and the embedded Rust engine (``edge_index``)
speak different APIs but must hold the same collection and rank the same way, so the names,
the payload and the query plan live here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ragline.models import Hit, IndexPoint, SearchMode, SparseVector

DENSE = "dense"  # named dense vector, cosine
SPARSE = "sparse"  # named sparse vector, IDF modifier (document values are BM25-weighted)

# Reciprocal rank fusion constant, set explicitly so both engines fuse identically:
# score = sum over prefetches of 1 / (k + rank), rank counted from 0. 60 is the RRF paper's
# value (Qdrant's default of 2 lets a single list's top hit dominate the fusion).
RRF_K = 60

# Fields filtered on get keyword payload indexes (the tenant field as Qdrant's tenant index);
# qdrant-client's local mode has no payload indexes.
TENANT_FIELD = "tenant"
COLLECTION_FIELD = "collection"  # restricts every non-admin read (ragline.access.collection)
KEYWORD_INDEXES = ("document_id", "file_type", COLLECTION_FIELD)

PAYLOAD_FIELDS = (
    "tenant",
    "document_id",
    "version",
    "chunk_index",
    "text",
    "source",
    "file_type",
    "collection",
    "title",
    "page_start",
    "page_end",
    "heading",
)


def payload_of(point: IndexPoint) -> dict[str, Any]:
    return {field: getattr(point, field) for field in PAYLOAD_FIELDS}


def hit_from(point_id: object, score: float, payload: Mapping[str, Any]) -> Hit:
    return Hit(
        score=score,
        point_id=str(point_id),
        document_id=payload["document_id"],
        chunk_index=payload["chunk_index"],
        text=payload["text"],
        source=payload["source"],
        file_type=payload["file_type"],
        title=payload.get("title"),
        page_start=payload.get("page_start"),
        page_end=payload.get("page_end"),
        heading=payload.get("heading"),
    )


@dataclass(frozen=True)
class QueryPlan:
    """Which vectors a search ranks by: "fuse" = both prefetched, fused with RRF."""

    kind: Literal["dense", "sparse", "fuse"]
    dense: Sequence[float] | None
    sparse: SparseVector | None


def plan_query(
    mode: SearchMode, dense: Sequence[float] | None, sparse: SparseVector | None
) -> QueryPlan | None:
    """The query plan, or None when nothing can match (an empty sparse query).

    Hybrid degrades to the vector that is present: a deployment without a dense embedder
    searches sparse-only, and a query made only of unknown words has an empty sparse vector.
    """
    if dense is None and sparse is None:
        raise ValueError(f"{mode} search needs a query vector")
    if mode == "dense" and dense is None:
        raise ValueError("dense search needs a dense query vector")
    if mode == "sparse" and sparse is None:
        raise ValueError("sparse search needs a sparse query vector")
    if sparse is not None and not sparse.indices:
        sparse = None  # engines reject an empty sparse query; it would match nothing anyway
    if mode == "dense" or (mode == "hybrid" and sparse is None):
        return QueryPlan("dense", dense, None) if dense is not None else None
    if mode == "sparse" or dense is None:
        return QueryPlan("sparse", None, sparse) if sparse is not None else None
    return QueryPlan("fuse", dense, sparse)


def excludes_everything(*allow_lists: Sequence[str] | None) -> bool:
    """Whether a filter is an explicit empty allow-list (``document_ids=[]``): no hit can match."""
    return any(values is not None and len(values) == 0 for values in allow_lists)
