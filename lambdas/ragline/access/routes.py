"""Every REST route once, with the role it needs: the one definition of who may call what.

The API enforces it on every request (``ragline.api.app``: 401 without a token, 403 with a
worded error below the role); the local gateway and the CDK stack's authorizer derive which
routes are public from it (``wiring.PUBLIC_ROUTES``); the stack creates one API Gateway
method per rule; docs/api.md carries the table `markdown_table()` renders. Tests fail when
the API serves a route without a rule here, or a rule names a route the API lacks.

Adding a route is one line in ``ROUTES`` (and its handler in ``ragline.api``).
Paths are written as API Gateway writes them: ``/documents/{document_id}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from ragline.access.roles import Role


@dataclass(frozen=True)
class RouteRule:
    method: str  # GET, POST, PUT, DELETE
    path: str  # API Gateway style: /documents/{document_id}
    role: Role  # the least role allowed; Role.public needs no token
    # Answers as server-sent events with `Accept: text/event-stream` (ragline.api.sse): on AWS
    # the `api_stream` function serves it with API Gateway's STREAM transfer mode.
    streams: bool = False

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Matches a request path: each ``{param}`` is one non-empty path segment."""
        parts = re.split(r"(\{[^}]+\})", self.path)
        body = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        return re.compile(f"^{body}$")

    @property
    def is_public(self) -> bool:
        return self.role is Role.public


ROUTES: tuple[RouteRule, ...] = (
    RouteRule("GET", "/health", Role.public),
    RouteRule("GET", "/openapi.json", Role.reader),
    RouteRule("POST", "/query", Role.reader, streams=True),
    RouteRule("GET", "/search", Role.reader),
    RouteRule("POST", "/feedback", Role.reader),
    RouteRule("GET", "/documents", Role.reader),
    RouteRule("GET", "/documents/{document_id}", Role.reader),
    RouteRule("POST", "/documents", Role.editor),
    RouteRule("DELETE", "/documents/{document_id}", Role.editor),
    RouteRule("GET", "/collections", Role.reader),
    RouteRule("GET", "/admin/collections", Role.admin),
    RouteRule("PUT", "/admin/collections/{collection}/groups/{group}", Role.admin),
    RouteRule("DELETE", "/admin/collections/{collection}/groups/{group}", Role.admin),
    RouteRule("GET", "/admin/audit", Role.admin),
    RouteRule("GET", "/insights", Role.admin),
    RouteRule("POST", "/conversations", Role.reader),
    RouteRule("GET", "/conversations", Role.reader),
    RouteRule("GET", "/conversations/{conversation_id}", Role.reader),
    RouteRule("DELETE", "/conversations/{conversation_id}", Role.reader),
    RouteRule("POST", "/conversations/{conversation_id}/messages", Role.reader, streams=True),
    RouteRule("POST", "/conversations/{conversation_id}/messages/{message_id}/feedback", Role.reader),
)

PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset((r.method, r.path) for r in ROUTES if r.is_public)
STREAMING_ROUTES: tuple[tuple[str, str], ...] = tuple((r.method, r.path) for r in ROUTES if r.streams)
METHODS: tuple[str, ...] = tuple(sorted({rule.method for rule in ROUTES}))


def rule_for(method: str, path: str) -> RouteRule | None:
    """The rule of a request (``GET``, ``/documents/abc``), or None when no route matches.
    Literal paths win over parameterised ones, as in API Gateway."""
    matches = [rule for rule in ROUTES if rule.method == method.upper() and rule.pattern.match(path)]
    matches.sort(key=lambda rule: rule.path.count("{"))
    return matches[0] if matches else None


def is_public(method: str, path: str) -> bool:
    rule = rule_for(method, path)
    return rule is not None and rule.is_public


def markdown_table() -> str:
    """The "Routes and roles" table of docs/api.md (a test checks the file carries it)."""
    lines = ["| method | path | least role |", "|---|---|---|"]
    lines += [f"| {rule.method} | `{rule.path}` | {rule.role.value} |" for rule in ROUTES]
    return "\n".join(lines)
