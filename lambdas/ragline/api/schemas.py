"""Request and response models of the document, feedback, health and error routes.

With `ragline.query.schemas` these are the one definition of the REST contract (docs/api.md):
Powertools validates requests against them and generates the OpenAPI document from them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from ragline.api.documents import SUPPORTED_TYPES
from ragline.models import DocumentRecord

DocumentStatusName = Literal["processing", "ready", "failed", "deleted"]
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # beyond this, extraction would not fit a Lambda anyway


SUPPORTED_EXTENSIONS = tuple(SUPPORTED_TYPES)
TOO_DEEP = "nested too deeply"


def parse_json_body(text: str) -> Any:
    """Request bodies as JSON. A body nested deeper than the parser's recursion limit (about
    1,000 levels) is a client error like any other invalid JSON (a 422 naming the problem),
    not a RecursionError that became a 500. No request of this API nests more than 3 levels."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError(
            f"the JSON body is {TOO_DEEP}; send a flat JSON object as documented", text, 0
        ) from None


def _extension_pattern() -> str:
    """A case-insensitive "ends with a supported extension" regex without inline flags
    (JSON Schema regexes are ECMA-262: ``[Pp][Dd][Ff]`` instead of ``(?i)pdf``)."""
    either = "|".join("".join(f"[{c.upper()}{c}]" for c in ext[1:]) for ext in SUPPORTED_EXTENSIONS)
    return rf"[^/\\]\.({either})$"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: invalid_request, not_found, llm_unavailable …")
    message: str = Field(description="What is wrong and what to do about it.")
    field: str | None = Field(default=None, description='The request field at fault, e.g. "body.question".')


class ErrorResponse(BaseModel):
    error: ErrorDetail


class UploadRequest(BaseModel):
    """POST /documents: ask for a presigned upload URL."""

    model_config = ConfigDict(extra="forbid")

    file_name: str = Field(
        min_length=1,
        max_length=255,
        description=(
            "The file's name; stored as <tenant>/<file_name> after sanitising. Supported: "
            + ", ".join(SUPPORTED_EXTENSIONS)
            + " (other names get a 400 saying so)."
        ),
        # Documented (and used by API fuzzers), checked in the route with a specific message.
        json_schema_extra={"pattern": _extension_pattern()},
    )
    content_type: str | None = Field(
        default=None,
        max_length=255,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?$",
        description="MIME type; guessed from the extension when absent.",
    )
    size_bytes: StrictInt | None = Field(default=None, ge=0, le=MAX_UPLOAD_BYTES)
    collection: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="The collection to upload into (one you can read); absent: the default collection.",
    )


class UploadTarget(BaseModel):
    url: str
    method: Literal["PUT"] = "PUT"
    headers: dict[str, str]


class UploadResponse(BaseModel):
    document_id: str
    key: str
    upload: UploadTarget
    expires_in: int = Field(description="Seconds the upload URL stays valid.")


class Document(BaseModel):
    id: str
    file_name: str
    key: str
    status: DocumentStatusName
    step: str | None = None
    error: str | None = None
    file_type: str | None = None
    page_count: int | None = None
    chunk_count: int | None = None
    size_bytes: int | None = None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: DocumentRecord) -> "Document":
        return cls(
            id=record.id,
            file_name=record.file_name,
            key=record.key,
            status=record.status.value,
            step=record.step,
            error=record.error,
            file_type=record.file_type,
            page_count=record.page_count,
            chunk_count=record.chunk_count,
            size_bytes=record.size_bytes,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


class DocumentList(BaseModel):
    documents: list[Document]
    next_cursor: str | None = None


class DeleteResponse(BaseModel):
    document_id: str
    status: Literal["deleting"] = "deleting"


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query_id: str = Field(min_length=1, max_length=64, description="The query_id of the answer rated.")
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackResponse(BaseModel):
    feedback_id: str


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, str] = Field(description="catalog, index, cache: 'ok' or what is wrong.")
