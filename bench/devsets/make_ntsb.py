"""Write ntsb.csv: the NTSB development questions of bench/eval_retrieval.py, as a dev set.

The questions are exactly those `questions_for` in bench/eval_retrieval.py generates (three
per report: location, aircraft, partial), so results stay comparable with earlier runs. Only
that function is loaded from the file (not the module), so this runs without the embedders
or the index. Each question gets a short answer fact from its own report:
- location ("probable cause of the accident in ..."): the first words of the probable cause;
- aircraft ("what happened to ..."): the report's first occurrence (e.g. LOSS OF CONTROL);
  factual reports of foreign accidents have neither, so both use what the narrative says
  happened to the aircraft ("was destroyed upon impact with terrain");
- partial (half-remembered wording): five consecutive words of the sentence it came from.

    PYTHONPATH=$PWD/.shim:$PWD .venv/bin/python bench/devsets/make_ntsb.py
"""

from __future__ import annotations

import ast
import csv
import re
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "lambdas"))

from ragline.extract import extract  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpora" / "ntsb"
GENERATOR = REPO / "bench" / "eval_retrieval.py"
CAUSE = re.compile(r"probable cause\(s\) of this (?:accident|incident) (?:to be|was)[:\s]+(.+?\.)(?:\s|$)", re.S)
OCCURRENCE = re.compile(r"Occurrence #1:\s*(.+?)\s+Phase of Operation", re.S)
NARRATIVE = re.compile(r"((?:was destroyed|sustained substantial damage)[^.,;]*)")


def load_generator() -> Callable[[str, str], list[tuple[str, str]]]:
    """`questions_for` from bench/eval_retrieval.py, compiled on its own."""
    tree = ast.parse(GENERATOR.read_text(encoding="utf-8"))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "questions_for")
    namespace: dict[str, object] = {"re": re}
    exec(compile(ast.Module(body=[function], type_ignores=[]), str(GENERATOR), "exec"), namespace)
    return namespace["questions_for"]  # type: ignore[return-value]


def short_cause(text: str) -> tuple[str, str]:
    """(gold answer, answer term): the probable cause sentence and its first five words.

    A factual report (foreign accident, no probable cause) answers with its narrative instead.
    """
    found = CAUSE.search(text)
    if not found:
        return happened(text)
    cause = " ".join(found.group(1).split())
    words = re.sub(r"^(The|the)\s+", "", cause).rstrip(".").split()
    return cause, " ".join(words[:5])


def happened(text: str) -> tuple[str, str]:
    """(gold answer, answer term): the narrative's damage phrase and its first five words."""
    phrase = " ".join(NARRATIVE.search(text).group(1).split())
    return f"The aircraft {phrase}.", " ".join(phrase.split()[:5])


def occurrence(text: str) -> tuple[str, str]:
    """(gold answer, answer term) for "what happened": the first occurrence, else the narrative."""
    found = OCCURRENCE.search(text)
    if not found:
        return happened(text)
    name = " ".join(found.group(1).split())
    return f"Occurrence: {name}. {short_cause(text)[0]}", name


def analysis_sentence(text: str, question: str) -> str:
    """The analysis sentence a partial question was cut from (the generator's own rule)."""
    analysis = text.split("Analysis", 1)[-1].split("Probable Cause", 1)[0]
    sentences = [s for s in re.split(r"(?<=\.)\s+", analysis) if len(s.split()) >= 12]
    return sentences[len(sentences) // 2]


def rows_for(name: str, text: str, questions_for: Callable[[str, str], list[tuple[str, str]]]) -> list[dict[str, str]]:
    """One dev-set row per generated question of one report."""
    rows = []
    for style, question in questions_for(name, text):
        if style == "location":
            answer, term = short_cause(text)
        elif style == "aircraft":
            answer, term = occurrence(text)
        else:
            answer = " ".join(analysis_sentence(text, question).split())
            words = answer.rstrip(".").split()
            term = " ".join(words[len(words) // 2 - 2: len(words) // 2 + 3])
        rows.append({"style": style, "question": question, "gold_sources": name, "gold_answer": answer,
                     "answer_terms": term, "from_table": "no", "language": "en", "kind": "single_passage"})
    return rows


def main() -> None:
    questions_for = load_generator()
    rows = []
    for file in sorted(CORPUS.glob("*.pdf")):
        text = "\n".join(block.text for block in extract(file.read_bytes(), file.name).blocks)
        rows += rows_for(file.name, text, questions_for)
    counters: dict[str, int] = {}
    with open(HERE / "ntsb.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "kind", "question", "gold_sources", "gold_answer", "answer_terms", "from_table", "language"])
        for row in rows:
            counters[row["style"]] = counters.get(row["style"], 0) + 1
            writer.writerow([f"ntsb-{row['style']}-{counters[row['style']]:02d}", row["kind"], row["question"],
                             row["gold_sources"], row["gold_answer"], row["answer_terms"], row["from_table"], row["language"]])
    print(f"{len(rows)} questions -> {HERE / 'ntsb.csv'}")


if __name__ == "__main__":
    main()
