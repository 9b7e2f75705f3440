"""The data that flows between pipeline steps and stores. One definition each (pydantic)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field

# Namespace for deterministic ids: the same tenant/key always gets the same document id, and
# the same document id + chunk index always gets the same point id, so replays overwrite.
RAGLINE_NAMESPACE = uuid.UUID("6f1c2f4e-8a51-4d0b-9a57-2b8f3c1d9e10")


def document_id_for(tenant: str, key: str) -> str:
    return str(uuid.uuid5(RAGLINE_NAMESPACE, f"{tenant}/{key}"))


def point_id_for(document_id: str, chunk_index: int) -> str:
    return str(uuid.uuid5(RAGLINE_NAMESPACE, f"{document_id}:{chunk_index}"))


FileType = Literal["pdf", "docx", "html", "markdown", "text", "csv"]


class Block(BaseModel):
    """A run of text at a known position: a paragraph, a table (rows in reading order), a heading."""

    text: str
    page: int | None = None  # 1-based; None for formats without pages
    heading: str | None = None  # the nearest section heading above this block
    kind: Literal["text", "table", "heading"] = "text"


class ExtractedDocument(BaseModel):
    file_type: FileType
    title: str | None = None
    page_count: int | None = None
    blocks: list[Block]


class Chunk(BaseModel):
    index: int
    text: str
    token_count: int
    page_start: int | None = None
    page_end: int | None = None
    heading: str | None = None


class SparseVector(BaseModel):
    indices: list[int]
    values: list[float]


class IndexPoint(BaseModel):
    """One chunk as stored in the vector index (payload + vectors)."""

    id: str
    tenant: str
    document_id: str
    version: str  # content hash of the object version the chunk came from
    chunk_index: int
    text: str
    source: str  # the S3 key, without the tenant prefix
    file_type: str
    collection: str = "default"  # first folder under the tenant (ragline.access.collection)
    title: str | None = None
    page_start: int | None = None
    page_end: int | None = None
    heading: str | None = None
    dense: list[float] | None = None
    sparse: SparseVector | None = None


SearchMode = Literal["hybrid", "dense", "sparse"]


class Hit(BaseModel):
    score: float
    point_id: str
    document_id: str
    chunk_index: int
    text: str
    source: str
    file_type: str
    title: str | None = None
    page_start: int | None = None
    page_end: int | None = None
    heading: str | None = None


class DocumentStatus(str, Enum):
    processing = "processing"
    ready = "ready"
    failed = "failed"
    deleted = "deleted"


class DocumentRecord(BaseModel):
    """A document as the catalog tracks it."""

    id: str
    tenant: str
    key: str  # S3 key including the tenant prefix
    file_name: str
    status: DocumentStatus
    step: str | None = None  # the pipeline step it is in, or failed in
    error: str | None = None
    content_hash: str | None = None
    etag: str | None = None
    version_id: str | None = None
    size_bytes: int | None = None
    file_type: str | None = None
    page_count: int | None = None
    chunk_count: int | None = None
    execution_id: str | None = None
    created_at: datetime
    updated_at: datetime


class RegisterResult(BaseModel):
    document: DocumentRecord
    unchanged: bool = Field(description="same content already indexed: nothing to do")
