"""The dependencies layer: built by pip for Lambda's platform without Docker, from the lock of
pyproject.toml's `runtime` group (what that lock holds is checked in test_dependency_groups.py)."""

from __future__ import annotations

from pathlib import Path

from ragline_cdk import bundling
from ragline.wiring import REPO_ROOT


def test_the_layer_installs_the_runtime_lock_and_nothing_else(tmp_path):
    assert bundling.REQUIREMENTS == REPO_ROOT / "requirements" / "runtime.txt"
    command = bundling.pip_command(tmp_path / "python", "arm64")
    assert [command[i + 1] for i, arg in enumerate(command) if arg in ("-r", "-c", "--requirement")] == [
        str(bundling.REQUIREMENTS)
    ]
    assert not any(arg.startswith("-e") or arg.endswith((".toml", ".in")) for arg in command)


def test_pip_installs_wheels_for_lambdas_platform(tmp_path):
    command = bundling.pip_command(tmp_path / "python", "arm64")
    joined = " ".join(command)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--platform manylinux_2_28_aarch64" in joined  # e.g. pymssql 2.4 ships only these
    assert "--implementation cp" in joined and "--python-version 3.12" in joined
    assert "--only-binary=:all:" in command and "--no-compile" in command
    assert command[command.index("--target") + 1] == str(tmp_path / "python")
    assert command[command.index("-r") + 1] == str(bundling.REQUIREMENTS)
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
