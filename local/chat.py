"""`ragline chat` and `ragline ask --stream`: answers printed as they are written.

Both read the API's server-sent events (docs/api.md, "Streaming"): the text goes to the
terminal token by token, then the sources. In `chat`, each question is a follow-up in one
conversation (`/new` starts another); Ctrl-C while an answer is being written stops it (the
connection closes, so the server stops generating), Ctrl-C or Ctrl-D at the prompt leaves.

Everything that comes from documents or the model is printed without Rich markup, so a
``[1]`` or a ``[cached]`` is shown as written rather than taken for a style tag.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape

from ragline_local.client import RaglineClient, ServerEvent

PROMPT = "you> "


def answer_footer(result: dict[str, Any]) -> str:
    """'extractive answer (no LLM configured) [cached], 2 ms' as Rich markup, badge escaped."""
    badge = escape(" [cached]") if result.get("cached") else ""
    kind = "extractive answer (no LLM configured)" if result.get("answer_type") == "extractive" else result.get("model")
    return f"{escape(str(kind))}{badge}, {result['latency_ms']['total']:.0f} ms"


def print_sources(console: Console, citations: list[dict[str, Any]]) -> None:
    for citation in citations:
        console.print(f"  [{citation['number']}] {citation['source']}, {pages(citation)}", markup=False, highlight=False)


def pages(item: dict[str, Any]) -> str:
    start, end = item.get("page_start"), item.get("page_end")
    if start is None:
        return "-"
    return f"p. {start}" if end in (None, start) else f"pp. {start}-{end}"


def stream_to_terminal(console: Console, events: Iterator[ServerEvent], question: str) -> dict[str, Any] | None:
    """Print one streamed answer; the `done` data, or None when it failed or was stopped."""
    out = console.file
    try:
        for event in events:
            if event.event == "start" and event.data.get("standalone_query") not in (None, question):
                console.print(f"[dim]searched for: {escape(event.data['standalone_query'])}[/]")
            elif event.event == "token":
                out.write(event.data["text"])
                out.flush()
            elif event.event == "done":
                out.write("\n")
                console.print(f"\n[dim]— {answer_footer(event.data)}[/]")
                print_sources(console, event.data["citations"])
                return event.data
            elif event.event == "error":
                error = event.data.get("error") or {}
                console.print(f"\n[red]error:[/] {escape(str(error.get('message')))} ({escape(str(error.get('code')))})")
                return None
    except KeyboardInterrupt:
        console.print("\n[yellow]stopped[/]")
        return None
    finally:
        close = getattr(events, "close", None)
        if close:
            close()
    return None


def cmd_ask_stream(client: RaglineClient, args: argparse.Namespace, console: Console) -> int:
    done = stream_to_terminal(console, client.ask_stream(args.question, top_k=args.top_k, mode=args.mode), args.question)
    return 0 if done else 1


def chat_loop(client: RaglineClient, args: argparse.Namespace, console: Console, read=input) -> int:
    """Questions from ``read`` until an empty line, EOF or Ctrl-C; each streams its answer."""
    conversation = client.start_conversation()
    console.print("[dim]Ask a question; follow-ups keep the context. /new starts over, an empty line leaves.[/]")
    while True:
        try:
            question = read(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return 0
        if not question:
            return 0
        if question == "/new":
            conversation = client.start_conversation()
            console.print("[dim]New conversation.[/]")
            continue
        events = client.follow_up_stream(conversation["id"], question, top_k=args.top_k, mode=args.mode)
        stream_to_terminal(console, events, question)


def cmd_chat(args: argparse.Namespace) -> int:
    from ragline_local.cli import console, running_client

    with running_client(args.tenant) as client:
        return chat_loop(client, args, console)


if __name__ == "__main__":  # pragma: no cover - use `ragline chat`
    from ragline_local.cli import main

    sys.exit(main(["chat", *sys.argv[1:]]))
