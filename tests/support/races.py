"""Race rounds through the local state machines (issue 9), shared by tests/integration/
test_races.py (a fixed small set) and bench/soak_races.py (N randomized rounds).

Everything goes through the local AWS exactly as a user's bucket would: S3 PUTs and DELETEs
(whose events start the real ASL through the EventBridge seam), extra deliveries of captured
events (duplicates, out of order: EventBridge is at-least-once), executions stopped mid-way
(a killed worker), and the reconciler's Lambda. After each round ``violations`` checks the
one invariant that matters -- the index is the bucket:

- an object that exists has a ``ready`` row for its current content, and the index holds
  exactly that revision's points (ids and count) for it;
- a key without an object has no points and no live row;
- no row is ``processing`` while nothing runs; no points belong to documents without objects.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ragline.models import DocumentStatus, document_id_for, point_id_for

STEPS_TO_HIT = ("register", "extract", "chunk", "embed_and_index", "finalize")


def document_text(version: int, paragraphs: int) -> bytes:
    """A text whose chunk count depends on the version, so mixed versions show in the counts."""
    lines = [f"Version {version}, section {i}: the inspection of component {i} found wear pattern {version}-{i}. "
             * 6 for i in range(paragraphs + version)]
    return "\n\n".join(lines).encode()


@dataclass
class Harness:
    """The local stack as a race driver: S3, Step Functions, the catalog and index in-process."""

    aws: Callable[[str], Any]
    endpoints: dict[str, Any]
    log: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def bucket(self) -> str:
        return self.endpoints["documents_bucket"]

    @property
    def services(self) -> Any:
        from ragline.services import get_services

        return get_services()

    # -- driving ------------------------------------------------------------------------------
    def put(self, key: str, body: bytes) -> dict[str, Any]:
        return self.aws("s3").put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="text/plain")

    def delete(self, key: str) -> None:
        self.aws("s3").delete_object(Bucket=self.bucket, Key=key)

    def executions(self, machine: str, **filters: str) -> list[dict[str, Any]]:
        sfn = self.aws("stepfunctions")
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.endpoints["state_machines"][machine], **filters
        )
        return [e for page in pages for e in page["executions"]]

    def execution_input(self, arn: str) -> str:
        """An execution's input, read once: a soak starts thousands, and inputs never change."""
        if arn not in self.inputs:
            self.inputs[arn] = self.aws("stepfunctions").describe_execution(executionArn=arn)["input"]
        return self.inputs[arn]

    def events_for(self, key: str, machine: str = "ingest", timeout_s: float = 30, at_least: int = 1) -> list[str]:
        """The inputs (EventBridge events) of the executions started for ``key``."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = []
            for execution in self.executions(machine):
                raw = self.execution_input(execution["executionArn"])
                event = json.loads(raw)
                if event.get("detail", {}).get("object", {}).get("key") == key and event.get("source") == "aws.s3":
                    if event["detail"].get("reason") != "RaglineReconcile":
                        found.append(raw)
            if len(found) >= at_least or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def deliver(self, raw_event: str, machine: str = "ingest") -> str:
        """One more delivery of an event EventBridge already delivered."""
        return self.aws("stepfunctions").start_execution(
            stateMachineArn=self.endpoints["state_machines"][machine], name=f"redelivery-{uuid.uuid4()}",
            input=raw_event,
        )["executionArn"]

    def running(self) -> list[str]:
        return [e["executionArn"] for m in ("ingest", "delete") for e in self.executions(m, statusFilter="RUNNING")]

    def wait_idle(self, timeout_s: float = 180) -> None:
        """Until no execution runs and the index stopped changing (late workers included)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running():
                time.sleep(0.3)
                if not self.running():
                    return
            time.sleep(0.2)
        raise AssertionError(f"executions still running after {timeout_s}s: {self.running()[:3]}")

    def wait_for_step(self, key: str, tenant: str, steps: tuple[str, ...], timeout_s: float = 20) -> str | None:
        """Poll the row until it is processing in one of ``steps``; the step seen, or None."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            record = self.services.catalog.find_by_key(tenant, key)
            if record is not None and record.status == DocumentStatus.processing and record.step in steps:
                return record.step
            if record is not None and record.status != DocumentStatus.processing and "finalize" in steps:
                return None
            time.sleep(0.005)
        return None

    def stop(self, execution_arn: str) -> None:
        self.aws("stepfunctions").stop_execution(executionArn=execution_arn, error="Killed", cause="race test")

    def reconcile(self, tenants: list[str]) -> dict[str, Any]:
        response = self.aws("lambda").invoke(FunctionName="ragline-reconcile", Payload=json.dumps({"tenants": tenants}))
        payload = json.loads(response["Payload"].read())
        assert not response.get("FunctionError"), payload
        return payload

    # -- the invariant ------------------------------------------------------------------------
    def violations(self, tenant: str, keys: list[str]) -> list[str]:
        services = self.services
        catalog, index, s3 = services.catalog, services.index, self.aws("s3")
        problems: list[str] = []
        expected_documents = set()
        for key in keys:
            document_id = document_id_for(tenant, key)
            record = catalog.find_by_key(tenant, key)
            try:
                body = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except s3.exceptions.NoSuchKey:
                body = None
            ids = index.point_ids(tenant, document_id)
            if body is None:
                if ids:
                    problems.append(f"{key}: deleted, but {len(ids)} points remain")
                if record is not None and record.status != DocumentStatus.deleted:
                    problems.append(f"{key}: deleted, but the row is {record.status.value}")
                continue
            expected_documents.add(document_id)
            if record is None:
                problems.append(f"{key}: object exists, no row")
                continue
            if record.status == DocumentStatus.failed:
                if ids:
                    problems.append(f"{key}: failed ({record.error}), but {len(ids)} points remain")
                problems.append(f"{key}: failed: {record.error}")
                continue
            if record.status != DocumentStatus.ready:
                problems.append(f"{key}: object exists, row is {record.status.value} (step {record.step})")
                continue
            if record.content_hash != hashlib.sha256(body).hexdigest():
                problems.append(f"{key}: ready with another version's content (row {record.content_hash[:8]})")
            expected = sorted(point_id_for(document_id, i, record.revision) for i in range(record.chunk_count or 0))
            if ids != expected:
                problems.append(f"{key}: {len(ids)} points, expected {len(expected)} of revision {record.revision}"
                                f" ({len(set(ids) - set(expected))} foreign)")
        stray = set(index.document_revisions(tenant)) - expected_documents
        if stray:
            problems.append(f"{len(stray)} documents have points but no object")
        processing, _ = catalog.list_documents(tenant, status="processing")
        if processing and not self.running():
            problems.append(f"{len(processing)} rows processing with nothing running: {[r.key for r in processing]}")
        return problems


# -- rounds ------------------------------------------------------------------------------------
# Each round works on a tenant of its own, returns the keys it touched (for the invariant) and
# what it did (for the log).


def rapid_reuploads(h: Harness, tenant: str, rng: random.Random) -> tuple[list[str], str]:
    key = f"{tenant}/rapid.txt"
    times = rng.randint(3, 6)
    for version in range(times):
        h.put(key, document_text(version, 3))
    return [key], f"{times} uploads of one key, back to back"


def duplicates(h: Harness, tenant: str, rng: random.Random) -> tuple[list[str], str]:
    key = f"{tenant}/dup.txt"
    h.put(key, document_text(1, 4))
    (event,) = h.events_for(key)[:1]
    copies = rng.randint(1, 3)
    for _ in range(copies):
        h.deliver(event)  # while the first delivery runs
    h.wait_idle()
    h.deliver(event)  # and once more after it settled
    return [key], f"1 upload delivered {copies + 2} times"


def reordered(h: Harness, tenant: str, rng: random.Random) -> tuple[list[str], str]:
    key = f"{tenant}/order.txt"
    versions = rng.randint(2, 4)
    for version in range(versions):
        h.put(key, document_text(version, 2))
    events = h.events_for(key, at_least=versions)
    rng.shuffle(events)
    for event in events:
        h.deliver(event)
    return [key], f"{versions} uploads, then their events again in random order"


def delete_during(h: Harness, tenant: str, rng: random.Random, step: str | None = None) -> tuple[list[str], str]:
    key = f"{tenant}/doomed.txt"
    step = step or rng.choice(STEPS_TO_HIT)
    h.put(key, document_text(2, 40))  # several embedding batches: the later steps last a while
    seen = h.wait_for_step(key, tenant, (step,)) if step != "register" else "register"
    h.delete(key)
    return [key], f"delete while in {step} (seen: {seen})"


def delete_then_stale_event(h: Harness, tenant: str, rng: random.Random) -> tuple[list[str], str]:
    key = f"{tenant}/tombstone.txt"
    h.put(key, document_text(1, 2))
    (event,) = h.events_for(key)[:1]
    if rng.random() < 0.5:
        h.wait_idle()
    h.delete(key)
    h.wait_idle()
    h.deliver(event)  # the old upload's event arrives late: must not resurrect the document
    return [key], "delete, then the upload's event delivered again"


def delete_and_reupload(h: Harness, tenant: str, rng: random.Random) -> tuple[list[str], str]:
    key = f"{tenant}/phoenix.txt"
    h.put(key, document_text(1, 6))
    time.sleep(rng.uniform(0, 0.5))
    h.delete(key)
    h.put(key, document_text(3, 2))
    return [key], "upload, delete, upload again in quick succession"


def killed_mid_ingestion(h: Harness, tenant: str, rng: random.Random) -> tuple[list[str], str]:
    """An execution stopped mid-way (a killed worker, a restarted stack): the row stays
    processing with nothing running until the reconciler fails it; a re-upload then heals it."""
    key = f"{tenant}/killed.txt"
    h.put(key, document_text(1, 40))
    step = h.wait_for_step(key, tenant, ("extract", "chunk", "embed_and_index"))
    record = h.services.catalog.find_by_key(tenant, key)
    if record is not None and record.execution_id and record.status == DocumentStatus.processing:
        h.stop(record.execution_id)
    h.wait_idle()
    report = h.reconcile([tenant])
    stuck = report["tenants"][0]["stuck"] if report["tenants"] else []
    h.wait_idle()
    row = h.services.catalog.find_by_key(tenant, key)
    if row is not None and row.status == DocumentStatus.failed:
        h.put(key, document_text(2, 3))  # what the reason tells the user to do
    return [key], f"execution stopped in {step}; reconciler failed {len(stuck)} stuck"


ROUNDS: dict[str, Callable[[Harness, str, random.Random], tuple[list[str], str]]] = {
    "rapid_reuploads": rapid_reuploads,
    "duplicates": duplicates,
    "reordered": reordered,
    "delete_during": delete_during,
    "delete_then_stale_event": delete_then_stale_event,
    "delete_and_reupload": delete_and_reupload,
    "killed_mid_ingestion": killed_mid_ingestion,
}


def run_round(h: Harness, name: str, rng: random.Random, **kwargs: Any) -> tuple[str, list[str], float]:
    """Run one round on a fresh tenant, wait until it settles; (what it did, violations, seconds)."""
    tenant = f"race-{name.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    keys, what = ROUNDS[name](h, tenant, rng, **kwargs)
    h.wait_idle()
    return what, h.violations(tenant, keys), time.monotonic() - started
