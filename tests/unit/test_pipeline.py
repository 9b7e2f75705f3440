"""Pipeline steps against a real (SQLite) catalog, with recording stand-ins for the index and S3:
who may write and what each step cleans up (issue 9: versions never mix)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ragline import pipeline
from ragline.catalog import SqlCatalog, ensure_migrated
from ragline.errors import DocumentError, SupersededError
from ragline.pipeline import ChunkedRef, DocumentRef, FailedState, S3Object, StepError


class RecordingIndex:
    def __init__(self) -> None:
        self.deleted: list[tuple[str, str, dict]] = []

    def delete_document(self, tenant: str, document_id: str, keep_version: str | None = None, **revisions) -> None:
        self.deleted.append((tenant, document_id, revisions))


class RecordingStorage:
    def __init__(self) -> None:
        self.deleted: list[tuple[str, str | None]] = []

    def delete_artifacts(self, prefix: str, keep_prefix: str | None = None) -> int:
        self.deleted.append((prefix, keep_prefix))
        return 0

    def document_exists(self, key: str) -> bool:
        return False


def _services(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    ensure_migrated(url)
    return SimpleNamespace(catalog=SqlCatalog(url), index=RecordingIndex(), storage=RecordingStorage())


def _ingesting(services, execution_id: str = "exec-1", content: str = "v1", sequencer: str | None = None) -> DocumentRef:
    registered = services.catalog.register(
        tenant="acme", key="acme/report.pdf", file_name="report.pdf", content_hash=content,
        execution_id=execution_id, sequencer=sequencer,
    )  # fmt: skip
    doc = registered.document
    return DocumentRef(
        document_id=doc.id, tenant="acme", key=doc.key, source="report.pdf", file_name="report.pdf",
        version=content, revision=doc.revision,
    )  # fmt: skip


def test_finalize_marks_ready_and_drops_only_older_revisions(tmp_path) -> None:
    services = _services(tmp_path)
    doc = _ingesting(services)
    result = pipeline.finalize(doc, ChunkedRef(batch_keys=["k"], chunk_count=3), "exec-1", services)
    assert result["status"] == "ready"
    assert services.index.deleted == [("acme", doc.document_id, {"up_to_revision": doc.revision - 1})]
    assert services.catalog.get("acme", doc.document_id).status.value == "ready"


def test_finalize_after_the_object_was_deleted_removes_only_its_own_revision(tmp_path) -> None:
    # The delete ran while this execution was still upserting: its points must go too, and
    # nothing a later upload writes (a higher revision) may be touched.
    services = _services(tmp_path)
    doc = _ingesting(services)
    services.catalog.mark_deleted("acme", doc.key, execution_id="delete-1")
    result = pipeline.finalize(doc, ChunkedRef(batch_keys=["k"], chunk_count=3), "exec-1", services)
    assert result["status"] == "superseded" and result["document_status"] == "deleted"
    assert services.index.deleted == [("acme", doc.document_id, {"revision": doc.revision})]
    assert services.storage.deleted == [(doc.artifacts, None)]
    assert services.catalog.get("acme", doc.document_id).status.value == "deleted"


def test_finalize_of_a_superseded_execution_cleans_only_its_own_revision(tmp_path) -> None:
    services = _services(tmp_path)
    doc = _ingesting(services)
    newer = _ingesting(services, execution_id="exec-2", content="v2")  # a newer upload took over
    assert newer.revision == doc.revision + 1
    result = pipeline.finalize(doc, ChunkedRef(batch_keys=["k"], chunk_count=3), "exec-1", services)
    assert result["status"] == "superseded" and result["by"] == "exec-2"
    assert services.index.deleted == [("acme", doc.document_id, {"revision": doc.revision})]
    assert services.catalog.get("acme", doc.document_id).execution_id == "exec-2"


def test_delete_tombstones_and_removes_every_revision_up_to_it(tmp_path) -> None:
    services = _services(tmp_path)
    doc = _ingesting(services, sequencer="0055")
    result = pipeline.delete(S3Object(bucket="b", key=doc.key, sequencer="0066"), "delete-1", services)
    assert result["deleted"] is True and result["revision"] == doc.revision + 1
    assert services.index.deleted == [("acme", doc.document_id, {"up_to_revision": doc.revision + 1})]
    # An older delete (sequencer below the upload's) that arrives late changes nothing.
    services.index.deleted.clear()
    late = pipeline.delete(S3Object(bucket="b", key=doc.key, sequencer="0044"), "delete-0", services)
    assert late["deleted"] is False and services.index.deleted == []


def test_later_steps_of_a_superseded_execution_stop_before_working(tmp_path) -> None:
    services = _services(tmp_path)
    doc = _ingesting(services)
    _ingesting(services, execution_id="exec-2", content="v2")
    with pytest.raises(SupersededError):
        pipeline.enter_step(doc, "chunk", "exec-1", services)


def test_mark_failed_of_the_owner_fails_the_row_and_removes_its_points(tmp_path) -> None:
    services = _services(tmp_path)
    doc = _ingesting(services)
    state = FailedState(failed_step="chunk", error=StepError(Error="DocumentError", Cause='{"errorMessage": "bad"}'),
                        document=doc)  # fmt: skip
    record = pipeline.mark_failed(state, "exec-1", services)
    assert (record.step, record.reason, record.dead_letter) == ("chunk", "bad", True)
    assert services.index.deleted == [("acme", doc.document_id, {"up_to_revision": doc.revision})]
    row = services.catalog.get("acme", doc.document_id)
    assert (row.status.value, row.step, row.error) == ("failed", "chunk", "bad")


def test_a_late_attempt_cannot_reopen_a_failed_row(tmp_path) -> None:
    # The chunk step timed out (5 attempts), MarkFailed failed the row, then the abandoned
    # first attempt finished: neither its set_step nor its finalize may touch the row.
    services = _services(tmp_path)
    doc = _ingesting(services)
    services.catalog.mark_failed(doc.document_id, "chunk", "timed out", execution_id="exec-1")
    with pytest.raises(SupersededError):
        pipeline.enter_step(doc, "embed_and_index", "exec-1", services)
    assert services.catalog.set_step(doc.document_id, "chunk", execution_id="exec-1").status.value == "failed"
    result = pipeline.finalize(doc, ChunkedRef(batch_keys=["k"], chunk_count=3), "exec-1", services)
    assert result["status"] == "superseded"
    assert services.catalog.get("acme", doc.document_id).status.value == "failed"


def test_mark_failed_of_a_superseded_execution_is_not_a_document_failure(tmp_path) -> None:
    services = _services(tmp_path)
    doc = _ingesting(services)
    _ingesting(services, execution_id="exec-2", content="v2")
    state = FailedState(failed_step="embed_and_index", error=StepError(Error="DocumentError"), document=doc)
    record = pipeline.mark_failed(state, "exec-1", services)
    assert record.dead_letter is False
    assert services.catalog.get("acme", doc.document_id).status.value == "processing"
    assert services.index.deleted == [("acme", doc.document_id, {"revision": doc.revision})]


def test_failed_step_is_explicit_not_guessed():
    with pytest.raises(ValueError):
        FailedState.model_validate({"error": {"Error": "X"}})  # no failed_step: refused
    state = FailedState.model_validate({"failed_step": "register", "error": {"Error": "DocumentError", "Cause": "c"},
                                        "detail": {"object": {"key": "acme/a.txt"}}})  # fmt: skip
    assert state.document is None and state.failed_step == "register"


@pytest.mark.parametrize("key", ["../x.txt", "./x.txt", "acme/../x.txt", "acme//x.txt", "x.txt", "acme/"])
def test_keys_outside_tenant_folders_are_rejected_with_a_reason(key):
    with pytest.raises(DocumentError, match="tenant|segments"):
        S3Object(bucket="b", key=key).tenant


def test_plain_keys_keep_their_tenant():
    assert S3Object(bucket="b", key="acme/reports/2024/q1.pdf").tenant == "acme"
    assert S3Object(bucket="b", key="acme/notes..v2.txt").tenant == "acme"  # dots inside a name are fine
