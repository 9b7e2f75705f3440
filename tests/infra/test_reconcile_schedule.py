"""The reconciler on AWS: an EventBridge Scheduler schedule invokes the ``reconcile`` function
(rendered from wiring like every function) on ``wiring.RECONCILE_SCHEDULE``; the schedule's
role may invoke exactly that function (and dead-letter to the queue), and the function may
start and describe executions of exactly the ingest state machine."""

from __future__ import annotations

from ragline import wiring
from tests.infra.cfn_helpers import as_list, refs


def _schedule(template):
    (schedule,) = template.of_type("AWS::Scheduler::Schedule").values()
    return schedule["Properties"]


def test_reconcile_runs_on_the_wiring_schedule_and_targets_the_reconcile_function(template, stack):
    props = _schedule(template)
    assert props["ScheduleExpression"] == wiring.RECONCILE_SCHEDULE
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 2
    function_id = template.logical_id(stack.functions["reconcile"].function)
    assert props["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert refs(props["Target"]["DeadLetterConfig"]["Arn"]) == {template.logical_id(stack.dead_letter_queue)}
    assert template.props(function_id)["Handler"] == wiring.FUNCTIONS["reconcile"].handler


def test_schedule_role_may_invoke_the_reconcile_function_and_nothing_else(template, stack):
    props = _schedule(template)
    role_id = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    trust = template.props(role_id)["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
    function_id = template.logical_id(stack.functions["reconcile"].function)
    queue_id = template.logical_id(stack.dead_letter_queue)
    grants: dict[str, set[str]] = {}
    for statement in template.policies_of_role(role_id):
        for action in as_list(statement["Action"]):
            grants.setdefault(action, set()).update(refs(statement["Resource"]))
            if action.startswith("kms:"):
                assert "kms:ViaService" in str(statement["Condition"])
    assert grants == {
        "lambda:InvokeFunction": {function_id},
        "sqs:SendMessage": {queue_id},
        "kms:GenerateDataKey": {template.logical_id(stack.storage.key)},
        "kms:Decrypt": {template.logical_id(stack.storage.key)},
    }


def test_reconcile_function_starts_only_the_ingest_state_machine(template, stack):
    fn = stack.functions["reconcile"]
    statements = template.policies_of_role(template.logical_id(fn.role))
    states = {a for s in statements for a in as_list(s["Action"]) if a.startswith("states:")}
    assert states == {"states:StartExecution", "states:DescribeExecution"}
    variables = template.props(template.logical_id(fn.function))["Environment"]["Variables"]
    arn = variables["RAGLINE_INGEST_STATE_MACHINE_ARN"]
    machine = stack.ingestion.state_machines["ingest"].state_machine
    name = template.props(template.logical_id(machine))["StateMachineName"]
    assert arn["Fn::Join"][1][-1] == f":stateMachine:{name}"
