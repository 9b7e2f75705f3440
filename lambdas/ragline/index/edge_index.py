"""The vector index embedded in the process: qdrant-edge, Qdrant's Rust engine, on local disk.

Why it is the local default: qdrant-client's local mode is pure Python (hybrid search takes
about a second at 10k points) and loses writes from concurrent threads, while the local runtime
runs a Step Functions Map with several ``embed_and_index`` invocations as threads of one
process. qdrant-edge is the server's own segment/index code: thread-safe, persistent (WAL +
segments), hybrid search in milliseconds at 100k points.

What edge does not give us, built here:
- Collections: an edge shard is one directory holding one "collection". The collection name
  becomes a sub-directory of ``qdrant_path``.
- Sharing: a shard directory can be opened once (its WAL is locked), also within a process.
  ``_Shard`` objects are kept in a per-process registry keyed by directory, so every
  ``EdgeIndex`` on a path (each Lambda handler thread, each ``Services`` rebuild) uses one
  engine. Another *process* cannot open the same directory while this one holds it.
- A dimension check on an open shard: edge checks a config only when loading, so the dense
  size is read from the configuration it persists next to the segments.
- Which embedder built the shard: recorded in ``ragline_embedder.json`` next to it, checked on
  every write and dense search (two 384-d models would otherwise mix silently).
Hybrid fusion (RRF with k and weights, DBSF), filters, payload indexes and delete-by-filter
are edge's own, as on the server.

Edge does not optimize in the background: points stay in appendable segments and dense search
is brute force. Filtered hybrid search at 100k points takes ~10-25 ms that way on 2 cores, and
~3 ms after ``optimize()`` builds HNSW (see bench/bench_index.py). But ``optimize()`` blocks
every read and write on the shard while it runs (about two minutes for the first 100k points
on 2 cores; later runs only index what was added), so no request path calls it: it is a
maintenance step for when ingestion is idle.
"""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections.abc import Sequence
from typing import Any

import qdrant_edge as edge

from ragline.errors import ProviderError
from ragline.index.schema import (
    COLLECTION_FIELD,
    DENSE,
    KEYWORD_INDEXES,
    REVISION_FIELD,
    SPARSE,
    TENANT_FIELD,
    chunks_in_order,
    Fusion,
    count_revision,
    embedder_mismatch,
    excludes_everything,
    hit_from,
    payload_of,
    plan_query,
)
from ragline.models import Hit, IndexPoint, SearchMode, SparseVector

UPSERT_BATCH = 1024
SCROLL_PAGE = 1000
CONFIG_FILE = "edge_config.json"  # where edge persists the shard's configuration
EMBEDDER_FILE = "ragline_embedder.json"  # which embedder built the shard (Ragline's own)


class _Shard:
    """One edge shard directory, opened at most once per process, lazily."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()  # guards opening, creating and closing only
        self._engine: edge.EdgeShard | None = None
        self._dense_size: int | None = None
        self._embedder: str | None = None  # recorded by the first write that named one

    def get(self) -> edge.EdgeShard | None:
        """The open engine, or None while nothing was ever written here."""
        with self._lock:
            if self._engine is None and os.path.exists(self._config_file):
                self._open(edge.EdgeShard.load(self.path))
            return self._engine

    def get_or_create(self, dense_dimensions: int) -> edge.EdgeShard:
        with self._lock:
            if self._engine is None:
                exists = os.path.exists(self._config_file)
                self._open(edge.EdgeShard.load(self.path) if exists else _create(self.path, dense_dimensions))
            if self._dense_size != dense_dimensions:
                raise ProviderError(
                    f"the vector index at {self.path} holds {self._dense_size}-dimensional dense vectors, "
                    f"but the embedder makes {dense_dimensions}: use another RAGLINE_COLLECTION or "
                    "RAGLINE_QDRANT_PATH for this embedder, or delete that folder and re-ingest"
                )
            assert self._engine is not None
            return self._engine

    def check_embedder(self, embedder: str, dimensions: int, *, record: bool) -> None:
        """Refuse vectors of another embedder than the one that built the shard; the first
        write that names its embedder records it (shards from before this was kept too)."""
        with self._lock:
            if self._embedder is None and os.path.exists(self._embedder_file):
                with open(self._embedder_file, encoding="utf-8") as f:
                    self._embedder = json.load(f).get("embedder")
            if self._embedder is None:
                if record:
                    with open(self._embedder_file, "w", encoding="utf-8") as f:
                        json.dump({"embedder": embedder, "dimensions": dimensions}, f)
                    self._embedder = embedder
                return
            if self._embedder != embedder:
                raise embedder_mismatch(
                    f"the vector index at {self.path}", self._embedder, self._dense_size, embedder, dimensions
                )

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.flush()
                self._engine.close()
                self._engine = None
                self._embedder = None

    @property
    def _config_file(self) -> str:
        return os.path.join(self.path, CONFIG_FILE)

    @property
    def _embedder_file(self) -> str:
        return os.path.join(self.path, EMBEDDER_FILE)

    def _open(self, engine: edge.EdgeShard) -> None:
        with open(self._config_file, encoding="utf-8") as f:
            vectors: dict[str, Any] = json.load(f).get("vectors") or {}
        self._engine = engine
        self._dense_size = vectors.get(DENSE, {}).get("size")


def _create(path: str, dense_dimensions: int) -> edge.EdgeShard:
    config = edge.EdgeConfig(
        vectors={DENSE: edge.EdgeVectorParams(size=dense_dimensions, distance=edge.Distance.Cosine)},
        sparse_vectors={SPARSE: edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)},
    )
    engine = edge.EdgeShard.create(path, config)
    engine.update(
        edge.UpdateOperation.create_field_index(TENANT_FIELD, edge.KeywordIndexParams(is_tenant=True))
    )
    for field in KEYWORD_INDEXES:
        engine.update(edge.UpdateOperation.create_field_index(field, edge.PayloadSchemaType.Keyword))
    return engine


_shards: dict[str, _Shard] = {}
_shards_lock = threading.Lock()


def _shard_at(path: str) -> _Shard:
    key = os.path.realpath(path)
    with _shards_lock:
        if key not in _shards:
            _shards[key] = _Shard(key)
        return _shards[key]


@atexit.register
def _close_all() -> None:
    """Flush segments at exit so the next start loads them instead of replaying the WAL."""
    with _shards_lock:
        for shard in _shards.values():
            shard.close()


class EdgeIndex:
    """``ports.VectorIndex`` over an in-process qdrant-edge shard at ``{path}/{collection}``."""

    def __init__(self, path: str, collection: str, fusion: Fusion | None = None) -> None:
        self._shard = _shard_at(os.path.join(path, collection))
        self.fusion = fusion or Fusion()

    @property
    def path(self) -> str:
        return self._shard.path

    def close(self) -> None:
        """Flush and release the shard (for every EdgeIndex on this path; they reopen on use).

        Only when no other thread is using the index: shutdown, tests.
        """
        self._shard.close()

    def optimize(self) -> bool:
        """Build HNSW indexes and merge segments; blocks all use of the shard meanwhile.

        Returns whether anything changed. Maintenance only: never from a request or a Lambda.
        """
        engine = self._shard.get()
        return engine.optimize() if engine is not None else False

    def ensure_collection(self, dense_dimensions: int, embedder: str | None = None) -> None:
        self._shard.get_or_create(dense_dimensions)
        if embedder is not None:
            self._shard.check_embedder(embedder, dense_dimensions, record=True)

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        if not points:
            return
        dense = next((len(p.dense) for p in points if p.dense is not None), None)
        engine = self._shard.get_or_create(dense) if dense is not None else self._require()
        for start in range(0, len(points), UPSERT_BATCH):
            batch = [_point(point) for point in points[start : start + UPSERT_BATCH]]
            engine.update(edge.UpdateOperation.upsert_points(batch))

    def delete_document(
        self,
        tenant: str,
        document_id: str,
        keep_version: str | None = None,
        *,
        up_to_revision: int | None = None,
        revision: int | None = None,
    ) -> None:
        engine = self._shard.get()
        if engine is None:
            return
        must: list[Any] = [_match(TENANT_FIELD, tenant), _match("document_id", document_id)]
        must_not: list[Any] = []
        if keep_version is not None:
            must_not.append(_match("version", keep_version))
        if revision is not None:
            must.append(edge.FieldCondition(REVISION_FIELD, match=edge.MatchValue(revision)))
        if up_to_revision is not None:  # points without a revision (older ones) count as 0
            must_not.append(edge.FieldCondition(REVISION_FIELD, range=edge.RangeFloat(gt=float(up_to_revision))))
        flt = edge.Filter(must=must, must_not=must_not or None)
        engine.update(edge.UpdateOperation.delete_points_by_filter(flt))

    def document_revisions(self, tenant: str) -> dict[str, dict[int, int]]:
        """Point counts per document and revision, for the reconciler."""
        counts: dict[str, dict[int, int]] = {}
        engine = self._shard.get()
        if engine is None:
            return counts
        offset = None
        while True:
            records, offset = engine.scroll(
                edge.ScrollRequest(offset=offset, limit=SCROLL_PAGE, filter=_filter(tenant),
                                   with_payload=True, with_vector=False)
            )  # fmt: skip
            for record in records:
                count_revision(counts, record.payload or {})
            if offset is None:
                return counts

    def count(self, tenant: str, document_id: str | None = None) -> int:
        engine = self._shard.get()
        if engine is None:
            return 0
        return engine.count(edge.CountRequest(exact=True, filter=_filter(tenant, document_id)))

    def point_ids(self, tenant: str, document_id: str) -> list[str]:
        engine = self._shard.get()
        if engine is None:
            return []
        ids: list[str] = []
        offset = None
        while True:
            records, offset = engine.scroll(
                edge.ScrollRequest(
                    offset=offset,
                    limit=SCROLL_PAGE,
                    filter=_filter(tenant, document_id),
                    with_payload=False,
                    with_vector=False,
                )
            )
            ids.extend(str(record.id) for record in records)
            if offset is None:
                return sorted(ids)

    def chunks_at(self, tenant: str, document_id: str, chunk_indexes: Sequence[int]) -> list[Hit]:
        engine = self._shard.get()
        if engine is None or not chunk_indexes:
            return []
        wanted = edge.FieldCondition("chunk_index", match=edge.MatchAny(sorted(set(chunk_indexes))))
        flt = edge.Filter(must=[_match(TENANT_FIELD, tenant), _match("document_id", document_id), wanted])
        records, _ = engine.scroll(
            edge.ScrollRequest(limit=len(set(chunk_indexes)) * 4, filter=flt, with_payload=True, with_vector=False)
        )  # x4: a document being re-indexed briefly holds two revisions of a chunk
        return chunks_in_order((record.id, record.payload or {}) for record in records)

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
        plan = plan_query(mode, dense, sparse)
        engine = self._shard.get()
        if plan is None or engine is None or excludes_everything(document_ids, file_types, collections):
            return []
        if plan.dense is not None and embedder is not None:
            self._shard.check_embedder(embedder, len(plan.dense), record=False)
        flt = _filter(tenant, document_ids=document_ids, file_types=file_types, collections=collections)
        dense_query = edge.Query.Nearest(list(plan.dense), using=DENSE) if plan.dense is not None else None
        sparse_query = (
            edge.Query.Nearest(edge.SparseVector(plan.sparse.indices, plan.sparse.values), using=SPARSE)
            if plan.sparse is not None
            else None
        )
        if plan.kind == "fuse":
            request = edge.QueryRequest(
                limit=limit,
                prefetches=[
                    edge.Prefetch(limit=prefetch_limit, query=dense_query, filter=flt),
                    edge.Prefetch(limit=prefetch_limit, query=sparse_query, filter=flt),
                ],
                query=_fusion(self.fusion),
                filter=flt,
                with_payload=True,
            )
        else:
            query = dense_query if plan.kind == "dense" else sparse_query
            request = edge.QueryRequest(limit=limit, query=query, filter=flt, with_payload=True)
        return [hit_from(point.id, point.score, point.payload or {}) for point in engine.query(request)]

    def _require(self) -> edge.EdgeShard:
        engine = self._shard.get()
        if engine is None:
            raise RuntimeError(f"no vector index at {self.path} yet: call ensure_collection first")
        return engine


def _fusion(fusion: Fusion) -> edge.Fusion.Rrf | edge.Fusion.Dbsf:
    if fusion.method == "dbsf":
        return edge.Fusion.Dbsf()
    return edge.Fusion.Rrf(k=fusion.k, weights=fusion.weights)


def _point(point: IndexPoint) -> edge.Point:
    vector: dict[str, Any] = {}
    if point.dense is not None:
        vector[DENSE] = point.dense
    if point.sparse is not None and point.sparse.indices:
        vector[SPARSE] = edge.SparseVector(point.sparse.indices, point.sparse.values)
    return edge.Point(point.id, vector, payload_of(point))


def _match(field: str, value: str) -> edge.FieldCondition:
    return edge.FieldCondition(field, match=edge.MatchValue(value))


def _filter(
    tenant: str,
    document_id: str | None = None,
    *,
    document_ids: Sequence[str] | None = None,
    file_types: Sequence[str] | None = None,
    collections: Sequence[str] | None = None,
) -> edge.Filter:
    """The tenant condition is always first and always there: no path reads across tenants."""
    must: list[Any] = [_match(TENANT_FIELD, tenant)]
    if document_id is not None:
        must.append(_match("document_id", document_id))
    if document_ids is not None:
        must.append(edge.FieldCondition("document_id", match=edge.MatchAny(list(document_ids))))
    if file_types is not None:
        must.append(edge.FieldCondition("file_type", match=edge.MatchAny(list(file_types))))
    if collections is not None:
        must.append(edge.FieldCondition(COLLECTION_FIELD, match=edge.MatchAny(list(collections))))
    return edge.Filter(must=must)
