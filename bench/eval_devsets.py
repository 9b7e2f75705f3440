"""Retrieval and answer quality on every dev set under bench/devsets/ (the tables in
docs/benchmarks.md), scored by the code of `ragline eval` (local/commands/eval.py).

Why in-process: the corpora are indexed with the pipeline's own extract/chunk/sparse/embed
functions straight into a qdrant-edge index in a temporary folder, and questions go through
the API's `QueryService` (SQLite catalog, no answer cache, extractive answers). That measures
retrieval and answers, not orchestration, and takes seconds instead of the state machine's
minutes. `ragline eval QNA.csv --ingest DIR` is the same scoring through the real stack.

Document embeddings are cached on disk (``.ragline/eval-embeddings.sqlite``, keyed by
embedder name + text hash), so re-runs after a retrieval change embed nothing.

    .venv/bin/python bench/eval_devsets.py                      # all dev sets, local default embedder
    .venv/bin/python bench/eval_devsets.py --devsets nih --embedder e5 --json out.json
    RAGLINE_FUSION=dbsf .venv/bin/python bench/eval_devsets.py  # any RAGLINE_* setting applies
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEVSETS = Path(os.environ.get("RAGLINE_DEVSETS_DIR", REPO / "bench" / "devsets"))
CACHE = Path(os.environ.get("RAGLINE_EVAL_CACHE", REPO / ".ragline" / "eval-embeddings.sqlite"))
TENANT = "eval"

from ragline.chunking import chunk_document  # noqa: E402
from ragline.embeddings import make_embedder  # noqa: E402
from ragline.extract import extract  # noqa: E402
from ragline.formats import SUPPORTED_SUFFIXES  # noqa: E402
from ragline.models import IndexPoint, document_id_for, point_id_for  # noqa: E402
from ragline.settings import Settings  # noqa: E402
from ragline.sparse import sparse_document_vector  # noqa: E402
from ragline_local.commands.eval import (  # noqa: E402
    MODES,
    ServiceBackend,
    evaluate,
    load_questions,
    render_table,
    report,
    summarise,
)

try:  # the payload's document context, as the pipeline writes it (absent in older code)
    from ragline.pipeline import document_context_fields as context_fields
except ImportError:
    context_fields = None


class CachedEmbedder:
    """An embedder whose vectors are kept in SQLite by (embedder name, text hash)."""

    def __init__(self, embedder, path: Path = CACHE) -> None:
        self.embedder, self.name, self.dimensions = embedder, embedder.name, embedder.dimensions
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=120)  # several runs may share the cache
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector TEXT)")
        self.embedded = 0  # texts actually sent to the model (cache misses)
        self.seconds = 0.0

    def _key(self, text: str, kind: str) -> str:
        return hashlib.sha256(f"{self.name}\0{kind}\0{text}".encode()).hexdigest()

    def _cached(self, texts: Sequence[str], kind: str, embed) -> list[list[float]]:
        keys = [self._key(t, kind) for t in texts]
        found = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(part))})", part
            ).fetchall()
            found.update((k, json.loads(v)) for k, v in rows)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if missing:
            t0 = time.perf_counter()
            vectors = embed([texts[i] for i in missing])
            self.seconds += time.perf_counter() - t0
            self.embedded += len(missing)
            rows = [(keys[i], json.dumps(v)) for i, v in zip(missing, vectors)]
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._db.commit()
            found.update((keys[i], v) for i, v in zip(missing, vectors))
        return [found[k] for k in keys]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._cached(texts, "passage", self.embedder.embed_documents)

    def embed_query(self, text: str) -> list[float]:
        return self._cached([text], "query", lambda ts: [self.embedder.embed_query(ts[0])])[0]


def corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)


def index_corpus(folder: Path, embedder, index, settings: Settings) -> dict[str, float]:
    """Index every file as the pipeline's chunk + embed_and_index steps do; returns counts."""
    from ragline.errors import DocumentError

    stats = {"documents": 0, "chunks": 0, "failed": 0}
    index.ensure_collection(embedder.dimensions)
    for file in corpus_files(folder):
        source = file.relative_to(folder).as_posix()
        try:
            document = extract(file.read_bytes(), file.name)
        except DocumentError:
            stats["failed"] += 1
            continue
        chunks = chunk_document(document, settings.chunk_tokens, settings.chunk_overlap_tokens)
        if not chunks:
            stats["failed"] += 1
            continue
        # As embed_and_index: the embedded/sparse text is the chunk with its context header where
        # the chunker makes one, and the payload carries the document context (getattr: older code).
        indexed = [c.indexed_text() if hasattr(c, "indexed_text") else c.text for c in chunks]
        descriptor = getattr(document, "descriptor", None)
        descriptor = descriptor.model_dump(mode="json") if descriptor is not None else None
        vectors = embedder.embed_documents(indexed)
        document_id = document_id_for(TENANT, f"{TENANT}/{source}")
        index.upsert([
            IndexPoint(id=point_id_for(document_id, c.index), tenant=TENANT, document_id=document_id,
                       version="v1", chunk_index=c.index, text=c.text, source=source,
                       file_type=document.file_type, title=document.title, page_start=c.page_start,
                       page_end=c.page_end, heading=c.heading, dense=vector, sparse=sparse_document_vector(text),
                       **(context_fields(c, descriptor) if context_fields else {}))
            for c, vector, text in zip(chunks, vectors, indexed)
        ])
        stats["documents"] += 1
        stats["chunks"] += len(chunks)
    return stats


def query_service(index, embedder, settings: Settings, catalog_path: str):
    from ragline.cache import make_cache
    from ragline.catalog import make_catalog
    from ragline.query.retrieval import Retriever
    from ragline.query.service import QueryService

    catalog = make_catalog(Settings(catalog_url=f"sqlite:///{catalog_path}"))
    cache = make_cache(Settings(redis_url=None))
    # getattr: the same script also measures older code (the "before" tables) without a second stage.
    stage = {option: getattr(settings, name) for option, name in
             (("candidates", "rerank_candidates"), ("max_per_document", "max_chunks_per_document"),
              ("passage_rerank", "passage_rerank"), ("neighbour_chunks", "neighbour_chunks"))
             if hasattr(settings, name)}
    retriever = Retriever(index, lambda: embedder, cache, prefetch_limit=settings.prefetch_k, **stage)
    return QueryService(catalog=catalog, retriever=retriever, cache=cache, llm=None,
                        context_token_budget=settings.context_token_budget)


def run_devset(name: str, spec: dict, embedder, settings: Settings, modes: Sequence[str], limit: int | None,
               index_only: bool = False):
    from ragline.index import make_index

    questions = load_questions(DEVSETS / spec["csv"])[: limit or None]
    corpus = (DEVSETS.parents[1] / spec["corpus"]).resolve()  # corpus paths are relative to the repository
    with tempfile.TemporaryDirectory() as folder:
        index_settings = settings.model_copy(update={"qdrant_engine": "edge", "qdrant_path": folder,
                                                     "collection": f"eval_{name}"})
        index = make_index(index_settings)
        t0 = time.perf_counter()
        stats = index_corpus(corpus, embedder, index, settings)
        stats["index_s"] = round(time.perf_counter() - t0, 1)
        if index_only:
            index.close()
            return [], stats
        service = query_service(index, embedder, settings, os.path.join(folder, "catalog.db"))
        results = evaluate(questions, ServiceBackend(service, TENANT), modes)
        index.close()
    return results, stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devsets", nargs="+", help="names in bench/devsets/devsets.json (default: all)")
    parser.add_argument("--embedder", default=os.environ.get("RAGLINE_EMBEDDER"), help="default: the local default")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--limit", type=int, help="only the first N questions of each dev set")
    parser.add_argument("--json", type=Path, dest="json_path")
    parser.add_argument("--index-only", action="store_true", help="index (fill the embedding cache), ask nothing")
    args = parser.parse_args()
    specs = json.loads((DEVSETS / "devsets.json").read_text())
    settings = Settings()
    name = args.embedder or local_default_embedder()
    settings = settings.model_copy(update={"embedder": name})
    embedder = CachedEmbedder(make_embedder(settings))
    output = {}
    for devset in args.devsets or list(specs):
        results, stats = run_devset(devset, specs[devset], embedder, settings, args.modes, args.limit,
                                    args.index_only)
        if args.index_only:
            print(devset, stats, flush=True)
            continue
        title = f"{devset} — embedder {embedder.name}, fusion {describe_fusion(settings)}, {stats}"
        print(render_table(summarise(results), title), "\n", flush=True)
        output[devset] = report(results, embedder=embedder.name, index=stats)
    if embedder.embedded:
        print(f"embedded {embedder.embedded} new texts in {embedder.seconds:.1f} s "
              f"({embedder.embedded / max(embedder.seconds, 1e-9):.1f}/s)")
    if args.json_path:
        args.json_path.write_text(json.dumps(output, indent=1))


def local_default_embedder() -> str:
    try:
        from ragline_local.cli import default_embedder
    except ImportError:
        return "hash"
    return default_embedder()


def describe_fusion(settings: Settings) -> str:
    fields = [f for f in ("fusion", "rrf_k", "fusion_weights") if hasattr(settings, f)]
    return ", ".join(f"{f}={getattr(settings, f)}" for f in fields) or "rrf k=60"


if __name__ == "__main__":
    main()
