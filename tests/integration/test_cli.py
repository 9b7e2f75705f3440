"""The `ragline` CLI against a running local stack, as a user runs it after `ragline dev`:
ingest a report, ask about it, and get an answer citing that report with page numbers."""

from __future__ import annotations

import re
import time
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


# --- what goes wrong in normal use: one clear line, the right exit code, no traceback ----------
def test_a_missing_path_is_named_without_a_traceback(cli_home, capsys, tmp_path):
    code, out = run(capsys, "ingest", str(tmp_path / "nope.pdf"))
    assert code == 1 and "no such file or folder" in out and "nope.pdf" in out and "Traceback" not in out


def test_an_api_refusal_is_reported_with_the_field(cli_home, capsys):
    code, out = run(capsys, "ask", "")
    assert code == 1 and "body.question" in out


def test_folders_keep_relative_names_skip_unsupported_files_and_upload_each_file_once(tmp_path):
    from ragline_local.client import InputError, plan_uploads

    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    for path in ("a/x.md", "b/x.md", "junk.exe"):
        (tmp_path / path).write_text("text")
    plan = plan_uploads([tmp_path, tmp_path / "a" / "x.md"])
    assert [name for _, name in plan.files] == ["a/x.md", "b/x.md"]
    assert [p.name for p in plan.skipped] == ["junk.exe"]
    with pytest.raises(InputError, match="x.md"):
        plan_uploads([tmp_path / "a" / "x.md", tmp_path / "b" / "x.md"])  # both would be <tenant>/x.md


def test_reingesting_a_deleted_document_waits_for_the_new_version(cli_home, capsys, tmp_path):
    tenant = f"cli-{uuid.uuid4().hex[:6]}"
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nThe first version.")
    assert run(capsys, "ingest", str(note), "--tenant", tenant)[0] == 0
    client = cli_home.client(tenant)
    document_id = client.documents()[0]["id"]
    client.delete(document_id)
    deadline = time.monotonic() + 30
    while client.document(document_id)["status"] != "deleted" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client.document(document_id)["status"] == "deleted"
    # Before: the wait ended at once on the old row (status deleted) and the command failed.
    code, out = run(capsys, "ingest", str(note), "--tenant", tenant)
    assert code == 0, out
    assert client.document(document_id)["status"] == "ready"


def test_a_second_stack_on_the_same_home_or_a_busy_port_fails_clearly(cli_home, tmp_path):
    import socket

    from ragline_local.runtime import DevStack, LocalConfig, StackError, free_port

    running = cli_home.stack
    with pytest.raises(StackError, match="already running"):
        DevStack(LocalConfig(home=running.config.home, aws_port=free_port()), gateway_port=free_port()).start()
    assert running.endpoints_file.exists(), "the running stack's home is left alone"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(StackError, match=f"port {port}.*--aws-port"):
            DevStack(LocalConfig(home=tmp_path / "h", aws_port=port), gateway_port=free_port()).start()
