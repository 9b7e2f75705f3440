"""The second stage on real passage text: boilerplate repeated across documents goes last and is
reported; a per-document cap makes room for other documents."""

from __future__ import annotations

from ragline.models import Hit
import pytest
from ragline.query.second_stage import (
    LEADER_SLOTS, boilerplate_ids, first_document_ahead, passage_scores, rerank, time_boosted, uncovered,
    with_leader)

# The NTSB's standard paragraph, as it appears in every report of the corpus.
STANDARD = (
    "The National Transportation Safety Board does not assign fault or blame for an accident or "
    "incident; rather, as specified by NTSB regulation, accident/incident investigations are "
    "fact-finding proceedings with no formal issues and no adverse parties."
)


def hit(document: str, n: int, text: str) -> Hit:
    return Hit(score=1.0 / (n + 1), point_id=f"{document}-{n}", document_id=document, chunk_index=n, text=text,
               source=f"{document}.pdf", file_type="pdf")


def test_a_passage_repeated_in_other_documents_is_boilerplate() -> None:
    hits = [
        hit("a", 0, "Report A. " + STANDARD),
        hit("b", 0, "Report B, Cessna 172. " + STANDARD),
        hit("c", 0, STANDARD),
        hit("a", 1, "The pilot reported that the left main landing gear collapsed during the landing roll."),
    ]
    assert boilerplate_ids(hits) == {"a-0", "b-0", "c-0"}


def test_a_section_shared_by_two_sibling_documents_is_not_boilerplate() -> None:
    """The staff and the patient study of one project share their budget section word for word."""
    budget = ("The study costs between 1000 and 2000 pounds: transcription of the interviews at 75 pounds "
              "per half day, and the researcher's time funded by the project grant of 2600 pounds.")
    assert boilerplate_ids([hit("staff", 0, budget), hit("patients", 0, budget)]) == frozenset()


def test_repetition_within_one_document_is_not_boilerplate() -> None:
    hits = [hit("a", 0, STANDARD), hit("a", 1, STANDARD + " Continued."), hit("b", 0, "Something else entirely.")]
    assert boilerplate_ids(hits) == frozenset()


def test_short_passages_are_never_called_boilerplate() -> None:
    hits = [hit("a", 0, "Page 3 of 12"), hit("b", 0, "Page 3 of 12")]
    assert boilerplate_ids(hits) == frozenset()


def test_rerank_puts_boilerplate_last_and_reports_it() -> None:
    hits = [
        hit("a", 0, STANDARD),
        hit("b", 0, STANDARD),
        hit("d", 0, STANDARD),
        hit("a", 1, "The left main landing gear collapsed during the landing roll on runway 27."),
        hit("c", 0, "The probable cause was the pilot's failure to maintain directional control."),
    ]
    ranked = rerank(hits, 3)
    assert [h.point_id for h in ranked.hits] == ["a-1", "c-0", "a-0"]
    assert ranked.boilerplate == {"a-0"}


def test_rerank_caps_chunks_per_document() -> None:
    hits = [hit("a", i, f"Chunk {i} of the long protocol about dosing schedule week {i}.") for i in range(5)]
    hits.append(hit("b", 0, "The other trial enrolled 40 participants."))
    ranked = rerank(hits, 4, max_per_document=2)
    assert [h.point_id for h in ranked.hits] == ["a-0", "a-1", "b-0", "a-2"]
    assert [h.point_id for h in rerank(hits, 4).hits] == ["a-0", "a-1", "a-2", "a-3"]


def test_a_question_across_documents_gets_each_documents_best_chunk_first() -> None:
    hits = [hit("a", i, f"Chunk {i} of the long protocol about dosing schedule week {i}.") for i in range(4)]
    hits += [hit("b", 0, "The other trial doses weekly."), hit("c", 0, "A third trial doses daily.")]
    ranked = rerank(hits, 4, question="Compare the dosing schedules of the trials.", passage_rerank=False)
    assert [h.point_id for h in ranked.hits] == ["a-0", "b-0", "c-0", "a-1"]
    one = rerank(hits, 4, question="What is the dosing schedule in week 2?", passage_rerank=False)
    assert [h.point_id for h in one.hits] == ["a-0", "a-1", "a-2", "a-3"]


def dated(document: str, n: int, date: str, period: str | None = None) -> Hit:
    h = hit(document, n, f"Total net sales for the quarter, filing {document}.")
    return h.model_copy(update={"document_date": date, "period": period})


@pytest.mark.skipif("document_date" not in Hit.model_fields, reason="Hit has no document date yet")
def test_a_named_year_or_latest_moves_the_matching_documents_up() -> None:
    hits = [dated("q1-2021", i, "2021-04-30") for i in range(6)] + [
        dated("q3-2022", 0, "2022-10-28", "three months ended September 24, 2022"),
        dated("q2-2022", 0, "2022-07-29"),
    ]

    def order(question: str) -> list[str]:
        return [h.document_id for h in time_boosted(question, hits)]

    # Ranks 6 and 7 move up five places each: a boost, not a filter.
    assert order("total net sales in 2022?")[:4] == ["q1-2021", "q3-2022", "q1-2021", "q2-2022"]
    assert order("latest total net sales")[:3] == ["q1-2021", "q3-2022", "q1-2021"]
    assert order("Doanh thu quý mới nhất?")[1] == "q3-2022"
    assert time_boosted("total net sales", hits) == hits  # no time in the question: no change
    assert time_boosted("sales in 1999", hits) == hits  # no document of that year


def test_the_passage_that_matches_the_question_comes_up_among_its_documents_chunks() -> None:
    """Every chunk of the protocol matched the title words; only one holds the power calculation."""
    siblings = [hit("p", i, f"Background of the online support group study, part {i}: identity and recovery.")
                for i in range(5)]
    answer = hit("p", 9, "Sample size: a minimum of 34 individuals per intervention arm gives 80% power "
                         "at a two-sided alpha of 0.05.")
    ranked = rerank([*siblings, answer], 3, question="How many participants per arm for the power calculation?")
    assert "p-9" in [h.point_id for h in ranked.hits]  # from 6th into the top 3
    assert [h.point_id for h in rerank([*siblings, answer], 3, question="x y z").hits] == ["p-0", "p-1", "p-2"]


def test_across_documents_a_word_of_one_document_only_does_not_pick_its_passage() -> None:
    """"DVRd" names one trial: every DVRd chunk has it, the follow-up chunk just once; the
    follow-up word is what is asked of each trial."""
    question = "Compare follow-up in the DVRd and the melanoma trials."
    dvrd = [hit("d", 0, "DVRd induction: DVRd for 4 cycles, then DVRd consolidation and DVRd maintenance."),
            hit("d", 1, "DVRd follow-up: every 3 months until progression.")]
    melanoma = [hit("m", 0, "Melanoma follow-up: every four weeks for one year."), hit("m", 1, "Melanoma vaccine.")]
    scores = passage_scores(question, [*dvrd, *melanoma], across=True)
    assert scores[1] > scores[0]
    assert passage_scores(question, [*dvrd, *melanoma])[0] > 0  # about one document, its name counts


# -- widening a hit with its neighbouring chunks -------------------------------------------------

from ragline.query.second_stage import join_overlapping, widened  # noqa: E402


def test_consecutive_chunks_are_joined_without_their_shared_overlap() -> None:
    first = "Participants will receive 20 mg once daily. Dose reductions follow Table 4."
    second = "Dose reductions follow Table 4. Level -1 is 10 mg; level -2 is 5 mg."
    assert join_overlapping(first, second) == (
        "Participants will receive 20 mg once daily. Dose reductions follow Table 4. Level -1 is 10 mg; level -2 is 5 mg."
    )
    assert join_overlapping("Table 4 | Level 0: 20 mg", "Level -1: 10 mg") == "Table 4 | Level 0: 20 mg\nLevel -1: 10 mg"


def test_a_hit_is_widened_with_its_neighbours_of_the_same_section_only() -> None:
    def chunk(n: int, text: str, section: list[str], page: int) -> Hit:
        return Hit(score=0.0, point_id=f"a-{n}", document_id="a", chunk_index=n, text=text, source="a.pdf",
                   file_type="pdf", section_path=section, page_start=page, page_end=page)

    dosing, risks = ["5 Treatment", "5.2 Dosing"], ["6 Risks"]
    found = chunk(5, "Table 4 Dose levels | Level 0: 20 mg", dosing, 12).model_copy(update={"score": 0.7})
    around = [
        chunk(4, "Study drug is taken with food.", dosing, 11),
        chunk(6, "Level -1: 10 mg | Level -2: 5 mg", dosing, 13),
        chunk(7, "Nausea was reported by 12 participants.", risks, 13),
        Hit(score=0.0, point_id="b-6", document_id="b", chunk_index=6, text="Another document.", source="b.pdf",
            file_type="pdf", section_path=dosing),
    ]
    wide = widened(found, around)
    assert wide.text == "Study drug is taken with food.\nTable 4 Dose levels | Level 0: 20 mg\nLevel -1: 10 mg | Level -2: 5 mg"
    assert (wide.page_start, wide.page_end, wide.score, wide.point_id) == (11, 13, 0.7, "a-5")
    assert widened(found, []) == found


def test_hits_inside_a_better_hits_reach_are_dropped() -> None:
    hits = [hit("a", 5, "x"), hit("a", 6, "x"), hit("b", 6, "x"), hit("a", 3, "x"), hit("a", 8, "x"),
            hit("a", 7, "x").model_copy(update={"section_path": ["Other section"]})]
    assert [h.point_id for h in uncovered(hits, 2)] == ["a-5", "b-6", "a-8", "a-7"]
    assert uncovered(hits, 0) == hits


def test_the_first_documents_chunks_come_ahead_but_another_documents_best_keeps_its_top_5_place() -> None:
    hits = [hit("a", 0, "x"), hit("b", 0, "x"), hit("c", 0, "x"), hit("a", 1, "x"), hit("d", 0, "x"),
            hit("a", 2, "x"), hit("a", 3, "x"), hit("a", 4, "x"), hit("a", 5, "x")]
    ordered = [h.point_id for h in first_document_ahead(hits, 10)]
    assert ordered[:5] == ["a-0", "a-1", "a-2", "a-3", "b-0"]  # b-0 was 2nd: still in the top 5
    assert ordered[5:] == ["a-4", "a-5", "c-0", "d-0"]
    far = [hit("a", 0, "x")] + [hit("a", i, "x") for i in range(1, 6)] + [hit("b", 0, "x")]
    assert [h.point_id for h in first_document_ahead(far, 10)][-1] == "b-0"  # it had no top-5 place


def test_the_passage_is_matched_by_the_stems_of_the_question_words() -> None:
    """The question says "ages" and "eligible", the inclusion criteria "aged" and
    "eligibility"; the siblings repeat the trial's name word for word."""
    question = "What ages are eligible for the PRP shoulder trial?"
    siblings = [hit("p", i, f"PRP shoulder trial, part {i}: the PRP injection and the shoulder.") for i in range(3)]
    criteria = hit("p", 7, "Eligibility: patients aged between 18 and 50 years with a rotator cuff tear.")
    scores = passage_scores(question, [*siblings, criteria])
    assert scores[3] > max(scores[:3])


def test_the_dense_lists_best_passage_is_kept_among_the_first_slots() -> None:
    top = [hit("a", n * 10, f"passage {n}") for n in range(8)]
    leader = hit("a", 75, "Adults between 18 and 50 years old with rotator cuff tendinopathy.")
    kept = with_leader(top, leader, reach=2, boilerplate=frozenset())
    assert len(kept) == 8 and kept[LEADER_SLOTS - 1] is leader and kept[LEADER_SLOTS:] == top[LEADER_SLOTS - 1:7]
    # already there, further down: it moves up, nothing is repeated
    moved = with_leader(top[:7] + [leader], leader, reach=2, boilerplate=frozenset())
    assert moved == top[:LEADER_SLOTS - 1] + [leader] + top[LEADER_SLOTS - 1:7]
    # fewer hits than slots: it is the last one kept
    assert with_leader(top[:3], leader, reach=2, boilerplate=frozenset()) == top[:2] + [leader]


def test_a_leader_already_held_or_boilerplate_changes_nothing() -> None:
    top = [hit("a", n * 10, f"passage {n}") for n in range(8)]
    neighbour = hit("a", 21, "the chunk after passage 2")  # inside passage 2's widened text
    assert with_leader(top, neighbour, reach=2, boilerplate=frozenset()) == top
    repeated = hit("b", 0, STANDARD)
    assert with_leader(top, repeated, reach=2, boilerplate=frozenset({"b-0"})) == top
    assert with_leader(top, None, reach=2, boilerplate=frozenset()) == top
