"""The ASL in the template: inline, every ${...} substitution resolves to a function (or the
queue) in this stack, and every Task's function may be invoked by the state machine's role
(and nothing else may)."""

from __future__ import annotations

import json
import re

import pytest

from ragline import wiring
from tests.infra.cfn_helpers import as_list, refs

VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
BY_VARIABLE = {spec.asl_variable: spec for spec in wiring.FUNCTIONS.values()}


def _tasks(states: dict) -> list[tuple[str, dict]]:
    """Every Task state, including those inside Map item processors and Parallel branches."""
    found = []
    for name, state in states.items():
        if state["Type"] == "Task":
            found.append((name, state))
        for processor in ("ItemProcessor", "Iterator"):
            if processor in state:
                found += _tasks(state[processor]["States"])
        for branch in state.get("Branches", []):
            found += _tasks(branch["States"])
    return found


def _machine(template, stack, name):
    machine = stack.ingestion.state_machines[name]
    return template.props(template.logical_id(machine.state_machine)), machine


@pytest.mark.parametrize("name", sorted(wiring.STATE_MACHINES))
def test_definition_is_inline_and_is_the_asl_file(template, stack, name):
    props, _ = _machine(template, stack, name)
    assert "DefinitionS3Location" not in props
    assert props["DefinitionString"] == wiring.STATE_MACHINES[name].definition()
    json.loads(props["DefinitionString"])


@pytest.mark.parametrize("name", sorted(wiring.STATE_MACHINES))
def test_every_substitution_resolves_to_a_resource_in_the_stack(template, stack, name):
    props, _ = _machine(template, stack, name)
    variables = set(VARIABLE.findall(props["DefinitionString"]))
    substitutions = props["DefinitionSubstitutions"]
    assert variables == set(substitutions), "unused or unresolved substitutions"
    for variable, value in substitutions.items():
        if variable == wiring.DEAD_LETTER_QUEUE_VARIABLE:
            assert value == {"Ref": template.logical_id(stack.dead_letter_queue)}
            assert template.resources[value["Ref"]]["Type"] == "AWS::SQS::Queue"
            continue
        # ${XxxFunctionArn} -> Fn::GetAtt [<a Lambda in this stack>, Arn] ...
        function_id, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn"
        function = template.resources[function_id]
        assert function["Type"] == "AWS::Lambda::Function"
        # ... and it is the function the variable names.
        assert function["Properties"]["Handler"] == BY_VARIABLE[variable].handler, variable


@pytest.mark.parametrize("name", sorted(wiring.STATE_MACHINES))
def test_every_task_function_may_be_invoked_by_the_role_and_nothing_else(template, stack, name):
    props, machine = _machine(template, stack, name)
    role_id = props["RoleArn"]["Fn::GetAtt"][0]
    statements = template.policies_of_role(role_id)
    invocable = set()
    for statement in statements:
        actions = as_list(statement["Action"])
        if "lambda:InvokeFunction" in actions:
            assert actions == ["lambda:InvokeFunction"]
            for resource in as_list(statement["Resource"]):
                # exact, unqualified function ARNs (no ":*" versions, no wildcards)
                assert set(resource) == {"Fn::GetAtt"} and resource["Fn::GetAtt"][1] == "Arn"
                invocable.add(resource["Fn::GetAtt"][0])
        assert not any(a.startswith("lambda:") and a != "lambda:InvokeFunction" for a in actions)

    definition = json.loads(props["DefinitionString"])
    substitutions = props["DefinitionSubstitutions"]
    task_functions, sends_to_queue = set(), False
    for state_name, state in _tasks(definition["States"]):
        resource = state["Resource"]
        match = VARIABLE.fullmatch(resource)
        if match:
            task_functions.add(substitutions[match.group(1)]["Fn::GetAtt"][0])
        elif resource == "arn:aws:states:::sqs:sendMessage":
            assert VARIABLE.fullmatch(state["Parameters"]["QueueUrl"]).group(1) == \
                wiring.DEAD_LETTER_QUEUE_VARIABLE
            sends_to_queue = True
        else:
            pytest.fail(f"{state_name}: unexpected Task resource {resource}")
    assert task_functions == invocable
    assert task_functions == {template.logical_id(stack.functions[f].function)
                              for f in wiring.STATE_MACHINES[name].functions}
    if sends_to_queue:
        queue_id = template.logical_id(stack.dead_letter_queue)
        send = [s for s in statements if "sqs:SendMessage" in as_list(s["Action"])]
        assert send and all(refs(s["Resource"]) == {queue_id} for s in send)


@pytest.mark.parametrize("name", sorted(wiring.STATE_MACHINES))
def test_logging_all_events_and_tracing(template, stack, name):
    props, machine = _machine(template, stack, name)
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    (destination,) = logging["Destinations"]
    assert refs(destination) == {template.logical_id(machine.log_group)}


def test_embedding_map_is_bounded_and_the_function_has_reserved_concurrency(template, stack):
    props, _ = _machine(template, stack, "ingest")
    definition = json.loads(props["DefinitionString"])
    maps = [s for s in definition["States"].values() if s["Type"] == "Map"]
    assert maps and all(0 < s["MaxConcurrency"] <= 40 for s in maps)
    embed = template.props(template.logical_id(stack.functions["embed_and_index"].function))
    assert embed["ReservedConcurrentExecutions"] == stack.config.compute.embed_reserved_concurrency


def test_rules_retry_and_dead_letter_undeliverable_events(template, stack):
    queue_id = template.logical_id(stack.dead_letter_queue)
    rules = template.of_type("AWS::Events::Rule")
    assert len(rules) == len(wiring.STATE_MACHINES)
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert refs(target["DeadLetterConfig"]["Arn"]) == {queue_id}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
