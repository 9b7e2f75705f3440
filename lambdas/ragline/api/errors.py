"""Errors routes raise with their HTTP status; ``ragline.api.app`` turns them into the
``{"error": {code, message, field}}`` body."""

from __future__ import annotations

from ragline.errors import RaglineError


class ApiError(Exception):
    """An error with its HTTP status, code and the field at fault, raised by routes."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class ForbiddenError(RaglineError):
    """The caller is signed in but their role does not allow the route (HTTP 403)."""
