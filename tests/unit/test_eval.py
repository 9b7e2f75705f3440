"""`ragline eval` scoring on a tiny fixture: parsing, term matching, each metric, the summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from ragline_local.commands.eval import (
    Answer,
    EvalInputError,
    Passage,
    QuestionResult,
    evaluate,
    has_terms,
    load_questions,
    matches_source,
    normalise,
    render_table,
    score_question,
    summarise,
)

CSV = """\
id,kind,question,gold_sources,gold_answer,answer_terms,from_table,language
q1,single_passage,How many patients are enrolled?,trial-a.pdf,"1,200 patients",1200 patients|1200 subjects,yes,en
q2,multi_document,Which trials use placebo?,trial-a.pdf;reports/trial-b*.pdf,Both.,placebo;12 weeks|twelve weeks,no,en
q3,multi_passage,Bao nhiêu bệnh nhân?,vi/tai-lieu.docx,120 bệnh nhân,120 bệnh nhân,no,vi
"""


@pytest.fixture
def questions(tmp_path: Path):
    path = tmp_path / "qna.csv"
    path.write_text(CSV, encoding="utf-8")
    return load_questions(path)


def test_questions_are_parsed_with_terms_and_alternatives(questions) -> None:
    q1, q2, q3 = questions
    assert q1.answer_terms == (("1200 patients", "1200 subjects"),)
    assert q1.from_table and not q2.from_table
    assert q2.gold_sources == ("trial-a.pdf", "reports/trial-b*.pdf")
    assert q2.answer_terms == (("placebo",), ("12 weeks", "twelve weeks"))
    assert q3.language == "vi"


def test_a_bad_row_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CSV.replace("multi_passage", "several"), encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"bad\.csv, line 4: kind 'several'"):
        load_questions(path)
    path.write_text("id,question\nq1,x\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match="missing column"):
        load_questions(path)


def test_term_matching_normalises_case_width_spaces_and_thousands() -> None:
    assert normalise("Ｔotal  1,200\nPatients") == "total 1200 patients"
    assert has_terms("A total of 1,200   PATIENTS were enrolled", [["1200 patients"]])
    assert has_terms("twelve weeks of placebo", [["placebo"], ["12 weeks", "twelve weeks"]])
    assert not has_terms("placebo only", [["placebo"], ["12 weeks", "twelve weeks"]])
    # A figure must not match inside a longer figure; words may be inflected.
    assert not has_terms("120 patients", [["12"]])
    assert not has_terms("3.12 mg", [["12 mg"]])  # a decimal's fraction is no figure of its own
    assert not has_terms("12.5 mg", [["12"]]) and has_terms("week 12.", [["12"]])
    assert has_terms("for 12 weeks", [["week"]])
    assert not has_terms("", [["x"]]) and not has_terms("x", [])


def test_sources_match_by_path_name_or_glob() -> None:
    assert matches_source("trial-a.pdf", ["trial-a.pdf"])
    assert matches_source("reports/trial-b2.pdf", ["reports/trial-b*.pdf"])
    assert matches_source("sub/trial-a.pdf", ["trial-a.pdf"])  # by file name
    assert not matches_source("trial-c.pdf", ["trial-a.pdf", "reports/trial-b*.pdf"])


def test_single_passage_metrics(questions) -> None:
    q1 = questions[0]
    passages = [Passage("other.pdf", "nothing"), Passage("trial-a.pdf", "we enrolled 1,200 subjects")]
    scores = score_question(q1, passages, Answer("We enrolled 1,200 subjects [1].", (1,)))
    assert scores == {"recall@1": 0.0, "recall@5": 1.0, "mrr": 0.5, "context@6": 1.0, "answer": 1.0,
                      "citations": 1.0}
    # A gold passage ranked 7th: outside recall@5 and the context, still in MRR.
    far = [Passage(f"o{i}.pdf", "x") for i in range(6)] + [Passage("trial-a.pdf", "1,200 patients")]
    scores = score_question(q1, far, Answer("No idea [2].", (1,)))
    assert (scores["recall@5"], scores["context@6"], scores["answer"]) == (0.0, 0.0, 0.0)
    assert scores["mrr"] == pytest.approx(1 / 7)
    assert scores["citations"] == 0.0  # [2] is not a returned citation


def test_multi_document_recall_is_the_fraction_of_gold_documents_found(questions) -> None:
    q2 = questions[1]
    passages = [Passage("reports/trial-b1.pdf", "placebo for 12 weeks"), Passage("x.pdf", "")]
    scores = score_question(q2, passages, Answer("Placebo, twelve weeks [1].", (1,)))
    assert scores["recall@1"] == 1.0 and scores["recall@5"] == 0.5
    assert scores["context@6"] == 1.0 and scores["answer"] == 1.0


class FixedBackend:
    """Answers from a table: the right document first in hybrid, last in sparse."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def search(self, question: str, mode: str, top_k: int) -> list[Passage]:
        self.calls.append(("search", mode))
        right = [Passage("trial-a.pdf", "1,200 patients; placebo for 12 weeks"),
                 Passage("reports/trial-b.pdf", "placebo"), Passage("vi/tai-lieu.docx", "120 bệnh nhân")]
        return right if mode == "hybrid" else [Passage("z.pdf", "")] * 5 + right

    def ask(self, question: str, mode: str, top_k: int) -> Answer:
        self.calls.append(("ask", mode))
        return Answer("1,200 patients [1]", (1,))


def test_evaluate_and_summarise_per_mode_and_slice(questions) -> None:
    backend = FixedBackend()
    results = evaluate(questions, backend, ["hybrid", "sparse"])
    assert len(results) == 6 and len(backend.calls) == 12
    summary = summarise(results)
    hybrid, sparse = summary["hybrid"], summary["sparse"]
    assert hybrid["all"]["n"] == 3 and hybrid["single_passage"]["n"] == 1
    assert hybrid["from_table"]["n"] == 1 and hybrid["lang:vi"]["n"] == 1
    assert hybrid["single_passage"]["recall@1"] == 1.0 and sparse["single_passage"]["recall@1"] == 0.0
    assert hybrid["multi_document"]["recall@5"] == 1.0 and sparse["multi_document"]["recall@5"] == 0.0
    assert sparse["single_passage"]["mrr"] == pytest.approx(1 / 6, abs=1e-3)
    assert hybrid["all"]["answer"] == pytest.approx(1 / 3, abs=1e-3)  # only q1's terms are in the answer
    table = render_table(summary, "fixture")
    assert "| hybrid | single_passage | 1 | 1.00 |" in table


def test_slices_of_a_result() -> None:
    result = QuestionResult("q", "dense", "multi_passage", True, "vi", {})
    from ragline_local.commands.eval import slices

    assert slices(result) == ["all", "multi_passage", "from_table", "lang:vi"]
