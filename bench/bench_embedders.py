"""Embedding speed of the local embedders on real chunks (chunks/s), in this process.

Chunks come from the NTSB corpus through the pipeline's extract + chunk code; every embedder
embeds the same texts, after a warm-up call (model loading is not counted). Threads follow
the machine (set OMP_NUM_THREADS / torch threads to compare on a given core count).

    .venv/bin/python bench/bench_embedders.py [--chunks 64] [--embedders e5 local hash]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ragline.chunking import chunk_document  # noqa: E402
from ragline.embeddings import make_embedder  # noqa: E402
from ragline.extract import extract  # noqa: E402
from ragline.settings import Settings  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpora" / "ntsb"


def sample_chunks(count: int) -> list[str]:
    texts: list[str] = []
    for file in sorted(CORPUS.glob("*.pdf")):
        chunks = chunk_document(extract(file.read_bytes(), file.name), 220, 40)
        texts += [c.indexed_text() if hasattr(c, "indexed_text") else c.text for c in chunks]
        if len(texts) >= count:
            return texts[:count]
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=64)
    parser.add_argument("--embedders", nargs="+", default=["e5", "local"], choices=["e5", "local", "hash"])
    args = parser.parse_args()
    texts = sample_chunks(args.chunks)
    print(f"{len(texts)} chunks of the NTSB corpus")
    print("| embedder | chunks | seconds | chunks/s |\n|---|---|---|---|")
    for name in args.embedders:
        embedder = make_embedder(Settings(embedder=name))
        embedder.embed_documents(texts[:2])  # load the model
        started = time.perf_counter()
        embedder.embed_documents(texts)
        seconds = time.perf_counter() - started
        print(f"| {embedder.name} | {len(texts)} | {seconds:.1f} | {len(texts) / seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
