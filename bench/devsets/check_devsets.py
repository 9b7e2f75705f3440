"""Check the dev sets against their corpora, and print what each set covers.

A dev-set answer term is only useful if a correct context can contain it: every term of every
question must occur in the text Ragline's own extractor gets from at least one gold source
(for multi_document questions, from one of the gold documents), after the matching rules of
the CSV contract (NFKC, case-insensitive, whitespace collapsed, `,` between digits removed).
The script also checks the columns, unique ids, that each gold source names a file of the
corpus, and that the `en-` twin of each Vietnamese question exists. Exits 1 on any problem.

    PYTHONPATH=$PWD/.shim:$PWD .venv/bin/python bench/devsets/check_devsets.py [nih ntsb ...]
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import re
import sys
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "lambdas"))

from ragline.extract import extract  # noqa: E402

COLUMNS = ["id", "kind", "question", "gold_sources", "gold_answer", "answer_terms", "from_table", "language"]
KINDS = ("single_passage", "multi_passage", "multi_document")
DIGIT_COMMA = re.compile(r"(?<=\d),(?=\d)")


def normalise(text: str) -> str:
    """The contract's matching form: NFKC, casefolded, whitespace collapsed, 1,000 -> 1000."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return DIGIT_COMMA.sub("", " ".join(text.split()))


@cache
def document_text(path: Path) -> str:
    """The normalised text of every block Ragline extracts from one corpus file."""
    document = extract(path.read_bytes(), path.name)
    return normalise("\n".join(block.text for block in document.blocks))


def gold_files(corpus: Path, gold_sources: str) -> list[Path]:
    """Corpus files named by the `;`-separated file names or globs."""
    names = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())
    found: list[Path] = []
    for pattern in filter(None, (s.strip() for s in gold_sources.split(";"))):
        found += [corpus / n for n in names if fnmatch.fnmatch(n, pattern) and corpus / n not in found]
    return found


def term_found(term: str, texts: list[str]) -> bool:
    """A term (alternatives split by `|`) occurs in at least one of the texts."""
    return any(normalise(alt) in text for alt in term.split("|") if alt.strip() for text in texts)


def problems_of(row: dict[str, str], corpus: Path) -> list[str]:
    """Everything wrong with one question, as readable messages."""
    out = []
    if row["kind"] not in KINDS:
        out.append(f"kind {row['kind']!r} is not one of {KINDS}")
    if row["from_table"] not in ("yes", "no") or row["language"] not in ("en", "vi"):
        out.append("from_table must be yes/no and language en/vi")
    files = gold_files(corpus, row["gold_sources"])
    if not files:
        return out + [f"no corpus file matches gold_sources {row['gold_sources']!r}"]
    if row["kind"] == "multi_document" and len({f.name.split("_")[0] for f in files}) < 2:
        out.append("multi_document question names fewer than two documents")
    texts = [document_text(f) for f in files]
    terms = [t for t in row["answer_terms"].split(";") if t.strip()]
    if not terms:
        out.append("no answer_terms")
    out += [f"answer term {t!r} is not in the extracted text of {row['gold_sources']}" for t in terms
            if not term_found(t, texts)]
    return out


def check(name: str, entry: dict[str, str]) -> tuple[int, Counter[tuple[str, str, str]], list[dict[str, str]]]:
    """Problems count, (kind, from_table, language) counts and the rows of one dev set."""
    corpus = (REPO / entry["corpus"]).resolve()
    if not (HERE / entry["csv"]).is_file() or not corpus.is_dir():
        print(f"{name}: {entry['csv']} or its corpus {entry['corpus']} is missing")
        return 1, Counter(), []
    with open(HERE / entry["csv"], newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            print(f"{name}: header is {reader.fieldnames}, expected {COLUMNS}")
            return 1, Counter(), []
        rows = list(reader)
    problems = 0
    for id_, n in Counter(r["id"] for r in rows).items():
        if n > 1:
            print(f"{name}: id {id_} is used {n} times")
            problems += 1
    for row in rows:
        for message in problems_of(row, corpus):
            print(f"{name} {row['id']}: {message}")
            problems += 1
    return problems, Counter((r["kind"], r["from_table"], r["language"]) for r in rows), rows


def print_counts(name: str, counts: Counter[tuple[str, str, str]]) -> None:
    """One line per dev set: total, per kind, tables and languages."""
    total = sum(counts.values())
    per_kind = {k: sum(n for (kind, _, _), n in counts.items() if kind == k) for k in KINDS}
    tables = sum(n for (_, table, _), n in counts.items() if table == "yes")
    languages = Counter[str]()
    for (_, _, language), n in counts.items():
        languages[language] += n
    share = f"{tables / total:.0%}" if total else "-"
    print(f"| {name:6} | {total:5} | {per_kind['single_passage']:6} | {per_kind['multi_passage']:13} | "
          f"{per_kind['multi_document']:14} | {tables:3} ({share:>4}) | "
          f"{', '.join(f'{k} {v}' for k, v in sorted(languages.items())):9} |")


def main() -> None:
    registry = json.loads((HERE / "devsets.json").read_text(encoding="utf-8"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=list(registry), help=f"dev sets to check (default: {list(registry)})")
    names = parser.parse_args().names
    problems, summary, ids = 0, {}, {}
    for name in names:
        found, counts, rows = check(name, registry[name])
        problems += found
        summary[name] = counts
        ids[name] = {r["id"] for r in rows}
    if "vi" in ids and "vi_en" in ids and ids["vi_en"] != {f"en-{i}" for i in ids["vi"]}:
        print("vi_en: ids are not exactly en- + each vi id")
        problems += 1
    print("\n| set    | total | single | multi-passage | multi-document | from table | language  |")
    print("|--------|-------|--------|---------------|----------------|------------|-----------|")
    for name, counts in summary.items():
        print_counts(name, counts)
    print(f"\n{problems} problem(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
