"""Conversations in the catalog: each belongs to one user (the token's ``sub``) in one tenant.

Why every statement filters on tenant *and* user: a conversation id is a capability no one
else may use. Another user's conversation, same tenant or not, is indistinguishable from one
that does not exist (`NotFoundError`, a 404), on every operation.

A message's position is ``max(position) + 1`` inside a transaction that first writes the
conversation's row (its ``updated_at``): that takes the row's write lock on every engine
(SQLite ignores ``SELECT … FOR UPDATE`` and, its transactions being deferred, let two appends
read the same maximum before either wrote), so concurrent appends read the maximum one at a
time. (conversation, position) is unique as well: should a database still let one through,
the loser retries with the next position.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row, and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ragline.catalog.records import Rating
from ragline.catalog.repository import (
    CONFLICT_ATTEMPTS,
    SqlCatalog,
    _truncate,
    decode_cursor,
    encode_cursor,
)
from ragline.catalog.schema import (
    COMMENT_LENGTH,
    QUESTION_LENGTH,
    RATINGS,
    TITLE_LENGTH,
    USER_LENGTH,
    conversation_messages,
    conversations,
)
from ragline.errors import NotFoundError

MAX_PAGE_SIZE = 200


class ConversationRecord(BaseModel):
    id: str
    tenant: str
    user_id: str
    title: str
    created_at: datetime
    updated_at: datetime


class NewMessage(BaseModel):
    """What `add_message` stores (the store assigns id, position and time)."""

    query_id: str | None = None
    question: str
    standalone_query: str
    answer: str
    citations: list[dict[str, Any]]
    answer_type: str
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: dict[str, float]
    cached: bool


class MessageRecord(NewMessage):
    """One answered question of a conversation, as stored; ``citations`` as the API returned them."""

    id: str
    conversation_id: str
    position: int
    rating: Rating | None = None
    feedback_comment: str | None = None
    created_at: datetime


def title_for(question: str) -> str:
    """A conversation's default title: its first question, on one line, clipped."""
    flat = " ".join(question.split())
    return flat if len(flat) <= 80 else flat[:79].rsplit(" ", 1)[0] + "…"


def _conversation(row: Row[Any]) -> ConversationRecord:
    return ConversationRecord.model_validate(dict(row._mapping))


def _message(row: Row[Any]) -> MessageRecord:
    values = dict(row._mapping)
    values["citations"] = json.loads(values["citations"] or "[]")
    values["latency_ms"] = json.loads(values["latency_ms"] or "{}")
    return MessageRecord.model_validate(values)


def _owned(tenant: str, user: str, conversation_id: str):
    return and_(
        conversations.c.id == conversation_id,
        conversations.c.tenant == tenant,
        conversations.c.user_id == user,
    )


class ConversationStore:
    """Conversations and their messages, on the catalog's database (same engine, same
    transient-error handling). Cheap to build: one per request is fine."""

    def __init__(self, catalog: SqlCatalog) -> None:
        self.catalog = catalog

    # -- conversations ----------------------------------------------------------------------

    def create(self, tenant: str, user: str, title: str | None = None) -> ConversationRecord:
        if not user or len(user) > USER_LENGTH:
            raise ValueError(f"user id must be 1 to {USER_LENGTH} characters")
        now = self.catalog._now()
        values = {
            "id": str(uuid.uuid4()),
            "tenant": tenant,
            "user_id": user,
            "title": _truncate(" ".join((title or "").split()), TITLE_LENGTH) or "",
            "created_at": now,
            "updated_at": now,
        }
        with self.catalog._begin() as connection:
            connection.execute(insert(conversations).values(**values))
        return ConversationRecord.model_validate(values)

    def get(self, tenant: str, user: str, conversation_id: str) -> ConversationRecord:
        with self.catalog._begin() as connection:
            row = connection.execute(select(conversations).where(_owned(tenant, user, conversation_id))).first()
        if row is None:
            raise NotFoundError(f"conversation {conversation_id} not found")
        return _conversation(row)

    def page(
        self, tenant: str, user: str, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[ConversationRecord], str | None]:
        """A page of the user's conversations, most recently active first, and the next
        page's cursor (None on the last). Raises `InvalidCursorError` for a foreign cursor."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
        statement = select(conversations).where(conversations.c.tenant == tenant, conversations.c.user_id == user)
        if cursor is not None:
            after_updated, after_id = decode_cursor(cursor)
            statement = statement.where(
                or_(
                    conversations.c.updated_at < after_updated,
                    and_(conversations.c.updated_at == after_updated, conversations.c.id < after_id),
                )
            )
        statement = statement.order_by(conversations.c.updated_at.desc(), conversations.c.id.desc()).limit(limit + 1)
        with self.catalog._begin() as connection:
            rows = connection.execute(statement).all()
        page = [_conversation(row) for row in rows[:limit]]
        next_cursor = encode_cursor(page[-1].updated_at, page[-1].id) if len(rows) > limit else None
        return page, next_cursor

    def delete(self, tenant: str, user: str, conversation_id: str) -> None:
        """Delete a conversation and its messages (the query log keeps its own entries)."""
        with self.catalog._begin() as connection:
            owned = connection.execute(select(conversations.c.id).where(_owned(tenant, user, conversation_id))).first()
            if owned is None:
                raise NotFoundError(f"conversation {conversation_id} not found")
            connection.execute(
                delete(conversation_messages).where(conversation_messages.c.conversation_id == conversation_id)
            )
            connection.execute(delete(conversations).where(conversations.c.id == conversation_id))

    # -- messages ---------------------------------------------------------------------------

    def messages(
        self, tenant: str, user: str, conversation_id: str, last: int | None = None
    ) -> list[MessageRecord]:
        """The conversation's messages in order (only the ``last`` n when given)."""
        statement = (
            select(conversation_messages)
            .join(conversations, conversations.c.id == conversation_messages.c.conversation_id)
            .where(_owned(tenant, user, conversation_id))
            .order_by(conversation_messages.c.position.desc())
        )
        if last is not None:
            statement = statement.limit(last)
        with self.catalog._begin() as connection:
            rows = connection.execute(statement).all()
        return [_message(row) for row in reversed(rows)]

    def add_message(self, tenant: str, user: str, conversation_id: str, message: NewMessage) -> MessageRecord:
        """Append an answered question; the conversation's title defaults to its first one."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                with self.catalog._begin() as connection:
                    return self._add(connection, tenant, user, conversation_id, message)
            except IntegrityError:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _add(self, connection, tenant: str, user: str, conversation_id: str, message: NewMessage) -> MessageRecord:
        now = self.catalog._now()
        touched = connection.execute(
            update(conversations).where(_owned(tenant, user, conversation_id)).values(updated_at=now)
        )
        if touched.rowcount == 0:
            raise NotFoundError(f"conversation {conversation_id} not found")
        owner = connection.execute(select(conversations).where(conversations.c.id == conversation_id)).one()
        position = connection.execute(
            select(func.coalesce(func.max(conversation_messages.c.position), 0)).where(
                conversation_messages.c.conversation_id == conversation_id
            )
        ).scalar_one()
        values = {
            **message.model_dump(),
            "id": str(uuid.uuid4()),
            "conversation_id": conversation_id,
            "position": int(position) + 1,
            "question": _truncate(message.question, QUESTION_LENGTH),
            "standalone_query": _truncate(message.standalone_query, QUESTION_LENGTH),
            "created_at": now,
        }
        connection.execute(
            insert(conversation_messages).values(
                **{**values, "citations": json.dumps(message.citations), "latency_ms": json.dumps(message.latency_ms)}
            )
        )
        if not _conversation(owner).title:
            connection.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(title=title_for(message.question))
            )
        return MessageRecord.model_validate(values)

    def rate(
        self,
        tenant: str,
        user: str,
        conversation_id: str,
        message_id: str,
        rating: str,
        comment: str | None = None,
    ) -> MessageRecord:
        """Record the user's feedback on one answer (a later rating replaces an earlier one)."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}, got {rating!r}")
        with self.catalog._begin() as connection:
            owned = connection.execute(select(conversations.c.id).where(_owned(tenant, user, conversation_id))).first()
            where = and_(
                conversation_messages.c.id == message_id,
                conversation_messages.c.conversation_id == conversation_id,
            )
            if owned is None or connection.execute(select(conversation_messages.c.id).where(where)).first() is None:
                raise NotFoundError(f"message {message_id} not found in conversation {conversation_id}")
            connection.execute(
                update(conversation_messages)
                .where(where)
                .values(rating=rating, feedback_comment=_truncate(comment, COMMENT_LENGTH))
            )
            row = connection.execute(select(conversation_messages).where(where)).one()
        return _message(row)
