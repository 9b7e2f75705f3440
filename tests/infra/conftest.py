"""Infrastructure tests: one synthesis of the whole app per session (every environment, with
the cdk-nag gate on, asset bundling skipped), exactly as ``app.py`` builds it.

cfn-lint runs on the written templates in background processes started right after the synth,
so it overlaps with the other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_VALIDATION", "false")

from tests.infra.cfn_helpers import CfnTemplate  # noqa: E402
from ragline_cdk.app_builder import build_app, cdk_json_context  # noqa: E402
from ragline_cdk.config import load_environments  # noqa: E402

ENVIRONMENTS = tuple(load_environments(cdk_json_context()))
SKIP_BUNDLING = {"aws:cdk:bundling-stacks": []}


@dataclass
class Synth:
    outdir: Path
    app: Any
    stacks: dict[str, Any]
    templates: dict[str, dict] = field(default_factory=dict)
    lint: dict[str, subprocess.Popen] = field(default_factory=dict)


def _validation_report(outdir: Path) -> str:
    path = outdir / "validation-report.json"
    if not path.exists():
        return "(no validation-report.json)"
    report = json.loads(path.read_text())
    lines = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                lines.append(f"{violation['ruleName']} at {construct['constructPath']}: "
                             f"{violation['description']}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stacks = build_app(SKIP_BUNDLING, outdir=str(outdir))
    try:
        app.synth()
    except Exception as error:  # the cdk-nag gate (or CDK) refused the app
        pytest.fail(f"synth failed: {error}\n{_validation_report(outdir)}", pytrace=False)
    result = Synth(outdir=outdir, app=app, stacks=stacks)
    for name, stack in stacks.items():
        path = outdir / f"{stack.stack_name}.template.json"
        result.templates[name] = json.loads(path.read_text())
        result.lint[name] = subprocess.Popen(
            [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
             "--format", "parseable", str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
    yield result
    for process in result.lint.values():
        if process.poll() is None:
            process.kill()


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def template(synth: Synth, env: str) -> CfnTemplate:
    return CfnTemplate(synth.templates[env])


@pytest.fixture(scope="session")
def stack(synth: Synth, env: str) -> Any:
    return synth.stacks[env]


@pytest.fixture(scope="session")
def config(stack: Any) -> Any:
    return stack.config
