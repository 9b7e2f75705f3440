"""The streaming function's web app on AWS: a small ASGI app behind the AWS Lambda Web Adapter.

Why this shape (docs/streaming.md): API Gateway REST streams a Lambda proxy response only from
InvokeWithResponseStream, which Lambda's managed Python runtime does not offer to handlers;
the Lambda Web Adapter (a layer, ``AWS_LWA_INVOKE_MODE=response_stream``) does, for any HTTP
server in the function. So uvicorn serves this app (``run_api_stream.sh``), and the adapter
turns its chunked response into the stream API Gateway relays.

The app rebuilds the API Gateway REST proxy event from the request (the adapter passes the
original request context, with the authorizer's verified claims, in ``x-amzn-request-context``)
and answers it like everything else: ``Accept: text/event-stream`` through `ragline.api.sse`,
anything else through the Powertools resolver (handlers.api), so the JSON answers of the
streaming routes are byte for byte those of the buffered function.

Disconnects: the adapter (and uvicorn) report a client that went away as ``http.disconnect``;
the body generator is then closed, which closes the model's HTTP stream.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from ragline.api.sse import StreamedResponse, stream_answer, wants_event_stream

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

REQUEST_CONTEXT_HEADER = "x-amzn-request-context"
LAMBDA_CONTEXT_HEADER = "x-amzn-lambda-context"
_END = object()


def rest_event(scope: Scope, body: bytes) -> dict[str, Any]:
    """The API Gateway REST proxy event of an HTTP request forwarded by the Web Adapter."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers") or []:
        headers[raw_name.decode("latin-1")] = raw_value.decode("latin-1")
    context_header = headers.pop(REQUEST_CONTEXT_HEADER, None)
    try:
        request_context = json.loads(context_header) if context_header else {}
    except ValueError:
        request_context = {}
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    return {
        "resource": request_context.get("resourcePath", scope.get("path", "/")),
        "path": scope.get("path", "/"),
        "httpMethod": scope.get("method", "GET"),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body.decode("utf-8", errors="replace") if body else None,
        "isBase64Encoded": False,
    }


@dataclass
class AdapterContext:
    """The Lambda context for the Powertools handler, from the adapter's
    ``x-amzn-lambda-context`` header (the web app gets no context object of its own)."""

    function_name: str = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "ragline-api-stream")
    function_version: str = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    invoked_function_arn: str = ""
    memory_limit_in_mb: int = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"))
    aws_request_id: str = ""
    deadline_ms: int = 0

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> "AdapterContext":
        try:
            raw = json.loads(headers.get(LAMBDA_CONTEXT_HEADER) or "{}")
        except ValueError:
            raw = {}
        return cls(
            invoked_function_arn=str(raw.get("invoked_function_arn", "")),
            aws_request_id=str(raw.get("request_id", "")),
            deadline_ms=int(raw.get("deadline", 0) or 0),
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000)) if self.deadline_ms else 0


def powertools_response(event: dict[str, Any]) -> StreamedResponse:
    """A JSON request to a streaming route: the buffered API's own answer."""
    from handlers.api import handler

    response = handler(event, AdapterContext.from_headers(event.get("headers") or {}))
    headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    body = response.get("body") or ""
    data = body.encode() if isinstance(body, str) else body
    return StreamedResponse(int(response.get("statusCode", 200)), headers, iter([data]))


def respond(event: dict[str, Any]) -> StreamedResponse:
    if not wants_event_stream(event.get("headers")):
        return powertools_response(event)  # CORS headers included, by the resolver
    response = stream_answer(event)
    response.headers.update(cors_headers(event.get("headers") or {}))
    return response


def cors_headers(headers: dict[str, str]) -> dict[str, str]:
    """The web app's origins may read the stream (the same rule as the resolver's CORS)."""
    from ragline.settings import get_settings

    origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    if origin and origin in get_settings().cors_allowed_origins:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {}


def _next_chunk(body: Iterator[bytes]) -> object:
    return next(body, _END)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        return
    if scope.get("method") == "GET" and scope.get("path") == "/":  # the adapter's readiness check
        await _send_whole(send, 200, b'{"status":"ok"}')
        return
    try:
        body = await _read_body(receive)
    except ConnectionAbortedError:
        return
    response = await asyncio.to_thread(respond, rest_event(scope, body))
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    disconnected = asyncio.create_task(_disconnect(receive))
    try:
        while not disconnected.done():
            chunk = await asyncio.to_thread(_next_chunk, response.body)
            if chunk is _END:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        disconnected.cancel()
        await asyncio.to_thread(_close, response.body)


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _close(body: Iterator[bytes]) -> None:
    close = getattr(body, "close", None)
    if close:
        close()


async def _send_whole(send: Send, status: int, data: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data, "more_body": False})
