"""Answers as server-sent events: ``POST /query`` and ``POST /conversations/{id}/messages``
with ``Accept: text/event-stream`` (docs/api.md, "Streaming").

Events, in order: ``start`` (what retrieval searches for), ``token`` (answer text as it is
produced, citations already validated and renumbered), ``citations``, ``done`` (the whole
response, as the JSON route returns it: usage, latency, ids). A failure after the stream has
begun is one ``error`` event with the REST error shape (``{"error": {code, message, field}}``)
and the stream ends. Failures before it begins (sign-in, validation, an unknown
conversation) are plain JSON responses with their status, exactly as the JSON routes answer.

Why not through the Powertools resolver: it returns whole responses and keeps the invocation
on shared state (see handlers/api.py), while a stream runs for seconds alongside others. This
module is plain functions over the API Gateway REST proxy event, called by the Lambda's ASGI
app on AWS (`ragline.api.asgi`) and by the local gateway, so both stream the same bytes.
Closing the returned body (a client that went away) closes the answer generator, and with it
the model's HTTP stream.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ragline.api.auth import tenant_of, user_of
from ragline.api.errors import describe_error
from ragline.errors import NotFoundError
from ragline.query.schemas import QueryRequest
from ragline.query.service import AnswerEvent, CitationsEvent, DoneEvent, StartEvent, TokenEvent
from ragline.wiring import STREAMING_ROUTES

logger = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
STREAM_HEADERS = {
    "Content-Type": f"{EVENT_STREAM}; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # proxies must not buffer the stream
}


@dataclass
class StreamedResponse:
    """An HTTP response whose body is produced while it is sent. Close ``body`` to stop."""

    status: int
    headers: dict[str, str]
    body: Iterator[bytes]
    media: str = field(default="application/json")


def wants_event_stream(headers: Mapping[str, str] | None) -> bool:
    """Whether the client asked for server-sent events (``Accept: text/event-stream``)."""
    for name, value in (headers or {}).items():
        if name.lower() == "accept" and EVENT_STREAM in (value or "").lower():
            return True
    return False


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")


_ROUTES = [(method, _template_regex(path), path) for method, path in STREAMING_ROUTES]


def streaming_route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """(route template, path parameters) when ``method path`` is a streaming route."""
    for route_method, pattern, template in _ROUTES:
        match = pattern.match(path)
        if route_method == method and match:
            return template, match.groupdict()
    return None


# ---------------------------------------------------------------------------- encoding


def sse(event: str, data: BaseModel | Mapping[str, Any]) -> bytes:
    payload = data.model_dump_json() if isinstance(data, BaseModel) else json.dumps(data, ensure_ascii=False)
    return f"event: {event}\ndata: {payload}\n\n".encode()


def encode(event: AnswerEvent) -> bytes:
    if isinstance(event, TokenEvent):
        return sse("token", {"text": event.text})
    if isinstance(event, StartEvent):
        return sse("start", {"standalone_query": event.standalone_query})
    if isinstance(event, CitationsEvent):
        return sse("citations", {"citations": [c.model_dump(mode="json") for c in event.citations]})
    if isinstance(event, DoneEvent):
        return sse("done", event.response)
    raise TypeError(f"unknown answer event {event!r}")


def error_body(status: int, code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def _json_response(status: int, body: Mapping[str, Any]) -> StreamedResponse:
    return StreamedResponse(status, {"Content-Type": "application/json"}, iter([json.dumps(body).encode()]))


def _invalid(exc: ValidationError) -> StreamedResponse:
    """422 with the field at fault, worded like the JSON routes' validation errors."""
    from ragline.api.app import field_path

    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": "value_error"}
    if first.get("type") == "json_invalid":
        return _json_response(422, error_body(422, "invalid_request", "The body is not valid JSON; send a JSON object.", "body"))
    name = field_path(("body", *first.get("loc", ())))
    message = f"{name} is required." if first.get("type") == "missing" else (
        f"{name}: {str(first.get('msg', 'invalid value')).removeprefix('Value error, ')}."
    )
    return _json_response(422, error_body(422, "invalid_request", message, name))


# ---------------------------------------------------------------------------- endpoint


def stream_answer(event: Mapping[str, Any]) -> StreamedResponse:
    """Answer a streaming route's proxy event as server-sent events (see the module doc)."""
    from ragline.api.access import authorize, caller_of, scope_of
    from ragline.query.conversation import ConversationService
    from ragline.query.service import QueryService
    from ragline.services import get_services

    route = streaming_route(str(event.get("httpMethod", "")), str(event.get("path", "")))
    if route is None:
        return _json_response(404, error_body(404, "not_found", f"No streaming route {event.get('path')}."))
    template, params = route
    try:
        caller = authorize(event) or caller_of(event)  # the route rules, as on the JSON routes
        tenant, collections = caller.tenant, scope_of(caller).as_filter()
        request = QueryRequest.model_validate_json(event.get("body") or "")
        services = get_services()
        if template == "/query":
            events = QueryService.from_services(services).answer_events(tenant, request, collections=collections)
        else:
            user = user_of(event)
            conversation_id = params["conversation_id"]
            conversations = ConversationService.from_services(services)
            try:
                turns = conversations.recent_turns(tenant, user, conversation_id)
            except NotFoundError:
                return _json_response(404, error_body(
                    404, "not_found", f"No conversation {conversation_id} of yours; list yours with GET /conversations.",
                    "path.conversation_id",
                ))
            events = conversations.answer_events(tenant, user, conversation_id, request, turns, collections=collections)
    except ValidationError as exc:
        return _invalid(exc)
    except Exception as exc:  # nothing streamed yet: answer like the JSON routes
        status, code, message = describe_error(exc)
        if status == 500:
            logger.exception("streaming request failed before it started")
        return _json_response(status, error_body(status, code, message))
    return StreamedResponse(200, dict(STREAM_HEADERS), _event_stream(events), EVENT_STREAM)


def _event_stream(events: Iterator[AnswerEvent]) -> Iterator[bytes]:
    """The encoded events; a failure mid-stream becomes one ``error`` event. Closing this
    generator closes ``events`` (and the model's stream inside it)."""
    try:
        for event in events:
            yield encode(event)
    except Exception as exc:
        status, code, message = describe_error(exc)
        if status == 500:
            logger.exception("answer stream failed")
        else:
            logger.warning("answer stream ended with %s: %s", code, message)
        yield sse("error", error_body(status, code, message))
    finally:
        close = getattr(events, "close", None)
        if close:
            close()
