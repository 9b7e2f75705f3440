"""The ingestion and deletion steps, one function per state machine Task.

Each step takes the small JSON the state machine passes (S3 keys and ids, never document
text), does its work against the ports, and returns the next small JSON. Every step is
idempotent: S3 and EventBridge deliver at least once, and a replay must leave the same index.

How versions never mix (issue 9). ``register`` orders events per key (the catalog keeps the
highest S3 sequencer, deletes included) and hands the row to one execution at a time, with a
new *revision*. Everything an execution writes is tagged with its revision: point ids and
payloads (``models.point_id_for``) and the artifacts prefix. The design is "check before
writing, clean up after", not "invisible until activated":

- ``embed_and_index`` checks that its execution still owns the row before it embeds and again
  right before it upserts; after upserting it checks a third time and, if it lost the row
  meanwhile, deletes exactly its own revision's points. Whoever took the row over (a newer
  upload's finalize, a delete) removes revisions *below* its own, never above, so the two
  cleanups cannot remove the winner's points, in whichever order they run.
- ``finalize`` marks the row ready only if it still owns it, and only then drops older
  revisions. A superseded finalize removes its own revision and nothing else. ``delete``
  tombstones the row (a new revision) and removes every revision up to it; a finalize or an
  upsert that comes later is superseded and cleans up its own. Finalize and delete therefore
  converge in either order.
- Why not "inactive until finalize activates": every query would need an extra filter, and a
  late, timed-out attempt of the *winning* execution would re-upsert its points as inactive
  after activation, hiding a ready document. Here such a late attempt rewrites identical
  points (same ids, same payload), which is harmless.
- The one window left is a worker killed between its upsert and its final ownership check
  (milliseconds; a Lambda hard timeout can land there). The reconciler (``ragline.reconcile``)
  removes such points: any revision other than a ready row's own.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field

from ragline.access.collection import collection_of
from ragline.chunking import chunk_document
from ragline.errors import DocumentError, SupersededError
from ragline.extract import extract
from ragline.models import (
    Chunk,
    DeleteOutcome,
    DocumentDescriptor,
    DocumentStatus,
    ExtractedDocument,
    IndexPoint,
    RegisterOutcome,
    document_id_for,
    point_id_for,
)
from ragline.services import Services
from ragline.sparse import sparse_document_vector
from ragline.storage import artifact_prefix

STEPS = ("register", "extract", "chunk", "embed_and_index", "finalize")
PipelineStep = Literal["register", "extract", "chunk", "embed_and_index", "finalize", "delete"]

# S3 detail "reason" of the Object Created events the reconciler sends to re-ingest a document
# whose index drifted: register then re-indexes even when the content is unchanged.
RECONCILE_REASON = "RaglineReconcile"


class S3Object(BaseModel):
    """The bits of an S3 EventBridge event the pipeline needs."""

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None
    sequencer: str | None = None  # orders the events of one key (hex; see models.normalise_sequencer)
    reason: str | None = None  # S3's reason, e.g. PutObject; RECONCILE_REASON from the reconciler

    @classmethod
    def from_detail(cls, detail: Any) -> "S3Object":
        # detail is Powertools' S3EventNotificationEventBridgeDetailModel
        return cls(
            bucket=detail.bucket.name,
            key=detail.object.key,
            etag=detail.object.etag or None,
            version_id=detail.object.version_id,
            size=int(detail.object.size) if detail.object.size is not None else None,
            sequencer=detail.object.sequencer,
            reason=detail.reason,
        )

    @property
    def tenant(self) -> str:
        return tenant_of(self.key, f"s3://{self.bucket}/")

    @property
    def source(self) -> str:
        return self.key.partition("/")[2]


def tenant_of(key: str, where: str = "") -> str:
    """The tenant of an S3 key ``<tenant>/<path>``; DocumentError, with the reason, for keys no
    tenant could reach: no tenant folder, or '.'/'..' or empty segments (``../x.txt``)."""
    tenant, sep, rest = key.partition("/")
    if not sep or not tenant or not rest:
        raise DocumentError(
            f"{where}{key}: uploads must be stored as '<tenant>/<path>'; move the file under a tenant folder"
        )
    if any(segment in {"", ".", ".."} for segment in key.split("/")):
        raise DocumentError(
            f"{where}{key}: keys may not contain '.', '..' or empty path segments; "
            "store the file as '<tenant>/<path>' with plain folder names"
        )
    return tenant


class DocumentRef(BaseModel):
    """What the state machine carries about a document between steps ($.document)."""

    document_id: str
    tenant: str
    key: str
    source: str
    file_name: str
    version: str  # sha256 of the content
    version_id: str | None = None
    revision: int = 0  # the catalog revision this execution owns: tags its points and artifacts
    outcome: RegisterOutcome = RegisterOutcome.ingest  # the ASL's Choice reads it

    @property
    def unchanged(self) -> bool:
        return self.outcome == RegisterOutcome.unchanged

    @property
    def artifacts(self) -> str:
        return artifact_prefix(self.tenant, self.document_id, f"r{self.revision}")


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
    """Record the event in the catalog; ``outcome`` says whether this execution ingests.

    An event for a version that is no longer the object's current one (a later PUT or a
    delete happened) is ``stale`` or ``gone`` and does nothing: the later event settles the
    key, and the reconciler catches a lost one."""
    storage = services.storage
    tenant_of(obj.key, f"s3://{obj.bucket}/")  # refuse keys no tenant could reach, before any read
    key, current = obj.key, None
    for candidate in key_candidates(obj.key):
        current = storage.current_version(candidate)
        if current is not None:
            key = candidate
            break
    obj = obj.model_copy(update={"key": key})
    tenant = obj.tenant
    skipped = DocumentRef(
        document_id=document_id_for(tenant, key), tenant=tenant, key=key, source=obj.source,
        file_name=posixpath.basename(key), version="", version_id=obj.version_id,
    )  # fmt: skip
    if current is None:
        return skipped.model_copy(update={"outcome": RegisterOutcome.gone})
    if obj.version_id is not None and current.version_id is not None and current.version_id != obj.version_id:
        return skipped.model_copy(update={"outcome": RegisterOutcome.stale})
    version_id = obj.version_id or current.version_id  # pin what extract reads to what is hashed
    content_hash, size = storage.document_sha256(key, version_id)
    result = services.catalog.register(
        tenant=tenant,
        key=key,
        file_name=posixpath.basename(key),
        content_hash=content_hash,
        etag=obj.etag or current.etag,
        version_id=version_id,
        size_bytes=size,
        execution_id=execution_id,
        sequencer=obj.sequencer,
        force=obj.reason == RECONCILE_REASON,
    )
    record = result.document
    assert record is not None
    return skipped.model_copy(update={
        "file_name": record.file_name, "version": content_hash, "version_id": version_id,
        "revision": record.revision, "outcome": result.outcome,
    })  # fmt: skip


def enter_step(doc: DocumentRef, step: PipelineStep, execution_id: str, services: Services) -> None:
    """Record the step, or raise SupersededError when this execution no longer owns the row
    (so a superseded or late attempt stops before spending extraction or embeddings)."""
    record = services.catalog.set_step(doc.document_id, step, execution_id=execution_id)
    if record.status != DocumentStatus.processing or record.execution_id != execution_id:
        raise SupersededError(
            f"{doc.file_name}: execution no longer owns the document (now {record.status.value}, "
            f"owned by {record.execution_id}); stopping without changes"
        )


def extract_text(doc: DocumentRef, execution_id: str, services: Services) -> ExtractedRef:
    enter_step(doc, "extract", execution_id, services)
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
    enter_step(doc, "chunk", execution_id, services)
    document = ExtractedDocument.model_validate(services.storage.read_json(extracted.text_key))
    chunks = chunk_document(document, settings.chunk_tokens, settings.chunk_overlap_tokens)
    descriptor = document.descriptor.model_dump(mode="json") if document.descriptor else None
    if not chunks:
        raise DocumentError(f"{doc.file_name}: no text to index after extraction; check the file has readable text")
    batch_keys = []
    for start in range(0, len(chunks), settings.chunks_per_batch):
        key = f"{doc.artifacts}chunks/batch-{start // settings.chunks_per_batch:05d}.jsonl"
        rows = [
            {"chunk": c.model_dump(mode="json"), "file_type": extracted.file_type, "title": extracted.title,
             "descriptor": descriptor}
            for c in chunks[start : start + settings.chunks_per_batch]
        ]
        services.storage.put_jsonl(key, rows)
        batch_keys.append(key)
    services.catalog.set_step(doc.document_id, "embed_and_index", execution_id=execution_id)
    return ChunkedRef(batch_keys=batch_keys, chunk_count=len(chunks))


def embed_and_index(doc: DocumentRef, batch_key: str, execution_id: str, services: Services) -> dict[str, Any]:
    """Embed one batch and upsert it, only while this execution owns the document (see the
    module docstring: checked before embedding, before writing and after writing)."""
    catalog = services.catalog
    _require_ownership(doc, execution_id, services)
    try:
        rows = services.storage.read_jsonl(batch_key)
    except DocumentError:
        _require_ownership(doc, execution_id, services)  # a delete or newer upload removed our artifacts
        raise
    chunks = [Chunk.model_validate(row["chunk"]) for row in rows]
    embedder, index = services.embedder, services.index
    dense = embedder.embed_documents([c.indexed_text() for c in chunks])
    _require_ownership(doc, execution_id, services)
    index.ensure_collection(embedder.dimensions, embedder.name)
    index.upsert(
        [
            IndexPoint(
                id=point_id_for(doc.document_id, c.index, doc.revision),
                tenant=doc.tenant,
                document_id=doc.document_id,
                version=doc.version,
                revision=doc.revision,
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
                sparse=sparse_document_vector(c.indexed_text()),
                **document_context_fields(c, row.get("descriptor")),
            )
            for c, row, vector in zip(chunks, rows, dense)
        ]
    )
    if catalog.owns(doc.document_id, execution_id) is None:
        index.delete_document(doc.tenant, doc.document_id, revision=doc.revision)
        _require_ownership(doc, execution_id, services)
    return {"points": len(chunks), "embedding_tokens": sum(c.token_count for c in chunks)}


def document_context_fields(chunk: Chunk, descriptor: dict[str, Any] | None) -> dict[str, Any]:
    """The payload fields that say whose, where and when a chunk is (issue 8): its section path
    and context header, and the document's date, period and language. Batches written before
    descriptors existed carry none; their chunks are indexed without them."""
    fields: dict[str, Any] = {
        "section_path": chunk.section_path,
        "context": chunk.context or None,
        "fingerprint": chunk.fingerprint or None,
    }
    if descriptor is not None:
        document = DocumentDescriptor.model_validate(descriptor)
        fields |= {"document_date": document.date, "period": document.period, "language": document.language}
    return fields


def _require_ownership(doc: DocumentRef, execution_id: str, services: Services) -> None:
    if services.catalog.owns(doc.document_id, execution_id) is None:
        raise SupersededError(f"{doc.file_name}: execution no longer owns the document; its points were not kept")


def finalize(doc: DocumentRef, chunked: ChunkedRef, execution_id: str, services: Services) -> dict[str, Any]:
    """Make this revision the document's indexed version, if this execution still owns it;
    otherwise remove what this execution wrote (its revision only) and report superseded."""
    catalog, index, storage = services.catalog, services.index, services.storage
    record = catalog.mark_ready(doc.document_id, chunked.chunk_count, execution_id=execution_id)
    if record.status != DocumentStatus.ready or record.execution_id != execution_id:
        # A newer upload or a delete took over (its own cleanup removes revisions below its
        # own), or the document was failed meanwhile: this revision's points must not stay.
        index.delete_document(doc.tenant, doc.document_id, revision=doc.revision)
        storage.delete_artifacts(doc.artifacts)
        return {"status": "superseded", "by": record.execution_id, "document_status": record.status.value}
    index.delete_document(doc.tenant, doc.document_id, up_to_revision=doc.revision - 1)
    storage.delete_artifacts(artifact_prefix(doc.tenant, doc.document_id), keep_prefix=doc.artifacts)
    generation = catalog.bump_generation(doc.tenant)
    return {"status": "ready", "chunk_count": chunked.chunk_count, "generation": generation}


class StepError(BaseModel):
    """Step Functions' error object, as a Catch puts it at ResultPath."""

    model_config = ConfigDict(populate_by_name=True)

    error: str = Field("Error", alias="Error")
    cause: str | None = Field(None, alias="Cause")


class FailedState(BaseModel):
    """The input of MarkFailed: the execution's state when a Catch fired. ``failed_step`` is
    set explicitly by the Pass state each Catch goes through (nothing is guessed from which
    keys happen to be present); ``document`` is there once Register succeeded."""

    model_config = ConfigDict(extra="ignore")

    failed_step: PipelineStep
    error: StepError
    document: DocumentRef | None = None
    detail: dict[str, Any] | None = None  # the S3 event detail, kept for the dead-letter queue


class FailureRecord(BaseModel):
    document_id: str | None
    step: PipelineStep
    reason: str
    dead_letter: bool  # a real failure (the DLQ keeps it); False: a superseded execution's


def mark_failed(state: FailedState, execution_id: str, services: Services) -> FailureRecord:
    """Record why an execution failed, in words, on the document's row -- if this execution
    still owns it -- and remove the points it may have written (a failed document serves
    nothing). A superseded execution's failure only cleans up its own revision and is not a
    document failure: no dead-letter entry (the owner's outcome is the document's)."""
    step, reason = state.failed_step, failure_reason(state.error)
    document = state.document
    if document is None:
        # Register failed: there is no row of ours (e.g. a key outside '<tenant>/<path>').
        document_id = _document_id_from_event(state.detail or {})
        return FailureRecord(document_id=document_id, step=step, reason=reason, dead_letter=True)
    record = services.catalog.mark_failed(document.document_id, step, reason, execution_id=execution_id)
    owned = record.status == DocumentStatus.failed and record.execution_id == execution_id
    if owned:
        services.index.delete_document(document.tenant, document.document_id, up_to_revision=document.revision)
    else:
        services.index.delete_document(document.tenant, document.document_id, revision=document.revision)
    return FailureRecord(document_id=document.document_id, step=step, reason=reason, dead_letter=owned)


def delete(obj: S3Object, execution_id: str, services: Services) -> dict[str, Any]:
    """An object was deleted: tombstone its row (ordered by sequencer, so an older upload event
    arriving later cannot bring it back) and drop its points and artifacts, every revision up
    to the tombstone's. Later revisions (a newer upload) are never touched."""
    tenant = obj.tenant
    key = next((k for k in key_candidates(obj.key) if services.catalog.find_by_key(tenant, k)), obj.key)
    if services.storage.document_exists(key):
        # A non-current version was removed, or the key was uploaded again since: the current
        # object is there and its own Object Created event settles the key.
        return {"deleted": False, "reason": "a current version of the object still exists"}
    result = services.catalog.mark_deleted(tenant, key, sequencer=obj.sequencer, execution_id=execution_id)
    record = result.document
    if result.outcome == DeleteOutcome.stale:
        return {"deleted": False, "reason": "a later upload of the key was seen", "document_id": record.id}
    services.index.delete_document(tenant, record.id, up_to_revision=record.revision)
    services.storage.delete_artifacts(artifact_prefix(tenant, record.id))
    generation = services.catalog.bump_generation(tenant)
    return {"deleted": True, "document_id": record.id, "revision": record.revision, "generation": generation}


def failure_reason(error: StepError) -> str:
    """Turn Step Functions' {Error, Cause} into the sentence a user reads."""
    name = error.error
    cause = error.cause or ""
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


def _document_id_from_event(detail: dict[str, Any]) -> str | None:
    key = (detail.get("object") or {}).get("key")
    if not key:
        return None
    try:
        return document_id_for(tenant_of(key), key)
    except DocumentError:
        return None
