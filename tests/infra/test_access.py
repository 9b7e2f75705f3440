"""Roles in the stack: the user pool has the three role groups the API reads from
``cognito:groups``, and every route's method is exactly what the route rules say (a public
rule: no authorizer; every other: the Cognito authorizer). A role or route change that is not
also made in tests/unit/test_route_rules.py::EXPECTED_ROLES fails there."""

from __future__ import annotations

from ragline.access.routes import ROUTES
from tests.infra.cfn_helpers import refs
from tests.infra.test_api import _methods
from tests.unit.test_route_rules import EXPECTED_ROLES


def test_the_three_role_groups_exist_in_the_user_pool(template, stack) -> None:
    groups = {g["Properties"]["GroupName"]: g["Properties"] for g in template.of_type("AWS::Cognito::UserPoolGroup").values()}
    assert set(groups) == {"reader", "editor", "admin"}
    pool = template.logical_id(stack.auth.user_pool)
    for props in groups.values():
        assert refs(props["UserPoolId"]) == {pool}
        assert props["Description"]
    # Precedence decides which group's IAM role Cognito would pick: the most privileged first.
    assert groups["admin"]["Precedence"] < groups["editor"]["Precedence"] < groups["reader"]["Precedence"]


def test_every_route_rule_has_its_method_with_the_authorization_it_implies(template) -> None:
    methods = {key: props for key, props in _methods(template).items() if key[0] != "OPTIONS"}
    assert set(methods) == {(rule.method, rule.path) for rule in ROUTES} == set(EXPECTED_ROLES)
    for rule in ROUTES:
        props = methods[(rule.method, rule.path)]
        expected = "NONE" if EXPECTED_ROLES[(rule.method, rule.path)] == "public" else "COGNITO_USER_POOLS"
        assert props["AuthorizationType"] == expected, (rule.method, rule.path)


def test_cors_preflight_allows_every_method_the_routes_use(template) -> None:
    preflights = {path: props for (verb, path), props in _methods(template).items() if verb == "OPTIONS"}
    needed = {rule.method for rule in ROUTES}
    for path, props in preflights.items():
        (response,) = props["Integration"]["IntegrationResponses"]
        allowed = response["ResponseParameters"]["method.response.header.Access-Control-Allow-Methods"]
        assert needed <= set(allowed.strip("'").split(",")), path
