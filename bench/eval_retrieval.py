"""Retrieval quality on the NTSB corpus: does the right report come first?

Development questions are generated from each report's own fields, in three styles:
- location: "What was the probable cause of the accident in Tallahassee, FL?"
- aircraft: "What happened to the Beech A23 registered N8770M?"
- partial: a sentence of the report's analysis with every other content word dropped, to stand
  for a user who half-remembers the wording.
Each question has one right report. Prints hit@1, hit@5 and MRR per search mode and embedder;
asserts nothing. Indexes with the pipeline's own extract/chunk/sparse/embed code (no state
machine: this measures search, not orchestration).

    .venv/bin/python bench/eval_retrieval.py [--embedders hash local]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ragline.chunking import chunk_document  # noqa: E402
from ragline.embeddings import make_embedder  # noqa: E402
from ragline.extract import extract  # noqa: E402
from ragline.index.edge_index import EdgeIndex  # noqa: E402
from ragline.models import IndexPoint, document_id_for, point_id_for  # noqa: E402
from ragline.settings import Settings  # noqa: E402
from ragline.sparse import sparse_document_vector, sparse_query_vector  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpora" / "ntsb"
TENANT = "eval"
MODES = ("hybrid", "dense", "sparse")


def questions_for(name: str, text: str) -> list[tuple[str, str]]:
    """(style, question) pairs built from one report's header and analysis."""
    out = []
    location = re.search(r"Location:\s*(.+?)\s+Accident Number", text)
    aircraft = re.search(r"Aircraft:\s*(.+?)\s+Aircraft Damage", text)
    registration = re.search(r"Registration:\s*(\S+)", text)
    if location:
        out.append(("location", f"What was the probable cause of the accident in {location.group(1)}?"))
    if aircraft and registration:
        out.append(("aircraft", f"What happened to the {aircraft.group(1)} registered {registration.group(1)}?"))
    analysis = text.split("Analysis", 1)[-1].split("Probable Cause", 1)[0]
    sentences = [s for s in re.split(r"(?<=\.)\s+", analysis) if len(s.split()) >= 12]
    if sentences:
        words = [w for w in sentences[len(sentences) // 2].split() if len(w) > 3]
        out.append(("partial", " ".join(words[::2])))
    return out


def build(embedder, files: list[Path], path: str) -> tuple[EdgeIndex, list[tuple[str, str, str]]]:
    index = EdgeIndex(path, "eval")
    index.ensure_collection(embedder.dimensions)
    questions = []
    for file in files:
        document = extract(file.read_bytes(), file.name)
        text = "\n".join(block.text for block in document.blocks)
        questions += [(style, q, file.name) for style, q in questions_for(file.name, text)]
        chunks = chunk_document(document, 220, 40)
        vectors = embedder.embed_documents([c.text for c in chunks])
        document_id = document_id_for(TENANT, f"{TENANT}/{file.name}")
        index.upsert([
            IndexPoint(id=point_id_for(document_id, c.index), tenant=TENANT, document_id=document_id, version="v1",
                       chunk_index=c.index, text=c.text, source=file.name, file_type="pdf", dense=vector,
                       sparse=sparse_document_vector(c.text), page_start=c.page_start, page_end=c.page_end)
            for c, vector in zip(chunks, vectors)
        ])
    return index, questions


def ranked_documents(index: EdgeIndex, embedder, question: str, mode: str) -> list[str]:
    dense = embedder.embed_query(question) if mode != "sparse" else None
    sparse = sparse_query_vector(question) if mode != "dense" else None
    hits = index.search(TENANT, dense=dense, sparse=sparse, mode=mode, limit=20, prefetch_limit=40)
    return list(dict.fromkeys(hit.source for hit in hits))  # chunk hits -> distinct reports, in order


def evaluate(embedder_name: str) -> None:
    embedder = make_embedder(Settings(embedder=embedder_name))
    files = sorted(CORPUS.glob("*.pdf"))
    with tempfile.TemporaryDirectory() as path:
        index, questions = build(embedder, files, path)
        print(f"embedder: {embedder_name}  reports: {len(files)}  questions: {len(questions)}")
        print(f"  {'mode':8} {'style':9} {'hit@1':>6} {'hit@5':>6} {'MRR':>6}")
        for mode in MODES:
            for style in ("location", "aircraft", "partial", "all"):
                subset = [q for q in questions if style in ("all", q[0])]
                ranks = []
                for _, question, expected in subset:
                    ranking = ranked_documents(index, embedder, question, mode)
                    ranks.append(ranking.index(expected) + 1 if expected in ranking else None)
                hit1 = sum(r == 1 for r in ranks) / len(ranks)
                hit5 = sum(r is not None and r <= 5 for r in ranks) / len(ranks)
                mrr = sum(1 / r for r in ranks if r) / len(ranks)
                print(f"  {mode:8} {style:9} {hit1:6.2f} {hit5:6.2f} {mrr:6.2f}")
        index.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embedders", nargs="+", default=["hash", "local"], choices=["hash", "local"])
    for name in parser.parse_args().embedders:
        evaluate(name)


if __name__ == "__main__":
    main()
