"""Vector index benchmark: upsert throughput and search latency of the index engines.

EdgeIndex (qdrant-edge, in-process) at 10k and 100k points, QdrantIndex in qdrant-client local
mode at 10k (it is brute-force Python; 100k would take hours of queries). Vectors are what
ingestion makes: HashEmbedder dense vectors and BM25 sparse vectors of synthetic chunks
(~150 words drawn from a Zipf-distributed vocabulary with a long tail of rare terms, 5 % in
Vietnamese). Four tenants, the queried one holding 70 % of the points: the tenant filter then
prunes little, the worst case. Only index calls are timed (vectors are computed beforehand).
EdgeIndex is measured as ingestion leaves it, then after ``optimize()``
(HNSW). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_index.py [--sizes 10000 100000] [--local-size 10000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ragline.embeddings.hash_embedder import HashEmbedder  # noqa: E402
from ragline.index.edge_index import EdgeIndex  # noqa: E402
from ragline.index.qdrant_index import QdrantIndex  # noqa: E402
from ragline.models import IndexPoint, SparseVector, document_id_for, point_id_for  # noqa: E402
from ragline.sparse import sparse_document_vector, sparse_query_vector  # noqa: E402

DIMS = 384
BATCH = 64  # points per upsert: one Map item (chunks_per_batch)
CHUNKS_PER_DOCUMENT = 40
TENANTS = (("acme", 0.7), ("globex", 0.1), ("initech", 0.1), ("umbrella", 0.1))
QUERY_TENANT = "acme"

ENGLISH = """
the of and to in a is that for it as was with be by on not he this are or his from at which
but have an they you were her she there been one all we their has would when if so no will
system data report safety aircraft engine pilot flight landing runway weather approach crew
control tower altitude fuel failure inspection maintenance procedure manual training record
patient trial study treatment dose adverse event outcome cohort placebo randomized protocol
consent enrollment criteria endpoint baseline follow analysis results significant clinical
contract payment invoice customer account password portal access policy security network
server storage backup restore incident response ticket priority deadline quarterly revenue
growth margin forecast budget cost sales region market product release version update
document section page table figure appendix summary conclusion recommendation finding cause
""".split()
VIETNAMESE = """
và của là có được cho không trong người những một các với này để đã khi đến từ theo
hệ thống dữ liệu báo cáo an toàn máy bay động cơ phi công chuyến bay hạ cánh đường băng
thời tiết bệnh nhân thử nghiệm điều trị liều kết quả nghiên cứu hợp đồng thanh toán khách
hàng mật khẩu tài khoản chính sách bảo mật sự cố Hà Nội thủ đô Việt Nam sông Hồng
""".split()


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    """Common words first, then pseudo-words and codes: the long tail BM25 lives on."""
    syllables = ["ka", "lo", "mi", "tre", "van", "sol", "qua", "zen", "dor", "pli", "ux", "ber", "tor", "nix"]
    words = list(dict.fromkeys(ENGLISH))
    while len(words) < size:
        if rng.random() < 0.1:
            words.append(
                f"{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.choice('ABCDXYZ')}-{rng.randint(100, 9999)}"
            )
        else:
            words.append("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return words


def synthetic_chunks(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = [1.0 / (rank + 1) ** 1.07 for rank in range(len(words))]  # Zipf
    chunks = []
    for _ in range(n):
        length = rng.randint(110, 190)
        if rng.random() < 0.05:
            tokens = rng.choices(VIETNAMESE, k=length)
        else:
            tokens = rng.choices(words, weights=weights, k=length)
        sentences = [" ".join(tokens[i : i + 15]).capitalize() + "." for i in range(0, length, 15)]
        chunks.append(" ".join(sentences))
    return chunks


def _vectors(texts: list[str]) -> tuple[np.ndarray, list[tuple[list[int], list[float]]]]:
    embedder = HashEmbedder(DIMS)
    dense = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
    sparse = [(v.indices, v.values) for v in map(sparse_document_vector, texts)]
    return dense, sparse


def vectors(texts: list[str]) -> tuple[np.ndarray, list[tuple[list[int], list[float]]]]:
    """Dense and sparse vectors of all texts, on every core (not part of any timing)."""
    step = 1000
    parts = [texts[i : i + step] for i in range(0, len(texts), step)]
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        results = list(pool.map(_vectors, parts))
    return np.concatenate([d for d, _ in results]), [s for _, part in results for s in part]


def tenant_of(i: int, n: int) -> str:
    position, cumulative = i / n, 0.0
    for tenant, share in TENANTS:
        cumulative += share
        if position < cumulative:
            return tenant
    return TENANTS[-1][0]


def batches(texts: list[str], dense: np.ndarray, sparse: list, workers: int) -> list[list[list[IndexPoint]]]:
    """Points grouped into upsert batches, dealt round-robin to ``workers`` writer threads."""
    n = len(texts)
    all_batches: list[list[IndexPoint]] = []
    for start in range(0, n, BATCH):
        batch = []
        for i in range(start, min(start + BATCH, n)):
            tenant = tenant_of(i, n)
            document_id = document_id_for(tenant, f"doc-{i // CHUNKS_PER_DOCUMENT}.pdf")
            batch.append(
                IndexPoint(
                    id=point_id_for(document_id, i % CHUNKS_PER_DOCUMENT),
                    tenant=tenant,
                    document_id=document_id,
                    version="v1",
                    chunk_index=i % CHUNKS_PER_DOCUMENT,
                    text=texts[i],
                    source=f"doc-{i // CHUNKS_PER_DOCUMENT}.pdf",
                    file_type="pdf",
                    title=f"Document {i // CHUNKS_PER_DOCUMENT}",
                    page_start=i % CHUNKS_PER_DOCUMENT // 2 + 1,
                    page_end=i % CHUNKS_PER_DOCUMENT // 2 + 1,
                    dense=dense[i].tolist(),
                    sparse=SparseVector(indices=sparse[i][0], values=sparse[i][1]),
                )
            )
        all_batches.append(batch)
    return [all_batches[w::workers] for w in range(workers)]


def timed_upsert(index, per_worker: list[list[list[IndexPoint]]]) -> float:
    """Points per second, with one writer thread per entry of ``per_worker``."""

    def write(own: list[list[IndexPoint]]) -> None:
        for batch in own:
            index.upsert(batch)

    index.ensure_collection(DIMS)
    threads = [threading.Thread(target=write, args=(own,)) for own in per_worker]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return sum(len(batch) for own in per_worker for batch in own) / elapsed


def queries(texts: list[str], count: int, seed: int = 11) -> list[tuple[list[float], SparseVector]]:
    """Queries of 3-8 consecutive words from the queried tenant's chunks."""
    rng = random.Random(seed)
    embedder = HashEmbedder(DIMS)
    tenant_texts = [t for i, t in enumerate(texts) if tenant_of(i, len(texts)) == QUERY_TENANT]
    result = []
    for _ in range(count):
        words = rng.choice(tenant_texts).rstrip(".").split()
        start = rng.randrange(0, len(words) - 8)
        query = " ".join(words[start : start + rng.randint(3, 8)])
        result.append((embedder.embed_query(query), sparse_query_vector(query)))
    return result


def latencies(index, qs: Sequence[tuple[list[float], SparseVector]], mode: str) -> list[float]:
    search: Callable = index.search
    search(QUERY_TENANT, dense=qs[0][0], sparse=qs[0][1], mode=mode)  # warm-up
    result = []
    for dense, sparse in qs:
        start = time.perf_counter()
        hits = search(QUERY_TENANT, dense=dense, sparse=sparse, mode=mode, limit=8, prefetch_limit=40)
        result.append(time.perf_counter() - start)
        assert hits, "a query drawn from the corpus must find something"
    return result


def report(engine: str, n: int, upsert_rates: dict[str, float], index, qs, label: str = "") -> None:
    rates = "  ".join(f"{what}: {rate:,.0f} pts/s" for what, rate in upsert_rates.items())
    print(f"{engine:<6} {n:>7,} points  " + (f"upsert {rates}" if rates else label))
    for mode in ("hybrid", "dense", "sparse"):
        ms = [1000 * s for s in latencies(index, qs, mode)]
        q = statistics.quantiles(ms, n=100, method="inclusive")
        print(f"{'':<6} {'':>14}  {mode:<6} p50 {q[49]:7.2f} ms  p95 {q[94]:7.2f} ms  p99 {q[98]:7.2f} ms")


def bench_edge(texts, dense, sparse, qs, workdir: str) -> None:
    n = len(texts)
    single = EdgeIndex(os.path.join(workdir, f"edge-{n}-1"), "chunks")
    rate_1 = timed_upsert(single, batches(texts, dense, sparse, 1))
    single.close()
    index = EdgeIndex(os.path.join(workdir, f"edge-{n}-4"), "chunks")
    rate_4 = timed_upsert(index, batches(texts, dense, sparse, 4))
    assert index.count(QUERY_TENANT) == sum(tenant_of(i, n) == QUERY_TENANT for i in range(n))
    report("edge", n, {"1 thread": rate_1, "4 threads": rate_4}, index, qs)
    start = time.perf_counter()
    index.optimize()
    print(f"{'':<6} {'':>14}  optimize() (HNSW build, blocks the shard): {time.perf_counter() - start:.1f} s")
    report("edge", n, {}, index, qs, label="after optimize()")
    index.close()


def bench_local(texts, dense, sparse, qs, workdir: str) -> None:
    index = QdrantIndex("chunks", path=os.path.join(workdir, f"local-{len(texts)}"))
    rate = timed_upsert(index, batches(texts, dense, sparse, 1))
    report("local", len(texts), {"1 thread": rate}, index, qs)
    index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="EdgeIndex sizes")
    parser.add_argument("--local-size", type=int, default=10_000, help="local-mode size (0: skip)")
    parser.add_argument("--queries", type=int, default=200, help="queries per mode (local mode: a tenth)")
    args = parser.parse_args()

    largest = max([*args.sizes, args.local_size])
    start = time.perf_counter()
    texts = synthetic_chunks(largest)
    dense, sparse = vectors(texts)
    print(f"{largest:,} synthetic chunks embedded in {time.perf_counter() - start:.0f} s (not timed below)")
    print(
        f"dense: HashEmbedder {DIMS} dims; sparse: BM25; {len(TENANTS)} tenants, queries on one with 70 %\n"
    )
    with tempfile.TemporaryDirectory(prefix="ragline-bench-") as workdir:
        for n in sorted(args.sizes):
            bench_edge(texts[:n], dense[:n], sparse[:n], queries(texts[:n], args.queries), workdir)
        if args.local_size:
            n = args.local_size
            local_queries = queries(texts[:n], max(20, args.queries // 10))
            bench_local(texts[:n], dense[:n], sparse[:n], local_queries, workdir)


if __name__ == "__main__":
    main()
