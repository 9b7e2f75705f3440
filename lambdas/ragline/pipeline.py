"""The ingestion and deletion steps, one function per state machine Task.

Each step takes the small JSON the state machine passes (S3 keys and ids, never document
text), does its work against the ports, and returns the next small JSON. Every step is
idempotent: S3 and EventBridge deliver at least once, and a replay must leave the same index.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel

from ragline.access.collection import collection_of
from ragline.chunking import chunk_document
from ragline.errors import DocumentError, NotFoundError
from ragline.extract import extract
from ragline.models import (
    Chunk,
    DocumentStatus,
    ExtractedDocument,
    IndexPoint,
    document_id_for,
    point_id_for,
)
from ragline.services import Services
from ragline.sparse import sparse_document_vector
from ragline.storage import artifact_prefix

STEPS = ("register", "extract", "chunk", "embed_and_index", "finalize")


class S3Object(BaseModel):
    """The bits of an S3 EventBridge event the pipeline needs."""

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None

    @classmethod
    def from_detail(cls, detail: Any) -> "S3Object":
        # detail is Powertools' S3EventNotificationEventBridgeDetailModel
        return cls(
            bucket=detail.bucket.name,
            key=detail.object.key,
            etag=detail.object.etag or None,
            version_id=detail.object.version_id,
            size=int(detail.object.size) if detail.object.size is not None else None,
        )

    @property
    def tenant(self) -> str:
        tenant, sep, rest = self.key.partition("/")
        if not sep or not tenant or not rest:
            raise DocumentError(
                f"s3://{self.bucket}/{self.key}: uploads must be stored as '<tenant>/<path>'; "
                "move the file under a tenant folder"
            )
        return tenant

    @property
    def source(self) -> str:
        return self.key.partition("/")[2]


class DocumentRef(BaseModel):
    """What the state machine carries about a document between steps ($.document)."""

    document_id: str
    tenant: str
    key: str
    source: str
    file_name: str
    version: str  # sha256 of the content: names the artifacts and tags the points
    version_id: str | None = None
    unchanged: bool = False

    @property
    def artifacts(self) -> str:
        return artifact_prefix(self.tenant, self.document_id, self.version)


class ExtractedRef(BaseModel):
    text_key: str
    file_type: str
    title: str | None = None
    page_count: int | None = None
    block_count: int


class ChunkedRef(BaseModel):
    batch_keys: list[str]
    chunk_count: int


def key_candidates(key: str) -> list[str]:
    """The key as the event carries it, then URL-decoded. S3 notifications URL-encode keys
    ("red flower.pdf" arrives as "red+flower.pdf"); decoding unconditionally would corrupt keys
    that really contain '+' or '%', so the stored object decides which one is meant."""
    decoded = unquote_plus(key)
    return [key] if decoded == key else [key, decoded]


def register(obj: S3Object, execution_id: str, services: Services) -> DocumentRef:
    existing = next((k for k in key_candidates(obj.key) if services.storage.document_exists(k)), obj.key)
    obj = obj.model_copy(update={"key": existing})
    tenant = obj.tenant
    content_hash, size = services.storage.document_sha256(obj.key, obj.version_id)
    result = services.catalog.register(
        tenant=tenant,
        key=obj.key,
        file_name=posixpath.basename(obj.key),
        content_hash=content_hash,
        etag=obj.etag,
        version_id=obj.version_id,
        size_bytes=size,
        execution_id=execution_id,
    )
    return DocumentRef(
        document_id=result.document.id,
        tenant=tenant,
        key=obj.key,
        source=obj.source,
        file_name=result.document.file_name,
        version=content_hash,
        version_id=obj.version_id,
        unchanged=result.unchanged,
    )


def extract_text(doc: DocumentRef, execution_id: str, services: Services) -> ExtractedRef:
    services.catalog.set_step(doc.document_id, "extract", execution_id=execution_id)
    stored = services.storage.read_document(doc.key, doc.version_id)
    extracted = extract(stored.data, doc.file_name, stored.content_type)
    text_key = doc.artifacts + "extracted.json"
    services.storage.put_json(text_key, extracted.model_dump(mode="json"))
    services.catalog.set_file_info(doc.document_id, extracted.file_type, extracted.page_count, execution_id=execution_id)
    return ExtractedRef(
        text_key=text_key,
        file_type=extracted.file_type,
        title=extracted.title,
        page_count=extracted.page_count,
        block_count=len(extracted.blocks),
    )


def chunk(doc: DocumentRef, extracted: ExtractedRef, execution_id: str, services: Services) -> ChunkedRef:
    settings = services.settings
    services.catalog.set_step(doc.document_id, "chunk", execution_id=execution_id)
    document = ExtractedDocument.model_validate(services.storage.read_json(extracted.text_key))
    chunks = chunk_document(document, settings.chunk_tokens, settings.chunk_overlap_tokens)
    if not chunks:
        raise DocumentError(f"{doc.file_name}: no text to index after extraction; check the file has readable text")
    batch_keys = []
    for start in range(0, len(chunks), settings.chunks_per_batch):
        key = f"{doc.artifacts}chunks/batch-{start // settings.chunks_per_batch:05d}.jsonl"
        rows = [
            {"chunk": c.model_dump(mode="json"), "file_type": extracted.file_type, "title": extracted.title}
            for c in chunks[start : start + settings.chunks_per_batch]
        ]
        services.storage.put_jsonl(key, rows)
        batch_keys.append(key)
    services.catalog.set_step(doc.document_id, "embed_and_index", execution_id=execution_id)
    return ChunkedRef(batch_keys=batch_keys, chunk_count=len(chunks))


def embed_and_index(doc: DocumentRef, batch_key: str, services: Services) -> dict[str, int]:
    rows = services.storage.read_jsonl(batch_key)
    chunks = [Chunk.model_validate(row["chunk"]) for row in rows]
    embedder, index = services.embedder, services.index
    dense = embedder.embed_documents([c.text for c in chunks])
    index.ensure_collection(embedder.dimensions)
    index.upsert(
        [
            IndexPoint(
                id=point_id_for(doc.document_id, c.index),
                tenant=doc.tenant,
                document_id=doc.document_id,
                version=doc.version,
                chunk_index=c.index,
                text=c.text,
                source=doc.source,
                file_type=row["file_type"],
                collection=collection_of(doc.key),
                title=row.get("title"),
                page_start=c.page_start,
                page_end=c.page_end,
                heading=c.heading,
                dense=vector,
                sparse=sparse_document_vector(c.text),
            )
            for c, row, vector in zip(chunks, rows, dense)
        ]
    )
    return {"points": len(chunks), "embedding_tokens": sum(c.token_count for c in chunks)}


def finalize(doc: DocumentRef, chunked: ChunkedRef, execution_id: str, services: Services) -> dict[str, Any]:
    record = services.catalog.set_step(doc.document_id, "finalize", execution_id=execution_id)
    if record.execution_id != execution_id:
        # A newer upload of the same key took over; its own finalize settles the index.
        return {"status": "superseded", "by": record.execution_id}
    if record.status == DocumentStatus.deleted:
        # The object was deleted while this execution indexed it. The delete workflow may have
        # run before our upserts, so its cleanup is redone here: no points outlive the document.
        services.index.delete_document(doc.tenant, doc.document_id)
        services.storage.delete_artifacts(artifact_prefix(doc.tenant, doc.document_id))
        generation = services.catalog.bump_generation(doc.tenant)
        return {"status": "deleted", "chunk_count": 0, "generation": generation}
    # Chunks of earlier versions (a changed re-upload) go; this version's points stay.
    services.index.delete_document(doc.tenant, doc.document_id, keep_version=doc.version)
    services.storage.delete_artifacts(artifact_prefix(doc.tenant, doc.document_id), keep_prefix=doc.artifacts)
    services.catalog.mark_ready(doc.document_id, chunked.chunk_count, execution_id=execution_id)
    generation = services.catalog.bump_generation(doc.tenant)
    return {"status": "ready", "chunk_count": chunked.chunk_count, "generation": generation}


def mark_failed(
    state: dict[str, Any], execution_id: str, services: Services, step: str | None = None
) -> dict[str, Any]:
    """Record why an execution failed, in words, on the document's catalog row."""
    step = step or _failed_step(state)
    reason = failure_reason(state.get("error") or {})
    document = state.get("document") or {}
    document_id = document.get("document_id")
    if document_id is None:
        document_id = _document_id_from_event(state.get("detail") or {})
    if document_id is None:
        return {"document_id": None, "step": step, "reason": reason}
    try:
        services.catalog.mark_failed(document_id, step, reason, execution_id=execution_id)
    except NotFoundError:
        pass  # the row was never created (register failed before it): the DLQ keeps the event
    return {"document_id": document_id, "step": step, "reason": reason}


def delete(obj: S3Object, services: Services) -> dict[str, Any]:
    """An object was deleted: drop its points, artifacts and catalog entry."""
    tenant = obj.tenant
    key = next((k for k in key_candidates(obj.key) if services.catalog.find_by_key(tenant, k)), obj.key)
    if services.storage.document_exists(key):
        # A non-current version was removed; the current object is still there and indexed.
        return {"deleted": False, "reason": "a current version of the object still exists"}
    document_id = document_id_for(tenant, key)
    services.index.delete_document(tenant, document_id)
    services.storage.delete_artifacts(artifact_prefix(tenant, document_id))
    record = services.catalog.mark_deleted(tenant, key)
    generation = services.catalog.bump_generation(tenant)
    return {"deleted": record is not None, "document_id": document_id, "generation": generation}


def failure_reason(error: dict[str, Any]) -> str:
    """Turn Step Functions' {Error, Cause} into the sentence a user reads."""
    name = error.get("Error", "Error")
    cause = error.get("Cause") or ""
    try:
        payload = json.loads(cause)
        message = payload.get("errorMessage") or cause
    except (TypeError, ValueError):
        message = cause
    if name == "States.Timeout":
        return "The step timed out; the document may be too large. Split it and upload again."
    if name == "TransientError":
        return f"Gave up after repeated retries: {message}. Upload the file again to retry."
    if name in {"DocumentError", "ProviderError"}:
        return message
    return f"{name}: {message}" if message else name


def _failed_step(state: dict[str, Any]) -> str:
    done = {"document": "register", "extracted": "extract", "chunked": "chunk", "indexed": "embed_and_index"}
    for key, step in done.items():
        if key not in state:
            return step
    return "finalize"


def _document_id_from_event(detail: dict[str, Any]) -> str | None:
    key = (detail.get("object") or {}).get("key")
    if not key:
        return None
    tenant, sep, rest = key.partition("/")
    return document_id_for(tenant, key) if sep and tenant and rest else None
