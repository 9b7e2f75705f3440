"""The local runtime's bounds (issue 9): a timed-out task's work is cancelled, waiting for a
function's concurrency is not a step timeout, and many documents at once do not mean many
threads. Through the local AWS: real state machines in moto's engine, handlers in-process."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from ragline_local import seams
from tests.support import slow_handlers

ROLE = "arn:aws:iam::123456789012:role/ragline-local-role"


def make_function(stack, handler: str, reserved: int | None = None) -> str:
    lam = stack.aws("lambda")
    name = f"test-{handler.rpartition('.')[2].replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    arn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE, Handler=handler,
                              Code={"ZipFile": b"in-process"}, Timeout=60)["FunctionArn"]
    if reserved:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    return arn


def run_machine(stack, definition: dict, payload: dict, timeout_s: float = 60) -> tuple[dict, list[dict]]:
    sfn = stack.aws("stepfunctions")
    machine = sfn.create_state_machine(name=f"test-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                       roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, name=uuid.uuid4().hex, input=json.dumps(payload))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
            return described, history
        time.sleep(0.2)
    raise AssertionError("the execution did not finish")


def exists(s3, bucket: str, key: str) -> bool:
    return key in {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])}


def test_a_timed_out_task_is_cancelled_and_its_late_write_never_lands(local_stack):
    function = make_function(local_stack, "tests.support.slow_handlers.late_writer")
    definition = {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": function, "TimeoutSeconds": 1, "End": True}}}
    bucket, key = "ragline-artifacts", f"late-{uuid.uuid4().hex[:8]}"
    described, history = run_machine(local_stack, definition, {"bucket": bucket, "key": key, "work_s": 3})

    assert described["status"] == "FAILED" and described.get("error") == "States.Timeout", described
    s3 = local_stack.aws("s3")
    assert exists(s3, bucket, key + ".started"), "the handler ran"
    time.sleep(4)  # past the moment the abandoned handler would have written
    assert not exists(s3, bucket, key), "a timed-out task's work was cancelled before its late write"


def test_waiting_for_a_concurrency_slot_is_not_a_step_timeout(local_stack):
    # Reserved concurrency 1 and four Map items of 1.5 s each, with a 2 s task timeout: counted
    # from before the slot, items 2-4 would time out while they wait.
    function = make_function(local_stack, "tests.support.slow_handlers.busy_for", reserved=1)
    run = uuid.uuid4().hex
    definition = {"StartAt": "Items", "States": {"Items": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 4,
        "ItemSelector": {"item.$": "$$.Map.Item.Value", "run": run, "work_s": 1.5},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Busy", "States": {"Busy": {
            "Type": "Task", "Resource": function, "TimeoutSeconds": 2, "End": True}}},
        "End": True}}}
    described, history = run_machine(local_stack, definition, {"items": [1, 2, 3, 4]})

    assert described["status"] == "SUCCEEDED", described
    assert not [e for e in history if e["type"].endswith("TimedOut")]
    runs = sorted(slow_handlers.RUNS[run])
    assert len(runs) == 4
    assert all(later[0] >= earlier[1] for earlier, later in zip(runs, runs[1:])), "never two at once"


def test_threads_stay_bounded_with_many_documents_at_once(local_stack, tmp_path):
    tenant = f"threads-{uuid.uuid4().hex[:6]}"
    client = local_stack.client(tenant)
    baseline = threading.active_count()
    peak, stop = [baseline], threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], threading.active_count())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    ids = []
    for i in range(150):
        path = tmp_path / f"note-{i:03d}.md"
        path.write_text(f"# Note {i}\n\nA small note, number {i}.")
        ids.append(client.upload(path)[0])
    results = client.wait(ids, timeout_s=600)
    stop.set()
    sampler.join()

    assert {r["status"] for r in results.values()} == {"ready"}
    # Each running execution holds a few engine threads (its own, a task's, Map workers);
    # before, every one of the 150 executions ran at once with its threads (>300).
    bound = seams.EXECUTIONS.max_running * 4 + 10
    assert peak[0] - baseline <= bound, (peak[0], baseline, bound)
