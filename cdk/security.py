"""The cdk-nag gate and every acknowledged finding, with its reason.

cdk-nag 3 runs as a CDK validation plugin: ``app.synth()`` raises on any finding not
acknowledged with ``Validations.of(construct).acknowledge``. Acknowledgements here are per
construct and per finding (``AwsSolutions-IAM5[Resource::<Bucket.Arn>/*]``, never a whole rule
on the stack), and environment-dependent ones are made only where the environment's settings
cause the finding (e.g. RDS10 only where deletion protection is off). Each is recorded on the
stack (``stack.acknowledgements``) so tests can check the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from aws_cdk import Acknowledgment, App, DefaultStackSynthesizer, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from ragline import wiring

if TYPE_CHECKING:
    from ragline_cdk.stack import RaglineStack


def add_nag_gate(app: App) -> None:
    """AwsSolutions checks on every stack: synth fails on any unacknowledged finding."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


@dataclass(frozen=True)
class Acknowledged:
    path: str
    rule: str
    reason: str


def _ack(stack: "RaglineStack", construct: IConstruct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
    stack.acknowledgements.append(Acknowledged(construct.node.path, rule, reason))


def _arn_ref(construct: IConstruct) -> str:
    """How cdk-nag spells a resource's ARN attribute in a finding id: ``<LogicalId.Arn>``."""
    stack = Stack.of(construct)
    return f"<{stack.get_logical_id(construct.node.default_child)}.Arn>"


def _cdk_singletons(stack: Stack, prefix: str) -> Iterable[IConstruct]:
    return [child for child in stack.node.children if child.node.id.startswith(prefix)]


def acknowledge(stack: "RaglineStack") -> None:
    config = stack.config
    stack.acknowledgements = []

    # --- our functions ------------------------------------------------------------------------
    all_functions = [*stack.functions.by_name.values(), stack.migrations.function]
    for fn in all_functions:
        spec = fn.spec
        _ack(stack, fn.function, "AwsSolutions-L1",
             "Python 3.12 is the project's Lambda runtime: the dependencies layer is built for "
             "cp312 wheels (cdk/bundling.py) and the handlers are tested on it; move runtime and "
             "layer together.")
        _ack(stack, fn.role.node.find_child("DefaultPolicy"), "AwsSolutions-IAM5[Resource::*]",
             "CDK's statement for active X-Ray tracing: xray:PutTraceSegments and "
             "xray:PutTelemetryRecords support no resource-level permissions.")
        if fn.security_group is not None:
            _ack(stack, fn.policy, "AwsSolutions-IAM5[Resource::*]",
                 f"{spec.name} runs in the VPC (it uses the catalog/cache): Lambda manages its "
                 "ENIs with ec2:Create/Describe/DeleteNetworkInterface and Assign/Unassign"
                 "PrivateIpAddresses, which support no resource-level permissions.")
        if spec.uses & {wiring.DOCUMENTS_READ, wiring.DOCUMENTS_WRITE}:
            _ack(stack, fn.policy,
                 f"AwsSolutions-IAM5[Resource::{_arn_ref(stack.storage.documents_bucket)}/*]",
                 f"{spec.name} reads/writes uploaded objects, whose keys ({{tenant}}/{{path}}) are "
                 "chosen at upload time: object actions only, on this one bucket; the tenant "
                 "prefix is enforced by the code from the token claim/the key.")
        if spec.uses & {wiring.ARTIFACTS_READ, wiring.ARTIFACTS_WRITE}:
            _ack(stack, fn.policy,
                 f"AwsSolutions-IAM5[Resource::{_arn_ref(stack.storage.artifacts_bucket)}/*]",
                 f"{spec.name} reads/writes derived objects (extracted text, chunk batches) "
                 "under per-document keys known only at run time: object actions only, on the "
                 "artifacts bucket alone.")

        if wiring.INGEST_START in spec.uses:
            name = wiring.deployed_state_machine_name(config.name, "ingest")
            _ack(stack, fn.policy,
                 "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
                 f"<AWS::AccountId>:execution:{name}:*]",
                 f"{spec.name} reads the status of the ingest executions it started or that own a "
                 "document (execution names are chosen at run time): states:DescribeExecution "
                 "only, on the executions of this one state machine.")

    # --- state machines ----------------------------------------------------------------------
    for name, machine in stack.ingestion.state_machines.items():
        _ack(stack, machine.role.node.find_child("DefaultPolicy"), "AwsSolutions-IAM5[Resource::*]",
             f"Added by CDK for the {name} state machine's logging and tracing: CloudWatch Logs "
             "delivery actions (logs:CreateLogDelivery, ...) and X-Ray actions support no "
             "resource-level permissions. Its Lambda and SQS permissions are exact ARNs.")

    # --- dead-letter queue -------------------------------------------------------------------
    _ack(stack, stack.dead_letter_queue, "AwsSolutions-SQS3",
         "This queue is the dead-letter queue itself: the ASL's SendToDeadLetterQueue state and "
         "the EventBridge rules' DLQ write to it; its depth has an alarm. A DLQ for it would be "
         "a second, unwatched copy.")

    # --- secrets -----------------------------------------------------------------------------
    for secret, provider in ((stack.data.openai_secret, "OpenAI"),
                             (stack.data.qdrant_secret, "Qdrant")):
        _ack(stack, secret, "AwsSolutions-SMG4",
             f"The {provider} API key is issued by {provider}, not by AWS: no rotation Lambda can "
             "mint one. Rotate it at the provider and put-secret-value (README, 'Deploying to AWS'); "
             "functions re-read it within 5 minutes.")
    if not config.catalog.secret_rotation_days:
        _ack(stack, stack.data.catalog_secret, "AwsSolutions-SMG4",
             "Rotation is off until the catalog engine re-reads the secret after a login failure "
             "(ragline.catalog.engine caches the URL per container, so single-user rotation "
             "would break warm functions); enable with catalog.secret_rotation_days in cdk.json.")

    # --- catalog database --------------------------------------------------------------------
    database = stack.data.database
    if not config.catalog.multi_az:
        reason = (
            f"SQL Server {config.catalog.edition} edition has no Multi-AZ on RDS"
            if config.catalog.edition in ("express", "web")
            else f"Multi-AZ is off for {config.name} (catalog.multi_az in cdk.json)"
        )
        _ack(stack, database, "AwsSolutions-RDS3",
             f"{reason}. Automated backups ({config.catalog.backup_retention_days} days, "
             "point-in-time restore) cover it; documents and vectors live elsewhere, so an "
             "outage pauses ingestion and queries without losing them. For HA choose "
             "catalog.edition=standard with multi_az=true.")
    if not config.deletion_protection:
        _ack(stack, database, "AwsSolutions-RDS10",
             f"{config.name} is disposable (deletion_protection=false in cdk.json): `cdk destroy` "
             "must remove the database. prod enables deletion protection.")

    # --- sign-in -----------------------------------------------------------------------------
    user_pool = stack.auth.user_pool
    if config.auth.mfa != "required":
        _ack(stack, user_pool, "AwsSolutions-COG2",
             f"MFA is optional (TOTP offered) in {config.name}, whose users are invited test "
             "accounts; prod requires it (auth.mfa in cdk.json).")
    if not config.auth.threat_protection:
        _ack(stack, user_pool, "AwsSolutions-COG8",
             f"The Plus feature plan (threat protection) is billed per monthly active user with "
             f"no free tier; {config.name} has only invited test users. prod enables it.")

    # --- API ---------------------------------------------------------------------------------
    api = stack.api
    health = api.methods[("GET", "/health")]
    for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
        _ack(stack, health, rule,
             "GET /health is the unauthenticated liveness probe for monitors and load tests "
             "(docs/api.md); it returns only ok/degraded per dependency, no tenant data.")
    _ack(stack, api.rest_api, "AwsSolutions-APIG2",
         "Requests are validated in the api function (Powertools + pydantic models), which "
         "returns 4xx bodies naming the field at fault as docs/api.md requires; API Gateway "
         "validation would answer in a different error shape.")
    _ack(stack, api.rest_api.node.find_child("CloudWatchRole"),
         "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
         "AmazonAPIGatewayPushToCloudWatchLogs]",
         "API Gateway's account-level role for execution logging; AWS maintains this policy for "
         "exactly that purpose.")

    # --- web hosting -------------------------------------------------------------------------
    distribution = stack.hosting.distribution
    _ack(stack, distribution, "AwsSolutions-CFR1",
         "The web app serves its users wherever they are; no regulation asks for geo "
         "restrictions.")
    _ack(stack, distribution, "AwsSolutions-CFR2",
         "The distribution serves static files only; the API, the one dynamic surface, has its "
         "own regional WAF web ACL. A CloudFront-scope ACL would have to live in us-east-1.")
    if stack.hosting.uses_default_certificate:
        _ack(stack, distribution, "AwsSolutions-CFR4",
             "No custom domain is configured, so the default *.cloudfront.net certificate fixes "
             "the viewer TLS policy; set web.domain_name and web.certificate_arn to enforce "
             "TLSv1.2_2021.")

    # --- constructs aws-cdk-lib manages ------------------------------------------------------
    basic_execution = ("AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                       "service-role/AWSLambdaBasicExecutionRole]")
    for handler in _cdk_singletons(stack, "BucketNotificationsHandler"):
        _ack(stack, handler.node.find_child("Role"), basic_execution,
             "aws-cdk-lib's handler that turns on EventBridge notifications for the documents "
             "bucket at deploy time; CDK gives it only this managed policy and "
             "s3:PutBucketNotification.")
    site_bucket_arn = _arn_ref(stack.hosting.bucket)
    assets_bucket = (f"cdk-{DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-"
                     f"{config.account}-{config.region}")
    for deployment in _cdk_singletons(stack, "Custom::CDKBucketDeployment"):
        _ack(stack, deployment, "AwsSolutions-L1",
             "aws-cdk-lib's BucketDeployment handler (web app and /config.json upload); its "
             "runtime is chosen and updated by aws-cdk-lib.")
        role = deployment.node.find_child("ServiceRole")
        _ack(stack, role, basic_execution,
             "aws-cdk-lib's BucketDeployment handler role: this managed policy only lets it write "
             "its own CloudWatch Logs.")
        policy = role.node.find_child("DefaultPolicy")
        for finding in ("Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*",
                        "Action::s3:Abort*", "Action::s3:DeleteObject*",
                        f"Resource::arn:aws:s3:::{assets_bucket}/*",
                        f"Resource::{site_bucket_arn}/*", "Resource::*"):
            _ack(stack, policy, f"AwsSolutions-IAM5[{finding}]",
                 "aws-cdk-lib's BucketDeployment grants: read the CDK asset bucket, sync "
                 "(write/delete) the web app bucket, create a CloudFront invalidation "
                 "(no resource-level permission).")
    provider = stack.migrations.provider
    framework = provider.node.find_child("framework-onEvent")
    _ack(stack, framework.node.find_child("ServiceRole"), basic_execution,
         "CDK Provider framework function for the catalog-migration custom resource: logging "
         "only.")
    _ack(stack, framework.node.find_child("ServiceRole").node.find_child("DefaultPolicy"),
         f"AwsSolutions-IAM5[Resource::{_arn_ref(stack.migrations.function.function)}:*]",
         "The Provider framework may invoke the migration function and its versions; the "
         "wildcard covers versions of that one function.")
    _ack(stack, framework, "AwsSolutions-L1",
         "CDK Provider framework function (Node.js): its runtime is chosen and updated by "
         "aws-cdk-lib.")


def acknowledged_rules(stack: Stack) -> list[Acknowledged]:
    return list(getattr(stack, "acknowledgements", []))


__all__ = ["add_nag_gate", "acknowledge", "acknowledged_rules", "Acknowledged"]
