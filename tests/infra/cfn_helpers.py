"""Look-ups on synthesized CloudFormation templates, shared by the infra tests."""

from __future__ import annotations

from typing import Any


class CfnTemplate:
    """A synthesized template with the look-ups the tests need."""

    def __init__(self, template: dict) -> None:
        self.raw = template
        self.resources: dict[str, dict] = template["Resources"]
        self.outputs: dict[str, dict] = template.get("Outputs", {})

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {lid: res for lid, res in self.resources.items() if res["Type"] == resource_type}

    def props(self, logical_id: str) -> dict:
        return self.resources[logical_id].get("Properties", {})

    def logical_id(self, construct: Any) -> str:
        """The logical id of a construct's CloudFormation resource."""
        from aws_cdk import Stack

        element = getattr(construct.node, "default_child", None) or construct
        return Stack.of(construct).get_logical_id(element)

    def policies_of_role(self, role_id: str) -> list[dict]:
        """Every statement that applies to the role: its inline policies and the
        AWS::IAM::Policy resources attached to it."""
        statements = []
        for policy in self.props(role_id).get("Policies", []):
            statements += _as_list(policy["PolicyDocument"]["Statement"])
        for policy in self.of_type("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                statements += _as_list(policy["Properties"]["PolicyDocument"]["Statement"])
        return statements

    def resource_path(self, resource_id: str) -> str:
        """/a/{b} of an API Gateway resource, from its PathPart/ParentId chain."""
        parts = []
        while resource_id in self.resources and \
                self.resources[resource_id]["Type"] == "AWS::ApiGateway::Resource":
            props = self.props(resource_id)
            parts.append(props["PathPart"])
            parent = props["ParentId"]
            if "Ref" not in parent:
                break
            resource_id = parent["Ref"]
        return "/" + "/".join(reversed(parts))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def refs(value: Any) -> set[str]:
    """Logical ids referenced (Ref / Fn::GetAtt) anywhere inside a template value (pseudo
    parameters such as AWS::Region left out)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str) and not value["Ref"].startswith("AWS::"):
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= refs(item)
    return found


def as_list(value: Any) -> list:
    return _as_list(value)
