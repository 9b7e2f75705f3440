"""The caller's tenant, from the token claims API Gateway's authorizer verified.

Why only from ``requestContext.authorizer.claims``: the Cognito user pool authorizer (and the
local dev sign-in) put verified claims there; anything in the body, query or headers is under
the caller's control. The tenant also becomes the S3 key prefix and the filter on every index
and catalog read, so it must be a plain identifier: no slashes, no dots-only names.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ragline.errors import RaglineError

TENANT_CLAIM = "custom:tenant"
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class UnauthorizedError(RaglineError):
    """No signed-in user, or a token without a usable tenant claim (HTTP 401)."""


def claims_of(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The verified token claims of an API Gateway REST proxy event ({} when none)."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    return claims if isinstance(claims, Mapping) else {}


def tenant_of(event: Mapping[str, Any]) -> str:
    """The tenant of the signed-in caller, or `UnauthorizedError` saying what is missing."""
    claims = claims_of(event)
    if not claims:
        raise UnauthorizedError(
            "Sign in first: this route needs an identity token (Authorization: Bearer <id token>)."
        )
    tenant = claims.get(TENANT_CLAIM)
    if not isinstance(tenant, str) or not tenant:
        raise UnauthorizedError(
            f"Your token has no {TENANT_CLAIM} claim, so Ragline cannot tell which team's documents "
            "to use. Ask an administrator to assign your user to a tenant, then sign in again."
        )
    if not _TENANT.match(tenant) or tenant.strip(".") == "":
        raise UnauthorizedError(
            f"The token's {TENANT_CLAIM} claim {tenant[:40]!r} is not a valid tenant id "
            "(letters, digits, '.', '_' and '-', up to 128 characters)."
        )
    return tenant


USER_CLAIM = "sub"


def user_of(event: Mapping[str, Any]) -> str:
    """The signed-in caller's user id (the token's ``sub``), or `UnauthorizedError`.
    Conversations belong to it: ids of other users' conversations are worthless to a caller."""
    tenant_of(event)  # a user always acts within a tenant; the same checks and messages
    user = claims_of(event).get(USER_CLAIM)
    if not isinstance(user, str) or not user or len(user) > 256:
        raise UnauthorizedError(
            f"Your token has no usable {USER_CLAIM} claim (the user id); sign in again."
        )
    return user
