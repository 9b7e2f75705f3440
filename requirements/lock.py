"""Compile the committed locks in this folder from pyproject.toml's dependency groups.

    python requirements/lock.py            # what `make locks` runs (uv pip compile)

pyproject.toml declares each group once, by purpose; a lock is the full pinned closure of the
groups one installer needs. `dev.txt` (every group) is compiled first and the smaller locks
are constrained by it, so a package has the same version in every lock and installing one lock
after another never up- or downgrades anything. pip-compile keeps the versions already in a
lock unless pyproject.toml asks for others (`--upgrade` passes through to move everything).

Why uv (pinned in the Makefile) and not pip/pip-tools: on 2 busy cores uv installed the demo's
lock in 25 s where pip took 377 s (parallel downloads, no byte-compiling at install), which is
what gets `make demo` to an answer within minutes; and it compiles these locks in seconds
rather than minutes. One tool for both, so a lock resolves the way it installs. uv does not read
pip's configuration: the machine's local wheel folder (pip.conf `find-links`, where the CPU
build of PyTorch lies) is passed to it explicitly. No hashes: the llama.cpp server installs from
a wheel built here (Makefile), which no hash in a lock can know.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYPROJECT = HERE.parent / "pyproject.toml"

# lock file -> the groups it holds (the first one constrains the others).
PROFILES: dict[str, tuple[str, ...]] = {
    "dev": ("runtime", "local", "minilm", "cdk", "test"),  # make test, CI
    "runtime": ("runtime",),  # the Lambda dependencies layer (cdk/bundling.py)
    "local": ("runtime", "local"),  # make demo / make dev; what `pip install .` brings
    "cdk": ("runtime", "cdk"),  # make synth, cdk deploy
}


def groups() -> dict[str, list[str]]:
    """The optional-dependency groups of pyproject.toml, without the ones that only name
    other groups (``dev = ["ragline[...]"]``)."""
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    return {name: reqs for name, reqs in declared.items() if not all(r.startswith("ragline[") for r in reqs)}


def lock_path(profile: str) -> Path:
    return HERE / f"{profile}.txt"


def local_find_links() -> list[str]:
    """pip's `find-links` on this machine (e.g. /opt/wheels with the CPU build of PyTorch)."""
    result = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.find-links"],
                            capture_output=True, text=True)
    return [arg for link in result.stdout.split() for arg in ("--find-links", link)] if result.returncode == 0 else []


def uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise SystemExit("uv is not installed: run `make locks` (it installs the pinned uv first)")
    return found


def compile_profile(profile: str, extra_args: list[str]) -> None:
    declared = groups()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"pyproject.toml[{','.join(PROFILES[profile])}]"
        lines = [req for group in PROFILES[profile] for req in declared[group]]
        if profile != "dev":
            shutil.copy(lock_path("dev"), Path(tmp) / "dev.txt")
            lines.append("-c dev.txt")
        source.write_text("\n".join(lines) + "\n")
        subprocess.run(
            [uv(), "pip", "compile", "--quiet", "--python", sys.executable, "--annotation-style=line",
             "--custom-compile-command", "make locks", *local_find_links(),
             "--output-file", str(lock_path(profile)), source.name, *extra_args],
            cwd=tmp, check=True,
        )


def main(argv: list[str]) -> int:
    for profile in PROFILES:
        compile_profile(profile, argv)
        print(f"requirements/{profile}.txt: groups {', '.join(PROFILES[profile])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
