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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ragline import pipeline  # noqa: E402
from ragline.services import get_services  # noqa: E402
from ragline_local.client import RaglineClient, expand_paths  # noqa: E402
from ragline_local.runtime import DevStack, LocalConfig, free_port  # noqa: E402

CORPORA = REPO.parent / "shared" / "corpora"
STAGES = ("extract", "chunk", "embed", "index")
STAGE_OF = {"register": "extract", "extract_text": "extract", "chunk": "chunk", "embed": "embed",
            "index": "index", "finalize": "index"}
intervals: list[tuple[str, float, float]] = []
lock = threading.Lock()


def timed(name: str, func):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            with lock:
                intervals.append((STAGE_OF[name], start, time.perf_counter()))

    return wrapper


def instrument() -> None:
    """Time each stage where it runs: the pipeline steps, and inside embed_and_index the
    embedder and the index separately."""
    for step in ("register", "extract_text", "chunk", "finalize"):
        setattr(pipeline, step, timed(step, getattr(pipeline, step)))
    services = get_services()
    services.embedder.embed_documents = timed("embed", services.embedder.embed_documents)
    services.index.upsert = timed("index", services.index.upsert)


def covered(spans: list[tuple[float, float]]) -> float:
    """Length of the union of time spans (Map items of one stage overlap)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def time_shares(client: RaglineClient, files: list[Path], executions_s) -> dict[str, float]:
    """Where one document's time goes: documents one at a time, so stages of different
    documents never overlap (the PDF engine's lock and the GIL would blur them otherwise)."""
    intervals.clear()
    for path in files:
        client.wait([client.upload(path, name=f"profile/{path.name}")[0]], timeout_s=600)
    per_stage = {stage: covered([(a, b) for s, a, b in intervals if s == stage]) for stage in STAGES}
    busy = covered([(a, b) for _, a, b in intervals])
    per_stage["orchestration"] = max(0.0, executions_s() - busy)  # transitions, invokes, waits
    return per_stage


def run(corpus: list[Path], embedder: str) -> None:
    files = expand_paths(corpus)
    with tempfile.TemporaryDirectory() as home:
        config = LocalConfig(home=Path(home), aws_port=free_port(), embedder=embedder, log_level="ERROR")
        with DevStack(config, gateway_port=free_port()) as stack:
            instrument()
            client = RaglineClient.from_endpoints(stack.endpoints(), "bench")
            start = time.perf_counter()
            records = client.wait([client.upload(path)[0] for path in files], timeout_s=3600)
            wall = time.perf_counter() - start
            sfn = stack.aws.client("stepfunctions")
            arn = stack.aws.state_machine_arns["ingest"]
            done = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]}

            def executions_s() -> float:
                return sum((e["stopDate"] - e["startDate"]).total_seconds()
                           for e in sfn.list_executions(stateMachineArn=arn)["executions"]
                           if e.get("stopDate") and e["executionArn"] not in done)

            stages = time_shares(client, files, executions_s)
    ready = [r for r in records.values() if r["status"] == "ready"]
    pages = sum(r.get("page_count") or 0 for r in ready)
    chunks = sum(r.get("chunk_count") or 0 for r in ready)
    total = sum(stages.values()) or 1.0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus: {', '.join(str(c) for c in corpus)}  embedder: {embedder}")
    print(f"documents: {len(ready)}/{len(files)} ready  pages: {pages}  chunks: {chunks}  wall: {wall:.1f} s (all uploaded at once)")
    print(f"throughput: {len(ready) / wall:.2f} documents/s  {pages / wall:.1f} pages/s  {chunks / wall:.1f} chunks/s")
    print(f"peak memory (RSS): {peak_mb:.0f} MiB")
    print("time share (one document at a time): "
          + "  ".join(f"{k} {100 * v / total:.0f}% ({v:.1f} s)" for k, v in stages.items()))
    for record in (r for r in records.values() if r["status"] != "ready"):
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
