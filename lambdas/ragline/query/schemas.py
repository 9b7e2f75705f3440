"""Request and response models of the query use case: the one definition of their shape.

The API validates requests and generates its OpenAPI document from these; the service returns
them; the cache stores `QueryResponse` JSON. Field limits here are the contract in docs/api.md.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, field_validator

from ragline.formats import file_type_aliases
from ragline.models import FileType, SearchMode

FILE_TYPES: tuple[str, ...] = get_args(FileType)
# What users type for a file type, mapped to the pipeline's names (from the format registry).
FILE_TYPE_ALIASES = file_type_aliases()
MAX_FILTER_VALUES = 100
ID_MAX_LENGTH = 64


def normalise_file_type(value: str) -> str:
    """'.PDF' -> 'pdf', 'md' -> 'markdown'; unknown types are a client error naming the choices."""
    key = value.strip().lower().lstrip(".")
    if key not in FILE_TYPE_ALIASES:
        raise ValueError(f"unknown file type {value!r}; use one of: {', '.join(FILE_TYPES)}")
    return FILE_TYPE_ALIASES[key]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must contain some non-whitespace text")
    return value


FileTypeName = Annotated[str, Field(min_length=1, max_length=16), AfterValidator(normalise_file_type)]
DocumentId = Annotated[str, Field(min_length=1, max_length=ID_MAX_LENGTH)]
Question = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_not_blank)]


class QueryRequest(BaseModel):
    """POST /query."""

    model_config = ConfigDict(extra="forbid")

    question: Question = Field(description="The question, in any language (1..2000 characters).")
    # Strict: `true` and "5" are not counts (lax mode turned them into 1 and 5).
    top_k: StrictInt = Field(default=6, ge=1, le=20, description="How many passages to retrieve.")
    mode: SearchMode = Field(default="hybrid", description="hybrid = dense + sparse fused with RRF.")
    document_ids: list[DocumentId] | None = Field(
        default=None, max_length=MAX_FILTER_VALUES, description="Only search these documents."
    )
    file_types: list[FileTypeName] | None = Field(
        default=None,
        max_length=MAX_FILTER_VALUES,
        description=f"Only search these file types ({', '.join(FILE_TYPES)}).",
    )

    @field_validator("document_ids", "file_types")
    @classmethod
    def _dedupe(cls, values: list[str] | None) -> list[str] | None:
        """Order-preserving de-duplication; an empty list means "no filter"."""
        return list(dict.fromkeys(values)) or None if values is not None else None


class SearchHit(BaseModel):
    """A retrieved passage. `snippet` is the part of the chunk that best matches the question."""

    document_id: str
    source: str = Field(description="File path without the tenant prefix.")
    title: str | None = None
    page_start: int | None = None
    page_end: int | None = None
    heading: str | None = None
    snippet: str
    score: float
    chunk_index: int
    text: str | None = Field(
        default=None,
        description="The passage's full text (GET /search with full_text=true; else omitted).",
        exclude_if=lambda value: value is None,  # omitted from responses unless asked for
    )


class Citation(SearchHit):
    """A source the answer cites as `[number]`."""

    number: int = Field(ge=1)


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int


class QueryResponse(BaseModel):
    query_id: str
    answer: str
    answer_type: Literal["generated", "extractive"]
    citations: list[Citation]
    cached: bool
    latency_ms: dict[str, float] = Field(description="`total` plus one entry per stage.")
    model: str | None = None
    usage: Usage | None = None


class SearchResponse(BaseModel):
    hits: list[SearchHit]
    latency_ms: float
