"""The route rules (ragline.access.routes) are the one definition of who may call what: the
API may not serve a route without a rule, a rule may not name a route the API lacks, and the
docs, the wiring and the local gateway agree with them."""

from __future__ import annotations

import re

import pytest
from ragline.access.roles import Caller, Role, groups_of, role_of
from ragline.access.routes import PUBLIC_ROUTES, ROUTES, markdown_table, rule_for
from ragline.wiring import PUBLIC_ROUTES as WIRING_PUBLIC_ROUTES
from ragline.wiring import REPO_ROOT

# The roles as reviewed. Changing a route's role must change this table too, on purpose.
EXPECTED_ROLES = {
    ("GET", "/health"): "public",
    ("GET", "/openapi.json"): "reader",
    ("POST", "/query"): "reader",
    ("GET", "/search"): "reader",
    ("POST", "/feedback"): "reader",
    ("GET", "/documents"): "reader",
    ("GET", "/documents/{document_id}"): "reader",
    ("POST", "/documents"): "editor",
    ("DELETE", "/documents/{document_id}"): "editor",
    ("GET", "/collections"): "reader",
    ("GET", "/admin/collections"): "admin",
    ("PUT", "/admin/collections/{collection}/groups/{group}"): "admin",
    ("DELETE", "/admin/collections/{collection}/groups/{group}"): "admin",
    ("GET", "/admin/audit"): "admin",
    ("GET", "/insights"): "admin",
    # conversations: a signed-in reader's own (another user's is a 404, tests/integration/test_conversations.py)
    ("POST", "/conversations"): "reader",
    ("GET", "/conversations"): "reader",
    ("GET", "/conversations/{conversation_id}"): "reader",
    ("DELETE", "/conversations/{conversation_id}"): "reader",
    ("POST", "/conversations/{conversation_id}/messages"): "reader",
    ("POST", "/conversations/{conversation_id}/messages/{message_id}/feedback"): "reader",
}


def api_routes() -> set[tuple[str, str]]:
    """Every (method, path) the Powertools app serves, in API Gateway's path syntax."""
    from ragline.api.app import app

    served = [*app._static_routes, *app._dynamic_routes]  # Powertools' Route objects
    return {(route.method, re.sub(r"<(\w+)>", r"{\1}", route.path)) for route in served}


def test_every_api_route_has_a_rule_and_every_rule_a_route() -> None:
    rules = {(rule.method, rule.path) for rule in ROUTES}
    served = api_routes()
    assert served - rules == set(), "routes without a rule in ragline.access.routes"
    assert rules - served == set(), "rules for routes the API does not serve"
    assert len(rules) == len(ROUTES), "a route listed twice"


def test_roles_are_the_reviewed_ones() -> None:
    assert {(rule.method, rule.path): rule.role.value for rule in ROUTES} == EXPECTED_ROLES


def test_docs_carry_the_rendered_table() -> None:
    text = (REPO_ROOT / "docs" / "api.md").read_text()
    assert markdown_table() in text, "docs/api.md: paste ragline.access.routes.markdown_table() between the markers"


def test_public_routes_are_derived() -> None:
    assert WIRING_PUBLIC_ROUTES == PUBLIC_ROUTES == {("GET", "/health")}


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("GET", "/documents", ("GET", "/documents")),
    ("GET", "/documents/abc-123", ("GET", "/documents/{document_id}")),
    ("delete", "/documents/abc", ("DELETE", "/documents/{document_id}")),
    ("PUT", "/admin/collections/hr/groups/hr-team", ("PUT", "/admin/collections/{collection}/groups/{group}")),
    ("GET", "/documents/a/b", None),
    ("PATCH", "/documents", None),
    ("GET", "/nope", None),
])
def test_rule_for_matches_request_paths(method, path, expected) -> None:
    rule = rule_for(method, path)
    assert (None if rule is None else (rule.method, rule.path)) == expected


@pytest.mark.parametrize(("claim", "groups", "role"), [
    (None, (), Role.reader),
    (["editor"], ("editor",), Role.editor),
    (["reader", "admin", "hr"], ("reader", "admin", "hr"), Role.admin),
    ("[admin editor]", ("admin", "editor"), Role.admin),  # API Gateway's flattened array
    ("editor,hr", ("editor", "hr"), Role.editor),
    ("hr", ("hr",), Role.reader),
    ('["a b"]', ("a", "b"), Role.reader),
])
def test_role_from_the_groups_claim(claim, groups, role) -> None:
    claims = {} if claim is None else {"cognito:groups": claim}
    assert groups_of(claims) == groups
    assert role_of(groups) == role


def test_effective_groups_include_the_roles_below() -> None:
    editor = Caller("acme", "e@x", Role.editor, ("hr",))
    assert set(editor.effective_groups) == {"hr", "reader", "editor"}
    assert Caller("acme", "r@x", Role.reader, ()).effective_groups == ("reader",)
