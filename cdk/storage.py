"""Storage: the customer-managed KMS key, the documents bucket (uploads, EventBridge on), the
artifacts bucket (derived objects, which expire and never trigger ingestion) and the access-log
bucket. Every bucket blocks public access, refuses plain HTTP and is encrypted.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ragline_cdk.config import EnvironmentConfig


def removal_policy(config: EnvironmentConfig) -> RemovalPolicy:
    return RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY


RETENTION_DAYS = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


def retention_days(days: int) -> logs.RetentionDays:
    return getattr(logs.RetentionDays, RETENTION_DAYS[days])


def encrypted_log_group(scope: Construct, construct_id: str, config: EnvironmentConfig,
                        key: kms.IKey, **kwargs) -> logs.LogGroup:
    """A log group with the environment's retention, encrypted with the stack's key."""
    return logs.LogGroup(
        scope,
        construct_id,
        retention=retention_days(config.log_retention_days),
        encryption_key=key,
        removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        **kwargs,
    )


@dataclass
class Storage:
    key: kms.Key
    logs_bucket: s3.Bucket
    documents_bucket: s3.Bucket
    artifacts_bucket: s3.Bucket


class StorageConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        policy = removal_policy(config)
        destroy = not config.retain_data

        self.key = kms.Key(
            self,
            "Key",
            description=f"Ragline {config.name}: documents, artifacts, secrets, queue, topic, logs, "
            "catalog and cache",
            enable_key_rotation=True,
            removal_policy=policy,
            pending_window=Duration.days(7 if destroy else 30),
        )
        self._allow_service_principals(config)

        # Server access logs and CloudFront logs. S3 log delivery only writes to SSE-S3 buckets.
        self.logs_bucket = s3.Bucket(
            self,
            "AccessLogsBucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # CloudFront standard logging writes with ACLs.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            versioned=False,
            removal_policy=policy,
            auto_delete_objects=destroy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=Duration.days(config.storage.access_logs_expiration_days),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )

        self.documents_bucket = self._data_bucket(
            "DocumentsBucket",
            config,
            versioned=True,
            event_bridge_enabled=True,
            lifecycle_rule=s3.LifecycleRule(
                id="old-versions",
                noncurrent_version_expiration=Duration.days(config.storage.noncurrent_version_expiration_days),
                expired_object_delete_marker=True,
                abort_incomplete_multipart_upload_after=Duration.days(1),
            ),
            # CORS for the browser's presigned PUT: added in stack.py (add_upload_cors), once
            # the web app's CloudFront origin exists.
        )
        self.artifacts_bucket = self._data_bucket(
            "ArtifactsBucket",
            config,
            versioned=False,  # derived, reproducible from the documents
            event_bridge_enabled=False,  # derived objects must never start an ingestion
            lifecycle_rule=s3.LifecycleRule(
                id="expire-derived-objects",
                expiration=Duration.days(config.storage.artifacts_expiration_days),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            ),
        )

    def _data_bucket(self, construct_id: str, config: EnvironmentConfig, *, versioned: bool,
                     event_bridge_enabled: bool, lifecycle_rule: s3.LifecycleRule) -> s3.Bucket:
        """A bucket holding tenant data: KMS-encrypted with the stack's key, TLS only, private,
        access-logged, retained or destroyed with the environment."""
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=versioned,
            event_bridge_enabled=event_bridge_enabled,
            removal_policy=removal_policy(config),
            auto_delete_objects=not config.retain_data,
            server_access_logs_bucket=self.logs_bucket,
            server_access_logs_prefix=f"s3/{construct_id.removesuffix('Bucket').lower()}/",
            lifecycle_rules=[lifecycle_rule],
        )

    def add_upload_cors(self, origins: list[str]) -> None:
        """Browsers PUT files straight to the documents bucket with presigned URLs."""
        self.documents_bucket.add_cors_rule(
            allowed_methods=[s3.HttpMethods.PUT],
            allowed_origins=origins,
            allowed_headers=["Content-Type", "Content-MD5", "x-amz-*"],
            exposed_headers=["ETag", "x-amz-version-id"],
            max_age=3000,
        )

    def _allow_service_principals(self, config: EnvironmentConfig) -> None:
        """Key policy statements for the AWS services that encrypt with the key on our behalf.
        Principals in this account get access only through their IAM policies (the default
        key policy delegates to IAM), each scoped in cdk/functions.py."""
        account, region = Aws.ACCOUNT_ID, Aws.REGION
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptRaglineLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{config.region}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                         "kms:Describe*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn":
                            f"arn:{Aws.PARTITION}:logs:{region}:{account}:log-group:*"
                    }
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeAndCloudWatchToEncryptedQueueAndTopic",
                principals=[iam.ServicePrincipal("events.amazonaws.com"),
                            iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )

    @property
    def storage(self) -> Storage:
        return Storage(self.key, self.logs_bucket, self.documents_bucket, self.artifacts_bucket)
