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


def point_id_for(document_id: str, chunk_index: int, revision: int = 0) -> str:
    """The point of one chunk of one revision of a document. Revisions never share ids, so a
    superseded execution's upserts can never overwrite (or be mistaken for) the current
    version's points (see ``pipeline``). Revision 0 keeps the ids of points written before
    revisions existed."""
    name = f"{document_id}:{chunk_index}" if revision == 0 else f"{document_id}:r{revision}:{chunk_index}"
    return str(uuid.uuid5(RAGLINE_NAMESPACE, name))


SEQUENCER_LENGTH = 64  # S3 sequencers are hex strings of varying length (16-18 today)


def normalise_sequencer(sequencer: str | None) -> str | None:
    """An S3 event ``sequencer`` in a form that compares correctly as a string.

    AWS: for one key, "compare the sequencer values as strings, after left-padding the shorter
    one with zeros"; padding every value to one fixed width makes plain string comparison (in
    Python and in SQL) follow event order. Upper case, so 'a' and 'A' are one digit."""
    if sequencer is None or sequencer == "":
        return None
    value = sequencer.strip().upper()
    if len(value) > SEQUENCER_LENGTH or any(c not in "0123456789ABCDEF" for c in value):
        raise ValueError(f"invalid S3 event sequencer {sequencer!r}: expected up to {SEQUENCER_LENGTH} hex digits")
    return value.rjust(SEQUENCER_LENGTH, "0")


FileType = Literal["pdf", "docx", "html", "markdown", "text", "csv"]


Language = Literal["en", "vi", "other"]


class DocumentDescriptor(BaseModel):
    """Whose and when a document is, found once at extract time (metadata, cover page).

    Every chunk of a filing says "total net sales"; only the descriptor says which company,
    which report and which period. It feeds each chunk's context header (embedded and
    sparse-indexed) and the index payload, where retrieval can filter or boost on it.
    """

    title: str  # distinguishing: never only a form header every document of its kind shares
    file_name: str
    date: str | None = None  # ISO 8601 (YYYY-MM-DD): the date the cover page states, else metadata
    period: str | None = None  # as written: "three months ended June 25, 2022", "Q2 2022"
    entities: list[str] = Field(default_factory=list)  # cover-page lines: issuer, sponsor, identifiers
    language: Language = "other"


class Table(BaseModel):
    """A table as rows of cells: the header row(s) and a caption, so that each figure can be
    rendered with its row label and column header wherever the chunker cuts the table."""

    header: list[list[str]] = Field(default_factory=list)  # header rows, top to bottom
    rows: list[list[str]]  # body rows; the first cell is usually the row label
    caption: str | None = None

    def column_names(self) -> list[str]:
        """One name per column: the header rows' cells stacked ("Three Months Ended" over
        "June 25, 2022" -> "Three Months Ended June 25, 2022")."""
        width = max((len(r) for r in self.header + self.rows), default=0)
        names = []
        for i in range(width):
            parts = [row[i] for row in self.header if i < len(row) and row[i]]
            names.append(" ".join(dict.fromkeys(parts)))
        return names


class Block(BaseModel):
    """A run of text at a known position: a paragraph, a table (rows in reading order), a heading."""

    text: str  # for tables: rows as "cell | cell" lines (the header rows first)
    page: int | None = None  # 1-based; None for formats without pages
    heading: str | None = None  # the nearest section heading above this block
    section_path: list[str] = Field(default_factory=list)  # enclosing headings, outermost first
    kind: Literal["text", "table", "heading"] = "text"
    table: Table | None = None  # set for kind "table"


class ExtractedDocument(BaseModel):
    file_type: FileType
    title: str | None = None
    page_count: int | None = None
    blocks: list[Block]
    metadata_date: str | None = None  # ISO date from the file's metadata (a PDF's CreationDate)
    descriptor: DocumentDescriptor | None = None  # always set by ragline.extract.extract


class Chunk(BaseModel):
    index: int
    text: str  # the passage as written: what answers quote and citations show
    token_count: int
    page_start: int | None = None
    page_end: int | None = None
    heading: str | None = None
    section_path: list[str] = Field(default_factory=list)  # enclosing headings, outermost first
    context: str = ""  # "title — period — section > subsection": embedded and indexed with the text
    fingerprint: str = ""  # hash of the normalised text: equal for near-verbatim repeats (boilerplate)

    def indexed_text(self) -> str:
        """What the embedder and the sparse index see: the context header, then the passage."""
        return f"{self.context}\n{self.text}" if self.context else self.text


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
    revision: int = 0  # the catalog revision (one per ingestion) that wrote it; in the id too
    text: str
    source: str  # the S3 key, without the tenant prefix
    file_type: str
    collection: str = "default"  # first folder under the tenant (ragline.access.collection)
    title: str | None = None
    page_start: int | None = None
    page_end: int | None = None
    heading: str | None = None
    # Document context (from DocumentDescriptor and Chunk), for citations, filters and boosts.
    section_path: list[str] = Field(default_factory=list)
    context: str | None = None  # the chunk's context header, as embedded
    document_date: str | None = None  # ISO date
    period: str | None = None
    language: str | None = None
    fingerprint: str | None = None
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
    section_path: list[str] = Field(default_factory=list)
    context: str | None = None
    document_date: str | None = None
    period: str | None = None
    language: str | None = None
    fingerprint: str | None = None


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
    # Ordering (migration 0002): the highest S3 sequencer seen for the key, deletes included,
    # and the revision, bumped each time an ingestion or a delete takes the row over.
    sequencer: str | None = None
    revision: int = 0
    created_at: datetime
    updated_at: datetime


class RegisterOutcome(str, Enum):
    """What ``Catalog.register`` decided about one Object Created event."""

    ingest = "ingest"  # this execution now owns the row: extract, chunk, embed, finalize
    unchanged = "unchanged"  # same content already indexed: nothing to do, no embeddings
    duplicate = "duplicate"  # the same event (same sequencer) again: acknowledged, no-op
    stale = "stale"  # older than what the catalog has seen for the key (a later PUT or DELETE)
    gone = "gone"  # the object version no longer exists: its delete event settles the key


class RegisterResult(BaseModel):
    document: DocumentRecord | None  # None only when gone before a row existed
    outcome: RegisterOutcome = RegisterOutcome.ingest

    @property
    def unchanged(self) -> bool:
        """Same content already indexed (the pre-ordering name of that outcome)."""
        return self.outcome == RegisterOutcome.unchanged


class DeleteOutcome(str, Enum):
    deleted = "deleted"  # the row is now a tombstone (created if the key was never seen)
    duplicate = "duplicate"  # this delete was applied already
    stale = "stale"  # a later PUT of the key was seen: this older delete does nothing


class DeleteResult(BaseModel):
    document: DocumentRecord
    outcome: DeleteOutcome
