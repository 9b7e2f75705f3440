"""Issue 9 through the local state machines: duplicate, reordered and rapid events, deletes at
every step and killed executions; after each round the index is the bucket (see
tests/support/races.py for the rounds and the invariant; bench/soak_races.py runs many)."""

from __future__ import annotations

import json
import random
import uuid

import pytest

from ragline.models import document_id_for
from tests.support.races import STEPS_TO_HIT, Harness, document_text, run_round
from tests.support.settings import settings_env

pytestmark = pytest.mark.slow


@pytest.fixture
def harness(local_stack) -> Harness:
    return Harness(local_stack.aws, local_stack.endpoints)


@pytest.mark.parametrize(
    "name", ["rapid_reuploads", "duplicates", "reordered", "delete_then_stale_event", "delete_and_reupload"]
)
def test_round_leaves_the_index_equal_to_the_bucket(harness, name):
    what, violations, _ = run_round(harness, name, random.Random(name))
    assert violations == [], what


@pytest.mark.parametrize("step", STEPS_TO_HIT)
def test_delete_at_every_step_leaves_no_point_and_a_tombstone(harness, step):
    what, violations, _ = run_round(harness, "delete_during", random.Random(step), step=step)
    assert violations == [], what


def test_killed_execution_is_failed_by_the_reconciler_and_a_reupload_heals_it(harness):
    with settings_env(RAGLINE_STUCK_AFTER_S="0"):
        what, violations, _ = run_round(harness, "killed_mid_ingestion", random.Random(7))
    assert violations == [], what


def test_duplicate_events_cost_one_ingestion_and_the_stale_one_is_acknowledged(harness):
    tenant = f"dups-{uuid.uuid4().hex[:6]}"
    key = f"{tenant}/once.txt"
    harness.put(key, document_text(1, 3))
    (event,) = harness.events_for(key)
    for _ in range(3):
        harness.deliver(event)
    harness.wait_idle()
    sfn = harness.aws("stepfunctions")
    entered: list[list[str]] = []
    for execution in harness.executions("ingest"):
        if json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])["detail"]["object"]["key"] != key:
            continue
        history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        entered.append([e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e])
    assert len(entered) == 4
    assert sum("Extract" in states for states in entered) == 1, "one extraction, one embedding"
    assert sum("NothingToDo" in states for states in entered) == 3
    assert harness.violations(tenant, [key]) == []


def test_multipart_upload_is_ingested_once_and_a_bad_one_is_dead_lettered_once(harness):
    """moto (like S3 on retries) emits two Object Created events for one multipart upload."""
    tenant = f"multipart-{uuid.uuid4().hex[:6]}"
    s3 = harness.aws("s3")
    queue = harness.endpoints["dead_letter_queue_url"]

    def multipart(key: str, body: bytes) -> None:
        upload = s3.create_multipart_upload(Bucket=harness.bucket, Key=key)
        part = s3.upload_part(Bucket=harness.bucket, Key=key, PartNumber=1, UploadId=upload["UploadId"], Body=body)
        s3.complete_multipart_upload(Bucket=harness.bucket, Key=key, UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})  # fmt: skip

    good, bad = f"{tenant}/big.txt", f"{tenant}/big.pdf"
    multipart(good, document_text(1, 12))
    multipart(bad, b"%PDF-1.7 this is not really a PDF " * 1000)
    events = harness.events_for(good, at_least=2) + harness.events_for(bad, at_least=2)
    harness.wait_idle()

    assert len(events) == 4, "moto emits two events per multipart upload"
    assert harness.violations(tenant, [good]) == []
    bad_row = harness.services.catalog.find_by_key(tenant, bad)
    assert bad_row is not None and bad_row.status.value == "failed"
    letters = []
    for _ in range(20):
        messages = harness.aws("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        letters += [json.loads(m["Body"])["event"]["object"]["key"] for m in messages]
        if not messages:
            break
    assert letters.count(bad) == 1, "one dead letter per failure"
    assert letters.count(good) == 0


def test_key_outside_a_tenant_folder_is_rejected_with_a_reason(harness):
    key = f"../escape-{uuid.uuid4().hex[:6]}.txt"
    harness.put(key, b"Nobody could ever read this.")
    (event,) = harness.events_for(key)
    harness.wait_idle()
    sfn = harness.aws("stepfunctions")
    execution = next(
        e for e in harness.executions("ingest")
        if sfn.describe_execution(executionArn=e["executionArn"])["input"] == event
    )  # fmt: skip
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] == "FAILED"
    history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
    failure = next(json.loads(e["stateExitedEventDetails"]["output"]) for e in history
                   if e.get("stateExitedEventDetails", {}).get("name") == "MarkFailed")  # fmt: skip
    assert "'..'" in failure["failure"]["reason"] and failure["failure"]["step"] == "register"
    assert harness.services.catalog.tenants().count("..") == 0
    assert harness.services.index.count("..") == 0
    assert document_id_for("..", key)  # (the id such a key would have had)
