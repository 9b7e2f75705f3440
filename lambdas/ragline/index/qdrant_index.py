"""The vector index over ``qdrant_client.QdrantClient``: a Qdrant server, or local mode.

Production talks to a Qdrant server (Qdrant Cloud or self-hosted) by URL + API key. Local mode
(``QdrantClient(path=...)`` or ``":memory:"``) is the same API in pure Python: handy, but brute
force, deaf to payload indexes, not thread-safe, and it locks its folder against a second
client. So local-mode clients are shared per path within a process and every call on one is
serialized by a lock; the embedded default engine is ``EdgeIndex`` instead.

The embedder that built a collection is recorded in the collection's metadata
(``ragline_embedder``) and checked on every write and dense search.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from ragline.errors import ProviderError, TransientError
from ragline.index.schema import (
    COLLECTION_FIELD,
    DENSE,
    KEYWORD_INDEXES,
    REVISION_FIELD,
    SPARSE,
    TENANT_FIELD,
    Fusion,
    chunks_in_order,
    count_revision,
    embedder_mismatch,
    excludes_everything,
    hit_from,
    payload_of,
    plan_query,
)
from ragline.models import Hit, IndexPoint, SearchMode, SparseVector

EMBEDDER_METADATA = "ragline_embedder"  # collection metadata key: the embedder that built it
UPSERT_BATCH = 256  # points per request: keeps a server request well under its size limits
SCROLL_PAGE = 1000

_local_clients: dict[str, tuple[QdrantClient, threading.RLock]] = {}
_local_clients_lock = threading.Lock()


def _local_client(path: str) -> tuple[QdrantClient, threading.RLock]:
    """One local-mode client per folder per process (a second one would fail on the lock)."""
    if path == ":memory:":
        return QdrantClient(location=":memory:"), threading.RLock()
    key = os.path.realpath(path)
    with _local_clients_lock:
        if key not in _local_clients:
            os.makedirs(key, exist_ok=True)
            _local_clients[key] = (QdrantClient(path=key), threading.RLock())
        return _local_clients[key]


@atexit.register
def _close_local_clients() -> None:
    """Release folders while the interpreter is intact (the client's __del__ fails later)."""
    with _local_clients_lock:
        for client, _ in _local_clients.values():
            client.close()
        _local_clients.clear()


class QdrantIndex:
    def __init__(
        self,
        collection: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        path: str | None = None,
        fusion: Fusion | None = None,
    ) -> None:
        if (url is None) == (path is None):
            raise ValueError("QdrantIndex needs exactly one of url (server) or path (local mode)")
        self.collection = collection
        self.fusion = fusion or Fusion()
        self.server = url is not None
        self._where = f"Qdrant at {url}" if url else f"Qdrant local mode at {path}"
        self._path = path
        if url is not None:
            # No version probe at construction: it costs a round trip on every cold start.
            self._client = QdrantClient(url=url, api_key=api_key, check_compatibility=False)
            self._lock: threading.RLock | None = None
        else:
            assert path is not None
            self._client, self._lock = _local_client(path)
        self._exists = False
        self._dense_size: int | None = None  # of the collection, once checked
        self._embedder: str | None = None  # the embedder recorded on the collection, once read

    def close(self) -> None:
        """Release the client (a local-mode folder for every QdrantIndex on it: tests, shutdown)."""
        if self._path is not None and self._path != ":memory:":
            with _local_clients_lock:
                _local_clients.pop(os.path.realpath(self._path), None)
        self._client.close()

    # -- collection ---------------------------------------------------------------------------

    def ensure_collection(self, dense_dimensions: int, embedder: str | None = None) -> None:
        if self._dense_size is None:
            with self._call("create the collection"):
                if not self._client.collection_exists(self.collection):
                    self._create(dense_dimensions, embedder)
                self._dense_size, self._embedder = self._collection_config()
            self._exists = True
        if self._dense_size != dense_dimensions:
            raise ProviderError(
                f"collection {self.collection!r} in {self._where} has {self._dense_size}-dimensional dense "
                f"vectors, but the embedder makes {dense_dimensions}: use another RAGLINE_COLLECTION for "
                "this embedder, or delete the collection and re-ingest"
            )
        if embedder is not None:
            self._check_embedder(embedder, dense_dimensions, record=True)

    def _check_embedder(self, embedder: str, dimensions: int, *, record: bool) -> None:
        """Refuse another embedder's vectors; record the first one named (older collections)."""
        if self._embedder is None:
            with self._call("read the collection"):
                self._dense_size, self._embedder = self._collection_config()
        if self._embedder is None:
            if record:
                with self._call("record the embedder"):
                    self._client.update_collection(self.collection, metadata={EMBEDDER_METADATA: embedder})
                self._embedder = embedder
            return
        if self._embedder != embedder:
            raise embedder_mismatch(
                f"collection {self.collection!r} in {self._where}", self._embedder, self._dense_size,
                embedder, dimensions,
            )

    def _create(self, dense_dimensions: int, embedder: str | None) -> None:
        try:
            self._client.create_collection(
                self.collection,
                metadata={EMBEDDER_METADATA: embedder} if embedder else None,
                vectors_config={
                    DENSE: models.VectorParams(size=dense_dimensions, distance=models.Distance.COSINE)
                },
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            )
        except UnexpectedResponse as exc:
            if exc.status_code != 409:  # another Lambda created it a moment ago: fine
                raise
        if self.server:  # local mode ignores payload indexes (and warns about them)
            self._client.create_payload_index(
                self.collection,
                TENANT_FIELD,
                field_schema=models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True),
            )
            for field in KEYWORD_INDEXES:
                self._client.create_payload_index(
                    self.collection, field, field_schema=models.PayloadSchemaType.KEYWORD
                )

    def _collection_config(self) -> tuple[int | None, str | None]:
        """(dense size, recorded embedder) of the collection."""
        config = self._client.get_collection(self.collection).config
        vectors = config.params.vectors
        params = vectors.get(DENSE) if isinstance(vectors, dict) else None
        embedder = (config.metadata or {}).get(EMBEDDER_METADATA)
        return (params.size if params is not None else None), embedder

    def _collection_exists(self) -> bool:
        """Whether there is anything to read yet (remembered once true)."""
        if not self._exists:
            with self._call("look up the collection"):
                self._exists = self._client.collection_exists(self.collection)
        return self._exists

    # -- writes -------------------------------------------------------------------------------

    def upsert(self, points: Sequence[IndexPoint]) -> None:
        for start in range(0, len(points), UPSERT_BATCH):
            batch = [_point_struct(point) for point in points[start : start + UPSERT_BATCH]]
            with self._call("upsert points"):
                self._client.upsert(self.collection, points=batch, wait=True)

    def delete_document(
        self,
        tenant: str,
        document_id: str,
        keep_version: str | None = None,
        *,
        up_to_revision: int | None = None,
        revision: int | None = None,
    ) -> None:
        if not self._collection_exists():
            return
        must: list[models.Condition] = [_match(TENANT_FIELD, tenant), _match("document_id", document_id)]
        must_not: list[models.Condition] = []
        if keep_version is not None:
            must_not.append(_match("version", keep_version))
        if revision is not None:
            must.append(models.FieldCondition(key=REVISION_FIELD, match=models.MatchValue(value=revision)))
        if up_to_revision is not None:  # points without a revision (older ones) count as 0
            must_not.append(models.FieldCondition(key=REVISION_FIELD, range=models.Range(gt=up_to_revision)))
        selector = models.FilterSelector(filter=models.Filter(must=must, must_not=must_not or None))
        with self._call("delete a document's points"):
            self._client.delete(self.collection, points_selector=selector, wait=True)

    # -- reads --------------------------------------------------------------------------------

    def count(self, tenant: str, document_id: str | None = None) -> int:
        if not self._collection_exists():
            return 0
        with self._call("count points"):
            return self._client.count(
                self.collection, count_filter=_filter(tenant, document_id), exact=True
            ).count

    def document_revisions(self, tenant: str) -> dict[str, dict[int, int]]:
        """Point counts per document and revision, for the reconciler."""
        counts: dict[str, dict[int, int]] = {}
        if not self._collection_exists():
            return counts
        offset = None
        while True:
            with self._call("list points"):
                records, offset = self._client.scroll(
                    self.collection, scroll_filter=_filter(tenant), limit=SCROLL_PAGE, offset=offset,
                    with_payload=["document_id", REVISION_FIELD], with_vectors=False,
                )  # fmt: skip
            for record in records:
                count_revision(counts, record.payload or {})
            if offset is None:
                return counts

    def point_ids(self, tenant: str, document_id: str) -> list[str]:
        if not self._collection_exists():
            return []
        ids: list[str] = []
        offset = None
        while True:
            with self._call("list point ids"):
                records, offset = self._client.scroll(
                    self.collection,
                    scroll_filter=_filter(tenant, document_id),
                    limit=SCROLL_PAGE,
                    offset=offset,
                    with_payload=False,
                    with_vectors=False,
                )
            ids.extend(str(record.id) for record in records)
            if offset is None:
                return sorted(ids)

    def chunks_at(self, tenant: str, document_id: str, chunk_indexes: Sequence[int]) -> list[Hit]:
        if not chunk_indexes or not self._collection_exists():
            return []
        flt = _filter(tenant, document_id)
        flt.must.append(models.FieldCondition(key="chunk_index", match=models.MatchAny(any=sorted(set(chunk_indexes)))))
        with self._call("read neighbouring chunks"):
            records, _ = self._client.scroll(
                self.collection, scroll_filter=flt, limit=len(set(chunk_indexes)) * 4,
                with_payload=True, with_vectors=False,
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
        if plan is None or excludes_everything(document_ids, file_types, collections) or not self._collection_exists():
            return []
        if plan.dense is not None and embedder is not None:
            self._check_embedder(embedder, len(plan.dense), record=False)
        flt = _filter(tenant, document_ids=document_ids, file_types=file_types, collections=collections)
        dense_query = list(plan.dense) if plan.dense is not None else None
        sparse_query = (
            models.SparseVector(indices=plan.sparse.indices, values=plan.sparse.values)
            if plan.sparse
            else None
        )
        if plan.kind == "fuse":
            request = dict(
                prefetch=[
                    models.Prefetch(query=dense_query, using=DENSE, limit=prefetch_limit, filter=flt),
                    models.Prefetch(query=sparse_query, using=SPARSE, limit=prefetch_limit, filter=flt),
                ],
                query=_fusion(self.fusion),
            )
        elif plan.kind == "dense":
            request = dict(query=dense_query, using=DENSE)
        else:
            request = dict(query=sparse_query, using=SPARSE)
        with self._call("search"):
            response = self._client.query_points(
                self.collection, query_filter=flt, limit=limit, with_payload=True, **request
            )
        return [hit_from(point.id, point.score, point.payload or {}) for point in response.points]

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _call(self, action: str) -> Iterator[None]:
        """Serialize local-mode calls; turn server failures into Ragline's retry/fail errors."""
        lock = self._lock
        if lock is not None:
            lock.acquire()
        try:
            yield
        except ResponseHandlingException as exc:
            raise TransientError(f"{self._where} could not {action}: {exc.source!r}; will retry") from exc
        except UnexpectedResponse as exc:
            status = exc.status_code or 0
            detail = exc.content[:300].decode("utf-8", "replace")
            if status in (408, 429) or status >= 500:
                raise TransientError(
                    f"{self._where} failed to {action} ({status}): {detail}; will retry"
                ) from exc
            if status in (401, 403):
                raise ProviderError(
                    f"{self._where} rejected the API key ({status}) trying to {action}: set "
                    "RAGLINE_QDRANT_API_KEY (or RAGLINE_QDRANT_API_KEY_SECRET_ARN)"
                ) from exc
            raise ProviderError(f"{self._where} refused to {action} ({status}): {detail}") from exc
        finally:
            if lock is not None:
                lock.release()


def _fusion(fusion: Fusion) -> models.RrfQuery | models.FusionQuery:
    if fusion.method == "dbsf":
        return models.FusionQuery(fusion=models.Fusion.DBSF)
    return models.RrfQuery(rrf=models.Rrf(k=fusion.k, weights=fusion.weights))


def _point_struct(point: IndexPoint) -> models.PointStruct:
    vector: dict[str, list[float] | models.SparseVector] = {}
    if point.dense is not None:
        vector[DENSE] = point.dense
    if point.sparse is not None and point.sparse.indices:
        vector[SPARSE] = models.SparseVector(indices=point.sparse.indices, values=point.sparse.values)
    return models.PointStruct(id=point.id, vector=vector, payload=payload_of(point))


def _match(field: str, value: str) -> models.FieldCondition:
    return models.FieldCondition(key=field, match=models.MatchValue(value=value))


def _filter(
    tenant: str,
    document_id: str | None = None,
    *,
    document_ids: Sequence[str] | None = None,
    file_types: Sequence[str] | None = None,
    collections: Sequence[str] | None = None,
) -> models.Filter:
    """The tenant condition is always first and always there: no path reads across tenants."""
    must: list[models.Condition] = [_match(TENANT_FIELD, tenant)]
    if document_id is not None:
        must.append(_match("document_id", document_id))
    if document_ids is not None:
        must.append(models.FieldCondition(key="document_id", match=models.MatchAny(any=list(document_ids))))
    if file_types is not None:
        must.append(models.FieldCondition(key="file_type", match=models.MatchAny(any=list(file_types))))
    if collections is not None:
        must.append(models.FieldCondition(key=COLLECTION_FIELD, match=models.MatchAny(any=list(collections))))
    return models.Filter(must=must)
