"""The dependencies layer: built by pip for Lambda's platform without Docker, from pinned
requirements that agree with requirements.lock."""

from __future__ import annotations

import re
from pathlib import Path

from ragline_cdk import bundling

FORBIDDEN = {"torch", "moto", "qdrant-edge-py", "aws-cdk-lib", "constructs", "cdk-nag",
             "cdk-monitoring-constructs", "cfn-lint", "pytest"}
REQUIRED = {"boto3", "aws-lambda-powertools", "aws-xray-sdk", "pydantic", "pydantic-settings",
            "openai", "qdrant-client", "redis", "pymssql", "sqlalchemy", "alembic", "tenacity",
            "pypdfium2", "python-docx", "beautifulsoup4", "lxml",
            "markdown-it-py", "charset-normalizer", "regex",
            "uvicorn"}  # the streaming function's web server (docs/streaming.md)


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(\S+)", line)
        assert match, f"{path.name}: {line!r} is not pinned with =="
        pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return pins


def test_layer_requirements_are_pinned_to_the_lock_file():
    requirements = _pins(bundling.REQUIREMENTS)
    lock = _pins(bundling.LOCK_FILE)
    assert set(requirements) == REQUIRED
    assert not set(requirements) & FORBIDDEN
    for name, version in requirements.items():
        assert lock.get(name) == version, f"{name}=={version} but requirements.lock has {lock.get(name)}"


def test_pip_installs_wheels_for_lambdas_platform(tmp_path):
    command = bundling.pip_command(tmp_path / "python", "arm64")
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--platform manylinux_2_28_aarch64" in joined  # e.g. pymssql 2.4 ships only these
    assert "--implementation cp" in joined and "--python-version 3.12" in joined
    assert "--only-binary=:all:" in command and "--no-compile" in command
    assert command[command.index("--target") + 1] == str(tmp_path / "python")
    assert command[command.index("-r") + 1] == str(bundling.REQUIREMENTS)
    assert command[command.index("-c") + 1] == str(bundling.LOCK_FILE)
    assert "x86_64" in " ".join(bundling.pip_command(tmp_path, "x86_64"))


def test_local_bundling_runs_pip_and_trims_the_output(tmp_path):
    calls = []

    def fake_pip(command):
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        (target / "pkg" / "tests").mkdir(parents=True)
        (target / "pkg" / "tests" / "test_pkg.py").write_text("x = 1\n")
        (target / "pkg" / "__pycache__").mkdir()
        (target / "pkg" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
        (target / "pkg" / "__init__.py").write_text("VALUE = 1\n")
        (target / "pkg" / "__init__.pyi").write_text("VALUE: int\n")
        (target / "bin").mkdir()
        (target / "bin" / "tool").write_text("#!/bin/sh\n")

    bundler = bundling.PipLayerBundling("arm64", runner=fake_pip)
    # jsii calls try_bundle(output_dir, options) positionally.
    assert bundler.try_bundle(str(tmp_path), None) is True
    assert len(calls) == 1
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert files == {"python/pkg/__init__.py"}


def test_layer_identity_depends_on_requirements_and_architecture():
    assert bundling.layer_asset_hash("arm64") == bundling.layer_asset_hash("arm64")
    assert bundling.layer_asset_hash("arm64") != bundling.layer_asset_hash("x86_64")


def test_every_stack_gets_the_layer_for_its_architecture(synth):
    for stack in synth.stacks.values():
        layer = stack.layer.node.default_child
        resolved = stack.resolve(layer.compatible_architectures)
        assert resolved == [stack.config.compute.architecture]
