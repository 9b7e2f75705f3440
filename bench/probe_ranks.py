"""Where the passage that answers a dev-set question ranks, list by list.

For each question (all, or the ids given), the chunks of its gold documents that hold every
answer term, and their ranks (0-based, "-" past the list) in the dense list, the sparse list,
the fused hybrid pool and the final ranking after the second stage. A context miss then reads
as "found by one list only", "lost in fusion" or "buried by the rerank".

    .venv/bin/python bench/probe_ranks.py --devset nih --ids nih-057 nih-059 --embedder e5
    .venv/bin/python bench/probe_ranks.py --devset nih --misses   # the hybrid context misses

Same index and code as bench/eval_devsets.py (its cached embeddings); prints, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_devsets as ev  # noqa: E402

from ragline.embeddings import make_embedder  # noqa: E402
from ragline.index import make_index  # noqa: E402
from ragline.settings import Settings  # noqa: E402
from ragline_local.commands.eval import has_terms, load_questions, matches_source  # noqa: E402

DEPTH = 60  # how far down each list to look


def answering(hit, question) -> bool:
    return matches_source(hit.source, question.gold_sources) and has_terms(hit.text, question.answer_terms)


def rank(hits, question) -> str:
    return next((str(i) for i, hit in enumerate(hits) if answering(hit, question)), "-")


def probe(service, question, index, show: int = 0) -> dict[str, str]:
    retriever = service.retriever
    dense = retriever.query_vector(question.question)
    sparse = retriever.sparse_vector(question.question)

    def listed(mode: str):
        return index.search(ev.TENANT, dense=dense if mode != "sparse" else None,
                            sparse=sparse if mode != "dense" else None, mode=mode, limit=DEPTH,
                            prefetch_limit=DEPTH)

    lists = {mode: listed(mode) for mode in ("dense", "sparse", "hybrid")}
    lists["final"] = retriever.retrieve(ev.TENANT, question.question, mode="hybrid", limit=DEPTH).hits
    for name, hits in lists.items() if show else ():
        print(f"{question.id} {name}:")
        for i, hit in enumerate(hits[:show]):
            mark = "*" if answering(hit, question) else " "
            print(f"  {mark}{i:2} {hit.source[:28]:28} #{hit.chunk_index:<4} {' '.join(hit.text.split())[:110]}")
    ranks = {name: rank(hits, question) for name, hits in lists.items()}
    return {"dense": ranks["dense"], "sparse": ranks["sparse"], "fused": ranks["hybrid"], "final": ranks["final"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devset", default="nih")
    parser.add_argument("--ids", nargs="*", default=[])
    parser.add_argument("--misses", action="store_true", help="only questions whose hybrid context@6 is 0")
    parser.add_argument("--show", type=int, default=0, help="also print the first N hits of each list")
    parser.add_argument("--embedder", default=os.environ.get("RAGLINE_EMBEDDER"))
    args = parser.parse_args()
    spec = json.loads((ev.DEVSETS / "devsets.json").read_text())[args.devset]
    questions = [q for q in load_questions(ev.DEVSETS / spec["csv"]) if not args.ids or q.id in args.ids]
    settings = Settings().model_copy(update={"embedder": args.embedder or ev.local_default_embedder()})
    embedder = ev.CachedEmbedder(make_embedder(settings))
    corpus = (ev.DEVSETS.parents[1] / spec["corpus"]).resolve()
    with tempfile.TemporaryDirectory() as folder:
        index = make_index(settings.model_copy(update={"qdrant_engine": "edge", "qdrant_path": folder,
                                                       "collection": f"probe_{args.devset}"}))
        ev.index_corpus(corpus, embedder, index, settings)
        service = ev.query_service(index, embedder, settings, os.path.join(folder, "catalog.db"))
        print("| id | kind | dense | sparse | fused | final | question |\n|---|---|---|---|---|---|---|")
        for question in questions:
            ranks = probe(service, question, index, args.show)
            if args.misses and ranks["final"] != "-" and int(ranks["final"]) < 6:
                continue
            print(f"| {question.id} | {question.kind} | {ranks['dense']} | {ranks['sparse']} | {ranks['fused']} | "
                  f"{ranks['final']} | {question.question[:70]} |")
        index.close()


if __name__ == "__main__":
    main()
