"""The REST API (docs/api.md): one Powertools `APIGatewayRestResolver` with validation.

Routes only translate HTTP to the core and back: the tenant comes from the verified token
claims (`auth.tenant_of`), bodies and query strings are validated against the pydantic models
(`query.schemas`, `api.schemas`), and every error leaves as ``{"error": {code, message,
field}}`` through the exception handlers at the bottom, so no route formats errors itself.
The OpenAPI document is generated from the same models and served at ``GET /openapi.json``.
"""

from __future__ import annotations

import functools
import os
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
    ResponseValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from ragline.access.collection import collection_of, valid_collection_name
from ragline.access.roles import Caller
from ragline.api.access import access_store, authorize, caller_of, scope_of
from ragline.api.admin import router as admin_router
from ragline.api.auth import UnauthorizedError, tenant_of
from ragline.api.documents import InvalidFileNameError, sanitize_file_name, uploads_for
from ragline.api.errors import KNOWN_ERRORS, ApiError, ForbiddenError, describe_error
from ragline.api.errors import documented_responses as _responses
from ragline.api.schemas import (
    TOO_DEEP,
    DeleteResponse,
    Document,
    DocumentList,
    DocumentStatusName,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    HealthResponse,
    UploadRequest,
    UploadResponse,
    UploadTarget,
    parse_json_body,
)
from ragline.errors import NotFoundError
from ragline.models import SearchMode, document_id_for
from ragline.query.schemas import (
    DocumentId,
    FileTypeName,
    Question,
    QueryRequest,
    QueryResponse,
    SearchResponse,
)
from ragline.query.service import QueryService
from ragline.services import get_services
from ragline.settings import get_settings
from ragline.wiring import (
    METRIC_ANSWER_CACHE_HITS,
    METRIC_ANSWER_CACHE_MISSES,
    METRIC_LLM_COMPLETION_TOKENS,
    METRIC_LLM_PROMPT_TOKENS,
)

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ragline")
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Ragline"), service=SERVICE)

SECURITY = [{"bearerAuth": []}]

def cors_config(origins: list[str]) -> CORSConfig | None:
    """CORS for the web app's origins (settings.cors_allowed_origins: the CloudFront origin on
    AWS); None without any, e.g. locally, where the web app and the API share one origin."""
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )


app = APIGatewayRestResolver(
    enable_validation=True,
    cors=cors_config(get_settings().cors_allowed_origins),
    json_body_deserializer=parse_json_body,
)


def authorization_middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Every routed request passes the route rules (ragline.access.routes) first: 401 without
    a token, 403 below the route's role. Requests that fail validation are checked the same
    way in `_invalid_request`."""
    authorize(app.current_event.raw_event)
    return next_middleware(app)


app.use(middlewares=[authorization_middleware])


# ------------------------------------------------------------------------------ OpenAPI docs


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document generated from the routes and their pydantic models (built
    once per container: the routes do not change at run time)."""
    schema = app.get_openapi_schema(
        title="Ragline API",
        version="1.0.0",
        description="Ask questions over your team's documents; upload and manage them.",
        security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
    )
    return schema.model_dump(mode="json", by_alias=True, exclude_none=True)


# -------------------------------------------------------------------------------- helpers


def current_tenant() -> str:
    """The signed-in caller's tenant (a Powertools dependency: `Depends(current_tenant)`)."""
    return tenant_of(app.current_event.raw_event)


Tenant = Annotated[str, Depends(current_tenant)]


def current_caller() -> Caller:
    """The signed-in caller with their role and groups (`Depends(current_caller)`)."""
    return caller_of(app.current_event.raw_event)


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def _metric(name: str, unit: MetricUnit, value: float) -> None:
    """Add a metric unless metrics are disabled (tests, `ragline dev`): Powertools keeps
    disabled metrics in memory and still prints them every 100 values."""
    if not is_metrics_disabled():
        metrics.add_metric(name=name, unit=unit, value=value)


def _query_service() -> QueryService:
    return QueryService.from_services(get_services())


# --------------------------------------------------------------------------------- routes


@app.post(
    "/query",
    summary="Answer a question from the tenant's documents, with citations",
    responses=_responses(200, "The answer, its citations and per-stage latency", 401, 422, 502, 503),
    security=SECURITY,
)
def post_query(request: QueryRequest, caller: CurrentCaller) -> QueryResponse:
    response = _query_service().ask(caller.tenant, request, collections=scope_of(caller).as_filter())
    _metric(METRIC_ANSWER_CACHE_HITS if response.cached else METRIC_ANSWER_CACHE_MISSES, MetricUnit.Count, 1)
    _metric("QueryLatency", MetricUnit.Milliseconds, response.latency_ms["total"])
    if response.usage and not response.cached:  # tokens spent now, not by the cached answer
        _metric(METRIC_LLM_PROMPT_TOKENS, MetricUnit.Count, response.usage.prompt_tokens)
        _metric(METRIC_LLM_COMPLETION_TOKENS, MetricUnit.Count, response.usage.completion_tokens)
    return response


@app.get(
    "/search",
    summary="Retrieve the passages that best match a query",
    responses=_responses(200, "The best-matching passages", 401, 422, 503),
    security=SECURITY,
)
def get_search(
    caller: CurrentCaller,
    q: Annotated[Question, Query(description="The search text.")],
    top_k: Annotated[int, Query(ge=1, le=20)] = 6,
    mode: Annotated[SearchMode, Query()] = "hybrid",
    document_id: Annotated[list[DocumentId] | None, Query(max_length=100)] = None,
    file_type: Annotated[list[FileTypeName] | None, Query(max_length=100)] = None,
    full_text: Annotated[bool, Query(description="Also return each passage's full text.")] = False,
) -> SearchResponse:
    return _query_service().search(
        caller.tenant,
        q,
        mode=mode,
        top_k=top_k,
        document_ids=list(dict.fromkeys(document_id)) if document_id else None,
        file_types=list(dict.fromkeys(file_type)) if file_type else None,
        full_text=full_text,
        collections=scope_of(caller).as_filter(),
    )


@app.post(
    "/documents",
    status_code=201,
    summary="Get a presigned URL to upload a document",
    responses=_responses(201, "Where and how to PUT the file", 400, 401, 403, 422),
    security=SECURITY,
)
def post_document(request: UploadRequest, caller: CurrentCaller) -> UploadResponse:
    try:
        file_name = sanitize_file_name(request.file_name)
    except InvalidFileNameError as exc:
        raise ApiError(400, "invalid_file_name", str(exc), "body.file_name") from exc
    collection = _upload_collection(caller, request.collection)
    ticket = uploads_for(get_services()).presign_upload(caller.tenant, file_name, request.content_type, collection)
    access_store().record(caller, "upload", ticket.key)
    return UploadResponse(
        document_id=document_id_for(caller.tenant, ticket.key),
        key=ticket.key,
        upload=UploadTarget(url=ticket.url, headers={"Content-Type": ticket.content_type}),
        expires_in=ticket.expires_in,
    )


def _upload_collection(caller: Caller, collection: str | None) -> str | None:
    """The collection an editor uploads into: one they can read (admins: any)."""
    if collection is None:
        return None
    if not valid_collection_name(collection):
        raise ApiError(422, "invalid_request", "body.collection: a collection name is 1..128 characters "
                       "without '/' or surrounding spaces.", "body.collection")
    if not scope_of(caller).allows(collection):
        raise ApiError(403, "forbidden", f"You cannot read the collection {collection!r}, so you cannot upload "
                       "into it. Ask an administrator to grant it to one of your groups.", "body.collection")
    return collection


@app.get(
    "/documents",
    summary="List the tenant's documents, most recently updated first",
    responses=_responses(200, "A page of documents", 400, 401, 422),
    security=SECURITY,
)
def list_documents(
    caller: CurrentCaller,
    status: Annotated[DocumentStatusName | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DocumentList:
    from ragline.catalog import InvalidCursorError

    try:
        records, next_cursor = get_services().catalog.list_documents(
            caller.tenant, status=status, limit=limit, cursor=cursor, collections=scope_of(caller).as_filter()
        )
    except InvalidCursorError as exc:
        raise ApiError(400, "invalid_cursor", f"{exc}", "query.cursor") from exc
    return DocumentList(documents=[Document.from_record(r) for r in records], next_cursor=next_cursor)


@app.get(
    "/documents/<document_id>",
    summary="One document: status, pipeline step, error, counts",
    responses=_responses(200, "The document", 401, 404, 422),
    security=SECURITY,
)
def get_document(caller: CurrentCaller, document_id: Annotated[DocumentId, Path()]) -> Document:
    return Document.from_record(_document(caller, document_id))


@app.delete(
    "/documents/<document_id>",
    status_code=202,
    summary="Delete a document (its object; the pipeline removes the rest)",
    responses=_responses(202, "Deletion started", 401, 403, 404, 422),
    security=SECURITY,
)
def delete_document(caller: CurrentCaller, document_id: Annotated[DocumentId, Path()]) -> DeleteResponse:
    record = _document(caller, document_id)
    if record.status.value != "deleted":
        uploads_for(get_services()).delete(record.key)
        access_store().record(caller, "delete", record.key)
    return DeleteResponse(document_id=record.id)


def _document(caller: Caller, document_id: str):
    """One of the caller's documents: in their tenant and in a collection they may read
    (another collection's document is as absent as another tenant's: 404)."""
    missing = ApiError(
        404,
        "not_found",
        f"No document {document_id} in your workspace; list them with GET /documents.",
        "path.document_id",
    )
    try:
        record = get_services().catalog.get(caller.tenant, document_id)
    except NotFoundError as exc:
        raise missing from exc
    if not scope_of(caller).allows(collection_of(record.key)):
        raise missing
    return record


@app.post(
    "/feedback",
    status_code=201,
    summary="Rate an answer (thumbs up/down, optional comment)",
    responses=_responses(201, "Feedback recorded", 401, 404, 422),
    security=SECURITY,
)
def post_feedback(request: FeedbackRequest, tenant: Tenant) -> FeedbackResponse:
    try:
        feedback_id = get_services().catalog.add_feedback(tenant, request.query_id, request.rating, request.comment)
    except NotFoundError as exc:
        raise ApiError(
            404,
            "not_found",
            f"No answer with query_id {request.query_id} in your workspace; send the query_id "
            "returned by POST /query.",
            "body.query_id",
        ) from exc
    _metric(f"Feedback{request.rating.title()}", MetricUnit.Count, 1)
    return FeedbackResponse(feedback_id=feedback_id)


@app.get("/health", summary="Whether the catalog, index and cache answer")
def get_health() -> HealthResponse:
    services = get_services()
    checks = {
        "catalog": _check(lambda: "ok" if services.catalog.ping() else "error: no answer"),
        "index": _check(lambda: (services.index.count("__health__"), "ok")[1]),
        "cache": _check(lambda: getattr(services.cache, "ping", lambda: "ok")()),
    }
    status = "ok" if all(value == "ok" for value in checks.values()) else "degraded"
    return HealthResponse(status=status, checks=checks)


def _check(probe) -> str:
    try:
        return str(probe())
    except Exception as exc:  # health reports problems, it never fails itself
        return f"error: {exc.__class__.__name__}"


app.include_router(admin_router)  # collections, grants, audit, insights (ragline.api.admin)


@app.get("/openapi.json", include_in_schema=False, enable_validation=False)
def get_openapi():
    return Response(status_code=200, content_type="application/json", body=openapi_document())


# ------------------------------------------------------------------------- error handling


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response:
    body = ErrorResponse.model_validate({"error": {"code": code, "message": message, "field": field}})
    return Response(status_code=status, content_type="application/json", body=body.model_dump())


def field_path(loc: tuple | list) -> str:
    """("body", "file_types", 0) -> "body.file_types[0]"; the contract's name for a field."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response:
    # Authentication and the route's role come first: a caller who may not use the route
    # learns nothing about its input rules.
    try:
        authorize(app.current_event.raw_event)
    except UnauthorizedError as auth:
        return error_response(401, "unauthorized", str(auth))
    except ForbiddenError as forbidden:
        return error_response(403, "forbidden", str(forbidden))
    errors = list(exc.errors())
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
    loc = tuple(first.get("loc") or ("body",))
    if first.get("type") == "json_invalid":
        loc = loc[:1]  # pydantic appends the character position: the field is the body
    field = field_path(loc)
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "json_invalid":
        reason = str((first.get("ctx") or {}).get("error", ""))
        message = f"The body is not valid JSON: {reason}." if TOO_DEEP in reason else "The body is not valid JSON; send a JSON object."
    elif first.get("type") == "missing":
        message = f"{field} is required."
    else:
        message = f"{field}: {message}."
    if len(errors) > 1:
        message += f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in this request.)"
    return error_response(422, "invalid_request", message, field)


@app.exception_handler(ApiError)
def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.field)


@app.exception_handler(list(KNOWN_ERRORS))
def _known_error(exc: Exception) -> Response:
    status, code, message = describe_error(exc)
    if status == 502:
        logger.error("answer model refused the request", extra={"reason": str(exc)})
    elif status == 503:
        logger.warning("dependency unavailable", extra={"code": code, "reason": str(exc)})
    if code == "llm_unavailable":
        _metric("LLMUnavailable", MetricUnit.Count, 1)
    return error_response(status, code, message)


@app.exception_handler(ResponseValidationError)
def _bad_response(exc: ResponseValidationError) -> Response:
    logger.error("response failed its own schema", extra={"errors": str(exc.errors())[:2000]})
    return error_response(500, "internal_error", "The server produced an invalid response; this is a bug.")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response:
    logger.exception("unhandled error")
    request_id = (app.current_event.raw_event.get("requestContext") or {}).get("requestId")
    return error_response(
        500,
        "internal_error",
        f"Something went wrong on our side. Try again; if it persists, report request id {request_id}.",
    )


@app.not_found
def _no_route(exc: Exception) -> Response:
    event = app.current_event
    return error_response(404, "not_found", f"No route {event.http_method} {event.path}; see GET /openapi.json.")


# The conversation routes register themselves on `app` (imported last: they use the helpers above).
from ragline.api import conversations as _conversation_routes  # noqa: E402,F401
