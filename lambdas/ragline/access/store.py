"""Collection grants and the audit trail in the catalog database (tables of migration
0004_access).

Why grants are per group, not per user: groups come from the identity provider (Cognito),
so joining or leaving a team there changes what a person sees without touching Ragline.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Engine, and_, delete, insert, select
from sqlalchemy.exc import IntegrityError

from ragline.access.collection import CollectionScope, collection_of
from ragline.access.roles import Caller
from ragline.catalog.collections import in_collections
from ragline.catalog.schema import ERROR_LENGTH, audit_events, collection_grants, documents

AuditAction = Literal["upload", "delete", "grant", "revoke", "refused"]
MAX_AUDIT_PAGE = 500


class AuditEvent(BaseModel):
    id: str
    tenant: str
    actor: str
    actor_role: str
    action: AuditAction
    target: str
    detail: str | None = None
    created_at: datetime


class AccessStore:
    """Grants and audit events of every tenant, on the catalog's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- grants -----------------------------------------------------------------------------

    def grant(self, tenant: str, collection: str, group: str, granted_by: str) -> bool:
        """Let ``group`` read ``collection``; False when it already could (idempotent)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(collection_grants).values(
                        tenant=tenant, collection=collection, group_name=group,
                        granted_by=granted_by, created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            return False
        return True

    def revoke(self, tenant: str, collection: str, group: str) -> bool:
        """Take the grant back; False when there was none."""
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(collection_grants).where(
                    collection_grants.c.tenant == tenant,
                    collection_grants.c.collection == collection,
                    collection_grants.c.group_name == group,
                )
            )
        return result.rowcount > 0

    def grants(self, tenant: str) -> dict[str, list[str]]:
        """collection -> the groups granted it, for one tenant."""
        statement = (
            select(collection_grants.c.collection, collection_grants.c.group_name)
            .where(collection_grants.c.tenant == tenant)
            .order_by(collection_grants.c.collection, collection_grants.c.group_name)
        )
        granted: dict[str, list[str]] = {}
        with self.engine.connect() as connection:
            for collection, group in connection.execute(statement):
                granted.setdefault(collection, []).append(group)
        return granted

    def scope_for(self, caller: Caller) -> CollectionScope:
        """What the caller may read: everything for admins, else the default collection and
        what their groups were granted."""
        if caller.is_admin:
            return CollectionScope.everything()
        statement = select(collection_grants.c.collection).where(
            collection_grants.c.tenant == caller.tenant,
            collection_grants.c.group_name.in_(caller.effective_groups),
        )
        with self.engine.connect() as connection:
            return CollectionScope.only(row[0] for row in connection.execute(statement))

    def document_counts(self, tenant: str, scope: CollectionScope) -> dict[str, int]:
        """collection -> live (not deleted) documents in it, within ``scope``; the SQL only
        reads keys the scope allows."""
        statement = select(documents.c.key).where(documents.c.tenant == tenant, documents.c.status != "deleted")
        names = scope.as_filter()
        if names is not None:
            statement = statement.where(in_collections(tenant, names))
        with self.engine.connect() as connection:
            counts = Counter(collection_of(key) for (key,) in connection.execute(statement))
        return dict(counts)

    # -- audit ------------------------------------------------------------------------------

    def record(self, caller: Caller, action: AuditAction, target: str, detail: str | None = None) -> str:
        event_id = str(uuid.uuid4())
        if detail is not None and len(detail) > ERROR_LENGTH:
            detail = detail[: ERROR_LENGTH - 1] + "…"
        with self.engine.begin() as connection:
            connection.execute(
                insert(audit_events).values(
                    id=event_id, tenant=caller.tenant, actor=caller.user[:256], actor_role=caller.role.value,
                    action=action, target=target[:1024], detail=detail, created_at=datetime.now(UTC),
                )
            )
        return event_id

    def audit(
        self,
        tenant: str,
        *,
        limit: int = 100,
        action: AuditAction | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEvent]:
        """The tenant's audit events, newest first."""
        conditions: list[Any] = [audit_events.c.tenant == tenant]
        if action is not None:
            conditions.append(audit_events.c.action == action)
        if since is not None:
            conditions.append(audit_events.c.created_at >= since)
        if until is not None:
            conditions.append(audit_events.c.created_at < until)
        statement = (
            select(audit_events)
            .where(and_(*conditions))
            .order_by(audit_events.c.created_at.desc(), audit_events.c.id.desc())
            .limit(min(limit, MAX_AUDIT_PAGE))
        )
        with self.engine.connect() as connection:
            return [AuditEvent.model_validate(dict(row._mapping)) for row in connection.execute(statement)]
