"""Data: the VPC, the catalog (RDS for SQL Server), the cache (ElastiCache Serverless) and the
provider secrets (OpenAI, Qdrant).

Subnets: public (NAT gateways only), private with egress (the Lambdas that reach the catalog or
the cache; they also call OpenAI, Qdrant and AWS APIs through NAT), isolated (database and
cache, no route out). The other Lambdas stay outside the VPC.

Secret values never appear in the template, in environment variables or in outputs: the stack
creates the secrets (the database's with a generated password, the provider keys with a random
placeholder to be replaced after the first deploy) and functions get their ARNs.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from ragline_cdk.config import EnvironmentConfig
from ragline_cdk.storage import encrypted_log_group

REDIS_PORT = 6379
REDIS_READER_PORT = 6380

SQL_SERVER_ENGINES = {
    "express": rds.DatabaseInstanceEngine.sql_server_ex,
    "web": rds.DatabaseInstanceEngine.sql_server_web,
    "standard": rds.DatabaseInstanceEngine.sql_server_se,
    "enterprise": rds.DatabaseInstanceEngine.sql_server_ee,
}


class DataConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig,
                 key: kms.IKey, logs_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        retain = config.retain_data
        policy = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY

        # --- network ------------------------------------------------------------------------
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.network.cidr),
            availability_zones=config.network.availability_zones,  # explicit: no lookups
            nat_gateways=config.network.nat_gateways,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC,
                                        cidr_mask=24),
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                                        cidr_mask=22),
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                                        cidr_mask=24),
            ],
            gateway_endpoints={
                # S3 traffic of in-VPC functions stays off the NAT gateway (and its per-GB fee).
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
            },
        )
        self.vpc.add_flow_log(
            "FlowLogs",
            destination=ec2.FlowLogDestination.to_s3(logs_bucket, "vpc-flow-logs/"),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self.private_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.isolated_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

        # --- provider secrets ------------------------------------------------------------------
        # Created with a random placeholder; set the real value after the first deploy
        # (README, "Deploying to AWS"): `aws secretsmanager put-secret-value --secret-id <ARN> ...`.
        self.openai_secret = secretsmanager.Secret(
            self,
            "OpenAiApiKey",
            description=f"Ragline {config.name}: OpenAI (or OpenAI-compatible) API key. "
            "Plain string or JSON {\"api_key\": ...}",
            encryption_key=key,
            removal_policy=policy,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=32
            ),
        )
        self.qdrant_secret = secretsmanager.Secret(
            self,
            "QdrantApiKey",
            description=f"Ragline {config.name}: Qdrant API key for {config.qdrant_url}. "
            "Plain string or JSON {\"api_key\": ...}",
            encryption_key=key,
            removal_policy=policy,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=32
            ),
        )

        # --- catalog: RDS for SQL Server -------------------------------------------------------
        self.catalog_security_group = ec2.SecurityGroup(
            self, "CatalogSecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="Ragline catalog (SQL Server): ingress only from the functions that use it",
        )
        # RDS for SQL Server takes no database name at creation: the secret carries the one
        # the deploy-time migration creates (ragline.catalog reads {username, password, host,
        # port, dbname}).
        self.catalog_secret = rds.DatabaseSecret(
            self,
            "CatalogSecret",
            username=config.catalog.master_username,
            dbname=config.catalog.database_name,
            encryption_key=key,
        )
        self.catalog_secret.apply_removal_policy(policy)
        catalog = config.catalog
        # RDS writes its logs to /aws/rds/instance/<id>/<type>: created here first, so they are
        # encrypted with the stack's key and expire like every other log group.
        instance_identifier = f"ragline-{config.name}-catalog"
        log_types = ["error", "agent"]
        self.catalog_log_groups = [
            encrypted_log_group(self, f"CatalogLogs{log_type.title()}", config, key,
                                log_group_name=f"/aws/rds/instance/{instance_identifier}/{log_type}")
            for log_type in log_types
        ]
        self.database = rds.DatabaseInstance(
            self,
            "Catalog",
            instance_identifier=instance_identifier,
            engine=SQL_SERVER_ENGINES[catalog.edition](version=rds.SqlServerEngineVersion.of(
                catalog.engine_version, catalog.engine_version.split(".")[0] + ".00"
            )),
            license_model=rds.LicenseModel.LICENSE_INCLUDED,
            instance_type=ec2.InstanceType(catalog.instance_type),
            vpc=self.vpc,
            vpc_subnets=self.isolated_subnets,
            security_groups=[self.catalog_security_group],
            port=catalog.port,
            credentials=rds.Credentials.from_secret(self.catalog_secret),
            storage_encrypted=True,
            storage_encryption_key=key,
            storage_type=rds.StorageType.GP3,
            allocated_storage=catalog.allocated_storage_gb,
            max_allocated_storage=catalog.max_allocated_storage_gb,
            multi_az=catalog.multi_az,
            publicly_accessible=False,
            backup_retention=Duration.days(catalog.backup_retention_days),
            delete_automated_backups=not retain,
            deletion_protection=config.deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT if retain else RemovalPolicy.DESTROY,
            auto_minor_version_upgrade=True,
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
            cloudwatch_logs_exports=log_types,
            copy_tags_to_snapshot=True,
            enable_performance_insights=False,  # not offered for SQL Server Express
        )
        for log_group in self.catalog_log_groups:
            self.database.node.add_dependency(log_group)
        if catalog.secret_rotation_days:
            self.database.add_rotation_single_user(
                automatically_after=Duration.days(catalog.secret_rotation_days),
                vpc_subnets=self.private_subnets,
            )

        # --- cache: ElastiCache Serverless (Valkey/Redis) -------------------------------------
        self.cache_security_group = ec2.SecurityGroup(
            self, "CacheSecurityGroup", vpc=self.vpc, allow_all_outbound=False,
            description="Ragline cache (ElastiCache Serverless): ingress only from the functions "
            "that use it",
        )
        isolated = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.cache = elasticache.CfnServerlessCache(
            self,
            "Cache",
            serverless_cache_name=f"ragline-{config.name}",
            description=f"Ragline {config.name}: answer and embedding cache",
            engine=config.cache.engine,
            major_engine_version=config.cache.major_engine_version,
            kms_key_id=key.key_arn,
            security_group_ids=[self.cache_security_group.security_group_id],
            subnet_ids=isolated.subnet_ids,
            cache_usage_limits=elasticache.CfnServerlessCache.CacheUsageLimitsProperty(
                data_storage=elasticache.CfnServerlessCache.DataStorageProperty(
                    unit="GB", maximum=config.cache.max_data_storage_gb
                ),
                ecpu_per_second=elasticache.CfnServerlessCache.ECPUPerSecondProperty(
                    maximum=config.cache.max_ecpu_per_second
                ),
            ),
            snapshot_retention_limit=config.cache.snapshot_retention_days or None,
            daily_snapshot_time="04:00" if config.cache.snapshot_retention_days else None,
        )
        self.cache.apply_removal_policy(policy)
        # TLS is always on for ElastiCache Serverless: rediss://.
        self.redis_url = (
            f"rediss://{self.cache.attr_endpoint_address}:{self.cache.attr_endpoint_port}"
        )
        self.cache_name = self.cache.serverless_cache_name

    def connect(self, security_group: ec2.SecurityGroup, *, catalog: bool, cache: bool,
                port: int, function_name: str) -> None:
        """Open exactly the paths a function's security group needs: to the catalog's port
        and/or the cache's ports, plus HTTPS out (providers, AWS APIs via NAT)."""
        if catalog:
            self.catalog_security_group.add_ingress_rule(
                security_group, ec2.Port.tcp(port), f"SQL Server from {function_name}"
            )
            security_group.add_egress_rule(
                self.catalog_security_group, ec2.Port.tcp(port), "SQL Server (catalog)"
            )
        if cache:
            cache_ports = ec2.Port.tcp_range(REDIS_PORT, REDIS_READER_PORT)
            self.cache_security_group.add_ingress_rule(
                security_group, cache_ports, f"Valkey/Redis from {function_name}"
            )
            security_group.add_egress_rule(
                self.cache_security_group, cache_ports, "Valkey/Redis (cache)"
            )
