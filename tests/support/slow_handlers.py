"""Lambda handlers for tests of the local runtime's Lambda seam (imported by their Handler
string, as the Lambda runtime imports a function's code)."""

from __future__ import annotations

import threading
import time

import boto3

# What the handlers saw, per test run id: (start, end) times of each invocation.
RUNS: dict[str, list[tuple[float, float]]] = {}
_lock = threading.Lock()


def late_writer(event, context):
    """Works for `event["work_s"]` seconds in small steps, then writes `event["key"]` to
    `event["bucket"]`: after its task timed out, that write must never land."""
    s3 = boto3.client("s3")
    s3.put_object(Bucket=event["bucket"], Key=event["key"] + ".started", Body=b"")
    deadline = time.monotonic() + event["work_s"]
    while time.monotonic() < deadline:
        time.sleep(0.05)
    s3.put_object(Bucket=event["bucket"], Key=event["key"], Body=b"late")
    return {"wrote": event["key"]}


def busy_for(event, context):
    """Holds its invocation for `event["work_s"]` seconds; records when it ran."""
    start = time.monotonic()
    time.sleep(event["work_s"])
    with _lock:
        RUNS.setdefault(event["run"], []).append((start, time.monotonic()))
    return {"item": event.get("item")}
