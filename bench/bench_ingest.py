"""Local ingestion benchmark: a corpus through the real local stack (moto Step Functions,
in-process handlers, edge Qdrant, SQLite), reporting throughput, peak memory, and where the time
goes. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_ingest.py [CORPUS_DIR ...] [--embedder hash|local]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ragline import pipeline  # noqa: E402
from ragline.services import get_services  # noqa: E402
from ragline_local.client import RaglineClient, expand_paths  # noqa: E402
from ragline_local.runtime import DevStack, LocalConfig, free_port  # noqa: E402

CORPORA = REPO.parent / "shared" / "corpora"
busy: dict[str, float] = defaultdict(float)
lock = threading.Lock()


def timed(name: str, func):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            with lock:
                busy[name] += time.perf_counter() - start

    return wrapper


def instrument() -> None:
    """Time each stage where it runs: the pipeline steps, and inside embed_and_index the
    embedder and the index separately."""
    for step in ("register", "extract_text", "chunk", "finalize"):
        setattr(pipeline, step, timed(step, getattr(pipeline, step)))
    services = get_services()
    services.embedder.embed_documents = timed("embed", services.embedder.embed_documents)
    services.index.upsert = timed("index", services.index.upsert)


def run(corpus: list[Path], embedder: str) -> None:
    files = expand_paths(corpus)
    with tempfile.TemporaryDirectory() as home:
        config = LocalConfig(home=Path(home), aws_port=free_port(), embedder=embedder)
        with DevStack(config, gateway_port=free_port()) as stack:
            instrument()
            client = RaglineClient.from_endpoints(stack.endpoints(), "bench")
            busy.clear()
            start = time.perf_counter()
            ids = [client.upload(path)[0] for path in files]
            records = client.wait(ids, timeout_s=3600)
            wall = time.perf_counter() - start
            sfn = stack.aws.client("stepfunctions")
            executions = sfn.list_executions(stateMachineArn=stack.aws.state_machine_arns["ingest"])["executions"]
            execution_s = sum((e["stopDate"] - e["startDate"]).total_seconds() for e in executions if e.get("stopDate"))
    ready = [r for r in records.values() if r["status"] == "ready"]
    pages = sum(r.get("page_count") or 0 for r in ready)
    chunks = sum(r.get("chunk_count") or 0 for r in ready)
    stages = {
        "extract": busy["extract_text"] + busy["register"],
        "chunk": busy["chunk"],
        "embed": busy["embed"],
        "index": busy["index"] + busy["finalize"],
    }
    # Orchestration: time executions spent outside handlers (state transitions, Lambda invoke
    # round trips, retries' waits). Map items run 4 at a time, so busy time can exceed it.
    stages["orchestration"] = max(0.0, execution_s - sum(stages.values()))
    total = sum(stages.values()) or 1.0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {', '.join(str(c) for c in corpus)}  embedder: {embedder}")
    print(f"documents: {len(ready)}/{len(files)} ready  pages: {pages}  chunks: {chunks}  wall: {wall:.1f} s")
    print(f"throughput: {len(ready) / wall:.2f} documents/s  {pages / wall:.1f} pages/s  {chunks / wall:.1f} chunks/s")
    print(f"peak memory (RSS): {peak_mb:.0f} MiB")
    print("time share: " + "  ".join(f"{k} {100 * v / total:.0f}% ({v:.1f} s)" for k, v in stages.items()))
    failed = [r for r in records.values() if r["status"] != "ready"]
    for record in failed:
        print(f"  not ready: {record.get('file_name')}: {record.get('status')} {record.get('error')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="*", type=Path, default=[CORPORA / "ntsb", CORPORA / "nih-trials"])
    parser.add_argument("--embedder", choices=["hash", "local"], default="hash")
    args = parser.parse_args()
    for corpus in args.corpus:
        run([corpus], args.embedder)
        print()


if __name__ == "__main__":
    main()
