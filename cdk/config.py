"""Per-environment settings, read from cdk.json context and validated once.

cdk.json holds ``ragline.defaults`` (shared by every environment) and
``ragline.environments.<name>`` (each one's overrides, deep-merged onto the defaults). A typo, an
out-of-range size or a combination AWS would reject at deploy time (Multi-AZ on SQL Server
Express, a NAT gateway count above the number of AZs, an http:// web origin other than
localhost) fails the synth here, with the environment and the field named.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONTEXT_KEY = "ragline"
ENV_CONTEXT_KEY = "env"  # `cdk deploy -c env=dev` / `python app.py` with CDK_CONTEXT_JSON

# The retention periods CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(_Model):
    availability_zones: list[str] = Field(min_length=2, max_length=3)
    nat_gateways: int = Field(default=1, ge=1, le=3)
    cidr: str = "10.20.0.0/16"

    @model_validator(mode="after")
    def _nat_within_azs(self) -> "NetworkConfig":
        if self.nat_gateways > len(self.availability_zones):
            raise ValueError(
                f"nat_gateways ({self.nat_gateways}) exceeds the number of availability zones "
                f"({len(self.availability_zones)}): at most one NAT gateway per AZ"
            )
        return self


class CatalogConfig(_Model):
    """RDS for SQL Server. Express is the default (no licence fee, 10 GB per database, no
    Multi-AZ); Standard/Enterprise support Multi-AZ."""

    edition: Literal["express", "web", "standard", "enterprise"] = "express"
    # A full version (RDS picks no default minor for SQL Server in CloudFormation); minor
    # upgrades are applied automatically in the maintenance window.
    engine_version: str = Field(default="16.00.4236.2.v1", pattern=r"^\d{2}\.00\.\d+\.\d+\.v\d+$")
    instance_type: str = "t3.small"
    allocated_storage_gb: int = Field(default=20, ge=20, le=16384)
    max_allocated_storage_gb: int = Field(default=100, ge=20, le=16384)
    multi_az: bool = False
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    port: int = Field(default=1533, ge=1150, le=65535)
    database_name: str = Field(default="ragline", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    master_username: str = Field(default="ragline_admin", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,127}$")
    # Single-user rotation of the master secret, in days (None: off; see the README, "Deploying to AWS").
    secret_rotation_days: int | None = Field(default=None, ge=1, le=365)

    @model_validator(mode="after")
    def _edition_limits(self) -> "CatalogConfig":
        if self.multi_az and self.edition in ("express", "web"):
            raise ValueError(f"SQL Server {self.edition} edition does not support Multi-AZ on RDS")
        if self.max_allocated_storage_gb < self.allocated_storage_gb:
            raise ValueError("max_allocated_storage_gb is below allocated_storage_gb")
        if not re.fullmatch(r"[a-z0-9]+\.[a-z0-9]+", self.instance_type):
            raise ValueError(f"instance_type {self.instance_type!r} is not like 't3.small'")
        return self


class CacheConfig(_Model):
    """ElastiCache Serverless."""

    engine: Literal["valkey", "redis"] = "valkey"
    major_engine_version: str = "8"
    max_data_storage_gb: int = Field(default=1, ge=1, le=5000)
    max_ecpu_per_second: int = Field(default=5000, ge=1000, le=15_000_000)
    snapshot_retention_days: int = Field(default=0, ge=0, le=35)


class ComputeConfig(_Model):
    architecture: Literal["arm64", "x86_64"] = "arm64"
    # Reserved concurrency of embed_and_index across all executions: with the ASL Map's
    # MaxConcurrency per document, this is what keeps the embedding provider's rate limit.
    embed_reserved_concurrency: int = Field(default=4, ge=1, le=1000)
    # Reserved concurrency for the API function (None: unreserved pool).
    api_reserved_concurrency: int | None = Field(default=None, ge=1, le=1000)


class ApiConfig(_Model):
    rate_limit: float = Field(default=20, gt=0, le=10_000)  # stage default, requests/s
    burst_limit: int = Field(default=40, ge=1, le=5000)
    query_rate_limit: float = Field(default=5, gt=0, le=10_000)  # POST /query (LLM cost)
    query_burst_limit: int = Field(default=10, ge=1, le=5000)
    quota_per_day: int = Field(default=20_000, ge=1)  # usage plan quota
    waf_rate_limit_per_5min: int = Field(default=1000, ge=10, le=2_000_000_000)


class AuthConfig(_Model):
    domain_prefix: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
    mfa: Literal["required", "optional"] = "optional"
    threat_protection: bool = False  # Cognito Plus feature plan (priced per MAU)

    @field_validator("domain_prefix")
    @classmethod
    def _no_reserved_words(cls, value: str) -> str:
        for word in ("aws", "amazon", "cognito"):
            if word in value:
                raise ValueError(f"Cognito domain prefixes may not contain {word!r}")
        return value


class WebConfig(_Model):
    # Origins besides the CloudFront distribution's own (e.g. http://localhost:3000 for dev).
    allowed_origins: list[str] = Field(default_factory=list)
    # Optional custom domain for the web app: its ACM certificate must be in us-east-1.
    domain_name: str | None = None
    certificate_arn: str | None = None

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not re.fullmatch(r"https://[a-z0-9.-]+(:\d+)?|http://localhost(:\d+)?", origin):
                raise ValueError(
                    f"origin {origin!r} must be https://host[:port] or http://localhost[:port] "
                    "(no path, no trailing slash)"
                )
        return origins

    @model_validator(mode="after")
    def _domain_and_certificate(self) -> "WebConfig":
        if bool(self.domain_name) != bool(self.certificate_arn):
            raise ValueError("domain_name and certificate_arn go together")
        if self.certificate_arn and ":us-east-1:" not in self.certificate_arn:
            raise ValueError("CloudFront needs the certificate in us-east-1")
        return self


class ModelsConfig(_Model):
    embedding_model: str = "text-embedding-3-small"
    embedding_dimensions: int = Field(default=1536, ge=8, le=8192)
    llm_model: str = "gpt-4o-mini"
    base_url: str | None = None  # any OpenAI-compatible endpoint; None: api.openai.com


class StorageConfig(_Model):
    artifacts_expiration_days: int = Field(default=30, ge=1)
    noncurrent_version_expiration_days: int = Field(default=30, ge=1)
    access_logs_expiration_days: int = Field(default=90, ge=1)


class MonitoringConfig(_Model):
    alarm_email: str
    api_p99_latency_ms: int = Field(default=10_000, ge=100, le=29_000)
    api_5xx_rate_percent: float = Field(default=1.0, gt=0, le=100)
    cache_min_hit_rate_percent: float = Field(default=10.0, ge=0, le=100)
    daily_embedding_tokens: int = Field(default=20_000_000, ge=1)
    daily_llm_tokens: int = Field(default=5_000_000, ge=1)

    @field_validator("alarm_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError(f"alarm_email {value!r} is not an e-mail address")
        return value


class EnvironmentConfig(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,15}$")
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    # Data stores (buckets, database, cache, key, log groups) survive `cdk destroy`, and the
    # database and the stack have deletion protection. dev: False, prod: True.
    retain_data: bool
    deletion_protection: bool
    log_retention_days: int = 30
    qdrant_url: str
    network: NetworkConfig
    catalog: CatalogConfig = CatalogConfig()
    cache: CacheConfig = CacheConfig()
    compute: ComputeConfig = ComputeConfig()
    api: ApiConfig = ApiConfig()
    auth: AuthConfig
    web: WebConfig = WebConfig()
    models: ModelsConfig = ModelsConfig()
    storage: StorageConfig = StorageConfig()
    monitoring: MonitoringConfig
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"log_retention_days must be one of {LOG_RETENTION_DAYS}")
        return value

    @field_validator("qdrant_url")
    @classmethod
    def _qdrant(cls, value: str) -> str:
        if not re.fullmatch(r"https://[^\s/]+(:\d+)?/?", value):
            raise ValueError("qdrant_url must be an https:// URL (the API key travels with it)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _azs_in_region(self) -> "EnvironmentConfig":
        for zone in self.network.availability_zones:
            if not zone.startswith(self.region):
                raise ValueError(f"availability zone {zone} is not in region {self.region}")
        return self

    @property
    def stack_name(self) -> str:
        return f"Ragline-{self.name}"

    @property
    def metrics_namespace(self) -> str:
        """POWERTOOLS_METRICS_NAMESPACE: one namespace per environment, so that two
        environments in one account never share an alarm's metric."""
        return f"Ragline/{self.name}"


class ConfigError(ValueError):
    """cdk.json context that does not describe a valid environment."""


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_environments(context: Mapping[str, Any]) -> dict[str, EnvironmentConfig]:
    """Every environment in the ``ragline`` context, validated (raises ConfigError)."""
    section = context.get(CONTEXT_KEY)
    if not isinstance(section, Mapping) or not isinstance(section.get("environments"), Mapping):
        raise ConfigError(f"cdk.json context lacks '{CONTEXT_KEY}.environments'")
    defaults = section.get("defaults", {})
    environments: dict[str, EnvironmentConfig] = {}
    for name, overrides in section["environments"].items():
        raw = deep_merge(defaults, overrides)
        raw["name"] = name
        try:
            environments[name] = EnvironmentConfig.model_validate(raw)
        except ValidationError as error:
            raise ConfigError(f"environment {name!r} in cdk.json: {error}") from error
    return environments


def selected_environments(context: Mapping[str, Any]) -> list[EnvironmentConfig]:
    """The environments to synthesize: the one named by ``-c env=NAME``, else all of them."""
    environments = load_environments(context)
    wanted = context.get(ENV_CONTEXT_KEY)
    if wanted is None:
        return list(environments.values())
    if wanted not in environments:
        raise ConfigError(f"-c env={wanted}: no such environment (have {', '.join(environments)})")
    return [environments[wanted]]
