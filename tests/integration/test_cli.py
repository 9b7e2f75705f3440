"""The `ragline` CLI against a running local stack, as a user runs it after `ragline dev`:
ingest a report, ask about it, and get an answer citing that report with page numbers."""

from __future__ import annotations

import re
import uuid

import pytest

from ragline_local import cli

pytestmark = pytest.mark.slow

REPORT = "20080111X00040.pdf"  # the Madill, Oklahoma accident


@pytest.fixture
def cli_home(local_stack, monkeypatch):
    """Point the CLI at the running stack's endpoints file, as `ragline dev` leaves it."""
    monkeypatch.setattr(cli, "HOME", local_stack.stack.endpoints_file.parent)
    return local_stack


def run(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def test_ingest_documents_ask_and_search(cli_home, corpora, capsys):
    tenant = f"cli-{uuid.uuid4().hex[:6]}"
    reports = [corpora / "ntsb" / REPORT, corpora / "ntsb" / "20080102X00002.pdf", corpora / "ntsb" / "20080124X00100.pdf"]
    code, out = run(capsys, "ingest", *map(str, reports), "--tenant", tenant)
    assert code == 0, out
    assert out.count("ready") >= 3

    code, out = run(capsys, "documents", "--tenant", tenant)
    assert code == 0 and REPORT in out and "3 documents" in out

    code, out = run(capsys, "ask", "What was the probable cause of the accident in Madill, Oklahoma?", "--tenant", tenant)
    assert code == 0
    answer, _, sources = out.partition("\n  [1]")
    sources = "  [1]" + sources
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
    listed = dict(re.findall(r"\[(\d+)\] (\S+), p", sources))
    assert cited and cited <= {int(n) for n in listed}, "every citation number in the answer is a returned source"
    assert listed["1"] == REPORT
    assert re.search(r"\[1\] \S+, pp?\. \d", sources), "citations carry page numbers"

    code, out = run(capsys, "search", "Madill Oklahoma", "--tenant", tenant, "--mode", "sparse")
    assert code == 0 and REPORT in out
