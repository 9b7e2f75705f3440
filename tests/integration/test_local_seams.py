"""Smoke tests of each place local/seams.py patches moto (pinned exactly): if a moto upgrade
moves a seam, these fail first and say which."""

from __future__ import annotations

import json
import time
import uuid

from ragline_local.seams import normalise_s3_event


def _executions_for(stack, machine: str, key: str, timeout_s: float = 30) -> list[dict]:
    sfn = stack.aws("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = []
        for execution in sfn.list_executions(stateMachineArn=stack.endpoints["state_machines"][machine])["executions"]:
            event = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
            if event["detail"]["object"]["key"] == key:
                found.append(event)
        if found:
            return found
        time.sleep(0.2)
    return []


def test_lambda_invoke_runs_the_handler_in_process_and_reports_errors_as_lambda_does(local_stack):
    response = local_stack.aws("lambda").invoke(
        FunctionName="ragline-register",
        Payload=json.dumps({
            "execution_id": "seam-test",
            "detail": {"version": "0", "bucket": {"name": local_stack.endpoints["documents_bucket"]},
                       "object": {"key": "seams/missing.pdf", "etag": "x"}, "request-id": "r", "requester": "me"},
        }),
    )
    payload = json.loads(response["Payload"].read())
    assert response.get("FunctionError")
    assert payload["errorType"] == "DocumentError", payload
    assert "seams/missing.pdf" in payload["errorMessage"]


def test_s3_upload_starts_ingest_with_the_event_aws_sends(local_stack):
    key = f"seams-{uuid.uuid4().hex[:6]}/note.md"
    local_stack.aws("s3").put_object(Bucket=local_stack.endpoints["documents_bucket"], Key=key, Body=b"# Hi\n\nHello.")
    events = _executions_for(local_stack, "ingest", key)
    assert len(events) == 1
    event = events[0]
    assert event["detail-type"] == "Object Created" and event["source"] == "aws.s3"
    assert "etag" in event["detail"]["object"] and "eTag" not in event["detail"]["object"]
    assert isinstance(event["time"], str) and event["time"].endswith("Z")


def test_deleting_from_the_versioned_bucket_starts_the_delete_machine(local_stack):
    key = f"seams-{uuid.uuid4().hex[:6]}/gone.md"
    s3 = local_stack.aws("s3")
    s3.put_object(Bucket=local_stack.endpoints["documents_bucket"], Key=key, Body=b"# Gone\n\nSoon.")
    s3.delete_object(Bucket=local_stack.endpoints["documents_bucket"], Key=key)
    events = _executions_for(local_stack, "delete", key)
    assert events and events[0]["detail"]["deletion-type"] == "Delete Marker Created"


def test_event_normalisation_gives_unique_ids():
    raw = {"id": "same", "time": 1700000000, "source": "aws.s3", "detail": {"object": {"key": "a/b", "eTag": "e"}}}
    first, second = normalise_s3_event(raw), normalise_s3_event(raw)
    assert first["id"] != second["id"]
    assert first["time"] == "2023-11-14T22:13:20Z"
    sequencers = first["detail"]["object"].pop("sequencer"), second["detail"]["object"].pop("sequencer")
    assert first["detail"]["object"] == {"key": "a/b", "etag": "e"}
    assert sequencers[0] < sequencers[1], "each event a fresh, increasing sequencer (moto sends one constant)"
