"""The app synthesizes every environment offline; cfn-lint finds no errors; the cdk-nag gate
passes with specific acknowledgements only, and really gates."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from ragline.wiring import REPO_ROOT
from ragline_cdk import security
from tests.infra.conftest import ENVIRONMENTS, SKIP_BUNDLING


def test_every_environment_in_cdk_json_is_synthesized(synth):
    assert set(ENVIRONMENTS) == {"dev", "staging", "prod"}
    manifest = json.loads((synth.outdir / "manifest.json").read_text())
    stacks = {name for name, artifact in manifest["artifacts"].items()
              if artifact["type"] == "aws:cloudformation:stack"}
    assert stacks == {f"Ragline-{env}" for env in ENVIRONMENTS}
    for env, stack in synth.stacks.items():
        artifact = manifest["artifacts"][stack.stack_name]
        assert artifact["environment"] == f"aws://{stack.config.account}/{stack.config.region}"
    # Offline for real: no context look-up left for the CLI to make with credentials.
    assert not manifest.get("missing"), manifest.get("missing")


def test_cfn_lint_reports_no_errors(synth, env):
    process = synth.lint[env]
    output, _ = process.communicate(timeout=120)
    errors = [line for line in output.splitlines() if _is_error(line)]
    assert not errors, "\n".join(errors)
    # Exit status bit flags: 2 errors, 4 warnings, 8 informational; anything else: no lint ran.
    assert process.returncode in (0, 4, 8, 12), output[-3000:]


def _is_error(line: str) -> bool:
    # parseable format: path:line:col:endline:endcol:RULE:message
    parts = line.split(":")
    return len(parts) > 5 and parts[5].startswith("E")


def test_cdk_nag_gate_passes_with_zero_unacknowledged_findings(synth):
    report = synth.outdir / "validation-report.json"
    if report.exists():  # written on success too: it must list nothing
        data = json.loads(report.read_text())
        violations = [v for plugin in data.get("pluginReports", []) for v in plugin["violations"]]
        assert violations == []


def test_cdk_nag_gate_fails_the_synth_on_an_unacknowledged_finding(tmp_path):
    app = App(outdir=str(tmp_path), context=SKIP_BUNDLING)
    stack = Stack(app, "Probe")
    s3.Bucket(stack, "Plain", enforce_ssl=False)  # no TLS-only policy, no access logs
    security.add_nag_gate(app)
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "AwsSolutions" in str(failure.value)


def test_every_acknowledgement_is_specific(stack):
    acknowledged = security.acknowledged_rules(stack)
    assert acknowledged, "no acknowledgements recorded"
    seen = set()
    for ack in acknowledged:
        assert ack.rule.startswith("AwsSolutions-"), ack
        # On a construct, never on the whole stack.
        assert ack.path != stack.stack_name and ack.path.startswith(stack.stack_name + "/"), ack
        if ack.rule.startswith("AwsSolutions-IAM5") or ack.rule.startswith("AwsSolutions-IAM4"):
            assert "[" in ack.rule, f"{ack}: IAM findings are acknowledged one by one"
        assert len(ack.reason) >= 60, f"reason too vague: {ack}"
        assert (ack.path, ack.rule) not in seen, f"duplicate acknowledgement {ack}"
        seen.add((ack.path, ack.rule))


def test_environment_dependent_acknowledgements_follow_the_settings(synth):
    def rules(env: str) -> set[tuple[str, str]]:
        stack = synth.stacks[env]
        return {(a.path.split("/", 1)[1], a.rule) for a in security.acknowledged_rules(stack)}

    dev, prod = rules("dev"), rules("prod")
    assert ("Data/Catalog", "AwsSolutions-RDS10") in dev
    assert ("Data/Catalog", "AwsSolutions-RDS10") not in prod  # prod has deletion protection
    assert ("Auth/UserPool", "AwsSolutions-COG2") in dev
    assert ("Auth/UserPool", "AwsSolutions-COG2") not in prod  # prod requires MFA
    assert ("Auth/UserPool", "AwsSolutions-COG8") not in prod  # prod has the Plus plan


def test_app_py_synthesizes_one_environment_offline(tmp_path):
    """`python app.py` as the CLI runs it: context from cdk.json, -c via CDK_CONTEXT_JSON."""
    env = dict(os.environ, CDK_OUTDIR=str(tmp_path),
               CDK_CONTEXT_JSON=json.dumps({**SKIP_BUNDLING, "env": "staging"}))
    result = subprocess.run([sys.executable, "app.py"], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "Ragline-staging.template.json").exists()
    assert not (tmp_path / "Ragline-dev.template.json").exists()


def test_catalog_secret_rotation_when_enabled_passes_the_gate(tmp_path):
    """catalog.secret_rotation_days switches the SMG4 acknowledgement for real rotation."""
    from ragline_cdk.app_builder import build_app, cdk_json_context

    context = cdk_json_context()
    context["ragline"]["environments"]["dev"]["catalog"]["secret_rotation_days"] = 30
    app, stacks = build_app({**context, **SKIP_BUNDLING, "env": "dev"}, outdir=str(tmp_path))
    app.synth()  # raises if the gate finds anything unacknowledged
    template = json.loads((tmp_path / "Ragline-dev.template.json").read_text())
    schedules = [r for r in template["Resources"].values()
                 if r["Type"] == "AWS::SecretsManager::RotationSchedule"]
    assert len(schedules) == 1
    assert schedules[0]["Properties"]["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    assert all(a.rule != "AwsSolutions-SMG4" or "Catalog" not in a.path
               for a in security.acknowledged_rules(stacks["dev"]))
