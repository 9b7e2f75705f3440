"""Streamed answers through the local gateway: time to first token, tokens/s, and concurrency.

Starts the local stack (`ragline dev`'s DevStack: moto, in-process handlers, the gateway; hash
embedder) with one NTSB report ingested, and llama.cpp's OpenAI-compatible server serving
Gemma 3 270M (CPU) as the answer model. Then:

1. sequential streams of ``POST /api/query`` (``Accept: text/event-stream``), distinct questions
   (no cache hits): time to the ``start`` event, to the first ``token`` (TTFT), to ``done``,
   and tokens/s (completion tokens / time from first to last token);
2. ``--concurrent`` (8) streams at once, while a prober calls ``GET /api/health`` and
   ``GET /api/documents`` back to back: the probes' latency shows whether streams block other
   requests (llama.cpp generates for one request at a time, so the streams' TTFT grows; the
   gateway itself does not serialise them);
3. the same concurrency against the scripted OpenAI-compatible server (fixed 50 ms between
   tokens), which generates in parallel: the gateway's own overhead on concurrent streams.

Run:  .venv/bin/python bench/bench_streaming.py [--streams 5] [--concurrent 8] [--max-tokens 48]
Prints figures; asserts nothing (benchmarks print, tests assert behaviour).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / ".shim"), str(REPO)]

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

import requests  # noqa: E402

DOCUMENT = REPO.parent / "shared" / "corpora" / "ntsb" / "20080111X00040.pdf"
QUESTIONS = [
    "What happened to the airplane in Madill, Oklahoma?",
    "What was the probable cause of the accident?",
    "What were the weather conditions?",
    "How experienced was the pilot?",
    "What damage did the airplane sustain?",
    "Where did the airplane come to rest?",
    "What did the pilot report after the accident?",
    "Which runway was used for landing?",
    "What was the wind at the time?",
    "Was anyone injured?",
    "What type of airplane was involved?",
    "What phase of flight was the airplane in?",
]


@dataclass
class Stream:
    started: float
    start_event: float | None = None
    first_token: float | None = None
    last_token: float | None = None
    done: float | None = None
    tokens: int = 0
    completion_tokens: int | None = None
    error: str | None = None

    @property
    def ttft_ms(self) -> float | None:
        return None if self.first_token is None else (self.first_token - self.started) * 1000

    @property
    def tokens_per_s(self) -> float | None:
        if self.first_token is None or self.last_token is None or self.last_token <= self.first_token:
            return None
        count = self.completion_tokens or self.tokens
        return (count - 1) / (self.last_token - self.first_token) if count > 1 else None


def stream_once(client, question: str, top_k: int) -> Stream:
    record = Stream(time.perf_counter())
    try:
        for event in client.ask_stream(question, top_k=top_k):
            now = time.perf_counter()
            if event.event == "start":
                record.start_event = now
            elif event.event == "token":
                record.tokens += 1
                record.first_token = record.first_token or now
                record.last_token = now
            elif event.event == "done":
                record.done = now
                usage = event.data.get("usage") or {}
                record.completion_tokens = usage.get("completion_tokens")
            elif event.event == "error":
                record.error = event.data["error"]["code"]
    except Exception as exc:  # a benchmark reports failures, it does not stop at them
        record.error = exc.__class__.__name__
    return record


@dataclass
class Prober:
    """Calls the JSON API back to back until stopped; records each call's latency."""

    api_url: str
    token: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token}"
        paths = ("/health", "/documents")
        i = 0
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                ok = session.get(self.api_url + paths[i % 2], timeout=30).ok
            except requests.RequestException:
                ok = False
            self.latencies_ms.append((time.perf_counter() - t0) * 1000)
            self.errors += 0 if ok else 1
            i += 1
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()


def concurrent_streams(client, questions: list[str], top_k: int) -> tuple[list[Stream], Prober, float]:
    prober = Prober(client.api_url, client.token)
    probe_thread = threading.Thread(target=prober.run, daemon=True)
    results: list[Stream] = [Stream(0)] * len(questions)

    def run(i: int) -> None:
        results[i] = stream_once(client, questions[i], top_k)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(questions))]
    probe_thread.start()
    time.sleep(0.3)  # a baseline before the streams start
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    prober.stop()
    probe_thread.join()
    return results, prober, wall


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(title: str, streams: list[Stream]) -> None:
    ok = [s for s in streams if s.done is not None]
    ttft = [s.ttft_ms for s in ok if s.ttft_ms is not None]
    rates = [s.tokens_per_s for s in ok if s.tokens_per_s is not None]
    totals = [(s.done - s.started) * 1000 for s in ok if s.done]
    starts = [(s.start_event - s.started) * 1000 for s in ok if s.start_event]
    print(f"\n{title}: {len(ok)}/{len(streams)} completed"
          + (f", errors: {[s.error for s in streams if s.error]}" if any(s.error for s in streams) else ""))
    print("| figure | p50 | max |")
    print("|---|---|---|")
    print(f"| time to `start` event (ms) | {_fmt(statistics.median(starts) if starts else None)} | {_fmt(max(starts) if starts else None)} |")
    print(f"| time to first token (ms) | {_fmt(statistics.median(ttft) if ttft else None)} | {_fmt(max(ttft) if ttft else None)} |")
    print(f"| time to `done` (ms) | {_fmt(statistics.median(totals) if totals else None)} | {_fmt(max(totals) if totals else None)} |")
    print(f"| tokens/s while streaming | {_fmt(statistics.median(rates) if rates else None, 1)} | {_fmt(max(rates) if rates else None, 1)} |")
    tokens = [s.completion_tokens or s.tokens for s in ok]
    if tokens:
        print(f"| completion tokens per answer | {statistics.median(tokens):.0f} | {max(tokens)} |")


def report_probes(prober: Prober, baseline: list[float]) -> None:
    during = prober.latencies_ms
    print(f"| JSON requests during the streams (GET /health, /documents) | p50 {_p(during, 0.5):.1f} ms | "
          f"p95 {_p(during, 0.95):.1f} ms | max {max(during) if during else float('nan'):.1f} ms | "
          f"{len(during)} calls, {prober.errors} failed |")
    print(f"| the same with no stream running | p50 {_p(baseline, 0.5):.1f} ms | p95 {_p(baseline, 0.95):.1f} ms | "
          f"max {max(baseline) if baseline else float('nan'):.1f} ms | {len(baseline)} calls |")


def baseline_probes(client, seconds: float = 2.0) -> list[float]:
    prober = Prober(client.api_url, client.token)
    thread = threading.Thread(target=prober.run, daemon=True)
    thread.start()
    time.sleep(seconds)
    prober.stop()
    thread.join()
    return prober.latencies_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=5, help="sequential streams")
    parser.add_argument("--concurrent", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--top-k", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    args = parser.parse_args()

    from ragline.services import reset as reset_services
    from ragline_local.client import RaglineClient
    from ragline_local.runtime import DevStack, LocalConfig, free_port
    from tests.support import llamacpp
    from tests.support.openai_server import OpenAICompatibleServer

    reason = llamacpp.available()
    if reason:
        print(f"cannot run: {reason}")
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="ragline-bench-stream-"))
    with llamacpp.llama_server(workdir, threads=args.threads) as llama_url:
        os.environ.update({
            "RAGLINE_OPENAI_BASE_URL": llama_url, "RAGLINE_OPENAI_API_KEY": "local",
            "RAGLINE_LLM_MODEL": llamacpp.MODEL, "RAGLINE_LLM_MAX_TOKENS": str(args.max_tokens),
            "RAGLINE_CONTEXT_TOKEN_BUDGET": "400", "RAGLINE_OPENAI_TIMEOUT_S": "120",
        })
        config = LocalConfig(home=workdir / "home", aws_port=free_port(), embedder="hash", log_level="ERROR")
        with DevStack(config, gateway_port=free_port()) as stack:
            client = RaglineClient.from_endpoints(stack.endpoints(), "bench")
            document_id, _ = client.upload(DOCUMENT)
            client.wait([document_id], timeout_s=300)
            print(f"llama.cpp ({llamacpp.MODEL}, {args.threads} threads, max_tokens {args.max_tokens}); "
                  f"local stack with the hash embedder; document {DOCUMENT.name}")
            stream_once(client, "warm-up question about the landing", args.top_k)  # model load, caches
            sequential = [stream_once(client, q, args.top_k) for q in QUESTIONS[: args.streams]]
            report(f"Sequential streams through the gateway, llama.cpp (n={args.streams})", sequential)
            baseline = baseline_probes(client)
            questions = [f"{QUESTIONS[i % len(QUESTIONS)]} ({i})" for i in range(args.concurrent)]
            results, prober, wall = concurrent_streams(client, questions, args.top_k)
            report(f"{args.concurrent} concurrent streams, llama.cpp (wall {wall:.1f} s)", results)
            report_probes(prober, baseline)

            with OpenAICompatibleServer() as scripted:
                scripted.chunk_delay_s = 0.05
                os.environ["RAGLINE_OPENAI_BASE_URL"] = scripted.base_url
                os.environ["RAGLINE_LLM_MODEL"] = "gpt-4o-mini"
                reset_services()
                questions = [f"{QUESTIONS[i % len(QUESTIONS)]} [scripted {i}]" for i in range(args.concurrent)]
                results, prober, wall = concurrent_streams(client, questions, args.top_k)
                report(f"{args.concurrent} concurrent streams, scripted server at 20 tokens/s each (wall {wall:.1f} s)",
                       results)
                report_probes(prober, baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
