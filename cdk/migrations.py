"""Catalog migrations on deploy: a custom resource (CDK Provider framework) whose handler is
``wiring.MIGRATE_CATALOG`` (``handlers.migrate_catalog``, which calls
``ragline.catalog.migrate``). It runs after the database exists, and again whenever the
migration files change (their hash is a property of the resource).
"""

from __future__ import annotations

import hashlib

from aws_cdk import CustomResource
from aws_cdk import aws_lambda as lambda_
from aws_cdk import custom_resources as cr
from constructs import Construct

from ragline import wiring
from ragline_cdk.data import DataConstruct
from ragline_cdk.functions import FunctionResources, RaglineFunction
from ragline_cdk.storage import encrypted_log_group

MIGRATIONS_DIR = wiring.REPO_ROOT / "lambdas" / "ragline" / "catalog" / "migrations"


def migrations_hash() -> str:
    digest = hashlib.sha256()
    if MIGRATIONS_DIR.is_dir():
        for path in sorted(MIGRATIONS_DIR.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(MIGRATIONS_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


class CatalogMigrations(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, resources: FunctionResources,
                 data: DataConstruct, code: lambda_.Code, layer: lambda_.ILayerVersion,
                 architecture: lambda_.Architecture) -> None:
        super().__init__(scope, construct_id)
        spec = wiring.MIGRATE_CATALOG
        self.function = RaglineFunction(
            self, "MigrateCatalog", spec=spec, resources=resources, code=code, layer=layer,
            architecture=architecture,
        )
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function.function,
            log_group=encrypted_log_group(self, "ProviderLogs", resources.config, resources.key),
        )
        self.resource = CustomResource(
            self,
            "Schema",
            service_token=self.provider.service_token,
            resource_type="Custom::RaglineCatalogSchema",
            properties={"MigrationsHash": migrations_hash(), "Database": data.catalog_secret.secret_arn},
        )
        # The database must be up (and its secret attached) before the first migration.
        self.resource.node.add_dependency(data.database)
