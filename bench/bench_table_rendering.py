"""Which table rendering lets the extractive answerer quote the figure: each figure labelled
with its column header ("Row | Column: value", the default) or a plain grid with the header row
repeated per chunk ("Row | value | value"). For every dev-set question answered from a table,
the chunks of its gold documents are ranked against the question (BM25 over indexed text, so
the comparison is about the text, not the embedder), the top 6 go to the extractive answerer,
and we count answers that contain one of the gold answer terms. Prints figures; asserts nothing.

    .venv/bin/python bench/bench_table_rendering.py [DEVSET.csv] [CORPUS_DIR]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ragline import chunking  # noqa: E402
from ragline.extract import extract  # noqa: E402
from ragline.models import Hit, Table  # noqa: E402
from ragline.query.answer import Source, extractive_answer  # noqa: E402
from ragline.sparse import sparse_document_vector, sparse_query_vector  # noqa: E402

DEVSET = REPO / "bench" / "devsets" / "nih.csv"
CORPUS = REPO.parent / "shared" / "corpora" / "nih-trials"
labelled_rendering = chunking.render_table


def grid_rendering(table: Table) -> tuple[list[str], list[str]]:
    lead = ([table.caption] if table.caption else []) + [" | ".join(c for c in row if c) for row in table.header]
    return lead, [" | ".join(c for c in row if c) for row in table.rows]


def score(query, point) -> float:
    weights = dict(zip(point.indices, point.values))
    return sum(weights.get(i, 0.0) * v for i, v in zip(query.indices, query.values))


def answered(questions, documents, render) -> tuple[int, int]:
    chunking.render_table = render
    hits = 0
    for question in questions:
        chunks = [(name, c) for name in question["gold_sources"].split(";") for c in chunking.chunk_document(documents[name], 220, 40)]
        query = sparse_query_vector(question["question"])
        ranked = sorted(chunks, key=lambda nc: -score(query, sparse_document_vector(nc[1].indexed_text())))[:6]
        sources = [
            Source(n + 1, Hit(score=0.0, point_id=str(n), document_id=name, chunk_index=c.index, text=c.text, source=name, file_type="pdf"), c.text)
            for n, (name, c) in enumerate(ranked)
        ]
        answer = extractive_answer(question["question"], sources).text.casefold()
        hits += any(term.strip().casefold() in answer for term in question["answer_terms"].split(";") if term.strip())
    chunking.render_table = labelled_rendering
    return hits, len(questions)


def main() -> None:
    devset = Path(sys.argv[1]) if len(sys.argv) > 1 else DEVSET
    corpus = Path(sys.argv[2]) if len(sys.argv) > 2 else CORPUS
    with devset.open(newline="", encoding="utf-8") as handle:
        questions = [q for q in csv.DictReader(handle) if q.get("from_table") == "yes"]
    names = {name for q in questions for name in q["gold_sources"].split(";")}
    documents = {name: extract((corpus / name).read_bytes(), name) for name in sorted(names)}
    print(f"{len(questions)} table questions over {len(documents)} documents ({devset.name})")
    print("| rendering | answer contains a gold term |")
    print("|---|---|")
    for label, render in (("labelled: Row | Column: value", labelled_rendering), ("grid: header row + Row | value", grid_rendering)):
        hits, total = answered(questions, documents, render)
        print(f"| {label} | {hits}/{total} ({hits / total:.2f}) |")


if __name__ == "__main__":
    main()
