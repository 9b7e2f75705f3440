"""The conversation use case: a follow-up question answered in the context of its conversation.

Order: check the conversation is the caller's (before anything is streamed, so a stranger
gets a plain 404) -> load the recent turns -> rewrite the question into a standalone query ->
the query use case's answer events, retrieval on the standalone query, the answerer seeing the
turns -> store the message when the answer is complete. An answer the client stopped (or that
failed) is not stored: the conversation holds only answers that were given whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ragline.catalog.conversations import ConversationStore, MessageRecord, NewMessage
from ragline.query.followup import RECENT_TURNS, FollowUpRewriter, Turn
from pydantic import Field

from ragline.query.schemas import QueryRequest, QueryResponse
from ragline.query.service import (
    AnswerEvent,
    ConversationContext,
    DoneEvent,
    QueryService,
)


class ConversationAnswer(QueryResponse):
    """A follow-up's answer (POST /conversations/{id}/messages): the `QueryResponse`, the
    message it was stored as, and the query retrieval actually used."""

    conversation_id: str
    message_id: str
    standalone_query: str = Field(description='What retrieval searched for ("searched for: …").')


def turn_of(message: MessageRecord) -> Turn:
    titles = [c.get("title") or c.get("source") or "" for c in message.citations]
    return Turn(
        question=message.question,
        standalone_query=message.standalone_query,
        answer=message.answer,
        cited_titles=tuple(dict.fromkeys(t for t in titles if t)),
    )


@dataclass
class ConversationService:
    store: ConversationStore
    queries: QueryService
    rewriter: FollowUpRewriter

    @classmethod
    def from_services(cls, services) -> "ConversationService":
        queries = QueryService.from_services(services)
        rewriter = FollowUpRewriter(services.llm, services.cache, ttl_s=services.settings.answer_cache_ttl_s)
        return cls(ConversationStore(services.catalog), queries, rewriter)

    def recent_turns(self, tenant: str, user: str, conversation_id: str) -> tuple[Turn, ...]:
        """The conversation's last turns; `NotFoundError` unless it is this user's."""
        self.store.get(tenant, user, conversation_id)
        messages = self.store.messages(tenant, user, conversation_id, last=RECENT_TURNS)
        return tuple(turn_of(m) for m in messages)

    def answer_events(
        self,
        tenant: str,
        user: str,
        conversation_id: str,
        request: QueryRequest,
        turns: tuple[Turn, ...],
        *,
        stream: bool = True,
        collections: Sequence[str] | None = None,
    ) -> Iterator[AnswerEvent]:
        """`StartEvent` (with the standalone query), tokens, citations, then a `DoneEvent`
        whose response is a `ConversationAnswer` (the stored message's ids included). Only
        ``collections`` are searched when given (the caller's readable set)."""
        standalone = self.rewriter.standalone(request.question, turns)
        context = ConversationContext(standalone_query=standalone, turns=turns)
        events = self.queries.answer_events(tenant, request, context, stream=stream, collections=collections)
        try:
            for event in events:
                if isinstance(event, DoneEvent):
                    yield DoneEvent(self._store(tenant, user, conversation_id, request, standalone, event))
                else:
                    yield event
        finally:
            events.close()  # a stopped stream stops the model too

    def ask(
        self,
        tenant: str,
        user: str,
        conversation_id: str,
        request: QueryRequest,
        collections: Sequence[str] | None = None,
    ) -> ConversationAnswer:
        turns = self.recent_turns(tenant, user, conversation_id)
        events = self.answer_events(tenant, user, conversation_id, request, turns, stream=False, collections=collections)
        for event in events:
            if isinstance(event, DoneEvent):
                assert isinstance(event.response, ConversationAnswer)
                return event.response
        raise AssertionError("answer_events ended without a DoneEvent")

    def _store(
        self, tenant: str, user: str, conversation_id: str, request: QueryRequest, standalone: str, done: DoneEvent
    ) -> ConversationAnswer:
        response = done.response
        message = self.store.add_message(
            tenant,
            user,
            conversation_id,
            NewMessage(
                query_id=response.query_id,
                question=request.question,
                standalone_query=standalone,
                answer=response.answer,
                citations=[c.model_dump(mode="json") for c in response.citations],
                answer_type=response.answer_type,
                model=response.model,
                prompt_tokens=response.usage.prompt_tokens if response.usage else None,
                completion_tokens=response.usage.completion_tokens if response.usage else None,
                latency_ms=response.latency_ms,
                cached=response.cached,
            ),
        )
        return ConversationAnswer(
            **response.model_dump(),
            conversation_id=conversation_id,
            message_id=message.id,
            standalone_query=standalone,
        )
