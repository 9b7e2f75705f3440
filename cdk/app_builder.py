"""Build the CDK app: one stack per selected environment, with the cdk-nag gate.

``app.py`` (the CLI's app command) and tests/infra both call :func:`build_app`, so the tests
synthesize exactly what gets deployed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from aws_cdk import App

from ragline.wiring import REPO_ROOT
from ragline_cdk import security
from ragline_cdk.config import selected_environments
from ragline_cdk.stack import RaglineStack

CDK_JSON = REPO_ROOT / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    return dict(json.loads(path.read_text()).get("context", {}))


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None,
              nag: bool = True) -> tuple[App, dict[str, RaglineStack]]:
    """The app with cdk.json's context under ``context`` (the CLI's -c values arrive through
    CDK_CONTEXT_JSON and win over both)."""
    merged = {**cdk_json_context(), **(context or {})}
    app = App(
        context=merged,
        outdir=outdir or os.environ.get("CDK_OUTDIR") or str(REPO_ROOT / "cdk.out"),
        # cfn-lint checks the templates instead (tests/infra): 6-12 s saved per synth.
        builtin_cloud_formation_validation=False,
    )
    # The CLI's context (CDK_CONTEXT_JSON) is part of the app's context now.
    effective = {key: app.node.try_get_context(key) for key in ("ragline", "env")}
    stacks = {config.name: RaglineStack(app, config) for config in selected_environments(effective)}
    if nag:
        security.add_nag_gate(app)
    return app, stacks
