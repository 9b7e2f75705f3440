"""Who is calling and whether they may: the caller from the verified token claims, the route
rule from ``ragline.access.routes``, and the collections they may read.

``authorize`` runs for every request that reaches a route (a Powertools middleware in
``ragline.api.app``, and first thing when a request fails validation, so a reader learns
nothing about an admin route's input rules). Every route the API serves has a rule: the
registry test (tests/unit/test_route_rules.py) fails otherwise.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping

from ragline.access.collection import CollectionScope
from ragline.access.roles import Caller, groups_of, role_of
from ragline.access.routes import RouteRule, rule_for
from ragline.access.store import AccessStore
from ragline.api.auth import claims_of, tenant_of
from ragline.api.errors import ForbiddenError
from ragline.services import get_services

logger = logging.getLogger(__name__)

_ROLE_WORDS = {
    "editor": "upload and delete documents",
    "admin": "manage collections and see insights and the audit trail",
}


def caller_of(event: Mapping[str, Any]) -> Caller:
    """The signed-in caller (UnauthorizedError when there is none or no tenant)."""
    tenant = tenant_of(event)
    claims = claims_of(event)
    groups = groups_of(claims)
    user = str(claims.get("email") or claims.get("cognito:username") or claims.get("sub") or "unknown")
    return Caller(tenant=tenant, user=user, role=role_of(groups), groups=groups)


def authorize(event: Mapping[str, Any]) -> Caller | None:
    """The caller when the route allows them, None for a public route; raises
    UnauthorizedError (401) or ForbiddenError (403, worded) otherwise."""
    method = str(event.get("httpMethod") or "").upper()
    path = str(event.get("path") or "")
    rule = rule_for(method, path)
    if rule is None or rule.is_public:
        # None: no such route; the resolver answers 404 (Powertools runs middlewares for
        # unknown paths too). A served route always has a rule: tests/unit/test_route_rules.py.
        return None
    caller = caller_of(event)
    if not caller.role.allows(rule.role):
        message = refusal_message(caller, rule)
        _audit_refusal(caller, f"{method} {path}", message)
        raise ForbiddenError(message)
    return caller


def _audit_refusal(caller: Caller, target: str, message: str) -> None:
    """Record a refused request; a failing audit write must not turn the 403 into a 500."""
    try:
        access_store().record(caller, "refused", target, message)
    except Exception:  # noqa: BLE001 - logged, the refusal itself stands
        logger.exception("could not record a refused request in the audit trail")


def refusal_message(caller: Caller, rule: RouteRule) -> str:
    what = _ROLE_WORDS.get(rule.role.value, f"call {rule.method} {rule.path}")
    return (
        f"Only {rule.role.value}s may {what} ({rule.method} {rule.path}); you are signed in as a "
        f"{caller.role.value}. Ask an administrator of {caller.tenant} to add you to the "
        f"'{rule.role.value}' group, then sign in again."
    )


def access_store() -> AccessStore:
    """Grants and audit events, on the catalog's engine (cheap: no connection is opened)."""
    return AccessStore(get_services().catalog.engine)


def scope_of(caller: Caller) -> CollectionScope:
    return access_store().scope_for(caller)
