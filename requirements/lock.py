"""Compile the committed locks in this folder from pyproject.toml's dependency groups.

    python requirements/lock.py            # what `make locks` runs (pip-tools' pip-compile)

pyproject.toml declares each group once, by purpose; a lock is the full pinned closure of the
groups one installer needs. `dev.txt` (every group) is compiled first and the smaller locks
are constrained by it, so a package has the same version in every lock and installing one lock
after another never up- or downgrades anything. pip-compile keeps the versions already in a
lock unless pyproject.toml asks for others (`--upgrade` passes through to move everything).

Why pip-tools and not uv: pip-compile resolves with pip itself, so it sees what pip sees on
these machines (the CPU build of PyTorch lies in a local wheel folder that only pip's config
names), and installing stays plain `pip install -r`. No hashes: the llama.cpp server is
installed from a wheel built here (Makefile), which no hash in a lock can know.
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
PIP_TOOLS = "pip-tools==7.6.2"

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
            [sys.executable, "-m", "piptools", "compile", "--quiet", "--strip-extras",
             "--allow-unsafe", "--no-emit-options", "--annotation-style=line",
             "--output-file", str(lock_path(profile)), source.name, *extra_args],
            cwd=tmp, check=True, env={**os.environ, "CUSTOM_COMPILE_COMMAND": "make locks"},
        )


def main(argv: list[str]) -> int:
    for profile in PROFILES:
        compile_profile(profile, argv)
        print(f"requirements/{profile}.txt: groups {', '.join(PROFILES[profile])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
