"""The local stack survives restarts (issue 9): `ragline dev` run as a user runs it, in its own
process, stopped and started again on the same RAGLINE_HOME and ports; and `ragline ingest`
without a running `ragline dev` indexes into that same home."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from ragline_local.client import RaglineClient
from ragline_local.runtime import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGLINE_", "AWS_", "MOTO_"))}
    env.update(RAGLINE_HOME=str(home), RAGLINE_EMBEDDER="hash", PYTHONPATH=os.pathsep.join(sys.path))
    return env


class Dev:
    """`ragline dev` in a child process."""

    def __init__(self, home: Path, port: int, aws_port: int, *extra: str) -> None:
        self.home = home
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ragline_local.cli", "dev", "--port", str(port), "--aws-port", str(aws_port), *extra],
            env=cli_env(home), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"ragline dev exited: {self.process.stdout.read()}")
            try:
                self.endpoints = json.loads((home / "dev.json").read_text())
                requests.get(self.endpoints["api_url"] + "/health", timeout=2).raise_for_status()
                return
            except (OSError, ValueError, requests.RequestException):
                time.sleep(0.3)
        self.stop()
        raise AssertionError("ragline dev did not come up")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def wait_status(client: RaglineClient, document_id: str, status: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        record = client.document(document_id)
        if record and record["status"] == status:
            return record
        time.sleep(0.3)
    raise AssertionError(f"{document_id} not {status}: {client.document(document_id)}")


def test_restart_keeps_objects_tokens_and_index_and_works_right_after_a_stop(tmp_path):
    home, port, aws_port = tmp_path / "home", free_port(), free_port()
    note = tmp_path / "pump.md"
    note.write_text("# Fuel pump\n\nThe auxiliary fuel pump failed over the lake; the pilot landed safely.")

    first = Dev(home, port, aws_port)
    try:
        client = RaglineClient.from_endpoints(first.endpoints, "acme")
        document_id, key = client.upload(note)
        ready = wait_status(client, document_id, "ready")
        assert client.search("auxiliary fuel pump", mode="sparse")["hits"]
        # Connections still open when the stack stops: the server side closes them, and
        # they sit in TIME_WAIT on both ports (which made a plain bind fail for a minute).
        keep_alive, s3_pool = requests.Session(), client._aws("s3")
        keep_alive.get(first.endpoints["api_url"] + "/health", timeout=5)
        s3_pool.list_buckets()
    finally:
        first.stop()

    second = Dev(home, port, aws_port)  # at once, on the same ports
    try:
        # The token issued before the restart, unchanged.
        assert client.document(document_id)["status"] == "ready"
        s3 = client._aws("s3")
        body = s3.get_object(Bucket=client.documents_bucket, Key=key)
        assert body["Body"].read() == note.read_bytes(), "the object is back"
        assert body["VersionId"] == client._uploads[document_id], "with its version id"
        hits = client.search("auxiliary fuel pump", mode="sparse")["hits"]
        assert hits and hits[0]["document_id"] == document_id
        assert ready["chunk_count"] == client.document(document_id)["chunk_count"]
        # DELETE acts on the restored object: the delete machine removes the document.
        client.delete(document_id)
        wait_status(client, document_id, "deleted")
        assert not client.search("auxiliary fuel pump", mode="sparse")["hits"]
    finally:
        second.stop()


def test_fresh_starts_empty(tmp_path):
    home, note = tmp_path / "home", tmp_path / "note.md"
    note.write_text("# Note\n\nKept until asked otherwise.")
    first = Dev(home, free_port(), free_port())
    try:
        client = RaglineClient.from_endpoints(first.endpoints, "acme")
        wait_status(client, client.upload(note)[0], "ready")
    finally:
        first.stop()
    second = Dev(home, free_port(), free_port(), "--fresh")
    try:
        assert RaglineClient.from_endpoints(second.endpoints, "acme").documents() == []
    finally:
        second.stop()


def run_cli(home: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ragline_local.cli", *argv], env=cli_env(home), cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_ingest_without_dev_then_documents_and_ask_see_the_same_documents(tmp_path):
    home, note = tmp_path / "home", tmp_path / "hangar.md"
    note.write_text("# Hangar fire\n\nThe hangar fire started in the paint shop at night.")
    ingest = run_cli(home, "ingest", str(note), "--tenant", "acme")
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr

    documents = run_cli(home, "documents", "--tenant", "acme")
    assert documents.returncode == 0 and "hangar.md" in documents.stdout and "ready" in documents.stdout, documents.stdout
    ask = run_cli(home, "ask", "Where did the hangar fire start?", "--tenant", "acme")
    assert ask.returncode == 0 and "[1] hangar.md" in ask.stdout, ask.stdout
