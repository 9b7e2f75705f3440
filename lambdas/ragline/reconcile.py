"""The reconciler: compare bucket, catalog and index per tenant and repair what drifted.

Events get lost (an EventBridge rule that was down, a delivery that exhausted its retries), a
worker can die between two writes, and a local stack can be killed mid-ingestion. The bucket is
the source of truth; this job makes the catalog and the index agree with it again, and says
what it did (``ReconcileReport``). Scheduled on AWS (EventBridge Scheduler -> ``handlers.
reconcile``), ``ragline reconcile`` locally. Ragline's answer to a knowledge base's "sync".

Per tenant, for every key:

- object, but no row (or a tombstone): **missing** -> start the ingest state machine.
- object and a ready row, but another ETag, or the row's revision has not exactly its chunk
  count of points: **stale** -> start the ingest state machine, forced (re-index even though
  the content is unchanged).
- a row (not deleted) without an object: **orphan row** -> tombstone it, drop its points.
- ``processing`` with no running execution for longer than ``stuck_after_s`` (or for longer
  than ``ingest_timeout_s`` at all): **stuck** -> failed, with the reason, points dropped.
- points of a revision no row stands for (older revisions of ready rows, any revision of
  failed/deleted rows, documents without a row): **orphan points** -> deleted.

Every repair goes through the same conditional writes the pipeline uses (the catalog's
ownership rules, revision-bounded deletes), so the reconciler can run while ingestion runs:
a row that changed under it is left to the execution that owns it now.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from ragline.models import DocumentRecord, DocumentStatus
from ragline.pipeline import RECONCILE_REASON
from ragline.services import Services
from ragline.storage import ObjectVersion


class IngestExecutions(Protocol):
    """Starting the ingest state machine and asking whether an execution still runs."""

    def start(self, event: dict[str, Any]) -> str: ...

    def is_running(self, execution_id: str) -> bool: ...


class StepFunctionsIngest:
    """``IngestExecutions`` on Step Functions (AWS, or the local moto server)."""

    def __init__(self, sfn: Any, state_machine_arn: str) -> None:
        self.sfn = sfn
        self.state_machine_arn = state_machine_arn

    def start(self, event: dict[str, Any]) -> str:
        name = f"reconcile-{uuid.uuid4()}"
        return self.sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name,
                                        input=json.dumps(event))["executionArn"]  # fmt: skip

    def is_running(self, execution_id: str) -> bool:
        try:
            return self.sfn.describe_execution(executionArn=execution_id)["status"] == "RUNNING"
        except self.sfn.exceptions.ExecutionDoesNotExist:
            return False  # e.g. the local stack restarted: its history is gone


class TenantReport(BaseModel):
    tenant: str
    objects: int = 0
    rows: int = 0
    missing: list[str] = Field(default_factory=list)  # keys re-ingested: no row
    stale: list[str] = Field(default_factory=list)  # keys re-ingested: row or points out of date
    orphan_rows: list[str] = Field(default_factory=list)  # keys tombstoned: no object
    stuck: list[str] = Field(default_factory=list)  # keys failed: processing, nothing running
    orphan_points: int = 0  # points deleted
    executions: list[str] = Field(default_factory=list)


class ReconcileReport(BaseModel):
    tenants: list[TenantReport]

    def counts(self) -> dict[str, int]:
        """Totals over tenants, for logs, metrics and the CLI."""
        keys = ("missing", "stale", "orphan_rows", "stuck")
        totals = {k: sum(len(getattr(t, k)) for t in self.tenants) for k in keys}
        totals["orphan_points"] = sum(t.orphan_points for t in self.tenants)
        totals["tenants"] = len(self.tenants)
        totals["objects"] = sum(t.objects for t in self.tenants)
        return totals

    @property
    def clean(self) -> bool:
        return not any(v for k, v in self.counts().items() if k not in {"tenants", "objects"})


def reconcile(
    services: Services,
    executions: IngestExecutions,
    *,
    tenants: Iterable[str] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ReconcileReport:
    """Reconcile the given tenants (default: every tenant in the bucket or the catalog)."""
    storage, catalog = services.storage, services.catalog
    chosen = sorted(set(tenants)) if tenants is not None else sorted(set(storage.tenants()) | set(catalog.tenants()))
    return ReconcileReport(tenants=[_reconcile_tenant(services, executions, t, clock()) for t in chosen])


def _reconcile_tenant(services: Services, executions: IngestExecutions, tenant: str, now: datetime) -> TenantReport:
    storage, catalog, index = services.storage, services.catalog, services.index
    settings = services.settings
    objects = {o.key: o for o in storage.list_documents(tenant)}
    rows = {r.key: r for r in catalog.all_documents(tenant)}
    points = index.document_revisions(tenant)
    report = TenantReport(tenant=tenant, objects=len(objects), rows=len(rows))

    # 1. The catalog: stuck rows fail, rows without an object become tombstones.
    to_ingest: list[tuple[str, list[str]]] = []
    for key, obj in sorted(objects.items()):
        row = rows.get(key)
        if row is None or row.status == DocumentStatus.deleted:
            to_ingest.append((key, report.missing))
        elif row.status == DocumentStatus.ready and _is_stale(row, obj, points.get(row.id, {})):
            to_ingest.append((key, report.stale))
        elif row.status == DocumentStatus.processing and _is_stuck(row, executions, now, settings):
            reason = (
                "Ingestion stopped without finishing (its execution is no longer running, e.g. the "
                "local stack was restarted or a worker was killed). Upload the file again to retry."
            )
            failed = catalog.mark_failed(row.id, row.step or "register", reason, execution_id=row.execution_id)
            if failed.status == DocumentStatus.failed:
                report.stuck.append(key)
                rows[key] = failed
    for key, row in sorted(rows.items()):
        if key in objects or row.status == DocumentStatus.deleted or storage.document_exists(key):
            continue
        if row.status == DocumentStatus.processing and executions.is_running(row.execution_id or ""):
            continue  # its own delete event is on the way
        rows[key] = catalog.mark_deleted(tenant, key, execution_id=None).document
        report.orphan_rows.append(key)

    # 2. The index: points no row stands for (before any re-ingestion writes new ones).
    by_id = {row.id: row for row in rows.values()}
    for document_id, revisions in points.items():
        bound = _orphan_bound(by_id.get(document_id) or catalog.document(document_id), revisions)
        orphans = sum(count for revision, count in revisions.items() if bound is not None and revision <= bound)
        if orphans:
            index.delete_document(tenant, document_id, up_to_revision=bound)
            report.orphan_points += orphans
    if report.orphan_rows or report.orphan_points or report.stuck:
        catalog.bump_generation(tenant)  # cached answers may cite what was removed

    # 3. The bucket wins: missing and stale documents are ingested again, by the state machine.
    for key, kind in to_ingest:
        kind.append(key)
        report.executions.append(executions.start(ingest_event(storage.documents_bucket, objects[key])))
    return report


def _is_stale(row: DocumentRecord, obj: ObjectVersion, revisions: dict[int, int]) -> bool:
    if row.etag and obj.etag and row.etag.strip('"') != obj.etag:
        return True
    return revisions.get(row.revision, 0) != (row.chunk_count or 0)


def _is_stuck(row: DocumentRecord, executions: IngestExecutions, now: datetime, settings: Any) -> bool:
    age = (now - row.updated_at).total_seconds()
    if age > settings.ingest_timeout_s:
        return True
    return age > settings.stuck_after_s and not executions.is_running(row.execution_id or "")


def _orphan_bound(row: DocumentRecord | None, revisions: dict[int, int]) -> int | None:
    """Points of revisions up to this bound stand for nothing (None: keep them all)."""
    if row is None:
        return max(revisions)  # no row at all: every point is an orphan
    if row.status == DocumentStatus.ready:
        return row.revision - 1  # older versions: finalize's cleanup did not happen
    if row.status in (DocumentStatus.failed, DocumentStatus.deleted):
        return row.revision  # a failed or deleted document serves nothing
    return None  # processing: the previous version serves until the new one is finalized


def ingest_event(bucket: str, obj: ObjectVersion) -> dict[str, Any]:
    """An Object Created event as EventBridge delivers it, for the current object. It has no
    sequencer (it is not an S3 operation), so it never outranks a real event, and its reason
    tells register to re-index even unchanged content."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": obj.key, "size": obj.size or 0, "etag": obj.etag or ""},
            "request-id": "ragline-reconcile",
            "requester": "ragline-reconcile",
            "reason": RECONCILE_REASON,
        },
    }
