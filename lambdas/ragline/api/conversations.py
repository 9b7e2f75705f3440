"""The conversation routes (docs/api.md, "Conversations") on the Powertools resolver.

Every route acts for the signed-in user (token ``sub``) in their tenant: another user's
conversation answers 404 exactly like a missing one, so ids reveal nothing. The paths are
`ragline.wiring.CONVERSATION_ROUTES`, the list the stack and the local gateway read too.
``POST /conversations/{id}/messages`` with ``Accept: text/event-stream`` is answered by the
streaming endpoint (`ragline.api.sse`); the JSON form is answered here.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from ragline.api.access import scope_of
from ragline.api.app import SECURITY, ApiError, CurrentCaller, Tenant, _responses, app
from ragline.api.auth import user_of
from ragline.api.conversation_schemas import (
    Conversation,
    ConversationAnswer,
    ConversationCreate,
    ConversationDeleted,
    ConversationDetail,
    ConversationList,
    Message,
    MessageFeedbackRequest,
)
from ragline.api.schemas import FeedbackResponse
from ragline.catalog.conversations import ConversationStore
from ragline.errors import NotFoundError
from ragline.query.conversation import ConversationService
from ragline.query.schemas import ID_MAX_LENGTH, QueryRequest
from ragline.services import get_services

ConversationId = Annotated[str, Path(min_length=1, max_length=ID_MAX_LENGTH)]


def current_user() -> str:
    return user_of(app.current_event.raw_event)


User = Annotated[str, Depends(current_user)]


def not_found(conversation_id: str) -> ApiError:
    return ApiError(
        404,
        "not_found",
        f"No conversation {conversation_id} of yours; list yours with GET /conversations.",
        "path.conversation_id",
    )


def _store() -> ConversationStore:
    return ConversationStore(get_services().catalog)


@app.post(
    "/conversations",
    status_code=201,
    summary="Start a conversation",
    responses=_responses(201, "The new conversation", 401, 422),
    security=SECURITY,
)
def create_conversation(tenant: Tenant, user: User, request: ConversationCreate | None = None) -> Conversation:
    record = _store().create(tenant, user, request.title if request else None)
    return Conversation.from_record(record)


@app.get(
    "/conversations",
    summary="Your conversations, most recently active first",
    responses=_responses(200, "A page of conversations", 400, 401, 422),
    security=SECURITY,
)
def list_conversations(
    tenant: Tenant,
    user: User,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ConversationList:
    from ragline.catalog import InvalidCursorError

    try:
        records, next_cursor = _store().page(tenant, user, limit=limit, cursor=cursor)
    except InvalidCursorError as exc:
        raise ApiError(400, "invalid_cursor", f"{exc}", "query.cursor") from exc
    return ConversationList(conversations=[Conversation.from_record(r) for r in records], next_cursor=next_cursor)


@app.get(
    "/conversations/<conversation_id>",
    summary="One of your conversations with its messages",
    responses=_responses(200, "The conversation and its messages, in order", 401, 404, 422),
    security=SECURITY,
)
def get_conversation(tenant: Tenant, user: User, conversation_id: ConversationId) -> ConversationDetail:
    store = _store()
    try:
        record = store.get(tenant, user, conversation_id)
    except NotFoundError as exc:
        raise not_found(conversation_id) from exc
    messages = [Message.from_record(m) for m in store.messages(tenant, user, conversation_id)]
    return ConversationDetail(**Conversation.from_record(record).model_dump(), messages=messages)


@app.delete(
    "/conversations/<conversation_id>",
    summary="Delete one of your conversations and its messages",
    responses=_responses(200, "Deleted", 401, 404, 422),
    security=SECURITY,
)
def delete_conversation(tenant: Tenant, user: User, conversation_id: ConversationId) -> ConversationDeleted:
    try:
        _store().delete(tenant, user, conversation_id)
    except NotFoundError as exc:
        raise not_found(conversation_id) from exc
    return ConversationDeleted(conversation_id=conversation_id)


@app.post(
    "/conversations/<conversation_id>/messages",
    summary="Ask a (follow-up) question in a conversation; JSON, or SSE with Accept: text/event-stream",
    responses=_responses(200, "The answer, the query it searched for and the stored message", 401, 404, 422, 502, 503),
    security=SECURITY,
)
def post_message(
    caller: CurrentCaller, user: User, conversation_id: ConversationId, request: QueryRequest
) -> ConversationAnswer:
    service = ConversationService.from_services(get_services())
    try:
        return service.ask(caller.tenant, user, conversation_id, request, collections=scope_of(caller).as_filter())
    except NotFoundError as exc:
        raise not_found(conversation_id) from exc


@app.post(
    "/conversations/<conversation_id>/messages/<message_id>/feedback",
    status_code=201,
    summary="Rate one answer of your conversation",
    responses=_responses(201, "Feedback recorded", 401, 404, 422),
    security=SECURITY,
)
def post_message_feedback(
    tenant: Tenant,
    user: User,
    conversation_id: ConversationId,
    message_id: Annotated[str, Path(min_length=1, max_length=ID_MAX_LENGTH)],
    request: MessageFeedbackRequest,
) -> FeedbackResponse:
    services = get_services()
    try:
        message = ConversationStore(services.catalog).rate(
            tenant, user, conversation_id, message_id, request.rating, request.comment
        )
    except NotFoundError as exc:
        raise ApiError(
            404, "not_found", f"No message {message_id} in conversation {conversation_id} of yours.",
            "path.message_id",
        ) from exc
    # The query log's feedback too, so answer quality is measured in one place.
    feedback_id = message.id
    if message.query_id:
        try:
            feedback_id = services.catalog.add_feedback(tenant, message.query_id, request.rating, request.comment)
        except NotFoundError:
            pass  # the query log entry was pruned; the message keeps its rating
    return FeedbackResponse(feedback_id=feedback_id)
