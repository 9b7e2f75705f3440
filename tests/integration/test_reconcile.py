"""The reconciler repairs each kind of drift between bucket, catalog and index, through the
local stack's own reconcile Lambda (the function the schedule invokes on AWS)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete

from rich.console import Console

from ragline.catalog.schema import documents
from ragline_local.commands import reconcile as reconcile_command
from ragline_local.runtime import StackError
from ragline.models import IndexPoint, document_id_for, point_id_for
from tests.support.races import Harness, document_text
from tests.support.settings import settings_env

pytestmark = pytest.mark.slow


@pytest.fixture
def harness(local_stack) -> Harness:
    return Harness(local_stack.aws, local_stack.endpoints)


def _ready(harness: Harness, tenant: str, name: str, paragraphs: int = 3) -> str:
    key = f"{tenant}/{name}"
    harness.put(key, document_text(1, paragraphs))
    harness.wait_idle()
    record = harness.services.catalog.find_by_key(tenant, key)
    assert record is not None and record.status.value == "ready", record
    return key


def test_reconciler_repairs_every_kind_of_drift_and_then_finds_none(harness):
    tenant = f"drift-{uuid.uuid4().hex[:6]}"
    services = harness.services
    catalog, index = services.catalog, services.index

    # missing: an object whose row is gone (an event that never arrived)
    missing = _ready(harness, tenant, "missing.txt")
    with catalog.engine.begin() as connection:
        connection.execute(delete(documents).where(documents.c.id == document_id_for(tenant, missing)))
    # stale: a ready row whose points were lost
    stale = _ready(harness, tenant, "stale.txt")
    stale_row = catalog.find_by_key(tenant, stale)
    index.delete_document(tenant, stale_row.id, revision=stale_row.revision)
    # orphan points: an older revision's point that finalize's cleanup never removed
    kept = _ready(harness, tenant, "kept.txt")
    kept_row = catalog.find_by_key(tenant, kept)
    index.upsert([IndexPoint(
        id=point_id_for(kept_row.id, 0, kept_row.revision - 1 or 99), tenant=tenant, document_id=kept_row.id,
        version="old", revision=max(kept_row.revision - 1, 0), chunk_index=0, text="an old version's chunk",
        source="kept.txt", file_type="text", dense=[0.1] * services.embedder.dimensions,
    )])  # fmt: skip
    # orphan row: a row whose object is gone (its delete event was lost)
    orphan_key = f"{tenant}/gone.txt"
    catalog.register(tenant, orphan_key, "gone.txt", "h", execution_id="lost")
    catalog.mark_ready(document_id_for(tenant, orphan_key), 0, execution_id="lost")
    # stuck: processing, and its execution is not running anywhere
    stuck = f"{tenant}/stuck.txt"
    harness.put(stuck, document_text(2, 2))
    harness.wait_idle()
    catalog.register(tenant, stuck, "stuck.txt", "other-content", execution_id="arn:aws:states:us-east-1:123456789012:execution:ragline-ingest:gone", force=True)

    with settings_env(RAGLINE_STUCK_AFTER_S="0"):
        report = harness.reconcile([tenant])["tenants"][0]
        assert report["missing"] == [missing]
        assert report["stale"] == [stale]
        assert report["orphan_rows"] == [orphan_key]
        assert report["stuck"] == [stuck]
        assert report["orphan_points"] >= 2  # the missing row's leftover points and kept's old one
        harness.wait_idle()

        stuck_row = catalog.find_by_key(tenant, stuck)
        assert stuck_row.status.value == "failed" and "no longer running" in stuck_row.error
        assert index.count(tenant, stuck_row.id) == 0
        assert catalog.find_by_key(tenant, orphan_key).status.value == "deleted"
        assert harness.violations(tenant, [missing, stale, kept, orphan_key]) == []

        again = harness.reconcile([tenant])["tenants"][0]
    assert (again["missing"], again["stale"], again["orphan_rows"], again["stuck"], again["orphan_points"]) == (
        [], [], [], [], 0), "a second run finds nothing left to repair"


def test_reconciler_leaves_running_ingestions_alone(harness):
    tenant = f"busy-{uuid.uuid4().hex[:6]}"
    key = f"{tenant}/big.txt"
    harness.put(key, document_text(1, 40))
    harness.wait_for_step(key, tenant, ("embed_and_index",))
    with settings_env(RAGLINE_STUCK_AFTER_S="0"):
        report = reconcile_command.run(harness.endpoints, [tenant])  # what `ragline reconcile` runs
    (only,) = report.tenants
    assert only.stuck == [] and only.orphan_rows == [] and only.objects == 1
    console = Console(record=True, width=120)
    reconcile_command.print_report(console, report)
    assert tenant in console.export_text()
    harness.wait_idle()
    assert harness.violations(tenant, [key]) == []


def test_reconcile_command_needs_a_running_stack():
    with pytest.raises(StackError, match="ragline dev"):
        reconcile_command.run(None)
