"""Collections: a document belongs to the first folder under its tenant
(``<tenant>/<collection>/<path>``), or to the default collection when it sits directly under
the tenant (``<tenant>/<file>``).

Who sees what: admins see every collection of their tenant; everyone else sees the default
collection and the collections an admin granted to one of their groups (``Caller.
effective_groups``). The restriction is applied inside the stores: as a condition of the
vector index filter (the ``collection`` payload field, keyword-indexed) and of the catalog's
SQL, never by dropping results afterwards, so a top-k is the caller's top-k.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_COLLECTION = "default"
MAX_COLLECTION_CHARS = 128


def collection_of(key: str) -> str:
    """The collection of an S3 key that includes the tenant prefix."""
    _tenant, _, rest = key.partition("/")
    folder, slash, _path = rest.partition("/")
    return folder if slash and folder else DEFAULT_COLLECTION


def valid_collection_name(name: str) -> bool:
    return 0 < len(name) <= MAX_COLLECTION_CHARS and "/" not in name and name.strip() == name and name not in {".", ".."}


@dataclass(frozen=True)
class CollectionScope:
    """What a caller may read: every collection (``names is None``: admins) or these."""

    names: frozenset[str] | None

    @classmethod
    def everything(cls) -> "CollectionScope":
        return cls(None)

    @classmethod
    def only(cls, names: Iterable[str]) -> "CollectionScope":
        return cls(frozenset(names) | {DEFAULT_COLLECTION})

    @property
    def unrestricted(self) -> bool:
        return self.names is None

    def allows(self, collection: str) -> bool:
        return self.names is None or collection in self.names

    def as_filter(self) -> list[str] | None:
        """For the index and catalog filters: None = no condition, else the sorted names."""
        return None if self.names is None else sorted(self.names)

    def cache_token(self) -> str:
        """Part of the answer cache key: two callers share an entry only with the same scope."""
        return "*" if self.names is None else "\x1f".join(sorted(self.names))
