"""Each Lambda's role grants only the resources its FunctionSpec.uses names, checked function
by function on the template; its environment carries only the settings (never secret
values) those uses need; only functions that use the catalog or cache run in the VPC."""

from __future__ import annotations

import pytest

from ragline import wiring
from tests.infra.cfn_helpers import as_list, refs

ALL_SPECS = {**wiring.FUNCTIONS, **wiring.STREAMING_FUNCTIONS, **wiring.DEPLOY_FUNCTIONS}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
ENI = {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets",
       "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
       "ec2:UnassignPrivateIpAddresses"}


def _function(stack, name):
    if name in wiring.FUNCTIONS or name in wiring.STREAMING_FUNCTIONS:
        return stack.functions[name]
    return stack.migrations.function


def _grants(statements: list[dict]) -> dict[str, set[str]]:
    """action -> logical ids its statements reference (resources and conditions)."""
    grants: dict[str, set[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            grants.setdefault(action, set()).update(
                refs(statement.get("Resource")) | refs(statement.get("Condition"))
            )
    return grants


def _expected(spec, ids) -> dict[str, set[str]]:
    uses = spec.uses
    docs, artifacts, key = ids["documents"], ids["artifacts"], ids["key"]
    expected: dict[str, set[str]] = {
        "logs:CreateLogStream": {ids["log_group"]},
        "logs:PutLogEvents": {ids["log_group"]},
    }

    def add(action, *logical_ids):
        expected.setdefault(action, set()).update(logical_ids)

    if wiring.DOCUMENTS_READ in uses:
        add("s3:GetObject", docs)
        add("s3:GetObjectVersion", docs)
        add("kms:Decrypt", key, docs)
    if wiring.DOCUMENTS_LIST in uses:
        add("s3:ListBucket", docs)
    if wiring.INGEST_START in uses:  # by ARN built from the state machine's name (no Ref)
        add("states:StartExecution")
        add("states:DescribeExecution")
    if wiring.DOCUMENTS_WRITE in uses:
        add("s3:PutObject", docs)
        add("s3:DeleteObject", docs)
        add("kms:Decrypt", key, docs)
        add("kms:GenerateDataKey", key, docs)
    if wiring.ARTIFACTS_READ in uses:
        add("s3:GetObject", artifacts)
        add("s3:ListBucket", artifacts)
        add("kms:Decrypt", key, artifacts)
    if wiring.ARTIFACTS_WRITE in uses:
        add("s3:PutObject", artifacts)
        add("s3:DeleteObject", artifacts)
        add("kms:Decrypt", key, artifacts)
        add("kms:GenerateDataKey", key, artifacts)
    secrets = set()
    if wiring.CATALOG in uses:
        secrets.add(ids["catalog_secret"])
    if wiring.VECTOR_INDEX in uses:
        secrets.add(ids["qdrant_secret"])
    if uses & {wiring.EMBEDDINGS, wiring.LLM}:
        secrets.add(ids["openai_secret"])
    if secrets:
        add("secretsmanager:GetSecretValue", *secrets)
        add("secretsmanager:DescribeSecret", *secrets)
        add("kms:Decrypt", key, *secrets)
    for action in XRAY:
        add(action)
    if uses & {wiring.CATALOG, wiring.CACHE}:
        for action in ENI:
            add(action)
    return expected


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
def test_function_policy_grants_exactly_what_its_uses_need(template, stack, name):
    spec = ALL_SPECS[name]
    fn = _function(stack, name)
    function_id = template.logical_id(fn.function)
    role_id = template.props(function_id)["Role"]["Fn::GetAtt"][0]
    assert role_id == template.logical_id(fn.role)
    role = template.props(role_id)
    assert not role.get("ManagedPolicyArns"), "no managed policies: every grant is explicit"
    statements = template.policies_of_role(role_id)

    ids = {
        "documents": template.logical_id(stack.storage.documents_bucket),
        "artifacts": template.logical_id(stack.storage.artifacts_bucket),
        "key": template.logical_id(stack.storage.key),
        "catalog_secret": template.logical_id(stack.data.catalog_secret),
        "qdrant_secret": template.logical_id(stack.data.qdrant_secret),
        "openai_secret": template.logical_id(stack.data.openai_secret),
        "log_group": template.logical_id(fn.log_group),
    }
    assert _grants(statements) == _expected(spec, ids)

    for statement in statements:
        actions = set(as_list(statement["Action"]))
        assert not any("*" in action for action in actions), statement
        if "*" in as_list(statement.get("Resource")):
            assert actions <= XRAY | ENI, f"unscoped {actions}"
        for action in actions:
            if action.startswith("kms:"):  # KMS only through S3 / Secrets Manager
                assert "kms:ViaService" in str(statement.get("Condition")), statement
        for resource in as_list(statement.get("Resource")):
            if actions == {"states:DescribeExecution"}:
                # The executions of the ingest state machine, and nothing else.
                name = wiring.deployed_state_machine_name(stack.config.name, "ingest")
                assert resource["Fn::Join"][1][-1] == f":execution:{name}:*", resource
                continue
            if actions == {"states:StartExecution"}:
                name = wiring.deployed_state_machine_name(stack.config.name, "ingest")
                assert resource["Fn::Join"][1][-1] == f":stateMachine:{name}", resource
                machine = stack.ingestion.state_machines["ingest"].state_machine
                assert name == template.props(template.logical_id(machine))["StateMachineName"]
                continue
            # The only other wildcard: the objects of one bucket, "<bucket ARN>/*".
            if resource != "*" and "*" in str(resource):
                parts = resource["Fn::Join"][1]
                assert parts[-1] == "/*" and "*" not in str(parts[:-1]), resource
                (bucket,) = refs(resource)
                assert template.resources[bucket]["Type"] == "AWS::S3::Bucket"


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
def test_function_settings_come_from_wiring_and_carry_no_secret(template, stack, name):
    spec = ALL_SPECS[name]
    props = template.props(template.logical_id(_function(stack, name).function))
    assert props["Handler"] == spec.handler
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_s
    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == [stack.config.compute.architecture]
    assert props["TracingConfig"] == {"Mode": "Active"}
    variables = props["Environment"]["Variables"]

    uses = spec.uses
    expected = {"RAGLINE_ENVIRONMENT", "RAGLINE_FUNCTION", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
    if uses & {wiring.DOCUMENTS_READ, wiring.DOCUMENTS_WRITE, wiring.DOCUMENTS_LIST}:
        expected.add("RAGLINE_DOCUMENTS_BUCKET")
    if uses & {wiring.ARTIFACTS_READ, wiring.ARTIFACTS_WRITE}:
        expected.add("RAGLINE_ARTIFACTS_BUCKET")
    if wiring.CATALOG in uses:
        expected.add("RAGLINE_CATALOG_SECRET_ARN")
    if wiring.VECTOR_INDEX in uses:
        expected |= {"RAGLINE_QDRANT_URL", "RAGLINE_QDRANT_ENGINE",
                     "RAGLINE_QDRANT_API_KEY_SECRET_ARN", "RAGLINE_EMBEDDING_DIMENSIONS"}
    if wiring.EMBEDDINGS in uses:
        expected |= {"RAGLINE_EMBEDDER", "RAGLINE_EMBEDDING_MODEL", "RAGLINE_EMBEDDING_DIMENSIONS"}
    if wiring.LLM in uses:
        expected.add("RAGLINE_LLM_MODEL")
    if uses & {wiring.EMBEDDINGS, wiring.LLM}:
        expected.add("RAGLINE_OPENAI_API_KEY_SECRET_ARN")
    if wiring.CACHE in uses:
        expected.add("RAGLINE_REDIS_URL")
    if wiring.INGEST_START in uses:
        expected.add("RAGLINE_INGEST_STATE_MACHINE_ARN")
    if name in ("api", *wiring.STREAMING_FUNCTIONS):
        expected.add("RAGLINE_CORS_ALLOWED_ORIGINS")
    if name in wiring.STREAMING_FUNCTIONS:  # the Lambda Web Adapter's settings (docs/streaming.md)
        expected |= {"AWS_LAMBDA_EXEC_WRAPPER", "AWS_LWA_INVOKE_MODE", "AWS_LWA_PORT", "AWS_LWA_READINESS_CHECK_PATH"}
    assert set(variables) == expected
    assert variables["RAGLINE_FUNCTION"] == name

    # What it needs to start on AWS (settings.check_deployed) is all there.
    for use in uses:
        for requirement in wiring.SETTINGS_FOR_USE.get(use, ()):
            options = requirement if isinstance(requirement, tuple) else (requirement,)
            assert any(f"RAGLINE_{field.upper()}" in variables for field in options), (use, options)

    # Every RAGLINE_ variable is a Settings field (the prefix + the field name upper-cased).
    from ragline.settings import Settings

    fields = {f"RAGLINE_{field.upper()}" for field in Settings.model_fields}
    assert {v for v in variables if v.startswith("RAGLINE_")} <= fields
    # Secrets travel as ARNs (Refs to the secrets), never as values.
    for variable, value in variables.items():
        assert "resolve:secretsmanager" not in str(value), variable
        if variable.endswith("_SECRET_ARN"):
            (secret_id,) = refs(value)
            assert template.resources[secret_id]["Type"] == "AWS::SecretsManager::Secret"
        assert "API_KEY" not in variable or variable.endswith("_SECRET_ARN"), variable
    if wiring.VECTOR_INDEX in uses:
        assert variables["RAGLINE_QDRANT_ENGINE"] == "server"
        assert variables["RAGLINE_QDRANT_URL"] == stack.config.qdrant_url
    if wiring.CACHE in uses:
        assert str(variables["RAGLINE_REDIS_URL"]).startswith("{'Fn::Join': ['', ['rediss://")


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
def test_only_catalog_and_cache_users_run_in_the_vpc(template, stack, name):
    spec = ALL_SPECS[name]
    fn = _function(stack, name)
    props = template.props(template.logical_id(fn.function))
    needs_vpc = bool(spec.uses & {wiring.CATALOG, wiring.CACHE})
    assert ("VpcConfig" in props) == needs_vpc
    if not needs_vpc:
        return
    private = {template.logical_id(s) for s in stack.data.vpc.private_subnets}
    assert refs(props["VpcConfig"]["SubnetIds"]) == private
    (group_id,) = refs(props["VpcConfig"]["SecurityGroupIds"])
    catalog_sg = template.logical_id(stack.data.catalog_security_group)
    cache_sg = template.logical_id(stack.data.cache_security_group)
    ingress = template.of_type("AWS::EC2::SecurityGroupIngress").values()
    sources = {refs(rule["Properties"]["GroupId"]).pop()
               for rule in ingress if refs(rule["Properties"].get("SourceSecurityGroupId")) == {group_id}}
    expected = set()
    if wiring.CATALOG in spec.uses:
        expected.add(catalog_sg)
    if wiring.CACHE in spec.uses:
        expected.add(cache_sg)
    assert sources == expected


def test_nothing_but_the_functions_that_use_them_reaches_catalog_and_cache(template, stack):
    catalog_sg = template.logical_id(stack.data.catalog_security_group)
    cache_sg = template.logical_id(stack.data.cache_security_group)
    allowed = {catalog_sg: set(), cache_sg: set()}
    for name, spec in ALL_SPECS.items():
        group = _function(stack, name).security_group
        if wiring.CATALOG in spec.uses:
            allowed[catalog_sg].add(template.logical_id(group))
        if wiring.CACHE in spec.uses:
            allowed[cache_sg].add(template.logical_id(group))
    for target, sources in allowed.items():
        actual = set()
        for rule in template.of_type("AWS::EC2::SecurityGroupIngress").values():
            if refs(rule["Properties"]["GroupId"]) == {target}:
                assert "CidrIp" not in rule["Properties"], rule
                actual |= refs(rule["Properties"]["SourceSecurityGroupId"])
        # plus the inline rules of the group itself (none: no CIDR ingress)
        assert not template.props(target).get("SecurityGroupIngress")
        assert actual == sources


def test_embedding_concurrency_is_reserved(template, stack):
    props = template.props(template.logical_id(stack.functions["embed_and_index"].function))
    assert props["ReservedConcurrentExecutions"] == stack.config.compute.embed_reserved_concurrency


def test_no_output_carries_a_secret_value(template):
    for name, output in template.outputs.items():
        assert "resolve:secretsmanager" not in str(output), name
        assert "SecretString" not in str(output), name
