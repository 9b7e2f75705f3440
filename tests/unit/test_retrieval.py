"""The retriever's own rules, over an index that answers like the engine does."""

from __future__ import annotations

import random
from typing import Any

from ragline.cache import MemoryCache
from ragline.embeddings.hash_embedder import HashEmbedder
from ragline.models import Hit, SparseVector
from ragline.query.retrieval import TIE_MARGIN, Retriever


def hit(n: int, score: float) -> Hit:
    return Hit(score=score, point_id=f"p{n:02d}", document_id=f"doc-{n}", chunk_index=0, text=f"passage {n}",
               source=f"docs/{n}.txt", file_type="txt", title=None, page_start=None, page_end=None)


class TiedIndex:
    """Fused scores in pairs of ties, returned in a different order on every search (as the
    engine returns ties in thread order), cut at the limit asked for."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.limits: list[int] = []

    def search(self, tenant: str, *, limit: int, **_: Any) -> list[Hit]:
        self.limits.append(limit)
        hits = [hit(n, 1.0 - (n // 2) / 10) for n in range(12)]
        self.random.shuffle(hits)
        hits.sort(key=lambda h: -h.score)  # stable: ties stay shuffled
        return hits[:limit]


def search(index: TiedIndex, limit: int) -> list[str]:
    retriever = Retriever(index, lambda: None, MemoryCache(), candidates=0,  # type: ignore[arg-type]
                          sparse_encoder=lambda _: SparseVector(indices=[1], values=[1.0]))
    return [h.point_id for h in retriever.search("acme", "passage", mode="sparse", limit=limit)]


def test_tied_scores_give_the_same_passages_every_time() -> None:
    """A tie at the cut (p02/p03 share a score, only one fits in three) is broken by point id."""
    runs = {tuple(search(TiedIndex(seed), limit=3)) for seed in range(20)}
    assert runs == {("p00", "p01", "p02")}


def test_the_index_is_asked_for_more_than_the_cut() -> None:
    index = TiedIndex(0)
    search(index, limit=3)
    assert index.limits == [3 + TIE_MARGIN]


class SplitIndex:
    """The fused list does not hold the dense list's best passage (the keyword list and the
    passage rerank both miss its words); the dense list leads with it."""

    def __init__(self) -> None:
        self.modes: list[str] = []

    def search(self, tenant: str, *, mode: str, limit: int, **_: Any) -> list[Hit]:
        self.modes.append(mode)
        if mode == "dense":
            return [hit(20, 0.9)][:limit]
        return [hit(n, 1.0 - n / 100) for n in range(12)][:limit]


def test_hybrid_keeps_the_dense_lists_best_passage_among_the_first_six() -> None:
    index = SplitIndex()
    retriever = Retriever(index, lambda: HashEmbedder(8), MemoryCache(), candidates=0)  # type: ignore[arg-type]
    ids = [h.point_id for h in retriever.search("acme", "what ages are eligible", mode="hybrid", limit=8)]
    assert ids == ["p00", "p01", "p02", "p03", "p04", "p20", "p05", "p06"]
    assert index.modes == ["hybrid", "dense"]


def test_dense_and_sparse_modes_ask_the_index_once() -> None:
    index = SplitIndex()
    retriever = Retriever(index, lambda: HashEmbedder(8), MemoryCache(), candidates=0)  # type: ignore[arg-type]
    retriever.search("acme", "what ages are eligible", mode="dense", limit=8)
    retriever.search("acme", "what ages are eligible", mode="sparse", limit=8)
    assert index.modes == ["dense", "sparse"]
