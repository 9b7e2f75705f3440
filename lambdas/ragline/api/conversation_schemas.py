"""Request and response models of the conversation routes (docs/api.md, "Conversations").

A follow-up is asked with the body of ``POST /query`` (`QueryRequest`); its answer is the
`QueryResponse` plus where it was stored and the query retrieval actually used.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ragline.catalog.conversations import ConversationRecord, MessageRecord
from ragline.query.conversation import ConversationAnswer
from ragline.query.schemas import Citation, Usage

__all__ = ["ConversationAnswer"]  # re-exported: the answer model is the core's


class ConversationCreate(BaseModel):
    """POST /conversations (the body may be empty: the first question becomes the title)."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=200)


class Conversation(BaseModel):
    id: str
    title: str = Field(description="The first question unless set at creation.")
    created_at: datetime
    updated_at: datetime = Field(description="When the last message was added.")

    @classmethod
    def from_record(cls, record: ConversationRecord) -> "Conversation":
        return cls(id=record.id, title=record.title, created_at=record.created_at, updated_at=record.updated_at)


class ConversationList(BaseModel):
    conversations: list[Conversation]
    next_cursor: str | None = None


class MessageFeedback(BaseModel):
    rating: Literal["up", "down"]
    comment: str | None = None


class Message(BaseModel):
    id: str
    position: int = Field(description="1 for the first question, then 2, 3 …")
    query_id: str | None = None
    question: str
    standalone_query: str = Field(description='What retrieval searched for ("searched for: …").')
    answer: str
    answer_type: Literal["generated", "extractive"]
    citations: list[Citation]
    cached: bool
    model: str | None = None
    usage: Usage | None = None
    latency_ms: dict[str, float]
    feedback: MessageFeedback | None = None
    created_at: datetime

    @classmethod
    def from_record(cls, record: MessageRecord) -> "Message":
        usage = None
        if record.prompt_tokens is not None and record.completion_tokens is not None:
            usage = Usage(prompt_tokens=record.prompt_tokens, completion_tokens=record.completion_tokens)
        feedback = MessageFeedback(rating=record.rating, comment=record.feedback_comment) if record.rating else None
        return cls(
            id=record.id,
            position=record.position,
            query_id=record.query_id,
            question=record.question,
            standalone_query=record.standalone_query,
            answer=record.answer,
            answer_type=record.answer_type,  # type: ignore[arg-type]
            citations=[Citation.model_validate(c) for c in record.citations],
            cached=record.cached,
            model=record.model,
            usage=usage,
            latency_ms=record.latency_ms,
            feedback=feedback,
            created_at=record.created_at,
        )


class ConversationDetail(Conversation):
    messages: list[Message]


class ConversationDeleted(BaseModel):
    conversation_id: str
    status: Literal["deleted"] = "deleted"


class MessageFeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)
