"""One Ragline environment: the stack that composes every concern."""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ragline_cdk import security
from ragline_cdk.api import Api
from ragline_cdk.auth import AuthConstruct
from ragline_cdk.bundling import dependencies_layer
from ragline_cdk.config import EnvironmentConfig
from ragline_cdk.data import DataConstruct
from ragline_cdk.frontend_hosting import FrontendHosting
from ragline_cdk.functions import FunctionResources, Functions
from ragline_cdk.ingestion import Ingestion, dead_letter_queue
from ragline_cdk.migrations import CatalogMigrations
from ragline_cdk.monitoring import Monitoring
from ragline_cdk.storage import StorageConstruct, removal_policy

ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}


class RaglineStack(Stack):
    def __init__(self, scope: Construct, config: EnvironmentConfig) -> None:
        super().__init__(
            scope,
            config.stack_name,
            env=Environment(account=config.account, region=config.region),
            description=f"Ragline ({config.name}): serverless RAG over your documents",
            termination_protection=config.deletion_protection,
        )
        self.config = config
        Tags.of(self).add("project", "ragline")
        for tag, value in config.tags.items():
            Tags.of(self).add(tag, value)

        self.storage = StorageConstruct(self, "Storage", config=config)
        key = self.storage.key
        self.data = DataConstruct(self, "Data", config=config, key=key,
                                  logs_bucket=self.storage.logs_bucket)
        self.hosting = FrontendHosting(self, "Web", config=config,
                                       logs_bucket=self.storage.logs_bucket)
        self.web_origins = [self.hosting.origin, *config.web.allowed_origins]
        self.storage.add_upload_cors(self.web_origins)
        self.auth = AuthConstruct(self, "Auth", config=config, web_origins=self.web_origins)

        self.dead_letter_queue = dead_letter_queue(self, "DeadLetterQueue", config=config, key=key)
        architecture = ARCHITECTURES[config.compute.architecture]
        self.layer = dependencies_layer(self, "DependenciesLayer", architecture,
                                        removal_policy(config))
        resources = FunctionResources(
            config=config,
            key=key,
            documents_bucket=self.storage.documents_bucket,
            artifacts_bucket=self.storage.artifacts_bucket,
            dead_letter_queue=self.dead_letter_queue,
            data=self.data,
            cors_origins=self.web_origins,
        )
        self.functions = Functions(self, "Functions", resources=resources, layer=self.layer,
                                   architecture=architecture)
        self.ingestion = Ingestion(
            self, "Ingestion", config=config, key=key, functions=self.functions,
            queue=self.dead_letter_queue, documents_bucket=self.storage.documents_bucket,
        )
        self.api = Api(self, "Api", config=config, key=key,
                       function=self.functions["api"].function,
                       stream_function=self.functions["api_stream"].function,
                       user_pool=self.auth.user_pool, web_origins=self.web_origins)
        self.hosting.deploy(web_config={"apiUrl": self.api.url,
                                        "auth": self.auth.web_app_auth_config()},
                            key=key)
        self.migrations = CatalogMigrations(
            self, "CatalogMigrations", resources=resources, data=self.data,
            code=self.functions.code, layer=self.layer, architecture=architecture,
        )
        self.monitoring = Monitoring(
            self, "Monitoring", config=config, key=key, functions=self.functions,
            ingestion=self.ingestion, dead_letter_queue=self.dead_letter_queue, api=self.api,
            cache_name=self.data.cache_name,
        )

        CfnOutput(self, "WebUrl", value=self.hosting.origin, description="The web app")
        CfnOutput(self, "ApiUrl", value=self.api.url, description="REST API base URL")
        CfnOutput(self, "UserPoolId", value=self.auth.user_pool.user_pool_id,
                  description="Invite users here with their custom:tenant attribute")
        CfnOutput(self, "UserPoolClientId", value=self.auth.client.user_pool_client_id)
        CfnOutput(self, "DocumentsBucketName", value=self.storage.documents_bucket.bucket_name,
                  description="Upload documents under {tenant}/...")
        CfnOutput(self, "DeadLetterQueueUrl", value=self.dead_letter_queue.queue_url)
        # ARNs only: the values are set with `aws secretsmanager put-secret-value`.
        CfnOutput(self, "OpenAiApiKeySecretArn", value=self.data.openai_secret.secret_arn)
        CfnOutput(self, "QdrantApiKeySecretArn", value=self.data.qdrant_secret.secret_arn)
        CfnOutput(self, "CatalogSecretArn", value=self.data.catalog_secret.secret_arn)

        security.acknowledge(self)

    @property
    def availability_zones(self) -> list[str]:
        """The AZs from cdk.json: no context look-up (and no credentials) at synth."""
        return list(self.config.network.availability_zones)
