"""Pipeline steps against a real (SQLite) catalog, with recording stand-ins for the index and S3."""

from __future__ import annotations

from types import SimpleNamespace

from ragline import pipeline
from ragline.catalog import SqlCatalog, ensure_migrated
from ragline.pipeline import ChunkedRef, DocumentRef


class RecordingIndex:
    def __init__(self) -> None:
        self.deleted: list[tuple[str, str, str | None]] = []

    def delete_document(self, tenant: str, document_id: str, keep_version: str | None = None) -> None:
        self.deleted.append((tenant, document_id, keep_version))


class RecordingStorage:
    def __init__(self) -> None:
        self.deleted: list[tuple[str, str | None]] = []

    def delete_artifacts(self, prefix: str, keep_prefix: str | None = None) -> int:
        self.deleted.append((prefix, keep_prefix))
        return 0


def _services(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    ensure_migrated(url)
    return SimpleNamespace(catalog=SqlCatalog(url), index=RecordingIndex(), storage=RecordingStorage())


def _ingesting(services, execution_id: str = "exec-1") -> DocumentRef:
    registered = services.catalog.register(
        tenant="acme", key="acme/report.pdf", file_name="report.pdf", content_hash="v1", execution_id=execution_id
    )
    doc = registered.document
    return DocumentRef(
        document_id=doc.id, tenant="acme", key=doc.key, source="report.pdf", file_name="report.pdf", version="v1"
    )


def test_finalize_marks_ready_and_keeps_this_versions_points(tmp_path) -> None:
    services = _services(tmp_path)
    doc = _ingesting(services)
    result = pipeline.finalize(doc, ChunkedRef(batch_keys=["k"], chunk_count=3), "exec-1", services)
    assert result["status"] == "ready"
    assert services.index.deleted == [("acme", doc.document_id, "v1")]
    assert services.catalog.get("acme", doc.document_id).status.value == "ready"


def test_finalize_after_the_object_was_deleted_removes_every_point_it_wrote(tmp_path) -> None:
    # The delete workflow ran while this execution was still upserting: its points must go too.
    services = _services(tmp_path)
    doc = _ingesting(services)
    services.catalog.mark_deleted("acme", doc.key)
    generation = services.catalog.generation("acme")
    result = pipeline.finalize(doc, ChunkedRef(batch_keys=["k"], chunk_count=3), "exec-1", services)
    assert result["status"] == "deleted"
    assert services.index.deleted == [("acme", doc.document_id, None)]
    assert services.storage.deleted == [(f"acme/{doc.document_id}/", None)]
    assert services.catalog.get("acme", doc.document_id).status.value == "deleted"
    assert services.catalog.generation("acme") == generation + 1


def test_finalize_of_a_superseded_execution_changes_nothing(tmp_path) -> None:
    services = _services(tmp_path)
    doc = _ingesting(services)
    _ingesting(services, execution_id="exec-2")  # a newer upload of the same key took over
    result = pipeline.finalize(doc, ChunkedRef(batch_keys=["k"], chunk_count=3), "exec-1", services)
    assert result == {"status": "superseded", "by": "exec-2"}
    assert services.index.deleted == [] and services.storage.deleted == []
