"""The Lambda functions, rendered from ``ragline.wiring.FUNCTIONS`` (handler, memory, timeout,
description and the resources each one ``uses``): nothing about a function is defined here.

Least privilege, per function: each has its own role with no managed policies; its inline
policy is built from ``FunctionSpec.uses`` only (object actions on the buckets it reads or
writes, KMS only through S3/Secrets Manager for exactly those buckets and secrets,
GetSecretValue on exactly its secrets), plus its own log group. Its environment carries only
the settings those uses need (``RAGLINE_`` + the Settings field name). Functions that use the
catalog or the cache run in the VPC's private subnets with their own security group, which
the catalog/cache security groups admit; the others stay outside the VPC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ragline import wiring
from ragline.wiring import FunctionSpec
from ragline_cdk.config import EnvironmentConfig
from ragline_cdk.data import DataConstruct
from ragline_cdk.storage import encrypted_log_group

SERVICE_NAME = "ragline"
LAMBDAS_DIR = wiring.REPO_ROOT / "lambdas"
# Not part of the function code asset.
ASSET_EXCLUDES = [
    "requirements.txt", "tests", "**/tests", "**/__pycache__", "*.pyc", "**/*.pyc",
    ".pytest_cache", ".mypy_cache", ".ruff_cache", "*.egg-info", ".ragline", "**/.ragline",
]
VPC_USES = frozenset({wiring.CATALOG, wiring.CACHE})
API_FUNCTIONS = frozenset({"api", *wiring.STREAMING_FUNCTIONS})

# The AWS Lambda Web Adapter's public layer (awslabs/aws-lambda-web-adapter), for the streaming
# function: it serves response streams from an HTTP server in the function (docs/streaming.md).
WEB_ADAPTER_ACCOUNT = "753240598075"
WEB_ADAPTER_VERSION = 27
WEB_ADAPTER_LAYERS = {"x86_64": "LambdaAdapterLayerX86", "arm64": "LambdaAdapterLayerArm64"}
WEB_ADAPTER_PORT = 8000


def web_adapter_environment() -> dict[str, str]:
    """How the adapter starts and talks to the function's web server (run_api_stream.sh)."""
    return {
        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
        "AWS_LWA_INVOKE_MODE": "response_stream",
        "AWS_LWA_PORT": str(WEB_ADAPTER_PORT),
        "AWS_LWA_READINESS_CHECK_PATH": "/",
    }


def pascal(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def needs_vpc(spec: FunctionSpec) -> bool:
    return bool(spec.uses & VPC_USES)


def env_var(field: str) -> str:
    """The environment variable of a ragline.settings.Settings field."""
    return f"RAGLINE_{field.upper()}"


@dataclass
class FunctionResources:
    """What functions may be granted."""

    config: EnvironmentConfig
    key: kms.IKey
    documents_bucket: s3.IBucket
    artifacts_bucket: s3.IBucket
    dead_letter_queue: sqs.IQueue
    data: DataConstruct
    cors_origins: list[str]


def environment(spec: FunctionSpec, r: FunctionResources) -> dict[str, str]:
    """The function's environment: only what its ``uses`` need, never a secret value."""
    config, uses = r.config, spec.uses
    env = {
        env_var("environment"): config.name,
        wiring.FUNCTION_VARIABLE: spec.name,  # which settings it must have (fail fast on AWS)
        "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
        "POWERTOOLS_METRICS_NAMESPACE": config.metrics_namespace,
    }
    if uses & {wiring.DOCUMENTS_READ, wiring.DOCUMENTS_WRITE, wiring.DOCUMENTS_LIST}:
        env[env_var("documents_bucket")] = r.documents_bucket.bucket_name
    if uses & {wiring.ARTIFACTS_READ, wiring.ARTIFACTS_WRITE}:
        env[env_var("artifacts_bucket")] = r.artifacts_bucket.bucket_name
    if wiring.DEAD_LETTER_QUEUE in uses:
        env[env_var("dead_letter_queue_url")] = r.dead_letter_queue.queue_url
    if wiring.CATALOG in uses:
        env[env_var("catalog_secret_arn")] = r.data.catalog_secret.secret_arn
    if wiring.VECTOR_INDEX in uses:
        env[env_var("qdrant_url")] = config.qdrant_url
        env[env_var("qdrant_engine")] = "server"
        env[env_var("qdrant_api_key_secret_arn")] = r.data.qdrant_secret.secret_arn
        # The collection's dense vector size.
        env[env_var("embedding_dimensions")] = str(config.models.embedding_dimensions)
    if wiring.EMBEDDINGS in uses:
        env[env_var("embedder")] = "openai"
        env[env_var("embedding_model")] = config.models.embedding_model
        env[env_var("embedding_dimensions")] = str(config.models.embedding_dimensions)
    if wiring.LLM in uses:
        env[env_var("llm_model")] = config.models.llm_model
    if uses & {wiring.EMBEDDINGS, wiring.LLM}:
        env[env_var("openai_api_key_secret_arn")] = r.data.openai_secret.secret_arn
        if config.models.base_url:
            env[env_var("openai_base_url")] = config.models.base_url
    if wiring.CACHE in uses:
        env[env_var("redis_url")] = r.data.redis_url
    if wiring.INGEST_START in uses:
        env[env_var("ingest_state_machine_arn")] = state_machine_arn(config, "ingest")
    if spec.name in API_FUNCTIONS:
        # The web app's origins, for the CORS headers on the API's own responses.
        env[env_var("cors_allowed_origins")] = Stack.of(r.key).to_json_string(r.cors_origins)
    return env


def state_machine_arn(config: EnvironmentConfig, machine: str) -> str:
    """A state machine's ARN from its deterministic name (``ingestion`` creates it later in
    the stack, and it must not depend on the functions that start it)."""
    name = wiring.deployed_state_machine_name(config.name, machine)
    return f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:stateMachine:{name}"


def executions_arn(config: EnvironmentConfig, machine: str) -> str:
    """Every execution of that state machine (DescribeExecution is granted on executions)."""
    name = wiring.deployed_state_machine_name(config.name, machine)
    return f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:execution:{name}:*"


def _s3_kms(key: kms.IKey, bucket: s3.IBucket, actions: list[str]) -> iam.PolicyStatement:
    """KMS use limited to S3 requests for this bucket (S3 bucket keys: the context is the
    bucket ARN)."""
    return iam.PolicyStatement(
        actions=actions,
        resources=[key.key_arn],
        conditions={
            "StringEquals": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"},
            "ArnEquals": {"kms:EncryptionContext:aws:s3:arn": bucket.bucket_arn},
        },
    )


def _secret_read(key: kms.IKey, secret: secretsmanager.ISecret) -> list[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(
            actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            resources=[secret.secret_arn],
        ),
        iam.PolicyStatement(
            actions=["kms:Decrypt"],
            resources=[key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"secretsmanager.{Aws.REGION}.amazonaws.com",
                    "kms:EncryptionContext:SecretARN": secret.secret_arn,
                }
            },
        ),
    ]


def statements(spec: FunctionSpec, r: FunctionResources) -> list[iam.PolicyStatement]:
    """Exactly the permissions ``spec.uses`` needs."""
    uses, key, result = spec.uses, r.key, []
    docs, artifacts = r.documents_bucket, r.artifacts_bucket
    if wiring.DOCUMENTS_READ in uses:
        result.append(iam.PolicyStatement(
            actions=["s3:GetObject", "s3:GetObjectVersion"],
            resources=[docs.arn_for_objects("*")],
        ))
    if wiring.DOCUMENTS_WRITE in uses:
        # Presigned uploads are signed with this role: PutObject is what the browser does.
        result.append(iam.PolicyStatement(
            actions=["s3:PutObject", "s3:DeleteObject"],
            resources=[docs.arn_for_objects("*")],
        ))
    if wiring.DOCUMENTS_LIST in uses:
        result.append(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[docs.bucket_arn]))
    if uses & {wiring.DOCUMENTS_READ, wiring.DOCUMENTS_WRITE}:
        kms_actions = ["kms:Decrypt"]
        if wiring.DOCUMENTS_WRITE in uses:
            kms_actions += ["kms:GenerateDataKey"]
        result.append(_s3_kms(key, docs, kms_actions))
    if wiring.ARTIFACTS_READ in uses:
        result.append(iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[artifacts.arn_for_objects("*")],
        ))
        result.append(iam.PolicyStatement(
            actions=["s3:ListBucket"], resources=[artifacts.bucket_arn],
        ))
    if wiring.ARTIFACTS_WRITE in uses:
        result.append(iam.PolicyStatement(
            actions=["s3:PutObject", "s3:DeleteObject"], resources=[artifacts.arn_for_objects("*")],
        ))
    if uses & {wiring.ARTIFACTS_READ, wiring.ARTIFACTS_WRITE}:
        kms_actions = ["kms:Decrypt"]
        if wiring.ARTIFACTS_WRITE in uses:
            kms_actions += ["kms:GenerateDataKey"]
        result.append(_s3_kms(key, artifacts, kms_actions))
    if wiring.CATALOG in uses:
        result += _secret_read(key, r.data.catalog_secret)
    if wiring.VECTOR_INDEX in uses:
        result += _secret_read(key, r.data.qdrant_secret)
    if uses & {wiring.EMBEDDINGS, wiring.LLM}:
        result += _secret_read(key, r.data.openai_secret)
    if wiring.INGEST_START in uses:
        result.append(iam.PolicyStatement(
            actions=["states:StartExecution"], resources=[state_machine_arn(r.config, "ingest")],
        ))
        result.append(iam.PolicyStatement(
            actions=["states:DescribeExecution"], resources=[executions_arn(r.config, "ingest")],
        ))
    if wiring.DEAD_LETTER_QUEUE in uses:
        result.append(iam.PolicyStatement(
            actions=["sqs:SendMessage"], resources=[r.dead_letter_queue.queue_arn],
        ))
        result.append(iam.PolicyStatement(
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"sqs.{Aws.REGION}.amazonaws.com"}},
        ))
    return result


ENI_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]


class RaglineFunction(Construct):
    """One function: its role, log group, (security group) and the function itself."""

    def __init__(self, scope: Construct, construct_id: str, *, spec: FunctionSpec,
                 resources: FunctionResources, code: lambda_.Code, layer: lambda_.ILayerVersion,
                 architecture: lambda_.Architecture,
                 reserved_concurrency: int | None = None) -> None:
        super().__init__(scope, construct_id)
        streams = spec.name in wiring.STREAMING_FUNCTIONS
        config = resources.config
        self.spec = spec
        self.log_group = encrypted_log_group(self, "Logs", config, resources.key)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Ragline {spec.name}: {', '.join(sorted(spec.uses))}",
        )
        policy = iam.Policy(self, "Policy", roles=[self.role])
        policy.add_statements(iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[self.log_group.log_group_arn],
        ))
        policy.add_statements(*statements(spec, resources))
        self.policy = policy

        self.security_group: ec2.SecurityGroup | None = None
        vpc_props: dict = {}
        if needs_vpc(spec):
            data = resources.data
            self.security_group = ec2.SecurityGroup(
                self, "SecurityGroup", vpc=data.vpc, allow_all_outbound=False,
                description=f"Ragline {spec.name} function",
            )
            self.security_group.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(443),
                "HTTPS: AWS APIs, Qdrant, OpenAI (through NAT)",
            )
            data.connect(self.security_group, catalog=wiring.CATALOG in spec.uses,
                         cache=wiring.CACHE in spec.uses, port=config.catalog.port,
                         function_name=spec.name)
            # Lambda manages the function's network interfaces with the role; none of these
            # actions supports resource-level permissions.
            policy.add_statements(iam.PolicyStatement(actions=ENI_ACTIONS, resources=["*"]))
            vpc_props = dict(vpc=data.vpc, vpc_subnets=data.private_subnets,
                             security_groups=[self.security_group])

        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=architecture,
            handler=spec.handler,
            code=code,
            layers=[layer, *([self._web_adapter(architecture)] if streams else [])],
            description=spec.description,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            environment={**environment(spec, resources), **(web_adapter_environment() if streams else {})},
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,  # CDK adds the (unscopable) X-Ray statement
            reserved_concurrent_executions=reserved_concurrency,
            **vpc_props,
        )
        # The role's policy must exist before the function (VPC functions are validated on
        # create for the ENI permissions).
        self.function.node.add_dependency(policy)

    def _web_adapter(self, architecture: lambda_.Architecture) -> lambda_.ILayerVersion:
        name = WEB_ADAPTER_LAYERS[architecture.name]
        arn = f"arn:aws:lambda:{Aws.REGION}:{WEB_ADAPTER_ACCOUNT}:layer:{name}:{WEB_ADAPTER_VERSION}"
        return lambda_.LayerVersion.from_layer_version_arn(self, "WebAdapter", arn)


class Functions(Construct):
    """Every function in ``wiring.FUNCTIONS`` and ``wiring.STREAMING_FUNCTIONS``, from one code
    asset and one dependencies layer."""

    def __init__(self, scope: Construct, construct_id: str, *, resources: FunctionResources,
                 layer: lambda_.ILayerVersion, architecture: lambda_.Architecture,
                 specs: Iterable[FunctionSpec] = (*wiring.FUNCTIONS.values(),
                                                  *wiring.STREAMING_FUNCTIONS.values())) -> None:
        super().__init__(scope, construct_id)
        self.code = lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=ASSET_EXCLUDES)
        config = resources.config
        self.by_name: dict[str, RaglineFunction] = {}
        for spec in specs:
            reserved = None
            if spec.name == "embed_and_index":
                reserved = config.compute.embed_reserved_concurrency
            elif spec.name == "api":
                reserved = config.compute.api_reserved_concurrency
            self.by_name[spec.name] = RaglineFunction(
                self, pascal(spec.name), spec=spec, resources=resources, code=self.code,
                layer=layer, architecture=architecture, reserved_concurrency=reserved,
            )

    def __getitem__(self, name: str) -> RaglineFunction:
        return self.by_name[name]

    def arns(self, names: Iterable[str]) -> dict[str, str]:
        return {name: self.by_name[name].function.function_arn for name in names}

