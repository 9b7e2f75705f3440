"""The state machine graphs: every transition lands on a state, every Task runs a real handler,
and the error names the machines route on are the ones the code raises."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from ragline import errors
from ragline.wiring import DEAD_LETTER_QUEUE_VARIABLE, FUNCTIONS, STATE_MACHINES
from ragline_local.seams import resolve_handler

VARIABLE = re.compile(r"^\$\{(\w+)\}$")


def walk(states: dict):
    """Every state, including those inside Map/Parallel processors."""
    for name, state in states.items():
        yield name, state, states
        if state["Type"] == "Map":
            yield from walk(state["ItemProcessor"]["States"])
        for branch in state.get("Branches", []):
            yield from walk(branch["States"])


@pytest.fixture(params=list(STATE_MACHINES), ids=list(STATE_MACHINES))
def machine(request):
    spec = STATE_MACHINES[request.param]
    return spec, json.loads(spec.definition())


def test_every_transition_targets_an_existing_state(machine):
    _, definition = machine
    assert definition["StartAt"] in definition["States"]
    for name, state, scope in walk(definition["States"]):
        targets = [state.get("Next"), state.get("Default")]
        targets += [choice["Next"] for choice in state.get("Choices", [])]
        targets += [catch["Next"] for catch in state.get("Catch", [])]
        for target in filter(None, targets):
            assert target in scope, f"{name} -> {target}: no such state"
        if state["Type"] == "Map":
            processor = state["ItemProcessor"]
            assert processor["StartAt"] in processor["States"]
        terminal = state["Type"] in {"Succeed", "Fail"} or state.get("End")
        assert terminal or state.get("Next") or state["Type"] == "Choice", f"{name} leads nowhere"


def test_every_state_is_reachable(machine):
    _, definition = machine
    states = definition["States"]
    reached, frontier = set(), [definition["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name in reached:
            continue
        reached.add(name)
        state = states[name]
        frontier += [t for t in (state.get("Next"), state.get("Default")) if t]
        frontier += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
    assert reached == set(states)


def test_every_task_resolves_to_a_real_handler(machine):
    spec, definition = machine
    by_variable = {f.asl_variable: f for f in FUNCTIONS.values()}
    used = set()
    for name, state, _ in walk(definition["States"]):
        if state["Type"] != "Task" or state["Resource"].startswith("arn:aws:states:::"):
            continue
        match = VARIABLE.match(state["Resource"])
        assert match, f"{name}: Resource must be a ${{...FunctionArn}} substitution"
        function = by_variable.get(match.group(1))
        assert function, f"{name}: {match.group(1)} names no function in ragline.wiring"
        handler = resolve_handler(function.handler)
        assert list(inspect.signature(handler).parameters)[:2] == ["event", "context"]
        used.add(function.name)
    assert used == set(spec.functions), "wiring lists exactly the functions the ASL calls"


def test_dead_letter_queue_task_uses_the_substitution(machine):
    _, definition = machine
    sends = [s for _, s, _ in walk(definition["States"]) if s.get("Resource") == "arn:aws:states:::sqs:sendMessage"]
    assert sends and all(s["Parameters"]["QueueUrl"] == "${%s}" % DEAD_LETTER_QUEUE_VARIABLE for s in sends)


def test_retried_errors_are_transient_and_raised_by_the_code(machine):
    _, definition = machine
    own_errors = {name for name, cls in vars(errors).items() if inspect.isclass(cls) and issubclass(cls, Exception)}
    for name, state, _ in walk(definition["States"]):
        for retry in state.get("Retry", []):
            ours = [e for e in retry["ErrorEquals"] if not e.startswith(("States.", "Lambda."))]
            assert set(ours) <= own_errors, f"{name} retries unknown errors {ours}"
            assert "DocumentError" not in ours and "ProviderError" not in ours, "permanent errors are never retried"
            assert retry.get("JitterStrategy") == "FULL" and retry["BackoffRate"] > 1


def test_every_failure_path_records_the_reason(machine):
    _, definition = machine
    for name, state, scope in walk(definition["States"]):
        if state["Type"] in {"Task", "Map"} and scope is definition["States"] and name != "SendToDeadLetterQueue":
            catches = state.get("Catch", [])
            assert any("States.ALL" in c["ErrorEquals"] for c in catches), f"{name} has no catch-all"
    states = definition["States"]
    # MarkFailed goes on to the dead-letter queue, unless the failure was a superseded execution's.
    after = states["MarkFailed"]["Next"]
    if after != "SendToDeadLetterQueue":
        choice = states[after]
        assert choice["Default"] == "SendToDeadLetterQueue"
        assert [(c["Variable"], c["Next"]) for c in choice["Choices"]] == [("$.failure.dead_letter", "Superseded")]


def test_each_catch_names_its_failed_step_explicitly(machine):
    """MarkFailed never guesses the step from which keys are present: each Task's catch-all
    goes through a Pass state that sets $.failed_step to the step's name."""
    from ragline.pipeline import PipelineStep
    from typing import get_args

    _, definition = machine
    states = definition["States"]
    for name, state in states.items():
        if state["Type"] not in {"Task", "Map"} or name in {"MarkFailed", "SendToDeadLetterQueue"}:
            continue
        (catch_all,) = [c for c in state["Catch"] if "States.ALL" in c["ErrorEquals"]]
        naming = states[catch_all["Next"]]
        assert naming["Type"] == "Pass" and naming["ResultPath"] == "$.failed_step", name
        assert naming["Result"] in get_args(PipelineStep) and naming["Next"] == "MarkFailed", name
    assert states["MarkFailed"]["Parameters"] == {"state.$": "$", "execution_id.$": "$$.Execution.Id"}


def test_superseded_executions_end_quietly(machine):
    spec, definition = machine
    if spec.name != "ingest":
        return
    for name, state in definition["States"].items():
        if state["Type"] in {"Task", "Map"} and name not in {"MarkFailed", "SendToDeadLetterQueue"}:
            first = state["Catch"][0]
            assert first["ErrorEquals"] == ["SupersededError"] and first["Next"] == "Superseded", name
    assert definition["States"]["Superseded"]["Type"] == "Succeed"


def test_payloads_between_states_are_references_not_text():
    """Step Functions caps payloads at 256 KB: states pass keys, never document text."""
    definition = STATE_MACHINES["ingest"].definition()
    assert "text" not in json.dumps(json.loads(definition)["States"]["EmbedAndIndex"]["ItemSelector"])
    assert json.loads(definition)["States"]["EmbedAndIndex"]["ItemsPath"] == "$.chunked.batch_keys"
