"""The small interfaces the core depends on. Each has real implementations per backend:

- Embedder:     ragline.embeddings  (OpenAI-compatible, local MiniLM, deterministic hash)
- VectorIndex:  ragline.index       (QdrantClient: server or local mode; qdrant-edge in-process)
- Catalog:      ragline.catalog     (SQLAlchemy Core: SQLite, PostgreSQL, SQL Server)
- Cache:        ragline.cache       (Redis/Valkey; a no-op when unreachable)
- LLM:          ragline.llm         (OpenAI-compatible chat completions)
"""

from __future__ import annotations

from typing import Iterator, Protocol, Sequence

from ragline.models import Hit, IndexPoint, SearchMode, SparseVector


class Embedder(Protocol):
    name: str  # identifies model + dimensions; part of cache keys
    dimensions: int

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class VectorIndex(Protocol):
    def ensure_collection(self, dense_dimensions: int, embedder: str | None = None) -> None:
        """Create the collection if needed; with ``embedder`` (its name), record it on a new
        collection and refuse (EmbedderMismatchError) one that another embedder built."""

    def upsert(self, points: Sequence[IndexPoint]) -> None: ...

    def delete_document(
        self,
        tenant: str,
        document_id: str,
        keep_version: str | None = None,
        *,
        up_to_revision: int | None = None,
        revision: int | None = None,
    ) -> None:
        """Delete a document's points: all; with keep_version, only those of other versions;
        with up_to_revision, those of revisions <= it (and any without a revision); with
        revision, exactly that revision's. Revisions above the bound are never touched."""

    def document_revisions(self, tenant: str) -> dict[str, dict[int, int]]:
        """{document_id: {revision: point count}} for every point of the tenant (reconciler)."""

    def count(self, tenant: str, document_id: str | None = None) -> int: ...

    def point_ids(self, tenant: str, document_id: str) -> list[str]: ...

    def chunks_at(self, tenant: str, document_id: str, chunk_indexes: Sequence[int]) -> list[Hit]:
        """One document's chunks at these chunk indexes (score 0, in chunk order; missing ones
        are left out): the second stage widens a hit with the chunks around it."""

    def search(
        self,
        tenant: str,
        *,
        dense: Sequence[float] | None,
        sparse: SparseVector | None,
        mode: SearchMode = "hybrid",
        limit: int = 8,
        prefetch_limit: int = 40,
        document_ids: Sequence[str] | None = None,
        file_types: Sequence[str] | None = None,
        embedder: str | None = None,
        collections: Sequence[str] | None = None,
    ) -> list[Hit]:
        """Top hits for one tenant (the tenant filter is always applied), only from
        ``collections`` when given (a filter condition, never a post-filter). ``embedder`` names
        the model of the dense query vector: another than the collection's is refused."""


class Cache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_s: int) -> None: ...

    def incr(self, key: str) -> int: ...


class LLM(Protocol):
    model: str

    def complete(self, system: str, user: str, max_tokens: int) -> "Completion": ...

    def stream(self, system: str, user: str, max_tokens: int) -> Iterator[str]: ...


class Completion(Protocol):
    text: str
    prompt_tokens: int
    completion_tokens: int
