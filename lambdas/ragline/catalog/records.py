"""What the catalog returns besides ``models.DocumentRecord``: logged queries and feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

Rating = Literal["up", "down"]


class QueryRecord(BaseModel):
    """One answered question, as logged for analytics and for tying feedback to an answer."""

    id: str
    tenant: str
    question: str  # truncated to 2,000 characters
    question_hash: str  # sha256 of the normalised question (see repository.hash_question)
    mode: str
    top_k: int
    cache_hit: bool
    answer_type: str
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms_total: float | None = None
    latency_ms_embed: float | None = None
    latency_ms_search: float | None = None
    latency_ms_llm: float | None = None
    cited_document_ids: list[str]
    created_at: datetime
    top_score: float | None = None  # the best passage's score; None when nothing was retrieved


class FeedbackRecord(BaseModel):
    id: str
    query_id: str
    tenant: str
    rating: Rating
    comment: str | None = None
    created_at: datetime
