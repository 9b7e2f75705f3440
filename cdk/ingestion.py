"""Ingestion: the dead-letter queue, the state machines from ``statemachines/*.asl.json`` and
the EventBridge rules that start them, all rendered from ``ragline.wiring``.

The ASL stays inline (``DefinitionBody.from_string``), exactly as the local runtime reads it,
with ``DefinitionSubstitutions`` from ``wiring.substitutions``: tests check the template's
definition against the file and every ``${...}`` against a function in the stack. Each state
machine's role may invoke exactly the functions its spec lists and send to the dead-letter
queue; Step Functions adds the log-delivery and X-Ray statements for logging and tracing.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ragline import wiring
from ragline.wiring import StateMachineSpec
from ragline_cdk.config import EnvironmentConfig
from ragline_cdk.functions import Functions, pascal
from ragline_cdk.storage import encrypted_log_group


def dead_letter_queue(scope: Construct, construct_id: str, *, config: EnvironmentConfig,
                      key: kms.IKey) -> sqs.Queue:
    """Failed documents (the ASL's SendToDeadLetterQueue) and events the rules could not
    deliver: kept 14 days for inspection and redrive."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        data_key_reuse=Duration.hours(1),
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
    )


def event_pattern(pattern: dict) -> events.EventPattern:
    """``StateMachineSpec.event_pattern`` as CDK's EventPattern (keys as the API spells them)."""
    return events.EventPattern(**{key.replace("-", "_"): value for key, value in pattern.items()})


class IngestionStateMachine(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, spec: StateMachineSpec,
                 config: EnvironmentConfig, key: kms.IKey, functions: Functions,
                 queue: sqs.IQueue, documents_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.role = iam.Role(
            self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"Ragline {spec.name} state machine",
        )
        policy = iam.Policy(self, "Policy", roles=[self.role])
        # Exactly the functions of this state machine's Tasks, by unqualified ARN (as the ASL
        # names them).
        policy.add_statements(iam.PolicyStatement(
            actions=["lambda:InvokeFunction"],
            resources=[functions[name].function.function_arn for name in spec.functions],
        ))
        if spec.uses_dead_letter_queue:
            policy.add_statements(
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]),
                iam.PolicyStatement(
                    actions=["kms:GenerateDataKey", "kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"sqs.{Aws.REGION}.amazonaws.com"}},
                ),
            )
        self.log_group = encrypted_log_group(
            self, "Logs", config, key, log_group_name=f"/aws/vendedlogs/states/ragline-{config.name}-{spec.name}",
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=wiring.deployed_state_machine_name(config.name, spec.name),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(spec.definition()),
            definition_substitutions=wiring.substitutions(
                functions.arns(spec.functions), queue.queue_url
            ),
            role=self.role,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL,
                                include_execution_data=True),
            tracing_enabled=True,
        )
        self.state_machine.node.add_dependency(policy)

        # S3 (EventBridge) -> this state machine; undeliverable events go to the queue.
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"S3 {spec.detail_type} in the documents bucket starts ragline-{spec.name}",
            event_pattern=event_pattern(spec.event_pattern(documents_bucket.bucket_name)),
        )
        self.rule.add_target(targets.SfnStateMachine(
            self.state_machine,
            dead_letter_queue=queue,
            retry_attempts=8,
            max_event_age=Duration.hours(24),
        ))


class ReconcileSchedule(Construct):
    """EventBridge Scheduler -> the ``reconcile`` function on ``wiring.RECONCILE_SCHEDULE``.

    The schedule's role may invoke that one function and nothing else; the function's own
    grants (list the documents bucket, start and describe ingest executions, the catalog and
    Qdrant secrets) come from its ``FunctionSpec.uses`` like every other function's."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig,
                 functions: Functions, queue: sqs.IQueue, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        function = functions["reconcile"].function
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
                             description="Ragline reconcile schedule")
        policy = iam.Policy(self, "Policy", roles=[self.role], statements=[
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function.function_arn]),
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn]),
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sqs.{Aws.REGION}.amazonaws.com"}},
            ),
        ])
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            name=f"ragline-{config.name}-reconcile",
            description="Compare bucket, catalog and index per tenant; repair drift",
            schedule_expression=wiring.RECONCILE_SCHEDULE,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=function.function_arn,
                role_arn=self.role.role_arn,
                input='{"source": "ragline.schedule"}',
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=2,
                ),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(arn=queue.queue_arn),
            ),
        )
        self.schedule.node.add_dependency(policy)


class Ingestion(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig,
                 key: kms.IKey, functions: Functions, queue: sqs.IQueue,
                 documents_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.state_machines: dict[str, IngestionStateMachine] = {
            spec.name: IngestionStateMachine(
                self, pascal(spec.name), spec=spec, config=config, key=key,
                functions=functions, queue=queue, documents_bucket=documents_bucket,
            )
            for spec in wiring.STATE_MACHINES.values()
        }
        self.reconcile_schedule = ReconcileSchedule(
            self, "ReconcileSchedule", config=config, functions=functions, queue=queue, key=key,
        )
