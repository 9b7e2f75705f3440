"""The Lambda dependencies layer, built locally with pip: no Docker.

`pip install --platform manylinux_*_<arch> --implementation cp --python-version 3.12
--only-binary=:all: --target <out>/python -r requirements/runtime.txt` fetches the wheels
Lambda's Python 3.12 runtime (Amazon Linux 2023, glibc 2.34) can load, for the functions'
architecture, whatever machine runs the synth. requirements/runtime.txt is the lock of
pyproject.toml's `runtime` group and nothing else (no local stack, CDK or test packages), so
the layer holds exactly what the handlers import, at the versions the tests ran. The result is
trimmed (test suites, type stubs, byte code compiled for the wrong Python) to stay under
Lambda's 250 MiB limit for a function and its layers (171 MiB measured for arm64).

CDK only bundles when the stack is selected for bundling: tests pass
``{"aws:cdk:bundling-stacks": []}`` and get the unbundled source folder instead.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Sequence

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ragline.wiring import REPO_ROOT

REQUIREMENTS = REPO_ROOT / "requirements" / "runtime.txt"  # the `runtime` group, locked
PYTHON_VERSION = "3.12"
# Lambda's python3.12 runtime runs on Amazon Linux 2023 (glibc 2.34): any of these wheels load.
MANYLINUX_TAGS = ("manylinux_2_34", "manylinux_2_28", "manylinux_2_17", "manylinux2014")
PIP_ARCH = {"arm64": "aarch64", "x86_64": "x86_64"}
# A function's code and all its layers, unzipped, must fit in 250 MiB; keep room for the code.
MAX_LAYER_BYTES = 240 * 1024 * 1024
TRIM_DIRECTORIES = ("tests", "__pycache__")
TRIM_SUFFIXES = (".pyi", ".pyc")

Runner = Callable[[Sequence[str]], None]


def pip_command(target: Path, architecture: str, requirements: Path = REQUIREMENTS) -> list[str]:
    """The pip invocation that installs the layer's packages for Lambda into ``target``."""
    arch = PIP_ARCH[architecture]
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile"]
    for tag in MANYLINUX_TAGS:
        command += ["--platform", f"{tag}_{arch}"]
    command += [
        "--implementation", "cp",
        "--python-version", PYTHON_VERSION,
        "--only-binary=:all:",
        "--target", str(target),
        "-r", str(requirements),
    ]
    return command


def _run(command: Sequence[str]) -> None:
    subprocess.run(list(command), check=True)


def trim(root: Path) -> int:
    """Delete what the runtime never loads; return the remaining size in bytes."""
    for directory in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if directory.is_dir() and directory.name in TRIM_DIRECTORIES:
            shutil.rmtree(directory, ignore_errors=True)
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in TRIM_SUFFIXES:
            path.unlink()
    shutil.rmtree(root / "bin", ignore_errors=True)  # console scripts: unused in Lambda
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """ILocalBundling: jsii calls ``try_bundle(output_dir, options)`` positionally."""

    def __init__(self, architecture: str, requirements: Path = REQUIREMENTS, runner: Runner = _run) -> None:
        self.architecture = architecture
        self.requirements = requirements
        self.runner = runner

    def try_bundle(self, output_dir: str, options: BundlingOptions | None = None) -> bool:
        target = Path(output_dir) / "python"  # Lambda puts /opt/python on sys.path
        self.runner(pip_command(target, self.architecture, self.requirements))
        size = trim(target)
        if size > MAX_LAYER_BYTES:
            raise RuntimeError(
                f"dependencies layer is {size / 2**20:.0f} MiB unzipped, above the "
                f"{MAX_LAYER_BYTES / 2**20:.0f} MiB budget (Lambda allows 250 MiB for code and "
                f"layers together): trim the `runtime` group in pyproject.toml"
            )
        return True


def layer_asset_hash(architecture: str, requirements: Path = REQUIREMENTS) -> str:
    """The layer's identity: what pip is asked for and for which platform. The same for every
    environment, so one synth bundles it once."""
    digest = hashlib.sha256()
    digest.update(f"{architecture}|{PYTHON_VERSION}|{'|'.join(MANYLINUX_TAGS)}|".encode())
    digest.update(requirements.read_bytes())
    return digest.hexdigest()


def dependencies_layer(scope: Construct, construct_id: str, architecture: lambda_.Architecture,
                       removal_policy: RemovalPolicy) -> lambda_.LayerVersion:
    arch = architecture.name  # "arm64" | "x86_64" (jsii objects do not compare with ==)
    if arch not in PIP_ARCH:
        raise ValueError(f"no pip platform for Lambda architecture {arch!r}")
    return lambda_.LayerVersion(
        scope,
        construct_id,
        description=f"Ragline runtime dependencies (requirements/runtime.txt) for Python "
        f"{PYTHON_VERSION} on {arch}",
        compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
        compatible_architectures=[architecture],
        removal_policy=removal_policy,
        code=lambda_.Code.from_asset(
            str(REQUIREMENTS.parent),
            asset_hash_type=AssetHashType.CUSTOM,
            asset_hash=layer_asset_hash(arch),
            bundling=BundlingOptions(
                # Never pulled: local bundling always succeeds or raises.
                image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.12"),
                local=PipLayerBundling(arch),
            ),
        ),
    )
