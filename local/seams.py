"""The places where moto cannot run Ragline as AWS would, patched (moto is pinned exactly).

1. Lambda: moto runs functions in Docker. Every invoke path goes through
   `LambdaFunction._invoke_lambda(event)`, so that one method is replaced by an in-process
   call of the function's handler (import by its Handler string, as the Lambda runtime does).
2. EventBridge: moto does not deliver to Step Functions targets. `Rule.send_to_targets` is
   wrapped so that a rule whose target is a state machine starts an execution, as AWS does.
   moto's S3 event also differs from AWS's (`eTag` for `etag`, a constant id, a numeric time,
   a constant `sequencer`); it is normalised here, so handlers only ever see what AWS sends.
3. S3: deleting from a versioned bucket creates a delete marker, for which AWS emits an
   `Object Deleted` event (deletion-type "Delete Marker Created") and moto emits none.
4. Step Functions Lambda tasks: moto's engine calls Lambda over HTTP and times a task from
   before the call. Here a task first takes a slot of its function's reserved concurrency
   (not timed, see concurrency.py), then runs the handler in-process in a cancellable thread
   under the task's TimeoutSeconds; a task that times out is cancelled (no late writes).
5. Executions: moto starts a thread per execution at once; here at most
   `EXECUTIONS.max_running` evaluate at a time and the rest queue (still RUNNING in the API).
6. S3 persistence: moto keeps objects in memory; `persistence.py` mirrors the buckets of a
   `ragline dev` home to disk on every write and restores them at start.

tests/integration/test_local_seams.py keeps a smoke test of each seam.
"""

from __future__ import annotations

import copy
import importlib
import json
import queue
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

import boto3
from moto.awslambda.models import LambdaFunction, lambda_backends
from moto.events.models import Rule, events_backends
from moto.s3.models import S3Backend
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from ragline_local import persistence
from ragline_local.concurrency import CancellableCall, ExecutionPool, FunctionSlots, IdleTrimmer

_installed = False
_state_machine_starter: Callable[[str, str], None] | None = None
SLOTS = FunctionSlots()
EXECUTIONS = ExecutionPool()
IDLE = IdleTrimmer()


class InProcessContext:
    """The parts of the Lambda context object handlers and Powertools use."""

    def __init__(self, function_name: str, function_arn: str, memory_mb: int, timeout_s: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = int(memory_mb)
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + int(timeout_s)

    @classmethod
    def of(cls, function: LambdaFunction) -> "InProcessContext":
        return cls(function.function_name, function.function_arn, function.memory_size, function.timeout)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def resolve_handler(handler: str) -> Callable[[Any, Any], Any]:
    module_name, _, function_name = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), function_name)


def _invoke_through_api(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """`lambda.invoke` through the local AWS API: in-process, within the function's concurrency."""
    slot = SLOTS.acquire(self.function_name, _reserved_concurrency(self))
    try:
        return _invoke_in_process(self, event)
    finally:
        slot.release()


def _reserved_concurrency(function: LambdaFunction) -> int | None:
    value = getattr(function, "reserved_concurrency", None)
    return int(value) if value else None


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    if isinstance(event, (str, bytes)):
        event = json.loads(event or "{}")
    IDLE.entered()
    try:
        result = resolve_handler(self.handler)(event if event is not None else {}, InProcessContext.of(self))
        return json.dumps(result, default=str), False, ""
    except Exception as error:  # reported as Lambda does, so the state machine's ErrorEquals match
        payload = {
            "errorType": type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
        return json.dumps(payload), True, traceback.format_exc()
    finally:
        IDLE.left()




class _Sequencers:
    """S3 event sequencers as AWS assigns them: per key, later operations get higher values
    (hex; compared after left-padding), and a repeated delivery of one operation carries the
    same value. moto sends a constant (and "0" here for delete markers), so they are assigned
    when the event is emitted -- synchronously with the S3 call, hence in operation order --
    from the clock in nanoseconds (still increasing after a restart of the local stack), and
    remembered per object version so that moto's second event for one multipart upload is
    recognisably the same operation."""

    def __init__(self, remembered: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._by_version: dict[tuple[str, str, str, str], str] = {}
        self._remembered = remembered

    def assign(self, detail_type: str, bucket: str, key: str, version_id: str | None) -> str:
        with self._lock:
            memo = (detail_type, bucket, key, version_id) if version_id else None
            if memo is not None and memo in self._by_version:
                return self._by_version[memo]
            self._last = max(self._last + 1, time.time_ns())
            value = f"{self._last:X}"
            if memo is not None:
                if len(self._by_version) >= self._remembered:
                    self._by_version.pop(next(iter(self._by_version)))
                self._by_version[memo] = value
            return value


_sequencers = _Sequencers()


def normalise_s3_event(event: dict[str, Any]) -> dict[str, Any]:
    """moto's S3 EventBridge event, made to look like the one AWS sends."""
    event = copy.deepcopy(event)
    event["id"] = str(uuid.uuid4())
    if isinstance(event.get("time"), (int, float)):
        event["time"] = datetime.fromtimestamp(event["time"], tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    obj = (event.get("detail") or {}).get("object") or {}
    if "eTag" in obj:
        obj["etag"] = obj.pop("eTag")
    if obj.get("version-id") in (None, "null"):
        obj.pop("version-id", None)
    if "key" in obj:
        bucket = ((event.get("detail") or {}).get("bucket") or {}).get("name", "")
        obj["sequencer"] = _sequencers.assign(event.get("detail-type", ""), bucket, obj["key"], obj.get("version-id"))
    return event


def _send_to_targets(original: Callable) -> Callable:
    def send_to_targets(self: Rule, event: dict[str, Any], transform_input: bool = True) -> None:
        if event.get("source") == "aws.s3":
            event = normalise_s3_event(event)
        state_machine_targets = [t for t in self.targets if ":states:" in t["Arn"]]
        others = [t for t in self.targets if t not in state_machine_targets]
        if state_machine_targets and self.event_pattern.matches_event(event):
            for target in state_machine_targets:
                _start_execution_async(target["Arn"], event)
        if others:
            saved, self.targets = self.targets, others
            try:
                original(self, event, transform_input)
            finally:
                self.targets = saved

    return send_to_targets


_deliveries: "queue.SimpleQueue[tuple[str, str]]" = queue.SimpleQueue()
_delivery_thread: threading.Thread | None = None
_delivery_lock = threading.Lock()


def _start_execution_async(state_machine_arn: str, event: dict[str, Any]) -> None:
    """EventBridge delivers asynchronously: the S3 PUT returns before the execution starts.
    One delivery thread for the process (a thread per event piled up with 1,000 uploads)."""
    global _delivery_thread
    _deliveries.put((state_machine_arn, json.dumps(event)))
    with _delivery_lock:
        if _delivery_thread is None or not _delivery_thread.is_alive():
            _delivery_thread = threading.Thread(target=_deliver_forever, name="ragline-eventbridge", daemon=True)
            _delivery_thread.start()


def _deliver_forever() -> None:
    while True:
        state_machine_arn, payload = _deliveries.get()
        try:
            if _state_machine_starter is not None:
                _state_machine_starter(state_machine_arn, payload)
        except Exception:  # EventBridge retries on AWS; a stopped local stack drops the event
            traceback.print_exc()


# --- Step Functions: Lambda tasks and executions ------------------------------------------
def _lambda_task_with_timeout(self: StateTaskLambda, env: Environment) -> None:
    """ExecuteState._evaluate_with_timeout (moto 5.2.5) for Lambda tasks, changed in three ways:
    the function's concurrency slot is taken before the timeout clock starts; the handler runs
    in-process in a `CancellableCall`; on timeout that call is cancelled, and its slot comes
    back only once the handler has stopped."""
    self.timeout.eval(env=env)
    timeout_seconds: int = env.stack.pop()
    function = _lambda_function(self.resource.resource_arn)
    slot = SLOTS.acquire(function.function_name, _reserved_concurrency(function), give_up=lambda: not env.is_running())
    if slot is None:  # the execution was stopped while this task waited
        raise EvalTimeoutError()

    frame: Environment = env.open_frame()
    frame.states.reset(input_value=env.states.get_input())
    frame.stack = copy.deepcopy(env.stack)

    def evaluate() -> list[Any]:
        self._eval_execution(frame)
        return list(frame.stack)

    call = CancellableCall(evaluate, on_end=slot.release, name=f"task-{function.function_name}").start()
    finished_on_time = call.wait(timeout_seconds)
    if not finished_on_time:
        call.cancel()
    frame.set_ended()
    env.close_frame(frame)

    if finished_on_time and call.error is not None:
        raise call.error
    if not finished_on_time:
        raise EvalTimeoutError()

    env.stack.append(call.result.pop())
    if not self._is_language_query_jsonpath():
        env.states.set_result(env.stack[-1])
    if self.assign_decl:
        self.assign_decl.eval(env=env)
    if self.result_selector:
        self.result_selector.eval(env=env)
    if self.result_path:
        self.result_path.eval(env)
    else:
        res = env.stack.pop()
        env.states.reset(input_value=res)


def _lambda_function(arn: str) -> LambdaFunction:
    account, region = arn.split(":")[4], arn.split(":")[3]
    return lambda_backends[account][region].get_function(arn)


def _invoke_from_state_machine(parameters: dict, region: str, state_credentials: Any) -> dict[str, Any]:
    """lambda_eval_utils._invoke_lambda_function without the HTTP hop, in the task's own
    (cancellable) thread; the response is shaped as boto3's `invoke` returns it."""
    function = _lambda_function(parameters["FunctionName"])
    payload, errored, _ = _invoke_in_process(function, parameters.get("Payload"))
    response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": json.loads(payload)}
    if errored:
        response["FunctionError"] = "Unhandled"
    return response


def _start_in_pool(self: ExecutionWorker) -> None:
    EXECUTIONS.submit(self._execution_logic)


def _emit_delete_marker_event(original: Callable) -> Callable:
    def set_delete_marker(self: S3Backend, bucket_name: str, key_name: str) -> Any:
        marker = original(self, bucket_name, key_name)
        bucket = self.get_bucket(bucket_name)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Deleted",
            "source": "aws.s3",
            "account": self.account_id,
            "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": bucket.region_name,
            "resources": [bucket.arn],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket_name},
                "object": {"key": key_name, "version-id": marker.version_id, "sequencer": "0"},  # assigned in normalise_s3_event
                "request-id": str(uuid.uuid4()),
                "requester": self.account_id,
                "reason": "DeleteObject",
                "deletion-type": "Delete Marker Created",
            },
        }
        for bus in events_backends[self.account_id][bucket.region_name].event_buses.values():
            for rule in bus.rules.values():
                rule.send_to_targets(event, transform_input=False)
        return marker

    return set_delete_marker


def install(endpoint_url: str, region: str) -> None:
    """Patch moto once per process; executions start through the server's own API."""
    global _installed, _state_machine_starter
    sfn = boto3.client("stepfunctions", endpoint_url=endpoint_url, region_name=region)

    def start(arn: str, payload: str) -> None:
        sfn.start_execution(stateMachineArn=arn, name=f"event-{uuid.uuid4()}", input=payload)

    _state_machine_starter = start
    if _installed:
        return
    LambdaFunction._invoke_lambda = _invoke_through_api
    Rule.send_to_targets = _send_to_targets(Rule.send_to_targets)
    S3Backend._set_delete_marker = _emit_delete_marker_event(S3Backend._set_delete_marker)
    StateTaskLambda._evaluate_with_timeout = _lambda_task_with_timeout
    lambda_eval_utils._invoke_lambda_function = _invoke_from_state_machine
    ExecutionWorker.start = _start_in_pool
    persistence.install()
    _installed = True
