"""Errors routes raise with their HTTP status; ``ragline.api.app`` turns them into the
``{"error": {code, message, field}}`` body."""

from __future__ import annotations

from typing import Any

from ragline.api.schemas import ErrorResponse
from ragline.errors import RaglineError


class ApiError(Exception):
    """An error with its HTTP status, code and the field at fault, raised by routes."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class ForbiddenError(RaglineError):
    """The caller is signed in but their role does not allow the route (HTTP 403)."""


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
