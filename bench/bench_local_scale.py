"""The local stack at scale (issue 9): memory on one huge PDF, threads on many small files,
timeouts with many long PDFs at once on the local model. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_local_scale.py big-pdf   [--pages 2403]
    .venv/bin/python bench/bench_local_scale.py many-files [--files 1000]
    .venv/bin/python bench/bench_local_scale.py at-once    [--embedder local]   # the 20 NIH protocols

Run each in its own process (peak RSS is per process). The big PDF is built from the
nih-trials protocols with pypdfium2 under a temporary folder and deleted afterwards.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ragline.models import document_id_for  # noqa: E402
from ragline_local import seams  # noqa: E402
from ragline_local.client import RaglineClient  # noqa: E402
from ragline_local.runtime import DevStack, LocalConfig, free_port  # noqa: E402

NIH = REPO.parent / "shared" / "corpora" / "nih-trials"


def os_threads() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Sampler:
    """Peak Python and OS thread counts, sampled every 100 ms."""

    def __init__(self) -> None:
        self.python_threads = self.threads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        started = last = time.monotonic()
        while not self._stop.wait(0.1):
            self.python_threads = max(self.python_threads, threading.active_count())
            self.threads = max(self.threads, os_threads())
            if time.monotonic() - last >= 15:  # progress, so a run cut short still says how far it got
                last = time.monotonic()
                print(f"  {last - started:6.0f} s  rss {rss_mib():6.0f} MiB  threads {os_threads()}", flush=True)


def big_pdf(folder: Path, pages: int) -> Path:
    """The nih-trials protocols concatenated (repeated as needed) to `pages` pages."""
    import pypdfium2 as pdfium

    sources = sorted(NIH.glob("*.pdf"))
    out = pdfium.PdfDocument.new()
    while len(out) < pages:
        for source in sources:
            if len(out) >= pages:
                break
            document = pdfium.PdfDocument(source)
            take = min(len(document), pages - len(out))
            out.import_pages(document, list(range(take)))
            document.close()
    path = folder / "nih-concatenated.pdf"
    out.save(path)
    out.close()
    return path


def timeouts(stack: DevStack) -> tuple[int, int]:
    """(executions, task timeouts in their histories)."""
    sfn = stack.aws.client("stepfunctions")
    count = executions = 0
    arn = stack.aws.state_machine_arns["ingest"]
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        for execution in page["executions"]:
            executions += 1
            history = sfn.get_paginator("get_execution_history").paginate(executionArn=execution["executionArn"])
            count += sum(1 for events in history for e in events["events"] if e["type"].endswith("TimedOut"))
    return executions, count


def upload_in_one_part(client: RaglineClient, path: Path, name: str) -> str:
    """One PUT, whatever the size: moto emits two events for a multipart upload (issue 9 item
    5, de-duplicated by the ordering work), which would measure the PDF twice here."""
    from boto3.s3.transfer import TransferConfig

    key = f"{client.tenant}/{name}"
    s3 = client._aws("s3")
    s3.upload_file(str(path), client.documents_bucket, key, Config=TransferConfig(multipart_threshold=2**40))
    document_id = document_id_for(client.tenant, key)
    client._uploads[document_id] = s3.head_object(Bucket=client.documents_bucket, Key=key)["VersionId"]
    return document_id


def run(files: list[tuple[Path, str]], embedder: str, timeout_s: float) -> dict:
    home = Path(tempfile.mkdtemp(prefix="ragline-bench-home-"))
    config = LocalConfig(home=home, aws_port=free_port(), embedder=embedder, log_level="ERROR")
    with DevStack(config, gateway_port=free_port()) as stack:
        client = RaglineClient.from_endpoints(stack.endpoints(), "bench")
        start = time.monotonic()
        with Sampler() as sampler:
            ids = [upload_in_one_part(client, path, name) for path, name in files]
            results = client.wait(ids, timeout_s)
        elapsed = time.monotonic() - start
        executions, timed_out = timeouts(stack)
        statuses: dict[str, int] = {}
        for record in results.values():
            statuses[record["status"]] = statuses.get(record["status"], 0) + 1
        peak = peak_rss_mib()
        gc.collect()
        time.sleep(5)
        idle = rss_mib()
        return {
            "documents": len(files), "statuses": statuses, "seconds": round(elapsed, 1),
            "peak_rss_mib": round(peak), "idle_rss_mib": round(idle),
            "peak_threads_python": sampler.python_threads, "peak_threads_os": sampler.threads,
            "executions": executions, "task_timeouts": timed_out, "slot_waits": seams.SLOTS.waits,
            "pages": sum(r.get("page_count") or 0 for r in results.values()),
            "chunks": sum(r.get("chunk_count") or 0 for r in results.values()),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["big-pdf", "many-files", "at-once"])
    parser.add_argument("--pages", type=int, default=2403)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--embedder", default="hash")
    parser.add_argument("--timeout", type=float, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ragline-bench-") as folder:
        folder = Path(folder)
        if args.scenario == "big-pdf":
            pdf = big_pdf(folder, args.pages)
            print(f"built {pdf.name}: {pdf.stat().st_size / 2**20:.1f} MiB, {args.pages} pages", flush=True)
            files = [(pdf, pdf.name)]
        elif args.scenario == "many-files":
            files = []
            for i in range(args.files):
                path = folder / f"note-{i:04d}.md"
                path.write_text(f"# Note {i}\n\nSmall file number {i} about topic {i % 37}. " * 3)
                files.append((path, path.name))
        else:
            files = [(path, path.name) for path in sorted(NIH.glob("*.pdf"))]
        result = run(files, args.embedder, args.timeout)
    print(json.dumps({"scenario": args.scenario, "embedder": args.embedder, **result}))


if __name__ == "__main__":
    main()
