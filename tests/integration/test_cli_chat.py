"""`ragline ask --stream`, `ragline chat` and the `[cached]` badge, against the running local stack."""

from __future__ import annotations

import argparse
import uuid

import pytest

from ragline_local import chat, cli

BRIDGE = """# Harbor Bridge inspection report

The Harbor Bridge inspection in 2023 found corrosion on the cable anchors of the north span.
The approved repair budget of the Harbor Bridge is 4.2 million dollars.
"""
TUNNEL = """# Summit Tunnel maintenance plan

What is the repair budget? The repair budget of the Summit Tunnel is 9.9 million dollars.
The repair budget covers lighting and drainage. The repair budget was approved in March.
"""


@pytest.fixture
def tenant(local_stack, monkeypatch, tmp_path) -> str:
    monkeypatch.setattr(cli, "HOME", local_stack.stack.endpoints_file.parent)
    name = f"chat-{uuid.uuid4().hex[:6]}"
    client = local_stack.client(name)
    ids = []
    for file_name, text in (("bridge.md", BRIDGE), ("tunnel.md", TUNNEL)):
        (tmp_path / file_name).write_text(text)
        ids.append(client.upload(tmp_path / file_name)[0])
    assert all(r["status"] == "ready" for r in client.wait(ids, timeout_s=120).values())
    return name


def test_ask_stream_prints_the_answer_and_a_cached_answer_shows_its_badge(tenant, capsys):
    question = "What did the Harbor Bridge inspection find?"
    assert cli.main(["ask", question, "--stream", "--tenant", tenant, "--top-k", "1"]) == 0
    out = capsys.readouterr().out
    assert "corrosion on the cable anchors" in out and "[1] bridge.md" in out and "[cached]" not in out
    assert cli.main(["ask", question, "--tenant", tenant, "--top-k", "1"]) == 0
    out = capsys.readouterr().out
    assert "[cached]" in out, "the badge is printed, not swallowed as Rich markup"
    assert "corrosion on the cable anchors of the north span. [1]" in " ".join(out.split())  # (Rich wraps lines)


def test_chat_answers_follow_ups_and_shows_what_it_searched_for(local_stack, tenant, capsys):
    questions = iter(["What did the Harbor Bridge inspection find?", "What is the repair budget?", ""])
    client = local_stack.client(tenant)
    args = argparse.Namespace(top_k=1, mode="hybrid")
    assert chat.chat_loop(client, args, cli.console, read=lambda prompt: next(questions)) == 0
    out = capsys.readouterr().out
    assert "corrosion" in out and "searched for: What is the repair budget?" in out and "4.2 million" in out
    (conversation,) = [c for c in client.conversations()]
    assert len(client.conversation(conversation["id"])["messages"]) == 2
