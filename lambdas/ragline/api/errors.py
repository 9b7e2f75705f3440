"""Errors routes raise with their HTTP status; ``ragline.api.app`` turns them into the
``{"error": {code, message, field}}`` body."""

from __future__ import annotations

from typing import Any

from ragline.api.auth import UnauthorizedError
from ragline.api.schemas import ErrorResponse
from ragline.errors import NotFoundError, RaglineError, TransientError
from ragline.llm import LLMProviderError, LLMUnavailableError
from ragline.query.retrieval import EmbedderUnavailableError


class ApiError(Exception):
    """An error with its HTTP status, code and the field at fault, raised by routes."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class ForbiddenError(RaglineError):
    """The caller is signed in but their role does not allow the route (HTTP 403)."""


# The one table of what each error class answers, read by the JSON routes' handler
# (`ragline.api.app`) and by the streamed routes (`ragline.api.sse`). First match wins:
# a subclass comes before its parent (LLMUnavailableError is a TransientError).
_STATUSES: tuple[tuple[type[Exception], int, str], ...] = (
    (UnauthorizedError, 401, "unauthorized"),
    (ForbiddenError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (LLMUnavailableError, 503, "llm_unavailable"),
    (LLMProviderError, 502, "llm_error"),
    (EmbedderUnavailableError, 503, "embedder_unavailable"),
    (TransientError, 503, "service_unavailable"),
)
KNOWN_ERRORS: tuple[type[Exception], ...] = tuple(cls for cls, _, _ in _STATUSES)
INTERNAL_MESSAGE = "Something went wrong on our side. Try again; if it persists, report it."


def describe_error(exc: BaseException) -> tuple[int, str, str]:
    """(status, code, message) of an error; 500 "internal_error" for anything unknown."""
    for cls, status, code in _STATUSES:
        if isinstance(exc, cls):
            # A store (catalog, index, S3) briefly unavailable: retrying is the right move.
            message = f"{exc}. Try again in a moment." if code == "service_unavailable" else str(exc)
            return status, code, message
    return 500, "internal_error", INTERNAL_MESSAGE


def documented_responses(success: int, description: str, *errors: int) -> dict[int, Any]:
    """The route's OpenAPI responses: the success (schema from the return annotation) and
    the error statuses it can answer, all with the `ErrorResponse` shape."""
    descriptions = {
        400: "Bad request (the field at fault is named)",
        401: "Not signed in, or the token has no tenant",
        403: "Your role does not allow this route (the message names the role needed)",
        404: "Not found for this tenant",
        422: "Invalid input (the field at fault is named)",
        502: "The answer model refused the request",
        503: "A dependency (answer model, embedder) is unavailable",
    }
    responses: dict[int, Any] = {success: {"description": description}}
    for status in errors:
        responses[status] = {
            "description": descriptions[status],
            "content": {"application/json": {"model": ErrorResponse}},
        }
    return responses
