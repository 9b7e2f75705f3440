"""Routes for collections, grants, the audit trail and insights (docs/api.md, "Access").

Their roles are in ``ragline.access.routes`` like every route's; the authorization middleware
has checked them before any of these functions runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel, Field

from ragline.access.collection import DEFAULT_COLLECTION, CollectionScope, valid_collection_name
from ragline.access.roles import GROUP_NAME, Caller
from ragline.access.store import AuditAction, AuditEvent
from ragline.api.access import access_store, caller_of, scope_of
from ragline.api.errors import ApiError, documented_responses
from ragline.insights import Insights, InvalidRangeError, compute_insights, default_range
from ragline.services import get_services

router = Router()
SECURITY = [{"bearerAuth": []}]


class CollectionSummary(BaseModel):
    name: str
    document_count: int
    groups: list[str] | None = Field(default=None, description="Groups granted it (admins only).")


class MyCollections(BaseModel):
    role: Literal["reader", "editor", "admin"]
    groups: list[str]
    collections: list[CollectionSummary]


class CollectionGrants(BaseModel):
    collections: list[CollectionSummary]


class GrantResponse(BaseModel):
    collection: str
    group: str
    granted: bool = Field(description="Whether the group can read the collection now.")
    changed: bool = Field(description="False when it already was so.")


class AuditList(BaseModel):
    events: list[AuditEvent]


def _caller() -> Caller:
    return caller_of(router.current_event.raw_event)


@router.get("/collections", summary="The collections you can read, with their document counts", security=SECURITY,
            responses=documented_responses(200, "Your role, groups and collections", 401))
def get_my_collections() -> MyCollections:
    caller = _caller()
    scope = scope_of(caller)
    counts = access_store().document_counts(caller.tenant, scope)
    names = sorted(set(counts) | (set(scope.names) if scope.names is not None else {DEFAULT_COLLECTION}))
    return MyCollections(
        role=caller.role.value,  # type: ignore[arg-type]
        groups=list(caller.groups),
        collections=[CollectionSummary(name=name, document_count=counts.get(name, 0)) for name in names],
    )


@router.get("/admin/collections", summary="Every collection of the tenant and the groups granted it",
            security=SECURITY, responses=documented_responses(200, "Collections and grants", 401, 403))
def get_collection_grants() -> CollectionGrants:
    caller = _caller()
    store = access_store()
    grants = store.grants(caller.tenant)
    counts = store.document_counts(caller.tenant, CollectionScope.everything())
    names = sorted(set(grants) | set(counts) | {DEFAULT_COLLECTION})
    return CollectionGrants(collections=[
        CollectionSummary(name=name, document_count=counts.get(name, 0), groups=grants.get(name, []))
        for name in names
    ])


def _grant_target(collection: str, group: str) -> tuple[str, str]:
    if not valid_collection_name(collection):
        raise ApiError(422, "invalid_request", "path.collection: a collection name is 1..128 characters without "
                       "'/' or surrounding spaces.", "path.collection")
    if not GROUP_NAME.match(group):
        raise ApiError(422, "invalid_request", "path.group: a group name is 1..128 letters, digits or . _ @ + -.",
                       "path.group")
    if collection == DEFAULT_COLLECTION:
        raise ApiError(422, "invalid_request", "The default collection is open to everyone in the tenant; move "
                       "documents into a folder (a collection) to restrict them.", "path.collection")
    return collection, group


@router.put("/admin/collections/<collection>/groups/<group>", summary="Let a group read a collection",
            security=SECURITY, responses=documented_responses(200, "The grant", 401, 403, 422))
def put_grant(collection: Annotated[str, Path()], group: Annotated[str, Path()]) -> GrantResponse:
    caller = _caller()
    collection, group = _grant_target(collection, group)
    changed = access_store().grant(caller.tenant, collection, group, caller.user)
    if changed:
        access_store().record(caller, "grant", f"{collection} -> {group}")
    return GrantResponse(collection=collection, group=group, granted=True, changed=changed)


@router.delete("/admin/collections/<collection>/groups/<group>", summary="Stop a group reading a collection",
               security=SECURITY, responses=documented_responses(200, "The revoked grant", 401, 403, 422))
def delete_grant(collection: Annotated[str, Path()], group: Annotated[str, Path()]) -> GrantResponse:
    caller = _caller()
    collection, group = _grant_target(collection, group)
    changed = access_store().revoke(caller.tenant, collection, group)
    if changed:
        access_store().record(caller, "revoke", f"{collection} -> {group}")
    return GrantResponse(collection=collection, group=group, granted=False, changed=changed)


@router.get("/admin/audit", summary="Uploads, deletes, grants and refused requests, newest first",
            security=SECURITY, responses=documented_responses(200, "Audit events", 401, 403, 422))
def get_audit(
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    action: Annotated[AuditAction | None, Query()] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: Annotated[date | None, Query()] = None,
) -> AuditList:
    caller = _caller()
    since = datetime.combine(from_, time.min, tzinfo=UTC) if from_ else None
    until = datetime.combine(to + timedelta(days=1), time.min, tzinfo=UTC) if to else None
    return AuditList(events=access_store().audit(caller.tenant, limit=limit, action=action, since=since, until=until))


@router.get("/insights", summary="Usage, quality, failures and cost over a range of UTC days", security=SECURITY,
            responses=documented_responses(200, "The figures", 401, 403, 422))
def get_insights(
    from_: Annotated[date | None, Query(alias="from", description="First day (UTC), default 29 days ago.")] = None,
    to: Annotated[date | None, Query(description="Last day (UTC), included; default today.")] = None,
) -> Insights:
    caller = _caller()
    default_from, default_to = default_range()
    end = to or default_to
    start = from_ or min(default_from, end - timedelta(days=29))
    services = get_services()
    try:
        return compute_insights(services.catalog.engine, caller.tenant, start, end, services.settings)
    except InvalidRangeError as exc:
        raise ApiError(422, "invalid_request", f"query.from: {exc}", "query.from") from exc
