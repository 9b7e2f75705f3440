"""`ragline eval QNA.csv`: how well Ragline finds and answers a user's own questions.

The questions file follows bench/devsets/README (docs/benchmarks.md): id, kind, question,
gold_sources (file names or globs, ``;``-separated), gold_answer, answer_terms (``;`` = all
of, ``|`` = alternatives), from_table, language. For every search mode each question is
asked twice, the way an application would: ``GET /search`` (ranked passages, full text) and
``POST /query`` (the answer with its citations). Scores per question:

- source recall@1: the first passage comes from a gold document;
- source recall@5: a gold document among the top 5 passages' documents (for
  ``multi_document`` questions the fraction of the gold documents found there);
- MRR: 1 / rank of the first passage from a gold document (0 beyond the search depth);
- context recall@6: every answer term is in the text of the top 6 passages together;
- answer recall: every answer term is in the answer text;
- citation validity: every ``[n]`` in the answer names a returned citation.

Term matching is case-insensitive after NFKC, with whitespace collapsed and thousands
separators (``,`` between digits) removed; a term that starts or ends with a digit must not
touch another digit there ("12" does not match "120").

Backends: a deployed API (``--api-url`` + ``--token``), the running ``ragline dev``, or a
private local stack; ``--ingest DIR`` first uploads a corpus through the real pipeline.
``bench/eval_devsets.py`` drives the same scoring through an in-process ``QueryService``.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

from ragline_local.client import InputError

MODES = ("hybrid", "dense", "sparse")
KINDS = ("single_passage", "multi_passage", "multi_document")
COLUMNS = ("id", "kind", "question", "gold_sources", "gold_answer", "answer_terms", "from_table", "language")
SEARCH_DEPTH = 10  # passages ranked per question (MRR looks this deep)
CONTEXT_K = 6  # passages whose text counts for context recall, and the answer's top_k
METRICS = ("recall@1", "recall@5", "mrr", "context@6", "answer", "citations")


class EvalInputError(InputError):
    """The questions file cannot be used: the message names the file, row and field."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    kind: str
    question: str
    gold_sources: tuple[str, ...]
    gold_answer: str
    answer_terms: tuple[tuple[str, ...], ...]  # all of the terms; each one of its alternatives
    from_table: bool
    language: str


@dataclass(frozen=True)
class Passage:
    source: str
    text: str
    page: int | None = None


@dataclass(frozen=True)
class Answer:
    text: str
    citation_numbers: tuple[int, ...]


class Backend(Protocol):
    """Where questions go: an API over HTTP or an in-process query service."""

    def search(self, question: str, mode: str, top_k: int) -> list[Passage]: ...

    def ask(self, question: str, mode: str, top_k: int) -> Answer: ...


# ------------------------------------------------------------------------------ questions


def load_questions(path: Path) -> list[EvalQuestion]:
    """The questions of a dev-set CSV, validated (a bad row is an error naming it)."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise EvalInputError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
        questions, seen = [], set()
        for line, row in enumerate(reader, start=2):
            question = _question(row, f"{path}, line {line}")
            if question.id in seen:
                raise EvalInputError(f"{path}, line {line}: duplicate id {question.id!r}")
            seen.add(question.id)
            questions.append(question)
    if not questions:
        raise EvalInputError(f"{path}: no questions")
    return questions


def _question(row: dict[str, str], where: str) -> EvalQuestion:
    def value(column: str) -> str:
        text = (row.get(column) or "").strip()
        if not text and column not in ("gold_answer",):
            raise EvalInputError(f"{where}: column {column!r} is empty")
        return text

    kind = value("kind")
    if kind not in KINDS:
        raise EvalInputError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    terms = tuple(
        tuple(alt.strip() for alt in term.split("|") if alt.strip())
        for term in value("answer_terms").split(";")
        if term.strip()
    )
    return EvalQuestion(
        id=value("id"),
        kind=kind,
        question=value("question"),
        gold_sources=tuple(s.strip() for s in value("gold_sources").split(";") if s.strip()),
        gold_answer=value("gold_answer"),
        answer_terms=terms,
        from_table=value("from_table").lower() in ("yes", "true", "1"),
        language=value("language").lower(),
    )


# -------------------------------------------------------------------------------- scoring

_THOUSANDS = re.compile(r"(?<=\d),(?=\d)")


def normalise(text: str) -> str:
    """What term matching compares: NFKC, case-folded, whitespace collapsed, no 1,000 commas."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_THOUSANDS.sub("", text).split())


def _contains(haystack: str, needle: str) -> bool:
    """Substring match where a figure at either end of ``needle`` must be whole: not part of a
    longer number or of a decimal ("12" is not in "120", "3.12" or "12.5")."""
    if not needle:
        return False
    start = 0
    while (at := haystack.find(needle, start)) >= 0:
        before = haystack[max(0, at - 2) : at]
        after = haystack[at + len(needle) : at + len(needle) + 2]
        joined_before = needle[0].isdigit() and bool(re.search(r"\d$|\d[.,]$", before))
        joined_after = needle[-1].isdigit() and bool(re.match(r"\d|[.,]\d", after))
        if not joined_before and not joined_after:
            return True
        start = at + 1
    return False


def has_terms(text: str, terms: Sequence[Sequence[str]]) -> bool:
    """Whether ``text`` contains every term (any one of each term's alternatives)."""
    flat = normalise(text)
    return bool(terms) and all(any(_contains(flat, normalise(alt)) for alt in term) for term in terms)


def matches_source(source: str, patterns: Iterable[str]) -> bool:
    """A passage's document (its path under the tenant) against gold names or globs."""
    name = PurePosixPath(source).name
    return any(fnmatch.fnmatchcase(source, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


_CITED = re.compile(r"\[(\d{1,3})\]")


def score_question(question: EvalQuestion, passages: Sequence[Passage], answer: Answer) -> dict[str, float]:
    """The six metrics of one question in one mode (see the module docstring)."""
    sources = [p.source for p in passages]
    first = next((rank for rank, s in enumerate(sources, 1) if matches_source(s, question.gold_sources)), None)
    top5 = sources[:5]
    if question.kind == "multi_document":
        found = sum(any(matches_source(s, [gold]) for s in top5) for gold in question.gold_sources)
        recall5 = found / len(question.gold_sources)
    else:
        recall5 = 1.0 if first is not None and first <= 5 else 0.0
    context = "\n".join(p.text for p in passages[:CONTEXT_K])
    cited = [int(n) for n in _CITED.findall(answer.text)]
    return {
        "recall@1": 1.0 if first == 1 else 0.0,
        "recall@5": recall5,
        "mrr": 1.0 / first if first else 0.0,
        "context@6": 1.0 if has_terms(context, question.answer_terms) else 0.0,
        "answer": 1.0 if has_terms(answer.text, question.answer_terms) else 0.0,
        "citations": 1.0 if all(n in answer.citation_numbers for n in cited) else 0.0,
    }


@dataclass
class QuestionResult:
    id: str
    mode: str
    kind: str
    from_table: bool
    language: str
    scores: dict[str, float]
    sources: list[str] = field(default_factory=list)  # the ranked passages' documents
    answer: str = ""


def evaluate(
    questions: Sequence[EvalQuestion],
    backend: Backend,
    modes: Sequence[str] = MODES,
    on_result: Callable[[QuestionResult], None] | None = None,
) -> list[QuestionResult]:
    results = []
    for mode in modes:
        for question in questions:
            passages = backend.search(question.question, mode, SEARCH_DEPTH)
            answer = backend.ask(question.question, mode, CONTEXT_K)
            result = QuestionResult(
                question.id, mode, question.kind, question.from_table, question.language,
                score_question(question, passages, answer), [p.source for p in passages], answer.text,
            )
            results.append(result)
            if on_result:
                on_result(result)
    return results


def slices(result: QuestionResult) -> list[str]:
    """The table rows a result counts in: all, its kind, tables, its language."""
    names = ["all", result.kind]
    if result.from_table:
        names.append("from_table")
    names.append(f"lang:{result.language}")
    return names


def summarise(results: Sequence[QuestionResult]) -> dict[str, dict[str, dict[str, float]]]:
    """mode -> slice -> {n, metric means}."""
    groups: dict[str, dict[str, list[QuestionResult]]] = {}
    for result in results:
        for name in slices(result):
            groups.setdefault(result.mode, {}).setdefault(name, []).append(result)
    order = ["all", *KINDS, "from_table"]
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for mode, by_slice in groups.items():
        names = sorted(by_slice, key=lambda n: (order.index(n) if n in order else len(order), n))
        summary[mode] = {
            name: {"n": len(by_slice[name]),
                   **{m: round(sum(r.scores[m] for r in by_slice[name]) / len(by_slice[name]), 3) for m in METRICS}}
            for name in names
        }
    return summary


def render_table(summary: dict[str, dict[str, dict[str, float]]], title: str = "") -> str:
    """A Markdown table (pastes into docs/benchmarks.md as it is)."""
    lines = [f"**{title}**", ""] if title else []
    lines += ["| mode | slice | n | " + " | ".join(METRICS) + " |", "|---|---|---|" + "---|" * len(METRICS)]
    for mode, by_slice in summary.items():
        for name, row in by_slice.items():
            cells = " | ".join(f"{row[m]:.2f}" for m in METRICS)
            lines.append(f"| {mode} | {name} | {int(row['n'])} | {cells} |")
    return "\n".join(lines)


def report(results: Sequence[QuestionResult], **context: object) -> dict[str, object]:
    """What ``--json`` writes: the summary and every question's scores."""
    return {**context, "summary": summarise(results), "questions": [asdict(r) for r in results]}


# ------------------------------------------------------------------------------- backends


class HttpBackend:
    """A Ragline REST API (deployed, ``ragline dev``, or a private stack) with a bearer token."""

    def __init__(self, api_url: str, token: str, timeout_s: float = 120) -> None:
        import requests

        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, **kwargs: object) -> dict:
        response = self._session.request(method, self.api_url + path, timeout=self.timeout_s, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {self.api_url}{path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def search(self, question: str, mode: str, top_k: int) -> list[Passage]:
        body = self._call("GET", "/search", params={"q": question, "mode": mode, "top_k": top_k, "full_text": "true"})
        return [Passage(h["source"], h.get("text") or h["snippet"], h.get("page_start")) for h in body["hits"]]

    def ask(self, question: str, mode: str, top_k: int) -> Answer:
        body = self._call("POST", "/query", json={"question": question, "mode": mode, "top_k": top_k})
        return Answer(body["answer"], tuple(c["number"] for c in body["citations"]))


class ServiceBackend:
    """A ``QueryService`` in this process (bench/eval_devsets.py): the API's own code path."""

    def __init__(self, service: object, tenant: str) -> None:
        self.service, self.tenant = service, tenant

    def search(self, question: str, mode: str, top_k: int) -> list[Passage]:
        response = self.service.search(self.tenant, question, mode=mode, top_k=top_k, full_text=True)  # type: ignore[attr-defined]
        return [Passage(h.source, h.text or h.snippet, h.page_start) for h in response.hits]

    def ask(self, question: str, mode: str, top_k: int) -> Answer:
        from ragline.query.schemas import QueryRequest

        response = self.service.ask(self.tenant, QueryRequest(question=question, mode=mode, top_k=top_k))  # type: ignore[attr-defined]
        return Answer(response.answer, tuple(c.number for c in response.citations))


# ------------------------------------------------------------------------------------ CLI


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("eval", help="score retrieval and answers on your own questions (CSV)")
    parser.add_argument("questions", type=Path, help="questions CSV (see docs/benchmarks.md)")
    parser.add_argument("--ingest", type=Path, metavar="CORPUS_DIR", help="upload this folder first and wait")
    parser.add_argument("--api-url", help="a deployed Ragline API (default: the local stack)")
    parser.add_argument("--token", help="bearer token for --api-url")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--json", type=Path, dest="json_path", help="also write the scores here")
    parser.add_argument("--tenant", default="eval")


def cmd_eval(args: argparse.Namespace) -> int:
    from ragline_local.cli import _plan, console, ingest_files, running_client

    questions = load_questions(args.questions)
    if args.api_url:
        if not args.token:
            raise InputError("--api-url needs --token (a bearer token for that API)")
        if args.ingest:
            raise InputError("--ingest uploads through the local stack; upload to a deployed API with its own tools")
        return _run(HttpBackend(args.api_url, args.token), questions, args, console)
    with running_client(args.tenant) as client:
        if args.ingest:
            results = ingest_files(client, _plan([args.ingest]))
            failed = [r.get("file_name") for r in results.values() if r["status"] != "ready"]
            if failed:
                console.print(f"[yellow]{len(failed)} document(s) did not index:[/] {', '.join(map(str, failed))}")
        return _run(HttpBackend(client.api_url, client.token), questions, args, console)


def _run(backend: Backend, questions: list[EvalQuestion], args: argparse.Namespace, console) -> int:
    with console.status(f"asking {len(questions)} questions × {len(args.modes)} modes"):
        results = evaluate(questions, backend, args.modes)
    summary = summarise(results)
    console.print(render_table(summary, str(args.questions)), highlight=False, markup=False)
    if args.json_path:
        args.json_path.write_text(json.dumps(report(results, questions_file=str(args.questions)), indent=1))
        console.print(f"scores written to {args.json_path}")
    return 0
