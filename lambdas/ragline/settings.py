"""Configuration, validated once from environment variables (prefix ``RAGLINE_``).

On AWS the CDK stack sets these on each function; secrets (OpenAI key, Qdrant key, catalog
credentials) arrive as Secrets Manager ARNs and are resolved at cold start
(`ragline.secrets`). Locally `ragline dev` sets them for the in-process handlers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    # Embeddings: "openai" (any OpenAI-compatible endpoint), "local" (MiniLM from a PyPI
    # package, offline), "hash" (deterministic, for tests and demos without a model).
    embedder: Literal["openai", "local", "hash"] = "hash"
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached: Lambda containers read the environment once)."""
    return Settings()
