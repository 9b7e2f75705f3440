"""The SQL condition that keeps a document query inside a caller's collections
(``ragline.access.collection``): keys are ``<tenant>/<collection>/<path>``, and a key with no
folder under the tenant is in the default collection."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, false, not_, or_

from ragline.access.collection import DEFAULT_COLLECTION
from ragline.catalog.schema import documents


def in_collections(tenant: str, names: Sequence[str]) -> ColumnElement[bool]:
    """SQL: the document's key lies in one of ``names`` (LIKE patterns escaped)."""
    conditions: list[ColumnElement[bool]] = []
    for name in names:
        conditions.append(documents.c.key.startswith(f"{tenant}/{name}/", autoescape=True))
        if name == DEFAULT_COLLECTION:
            conditions.append(not_(documents.c.key.like("%/%/%")))
    return or_(*conditions) if conditions else false()
