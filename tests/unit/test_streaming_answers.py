"""Streamed answers: citations renumbered while text streams (the released text is always what
the whole answer maps to), extractive answers in cited sentences, the follow-up rewrite."""

from __future__ import annotations

import random
import re

import pytest

from ragline.models import Hit
from ragline.query.answer import Source, map_citations
from ragline.query.followup import FollowUpRewriter, Turn, deterministic_rewrite, names, periods
from ragline.query.streaming import CitationStream, extractive_pieces


def _sources(n: int) -> list[Source]:
    return [
        Source(i, Hit(point_id=f"p{i}", score=1.0, document_id=f"d{i}", source=f"s{i}.md", text=f"text {i}",
                      chunk_index=0, file_type="markdown"), f"text {i}")
        for i in range(1, n + 1)
    ]


def _stream(text: str, sources: list[Source], sizes: list[int]) -> tuple[str, str]:
    stream, released, position = CitationStream(sources), "", 0
    for size in sizes:
        released += stream.feed(text[position:position + size])
        position += size
    released += stream.feed(text[position:])
    rest, cited = stream.finish()
    return released + rest, cited.text


ANSWERS = [
    "Leave is 20 days [3]. Refunds take 5 days [1][3]. Invented [9].",
    "A [2, 3] b [Source 1] c [7-8] d.",
    "Brackets that are not citations [see the table] stay [2].",
    "Unclosed at the end [2",
    "Vietnamese [nguồn 2] và [1].",
    "",
]


@pytest.mark.parametrize("text", ANSWERS)
def test_streamed_text_equals_the_mapped_answer_however_it_is_cut(text: str) -> None:
    sources = _sources(3)
    expected = map_citations(text, sources, renumber=True).text
    generator = random.Random(7)
    for _ in range(30):
        sizes = [generator.randint(1, 5) for _ in range(len(text) // 2 + 1)]
        streamed, final = _stream(text, sources, sizes)
        assert streamed == final == expected


def test_citations_are_renumbered_in_order_of_first_appearance_while_streaming() -> None:
    stream = CitationStream(_sources(3))
    assert stream.feed("Leave [3") == "Leave"  # the marker may still grow: held back
    assert stream.feed("]. Refund [1].") == " [1]. Refund [2]."
    rest, cited = stream.finish()
    assert rest == "" and [n for n, _ in cited.citations] == [1, 2]
    assert [s.number for _, s in cited.citations] == [3, 1]


def test_a_long_open_bracket_is_released_as_text() -> None:
    stream = CitationStream(_sources(1))
    assert stream.feed("[") == ""
    assert stream.feed("this is a long aside that is not a citation at all") .startswith("[this is")


def test_extractive_answers_stream_one_cited_sentence_at_a_time() -> None:
    sources = _sources(2)
    from ragline.query.answer import extractive_answer

    sources = [Source(1, sources[0].hit, "Annual leave is 20 days. Unused days expire in March."),
               Source(2, sources[1].hit, "Refunds of annual fees take 5 days.")]
    text = extractive_answer("annual leave days expire refunds", sources).text
    pieces = list(extractive_pieces(text))
    assert len(pieces) == len(re.findall(r"\[\d\]", text)) >= 2
    assert all(re.search(r"\[\d\]$", piece) for piece in pieces) and "".join(pieces) == text


# ------------------------------------------------------------------------------ follow-ups


def test_names_and_periods() -> None:
    assert names("What did the Harbor Bridge inspection find in 2023?") == ["Harbor Bridge", "2023"]
    assert names("Harbor Bridge inspections found what?") == ["Harbor Bridge"]
    assert "NTSB" in names("Was the NTSB report about N123AB final?")
    assert periods("Revenue in Q3 2024 and FY2023, then 2024-06-30") == ["Q3", "2024", "FY2023", "2024-06-30"]


def test_deterministic_rewrite_carries_subject_documents_and_period() -> None:
    turns = (Turn("What did the Harbor Bridge inspection find in 2023?",
                  "What did the Harbor Bridge inspection find in 2023?", "Corrosion [1].", ("Harbor report",)),)
    rewritten = deterministic_rewrite("What is its repair budget?", turns)
    assert rewritten.startswith("What is its repair budget?")
    assert "Harbor Bridge" in rewritten and "2023" in rewritten and "Harbor report" in rewritten


def test_a_new_subject_keeps_only_the_period() -> None:
    turns = (Turn("Harbor Bridge budget for 2023?", "Harbor Bridge budget for 2023?", "4.2 million [1]."),)
    rewritten = deterministic_rewrite("What about the Summit Tunnel budget?", turns)
    assert "2023" in rewritten and "Harbor" not in rewritten


def test_a_very_short_follow_up_carries_the_topic() -> None:
    turns = (Turn("What is the Harbor Bridge repair budget?", "What is the Harbor Bridge repair budget?", "x"),)
    assert "repair budget" in deterministic_rewrite("And 2024?", turns).replace("  ", " ")


def test_no_turns_means_the_question_itself() -> None:
    assert deterministic_rewrite("  Leave days? ", ()) == "Leave days?"


class _Cache(dict):
    def get(self, key):  # type: ignore[override]
        return super().get(key)

    def set(self, key, value, ttl_s):
        self[key] = value


class _Completion:
    def __init__(self, text: str) -> None:
        self.text, self.prompt_tokens, self.completion_tokens = text, 1, 1


class _LLM:
    model = "m"

    def __init__(self, answers: list[str | Exception]) -> None:
        self.answers, self.calls = answers, []

    def complete(self, system, user, max_tokens):
        self.calls.append((user, max_tokens))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return _Completion(answer)


TURNS = (Turn("What did the Harbor Bridge inspection find?", "What did the Harbor Bridge inspection find?",
              "Corrosion on the anchors [1]."),)


def test_llm_rewrite_is_one_bounded_call_and_cached() -> None:
    llm, cache = _LLM(['Standalone query: "Harbor Bridge repair budget"']), _Cache()
    rewriter = FollowUpRewriter(llm, cache)
    assert rewriter.standalone("What is its repair budget?", TURNS) == "Harbor Bridge repair budget"
    assert rewriter.standalone("What is its repair budget?", TURNS) == "Harbor Bridge repair budget"
    (user, max_tokens), = llm.calls
    assert max_tokens <= 64 and "User: What did the Harbor Bridge" in user and "[1]" not in user


def test_a_failed_llm_rewrite_falls_back_to_the_deterministic_one() -> None:
    rewriter = FollowUpRewriter(_LLM([RuntimeError("down"), ""]), _Cache())
    expected = deterministic_rewrite("What is its repair budget?", TURNS)
    assert rewriter.standalone("What is its repair budget?", TURNS) == expected
    assert rewriter.standalone("What is its repair budget?", TURNS) == expected  # empty answer
