"""What both index engines store and how a search request is planned, defined once.

The server/local-mode engine (``qdrant_index``) and the embedded Rust engine (``edge_index``)
speak different APIs but must hold the same collection and rank the same way, so the names,
the payload and the query plan live here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ragline.errors import ProviderError
from ragline.models import Hit, IndexPoint, SearchMode, SparseVector

DENSE = "dense"  # named dense vector, cosine
SPARSE = "sparse"  # named sparse vector, IDF modifier (document values are BM25-weighted)

# Reciprocal rank fusion constant, set explicitly so both engines fuse identically:
# score = sum over prefetches of weight / (k + rank), rank counted from 0. 60 is the RRF
# paper's value (Qdrant's default of 2 lets a single list's top hit dominate the fusion).
RRF_K = 60

FusionMethod = Literal["rrf", "dbsf"]


@dataclass(frozen=True)
class Fusion:
    """How hybrid search merges the dense and the sparse candidate lists (both engines natively).

    - ``rrf``: reciprocal rank fusion, ``sum(weight / (k + rank))``; ranks only, so the two
      score scales never need to agree. Weights other than 1 give "weighted RRF".
    - ``dbsf``: distribution-based score fusion: each list's scores normalised by their mean
      ± 3 standard deviations, then summed (Qdrant has no weights for it).
    Chosen per deployment (``RAGLINE_FUSION``, ``RAGLINE_RRF_K``, ``RAGLINE_FUSION_*_WEIGHT``);
    the default is the one the dev sets ranked best (docs/benchmarks.md).
    """

    method: FusionMethod = "rrf"
    k: int = RRF_K
    dense_weight: float = 1.0
    sparse_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"RRF k must be at least 1, got {self.k}")
        if self.dense_weight < 0 or self.sparse_weight < 0 or self.dense_weight + self.sparse_weight == 0:
            raise ValueError("fusion weights must be non-negative and not both 0")
        if self.method == "dbsf" and self.weights is not None:
            raise ValueError("DBSF fusion takes no weights: use RAGLINE_FUSION=rrf for weighted fusion")

    @property
    def weights(self) -> list[float] | None:
        """[dense, sparse] prefetch weights, or None for plain (equal) fusion."""
        if self.dense_weight == 1.0 and self.sparse_weight == 1.0:
            return None
        return [self.dense_weight, self.sparse_weight]


class EmbedderMismatchError(ProviderError):
    """The collection was built by another embedder: its vectors and this one's do not mix."""


def embedder_mismatch(where: str, recorded: str, recorded_dims: int | None, current: str, current_dims: int) -> EmbedderMismatchError:
    return EmbedderMismatchError(
        f"{where} was built with the embedder {recorded} ({recorded_dims} dimensions), but this "
        f"deployment embeds with {current} ({current_dims} dimensions); vectors of two models do not "
        f"mix. Set RAGLINE_EMBEDDER (and its model settings) back to what built it, or use a new "
        "RAGLINE_COLLECTION (or delete this one) and re-ingest the documents"
    )

# Fields filtered on get keyword payload indexes (the tenant field as Qdrant's tenant index);
# qdrant-client's local mode has no payload indexes.
TENANT_FIELD = "tenant"
COLLECTION_FIELD = "collection"  # restricts every non-admin read (ragline.access.collection)
KEYWORD_INDEXES = ("document_id", "file_type", COLLECTION_FIELD)

# The catalog revision that wrote a point (pipeline: versions never mix); range-filtered.
REVISION_FIELD = "revision"

PAYLOAD_FIELDS = (
    "tenant",
    "document_id",
    "version",
    REVISION_FIELD,
    "chunk_index",
    "text",
    "source",
    "file_type",
    "collection",
    "title",
    "page_start",
    "page_end",
    "heading",
    # Document context (issue 8): the chunk's section path and context header, the document's
    # date/period/language and the chunk's fingerprint. Points written before these existed
    # lack them; reads treat a missing field as unset.
    "section_path",
    "context",
    "document_date",
    "period",
    "language",
    "fingerprint",
)
CONTEXT_FIELDS = PAYLOAD_FIELDS[PAYLOAD_FIELDS.index("section_path") :]


def payload_of(point: IndexPoint) -> dict[str, Any]:
    return {field: getattr(point, field, None) for field in PAYLOAD_FIELDS}


def count_revision(counts: dict[str, dict[int, int]], payload: Mapping[str, Any]) -> None:
    """Add one point's (document, revision) to the reconciler's tally."""
    revisions = counts.setdefault(str(payload["document_id"]), {})
    revision = int(payload.get(REVISION_FIELD) or 0)
    revisions[revision] = revisions.get(revision, 0) + 1


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
        **{field: payload[field] for field in CONTEXT_FIELDS if payload.get(field) is not None},
    )


@dataclass(frozen=True)
class QueryPlan:
    """Which vectors a search ranks by: "fuse" = both prefetched, fused with RRF."""

    kind: Literal["dense", "sparse", "fuse"]
    dense: Sequence[float] | None
    sparse: SparseVector | None


def chunks_in_order(records: Iterable[tuple[object, Mapping[str, Any]]]) -> list[Hit]:
    """(point id, payload) records as hits in chunk order, one per chunk index: the newest
    revision's where a re-indexed document briefly holds two."""
    newest: dict[int, tuple[int, object, Mapping[str, Any]]] = {}
    for point_id, payload in records:
        index, revision = int(payload["chunk_index"]), int(payload.get(REVISION_FIELD) or 0)
        if index not in newest or revision > newest[index][0]:
            newest[index] = (revision, point_id, payload)
    return [hit_from(point_id, 0.0, payload) for _, (_, point_id, payload) in sorted(newest.items())]


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
