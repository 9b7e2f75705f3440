"""Retrieval: turn a question into query vectors and ask the index for one tenant's top hits.

Why dense failures are not silently downgraded to sparse: a user who asked for hybrid or
dense search and got keyword results would read worse answers as "the system is dumb". So an
unavailable embedder is an `EmbedderUnavailableError` (503, says to use mode=sparse or fix the
embedder). Sparse mode never touches the embedder, so it works without one.

Why hybrid search ranks a question across documents by its dense vector alone: such a question
names each document ("the DVRd myeloma and the dendritic cell melanoma trials") and asks one
thing of all of them ("follow-up"). The keyword list is led by the names, each matching the
chunks of its own document that repeat it most; the embedding reads what is asked. (nih dev
set, multi-document questions: context 0.18 and answers 0.07 fused, 0.22 and 0.15 dense; the
keyword list at a quarter weight, 0.18 and 0.11.) The second stage still reads the words.

Query embeddings are cached (key: embedder name + normalised text) because the same questions
recur and a provider round trip costs far more than a cache read.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Callable, Sequence

from ragline.cache import decode_vector, embedding_key, encode_vector
from ragline.errors import RaglineError
from ragline.index.schema import EmbedderMismatchError
from ragline.models import Hit, SearchMode, SparseVector
from ragline.ports import Cache, Embedder, VectorIndex
from ragline.query.question import across_documents
from ragline.query.second_stage import Ranked, kept_only, rerank, uncovered, widened, with_leader

logger = logging.getLogger(__name__)

SPARSE_ONLY = "none"  # the embedder name in cache keys when no dense vector is involved
TIE_MARGIN = 5  # candidates fetched beyond the pool, so a tie at its cut is broken the same way every time


class EmbedderUnavailableError(RaglineError):
    """Dense or hybrid search was asked for, but no embedding could be computed."""


class Timer:
    """Collects per-stage latencies in milliseconds (stages may repeat: they add up)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.stages: dict[str, float] = {}

    def stage(self, name: str) -> "_Stage":
        return _Stage(self, name)

    def add(self, name: str, ms: float) -> None:
        self.stages[name] = round(self.stages.get(name, 0.0) + ms, 3)

    def total_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 3)


def _same_every_time(candidates: list[Hit], pool: int) -> list[Hit]:
    """The best ``pool`` candidates, ties broken by point id. Fused scores tie often (dense 3rd
    + sparse 5th = dense 5th + sparse 3rd) and the engine returns ties in thread order, at the
    cut too; the index is asked for ``TIE_MARGIN`` more, so a question gets the same passages
    every time (on the nih dev set, answers moved ±0.01 run to run without it)."""
    return sorted(candidates, key=lambda hit: (-hit.score, hit.point_id))[:pool]


@dataclass(frozen=True)
class _Scope:
    """Which of a tenant's passages a search may return (None: no restriction)."""

    document_ids: Sequence[str] | None
    file_types: Sequence[str] | None
    collections: Sequence[str] | None


class _Stage:
    def __init__(self, timer: Timer, name: str) -> None:
        self.timer, self.name = timer, name

    def __enter__(self) -> "_Stage":
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.add(self.name, (time.perf_counter() - self.t0) * 1000)


class Retriever:
    """Embeds (with a cache) and searches. The embedder is resolved lazily through
    ``embedder_provider`` so sparse-only requests work even when no embedder can be built."""

    def __init__(
        self,
        index: VectorIndex,
        embedder_provider: Callable[[], Embedder | None],
        cache: Cache,
        *,
        sparse_encoder: Callable[[str], SparseVector] | None = None,
        embedding_ttl_s: int = 86400,
        prefetch_limit: int = 40,
        candidates: int = 30,
        max_per_document: int | None = None,
        passage_rerank: bool = True,
        neighbour_chunks: int = 0,
    ) -> None:
        self.index = index
        self.neighbour_chunks = neighbour_chunks  # chunks of the same section joined on each side of a hit
        self.candidates = candidates  # what the second stage re-orders (0: index order as is)
        self.max_per_document = max_per_document
        self.passage_rerank = passage_rerank
        self._embedder_provider = embedder_provider
        self.cache = cache
        self._sparse_encoder = sparse_encoder
        self.embedding_ttl_s = embedding_ttl_s
        self.prefetch_limit = prefetch_limit

    def embedder(self) -> Embedder:
        """The dense embedder, or `EmbedderUnavailableError` saying what to do instead."""
        try:
            embedder = self._embedder_provider()
        except Exception as exc:
            logger.exception("embedder could not be created")
            raise EmbedderUnavailableError(
                f"Dense search is unavailable: the embedder could not be loaded ({exc}). "
                "Use mode=sparse, or fix RAGLINE_EMBEDDER."
            ) from exc
        if embedder is None:
            raise EmbedderUnavailableError(
                "Dense search is unavailable: no embedder is configured. Use mode=sparse, "
                "or set RAGLINE_EMBEDDER."
            )
        return embedder

    def embedder_name(self, mode: SearchMode) -> str:
        """The embedder's name for cache keys ("none" in sparse mode, which does not embed)."""
        return SPARSE_ONLY if mode == "sparse" else self.embedder().name

    def query_vector(self, text: str) -> list[float]:
        """The dense query vector, from the cache when this embedder embedded this text before."""
        embedder = self.embedder()
        key = embedding_key(embedder.name, text)
        cached = self.cache.get(key)
        if cached is not None:
            try:
                return decode_vector(cached)
            except ValueError:
                logger.warning("ignoring a corrupt cached embedding")
        try:
            vector = list(embedder.embed_query(text))
        except Exception as exc:
            logger.exception("query embedding failed")
            raise EmbedderUnavailableError(
                f"Dense search is unavailable: the embedder {embedder.name} failed "
                f"({exc.__class__.__name__}: {exc}). Try again, or use mode=sparse."
            ) from exc
        self.cache.set(key, encode_vector(vector), self.embedding_ttl_s)
        return vector

    def sparse_vector(self, text: str) -> SparseVector:
        if self._sparse_encoder is None:
            from ragline.sparse import sparse_query_vector

            self._sparse_encoder = sparse_query_vector
        return self._sparse_encoder(text)

    def search(
        self,
        tenant: str,
        question: str,
        *,
        mode: SearchMode,
        limit: int,
        document_ids: Sequence[str] | None = None,
        file_types: Sequence[str] | None = None,
        collections: Sequence[str] | None = None,
        timer: Timer | None = None,
    ) -> list[Hit]:
        """One tenant's top hits (the index applies the tenant filter on every search), from
        ``collections`` only when given (None: every collection; see ragline.access)."""
        return self.retrieve(
            tenant,
            question,
            mode=mode,
            limit=limit,
            document_ids=document_ids,
            file_types=file_types,
            collections=collections,
            timer=timer,
        ).hits

    def retrieve(
        self,
        tenant: str,
        question: str,
        *,
        mode: SearchMode,
        limit: int,
        document_ids: Sequence[str] | None = None,
        file_types: Sequence[str] | None = None,
        collections: Sequence[str] | None = None,
        timer: Timer | None = None,
    ) -> Ranked:
        """The top hits after the second stage (ragline.query.second_stage), which also says
        which of them are boilerplate repeated across documents."""
        timer = timer or Timer()
        if mode == "hybrid" and across_documents(question):
            mode = "dense"  # names split the keyword ranking among documents (module docstring)
        dense: list[float] | None = None
        sparse: SparseVector | None = None
        with timer.stage("embed"):
            if mode in ("dense", "hybrid"):
                dense = self.query_vector(question)
            if mode in ("sparse", "hybrid"):
                sparse = self.sparse_vector(question)
        if sparse is not None and not sparse.indices:
            # No indexable terms (e.g. punctuation only): sparse has nothing to contribute.
            if mode == "sparse":
                return Ranked([])
            mode, sparse = "dense", None
        pool = max(limit, self.candidates)
        scope = _Scope(document_ids, file_types, collections)
        with timer.stage("search"):
            candidates = _same_every_time(self._search(tenant, scope, mode, dense, sparse, pool + TIE_MARGIN), pool)
            # The dense list's best passage, kept among the first few (second_stage.with_leader).
            # It is among the candidates' documents (RRF puts a first place in the pool), and a
            # search filtered to them reads a few documents' chunks instead of the tenant's.
            leader: list[Hit] = []
            if mode == "hybrid" and candidates:
                documents = sorted({hit.document_id for hit in candidates})
                leader = self._search(tenant, replace(scope, document_ids=documents), "dense", dense, None, 1)
        if not self.candidates:
            ranked = Ranked(candidates)
        else:
            with timer.stage("rerank"):
                ranked = rerank(candidates, len(candidates), question=question,
                                max_per_document=self.max_per_document, passage_rerank=self.passage_rerank)
        reach = self.neighbour_chunks
        top = uncovered(ranked.hits, reach)[:limit] if reach else ranked.hits[:limit]
        kept = kept_only(ranked, with_leader(top, leader[0] if leader else None, reach, ranked.boilerplate))
        if not reach:
            return kept
        with timer.stage("widen"):
            return replace(kept, hits=[self.widen(tenant, hit) for hit in kept.hits])

    def _search(self, tenant: str, scope: "_Scope", mode: SearchMode, dense: list[float] | None,
                sparse: SparseVector | None, limit: int) -> list[Hit]:
        try:
            return self.index.search(
                tenant,
                dense=dense,
                sparse=sparse,
                mode=mode,
                limit=limit,
                prefetch_limit=max(self.prefetch_limit, limit),
                document_ids=list(scope.document_ids) if scope.document_ids else None,
                file_types=list(scope.file_types) if scope.file_types else None,
                embedder=self.embedder().name if dense is not None else None,
                collections=list(scope.collections) if scope.collections is not None else None,
            )
        except EmbedderMismatchError as exc:
            raise EmbedderUnavailableError(f"Dense search is unavailable: {exc}. Or use mode=sparse.") from exc

    def widen(self, tenant: str, hit: Hit) -> Hit:
        """The hit joined with up to ``neighbour_chunks`` chunks of its section on each side."""
        reach = range(hit.chunk_index - self.neighbour_chunks, hit.chunk_index + self.neighbour_chunks + 1)
        around = [i for i in reach if i >= 0 and i != hit.chunk_index]
        return widened(hit, self.index.chunks_at(tenant, hit.document_id, around))
