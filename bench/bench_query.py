"""Query latency and throughput: what a question costs on the server, hit and miss.

Measures, on synthetic corpora of 10k and 100k indexed chunks (EdgeIndex on disk, HashEmbedder,
BM25 sparse vectors, SQLite catalog, Redis cache when reachable):

- p50/p95/p99 server-side latency of ``POST /query`` — the Lambda handler's wall time for an
  API Gateway proxy event, Powertools routing/validation/serialisation included — for
  - a cache hit (same question again),
  - a retrieval-only miss (new question; sparse, and hybrid with the hash dense embedder;
    no LLM: extractive answer), and ``GET /search`` (hybrid);
- requests/s of cache hits under concurrent load through the local HTTP gateway
  (``ragline_local.gateway``: HTTP -> API Gateway proxy event -> handler), keep-alive clients.

Run:  .venv/bin/python bench/bench_query.py [--sizes 10000 100000] [--requests 400]
Indexes are built once under --workdir (default .ragline/bench) and reused by later runs.
Prints figures; asserts nothing (DESIGN.md: benchmarks print, tests assert behaviour).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DIMENSIONS = 384
CHUNK_WORDS = 60
CHUNKS_PER_DOCUMENT = 100
TENANT = "bench"

VIETNAMESE = (
    "thuế giá trị gia tăng hóa đơn điện tử hàng hóa dịch vụ doanh nghiệp nghỉ phép năm lương "
    "thưởng hợp đồng lao động bảo hiểm xã hội khách hàng hoàn tiền chính sách quy định"
).split()


def vocabulary(seed: int = 7, size: int = 6000) -> list[str]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(size)}
    return sorted(words) + VIETNAMESE


def chunk_text(rng: random.Random, vocab: list[str]) -> str:
    # Zipf-ish word choice: a few common words, a long tail (like real text).
    words = [vocab[min(len(vocab) - 1, int(rng.paretovariate(1.1)) * 7 % len(vocab))] if rng.random() < 0.4
             else rng.choice(vocab) for _ in range(CHUNK_WORDS)]
    sentences = [" ".join(words[i : i + 12]).capitalize() + "." for i in range(0, CHUNK_WORDS, 12)]
    return " ".join(sentences)


def _points(args: tuple[int, int, int]) -> list[dict[str, Any]]:
    """Build one slice of the corpus (runs in a worker process)."""
    start, stop, seed = args
    sys.path[:0] = [str(REPO / "lambdas"), str(REPO)]
    from ragline.embeddings.hash_embedder import HashEmbedder
    from ragline.models import IndexPoint, point_id_for
    from ragline.sparse import sparse_document_vector

    vocab = vocabulary()
    embedder = HashEmbedder(DIMENSIONS)
    out = []
    for n in range(start, stop):
        rng = random.Random(seed * 1_000_003 + n)
        text = chunk_text(rng, vocab)
        document = n // CHUNKS_PER_DOCUMENT
        document_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{document}"))
        out.append(
            IndexPoint(
                id=point_id_for(document_id, n % CHUNKS_PER_DOCUMENT),
                tenant=TENANT,
                document_id=document_id,
                version="v1",
                chunk_index=n % CHUNKS_PER_DOCUMENT,
                text=text,
                source=f"docs/file-{document}.pdf",
                file_type="pdf",
                title=f"File {document}",
                page_start=1 + (n % CHUNKS_PER_DOCUMENT) // 4,
                page_end=1 + (n % CHUNKS_PER_DOCUMENT) // 4,
                dense=embedder.embed_query(text),
                sparse=sparse_document_vector(text),
            ).model_dump()
        )
    return out


def build_index(path: Path, size: int, workers: int) -> float:
    """Index ``size`` synthetic chunks at ``path`` (skipped when already built); seconds spent."""
    from ragline.index.edge_index import EdgeIndex
    from ragline.models import IndexPoint

    marker = path / "built.json"
    if marker.exists() and json.loads(marker.read_text()).get("size") == size:
        return 0.0
    started = time.perf_counter()
    index = EdgeIndex(str(path / "qdrant"), "chunks")
    index.ensure_collection(DIMENSIONS)
    step = 2000
    slices = [(s, min(size, s + step), 1) for s in range(0, size, step)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for batch in pool.map(_points, slices):
            index.upsert([IndexPoint.model_validate(p) for p in batch])
    index.close()
    marker.write_text(json.dumps({"size": size}))
    return time.perf_counter() - started


# ------------------------------------------------------------------------------ measuring


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

    return {"p50": pick(50), "p95": pick(95), "p99": pick(99), "mean": statistics.fmean(ordered), "n": len(ordered)}


class Caller:
    """Calls the API handler in-process with API Gateway REST proxy events."""

    def __init__(self) -> None:
        from handlers.api import handler
        from ragline_local.gateway import api_gateway_event
        from ragline_local.seams import InProcessContext

        self.handler = handler
        self.event_for = api_gateway_event
        self.context = InProcessContext("ragline-api", "arn:aws:lambda:local:0:function:ragline-api", 1024, 29)
        self.claims = {"sub": "bench", "custom:tenant": TENANT}

    def timed(self, method: str, path: str, query: str = "", body: Any = None) -> tuple[float, dict[str, Any]]:
        data = json.dumps(body).encode() if body is not None else b""
        event = self.event_for(method, path, query, {"Content-Type": "application/json"}, data, self.claims)
        started = time.perf_counter()
        response = self.handler(event, self.context)
        elapsed = (time.perf_counter() - started) * 1000
        if response["statusCode"] != 200:
            raise RuntimeError(f"{method} {path}: {response['statusCode']} {response['body'][:300]}")
        return elapsed, json.loads(response["body"])


def question(rng: random.Random, vocab: list[str]) -> str:
    return " ".join(rng.choice(vocab) for _ in range(rng.randint(3, 6))) + "?"


def measure_size(caller: Caller, requests: int, seed: int) -> dict[str, dict[str, float]]:
    vocab = vocabulary()
    rng = random.Random(seed)
    results: dict[str, dict[str, float]] = {}

    # Cache hit: the same question over and over (the first ask fills the cache).
    hit_q = {"question": question(rng, vocab), "mode": "hybrid"}
    caller.timed("POST", "/query", body=hit_q)
    samples, cached = [], 0
    for _ in range(requests):
        ms, body = caller.timed("POST", "/query", body=hit_q)
        samples.append(ms)
        cached += body["cached"]
    if cached != requests:
        raise RuntimeError(f"expected only cache hits, got {cached}/{requests}")
    results["query hit"] = percentiles(samples)

    # Misses: a new question every time (no answer or embedding cache entry), no LLM.
    for mode in ("sparse", "hybrid"):
        samples = []
        for _ in range(requests):
            ms, body = caller.timed("POST", "/query", body={"question": question(rng, vocab), "mode": mode})
            assert not body["cached"]
            samples.append(ms)
        results[f"query miss {mode}"] = percentiles(samples)

    samples = []
    for _ in range(requests):
        from urllib.parse import urlencode

        ms, _ = caller.timed("GET", "/search", urlencode({"q": question(rng, vocab), "mode": "hybrid", "top_k": 6}))
        samples.append(ms)
    results["search hybrid"] = percentiles(samples)
    return results


def _post(connection: http.client.HTTPConnection, body: str, headers: dict[str, str]) -> dict[str, Any]:
    connection.request("POST", "/api/query", body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"load test: HTTP {response.status} {data[:200]!r}")
    return json.loads(data)


def _client(args: tuple[str, int, str, str, float, float]) -> tuple[int, list[float]]:
    """One keep-alive client posting the same question from ``start`` until ``until`` (runs in
    its own process, so the clients do not compete with the server for the GIL)."""
    host, port, body, token, start, until = args
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection(host, port, timeout=30)
    time.sleep(max(0.0, start - time.time()))
    latencies: list[float] = []
    try:
        while time.time() < until:
            started = time.perf_counter()
            result = _post(connection, body, headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if not result["cached"]:
                raise RuntimeError("load test expected cache hits")
    finally:
        connection.close()
    return len(latencies), latencies


def load_test(concurrency: int, duration_s: float, nodelay: bool | None = None) -> dict[str, float]:
    """Cache hits through the local HTTP gateway (HTTP -> proxy event -> handler), served by
    this process; ``concurrency`` keep-alive clients in separate processes. ``nodelay`` forces
    TCP_NODELAY on the gateway's sockets (None: as the gateway ships)."""
    from ragline_local import gateway as gateway_module
    from ragline_local.devauth import DevAuth
    from ragline_local.gateway import Gateway

    handler_class = gateway_module._RequestHandler
    shipped = handler_class.disable_nagle_algorithm
    if nodelay is not None:
        handler_class.disable_nagle_algorithm = nodelay
    auth = DevAuth()
    gateway = Gateway("127.0.0.1", 0, auth=auth).start()
    host, port = gateway.server.server_address[:2]
    token = auth.issue_token("bench", TENANT)
    body = json.dumps({"question": "cached question for the load test", "mode": "sparse"})
    warm = http.client.HTTPConnection(host, port, timeout=30)
    for _ in range(3):
        _post(warm, body, {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    warm.close()

    try:
        with ProcessPoolExecutor(max_workers=concurrency) as pool:
            start_at = time.time() + 2.0  # every worker process up before the clock starts
            until = start_at + duration_s
            futures = [pool.submit(_client, (host, port, body, token, start_at, until)) for _ in range(concurrency)]
            results = [f.result() for f in futures]
        elapsed = time.time() - start_at
    finally:
        gateway.stop()
        handler_class.disable_nagle_algorithm = shipped
    total = sum(count for count, _ in results)
    client_side = percentiles([ms for _, per in results for ms in per])
    return {"requests": total, "seconds": elapsed, "rps": total / elapsed,
            **{f"client {k}": v for k, v in client_side.items() if k != "n"}}


# ------------------------------------------------------------------------------------- main


def configure(workdir: Path, size: int, redis_url: str | None, namespace: str) -> None:
    env = {
        "RAGLINE_CATALOG_URL": f"sqlite:///{(workdir / f'catalog-{size}.db').resolve()}",
        "RAGLINE_QDRANT_ENGINE": "edge",
        "RAGLINE_QDRANT_PATH": str((workdir / str(size) / "qdrant").resolve()),
        "RAGLINE_COLLECTION": "chunks",
        "RAGLINE_EMBEDDER": "hash",
        "RAGLINE_EMBEDDING_DIMENSIONS": str(DIMENSIONS),
        "RAGLINE_ENVIRONMENT": namespace,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "POWERTOOLS_METRICS_NAMESPACE": "RaglineBench",
    }
    os.environ.update(env)
    os.environ.pop("RAGLINE_LLM_MODEL", None)
    if redis_url:
        os.environ["RAGLINE_REDIS_URL"] = redis_url
    else:
        os.environ.pop("RAGLINE_REDIS_URL", None)
    from ragline import services

    services.reset()


def redis_available(url: str) -> bool:
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def cleanup_redis(url: str, namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"ragline:{namespace}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def table(rows: list[tuple[str, str, dict[str, float]]]) -> str:
    lines = [f"{'chunks':>8}  {'scenario':<20} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'n':>5}"]
    for size, name, stats in rows:
        lines.append(
            f"{size:>8}  {name:<20} {stats['p50']:>8.2f} {stats['p95']:>8.2f} {stats['p99']:>8.2f} "
            f"{stats['mean']:>8.2f} {int(stats['n']):>5}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=400, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load test")
    parser.add_argument("--workdir", type=Path, default=REPO / ".ragline" / "bench")
    parser.add_argument("--redis-url", default=os.environ.get("RAGLINE_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--no-redis", action="store_true", help="use the in-process cache")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)

    sys.path[:0] = [str(REPO / "lambdas"), str(REPO)]
    redis_url = None if args.no_redis else args.redis_url
    if redis_url and not redis_available(redis_url):
        print(f"Redis at {redis_url} unreachable: using the in-process cache", file=sys.stderr)
        redis_url = None
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"cache: {'Redis ' + redis_url if redis_url else 'in-process'}; embedder: hash ({DIMENSIONS} d); "
          f"index: qdrant-edge; catalog: SQLite")

    rows = []
    try:
        for size in args.sizes:
            path = args.workdir / str(size)
            path.mkdir(parents=True, exist_ok=True)
            built = build_index(path, size, args.workers)
            if built:
                print(f"indexed {size} chunks in {built:.1f} s")
            configure(args.workdir, size, redis_url, namespace)
            caller = Caller()
            for name, stats in measure_size(caller, args.requests, seed=size).items():
                rows.append((str(size), name, stats))
        print()
        print("server-side latency of one request (handler wall time, API Gateway proxy event in/out)")
        print(table(rows))
        print()
        from ragline_local.gateway import _RequestHandler

        variants = [("as shipped", None)]
        if not _RequestHandler.disable_nagle_algorithm:
            # Headers and body leave in two writes; without TCP_NODELAY, Nagle + delayed ACK
            # add ~40 ms per keep-alive response. Show what the gateway could do with it.
            variants.append(("with TCP_NODELAY", True))
        for label, nodelay in variants:
            load = load_test(args.concurrency, args.duration, nodelay)
            print(f"cache hits through the local HTTP gateway, {label} ({args.sizes[-1]} chunks, "
                  f"{args.concurrency} keep-alive clients, {load['seconds']:.1f} s): {load['rps']:.0f} requests/s "
                  f"(client p50 {load['client p50']:.2f} ms, p99 {load['client p99']:.2f} ms, "
                  f"{load['requests']} requests)")
    finally:
        if redis_url:
            cleanup_redis(redis_url, namespace)


if __name__ == "__main__":
    main()
