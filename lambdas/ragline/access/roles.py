"""Roles inside a tenant, from the Cognito groups claim: reader < editor < admin.

Readers ask, search, chat and give feedback; editors also upload and delete; admins also
manage collections and see insights and the audit trail. A user in no role group is a
reader. The claim is ``cognito:groups``: a JSON array in a Cognito id token, which API
Gateway's Cognito authorizer hands to the Lambda flattened into one string (``"[admin
editor]"`` or ``"admin,editor"``); the local dev sign-in puts the same claim in its tokens.
Groups other than the three role names are kept: collections can be granted to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Mapping

GROUPS_CLAIM = "cognito:groups"
_GROUP_SEPARATORS = re.compile(r"[\s,\[\]\"']+")
GROUP_NAME = re.compile(r"^[\w.@+-]{1,128}$", re.UNICODE)


class Role(str, Enum):
    public = "public"  # no sign-in (routes only: no user has this role)
    reader = "reader"
    editor = "editor"
    admin = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: "Role") -> bool:
        """Whether a caller with this role may call a route that needs ``needed``."""
        return self.rank >= needed.rank


_RANK = {Role.public: 0, Role.reader: 1, Role.editor: 2, Role.admin: 3}
USER_ROLES: tuple[Role, ...] = (Role.reader, Role.editor, Role.admin)


def groups_of(claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The caller's groups from ``cognito:groups`` in any of the shapes it arrives in."""
    value = claims.get(GROUPS_CLAIM)
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else _GROUP_SEPARATORS.split(str(value))
    names = (str(item).strip() for item in items)
    return tuple(dict.fromkeys(name for name in names if name and GROUP_NAME.match(name)))


def role_of(groups: tuple[str, ...]) -> Role:
    """The highest role among the groups; reader when the user is in none of them."""
    roles = [Role(group) for group in groups if group in {r.value for r in USER_ROLES}]
    return max(roles, key=lambda role: role.rank, default=Role.reader)


@dataclass(frozen=True)
class Caller:
    """The signed-in user of a request, as the verified token claims describe them."""

    tenant: str
    user: str
    role: Role
    groups: tuple[str, ...]

    @property
    def effective_groups(self) -> tuple[str, ...]:
        """The groups whose collection grants apply: the claimed ones, plus every role name at
        or below the caller's role (an editor also sees what was granted to readers)."""
        implied = tuple(role.value for role in USER_ROLES if self.role.allows(role))
        return tuple(dict.fromkeys((*self.groups, *implied)))

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin
