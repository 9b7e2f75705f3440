"""Prompt building, citation mapping and the extractive answer (pure functions, real text)."""

from __future__ import annotations

import re

import pytest
from ragline.models import Hit
from ragline.query.answer import (
    EXTRACTIVE_CHARS,
    EXTRACTIVE_SENTENCES,
    MAX_SENTENCE_CHARS,
    NO_HITS_ANSWER,
    Source,
    best_snippet,
    build_prompt,
    extractive_answer,
    format_source,
    map_citations,
    select_sources,
    split_sentences,
)
from ragline.text import count_tokens


def hit(text: str, n: int = 0, *, title: str | None = "Handbook", page: int | None = 3, page_end: int | None = None,
        source: str = "docs/handbook.pdf", score: float = 1.0) -> Hit:
    return Hit(
        score=score,
        point_id=f"p{n}",
        document_id=f"doc-{n}",
        chunk_index=n,
        text=text,
        source=source,
        file_type="pdf",
        title=title,
        page_start=page,
        page_end=page_end if page_end is not None else page,
    )


def sources_of(*texts: str) -> list[Source]:
    return [Source(i + 1, hit(t, i), t) for i, t in enumerate(texts)]


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


# ------------------------------------------------------------------------------ formatting


@pytest.mark.skipif("context" not in Hit.model_fields, reason="Hit has no context header field yet")
def test_source_line_prefers_the_context_header() -> None:
    contextual = hit("Leave is 20 days.").model_copy(update={"context": "Staff Handbook 2025 — Leave > Annual"})
    assert format_source(1, contextual, "Leave is 20 days.") == (
        "[1] Staff Handbook 2025 — Leave > Annual, p. 3: Leave is 20 days."
    )


def test_source_line_has_number_title_page_and_text() -> None:
    assert format_source(1, hit("Leave is 20 days."), "Leave is 20 days.") == "[1] Handbook, p. 3: Leave is 20 days."


def test_source_line_page_range_and_fallbacks() -> None:
    assert format_source(2, hit("x", page=3, page_end=4), "x") == "[2] Handbook, pp. 3–4: x"
    assert format_source(3, hit("x", title=None, page=None), "x") == "[3] docs/handbook.pdf: x"


def test_prompt_lists_numbered_sources_and_the_question() -> None:
    system, user = build_prompt("How long is leave?", sources_of("Leave is 20 days.", "Refunds take 5 days."))
    assert "only" in system.lower() and "[1]" in system
    # Sources go with the question: some chat templates drop system messages.
    assert user.startswith("Sources:\n[1] Handbook, p. 3: Leave is 20 days.\n\n[2] Handbook, p. 3: Refunds take 5 days.")
    assert user.endswith("\n\nQuestion: How long is leave?")


# --------------------------------------------------------------------------- context budget


def test_sources_fit_the_token_budget_in_rank_order() -> None:
    long = " ".join(["word"] * 300)
    hits = [hit("Leave is twenty days.", 0), hit(long, 1), hit("Refunds take five days.", 2)]
    budget = count_tokens(format_source(1, hits[0], hits[0].text)) + count_tokens(format_source(2, hits[2], hits[2].text)) + 10
    sources = select_sources(hits, budget)
    # The long hit does not fit and is skipped; the smaller one after it still does.
    assert [s.hit.chunk_index for s in sources] == [0, 2]
    assert [s.number for s in sources] == [1, 2]
    used = sum(count_tokens(format_source(s.number, s.hit, s.text)) for s in sources)
    assert used <= budget


def test_the_best_hit_is_cut_to_the_budget_when_it_alone_exceeds_it() -> None:
    long = " ".join(f"word{i}" for i in range(500))
    sources = select_sources([hit(long, 0), hit("small", 1)], token_budget=60)
    assert len(sources) == 1
    assert long.startswith(sources[0].text) and len(sources[0].text) < len(long)
    assert count_tokens(format_source(1, sources[0].hit, sources[0].text)) <= 60


def test_vietnamese_sources_are_budgeted_too() -> None:
    text = "Thuế giá trị gia tăng là 10% cho hầu hết hàng hóa và dịch vụ. " * 40
    sources = select_sources([hit(text, 0)], token_budget=100)
    assert count_tokens(format_source(1, sources[0].hit, sources[0].text)) <= 100


# ------------------------------------------------------------------------- citation mapping


def test_citations_are_renumbered_in_order_of_first_appearance() -> None:
    sources = sources_of("a", "b", "c")
    cited = map_citations("Refunds take five days [3]. Leave is 20 days [1]. Again [3].", sources)
    assert cited.text == "Refunds take five days [1]. Leave is 20 days [2]. Again [1]."
    assert [(n, s.number) for n, s in cited.citations] == [(1, 3), (2, 1)]
    assert cited.invalid == []


def test_invented_citations_are_dropped_and_reported() -> None:
    cited = map_citations("Leave is 20 days [1][7]. Bonus is paid [9].", sources_of("a", "b"))
    assert cited.text == "Leave is 20 days [1]. Bonus is paid."
    assert cited.invalid == [7, 9]
    assert [n for n, _ in cited.citations] == [1]


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("Both agree [1, 3].", "Both agree [1][2]."),
        ("All of them [1-3].", "All of them [1][2][3]."),
        ("See [Source 2] and [source: 3].", "See [1] and [2]."),
        ("Semicolons [2; 3].", "Semicolons [1][2]."),
        ("Repeated [2, 2].", "Repeated [1]."),
        ("Theo tài liệu [nguồn 2].", "Theo tài liệu [1]."),
    ],
)
def test_citation_styles(answer: str, expected: str) -> None:
    assert map_citations(answer, sources_of("a", "b", "c")).text == expected


def test_every_marker_has_a_citation_and_vice_versa() -> None:
    cited = map_citations("x [2]. y [4]. z [2][1].", sources_of("a", "b", "c", "d"))
    assert sorted(set(markers(cited.text))) == [n for n, _ in cited.citations] == [1, 2, 3]


def test_without_renumbering_the_prompt_numbers_stay() -> None:
    cited = map_citations("x [3]. y [1]. bad [8].", sources_of("a", "b", "c"), renumber=False)
    assert cited.text == "x [3]. y [1]. bad."
    assert sorted(n for n, _ in cited.citations) == [1, 3]
    assert all(n == s.number for n, s in cited.citations)


def test_text_without_citations_is_untouched() -> None:
    cited = map_citations("The documents do not say.", sources_of("a"))
    assert cited.text == "The documents do not say." and cited.citations == []


# ------------------------------------------------------------------------ extractive answer


def test_extractive_answer_picks_the_matching_sentences_with_citations() -> None:
    sources = sources_of(
        "The office opens at 9. Annual leave is 20 days per year. Parking is free.",
        "Refunds are paid within 5 days.",
        "Annual leave requests go to your manager.",
    )
    answer = extractive_answer("How many days of annual leave per year?", sources)
    assert answer.text.startswith("Annual leave is 20 days per year. [1]")
    assert "Parking" not in answer.text and "office opens" not in answer.text
    assert sorted(set(markers(answer.text))) == [n for n, _ in answer.citations]
    assert answer.citations[0][1].number == 1


def test_a_documents_own_reference_marks_are_not_quoted_as_citations() -> None:
    # A protocol's "[5]" is its bibliography's fifth entry; beside the answer's [n] it would read
    # as a citation of a fifth source that was never given.
    sources = sources_of("Nothing relevant here.", "MSCs are pluripotent stem cells able to self-renew [5]. "
                         "They regulate the Th1: Th2 balance [4, 7].")
    answer = extractive_answer("What are MSCs able to do?", sources)
    assert answer.text.startswith("MSCs are pluripotent stem cells able to self-renew. [1]")
    assert set(markers(answer.text)) == {n for n, _ in answer.citations} == {1}
    assert format_source(2, sources[1].hit, sources[1].text) == (
        "[2] Handbook, p. 3: MSCs are pluripotent stem cells able to self-renew. They regulate the Th1: Th2 balance.")


def test_a_words_inflections_meet_whatever_their_length() -> None:
    # "funds" and "funded" share neither their first five letters nor their length class; their
    # stem is one.
    sources = sources_of("The screening is run by nurses at the hospital.",
                         "The screening is funded by the Colombian Association of Hepatology.")
    answer = extractive_answer("Who funds the screening?", sources)
    assert answer.text.startswith("The screening is funded by the Colombian Association of Hepatology. [1]")


def test_extractive_answer_renumbers_in_answer_order() -> None:
    sources = sources_of("Nothing relevant here.", "Refunds are paid within five business days.")
    answer = extractive_answer("When are refunds paid?", sources)
    assert answer.text == "Refunds are paid within five business days. [1]"
    assert [(n, s.number) for n, s in answer.citations] == [(1, 2)]


def test_extractive_answer_in_vietnamese() -> None:
    sources = sources_of(
        "Hóa đơn điện tử phải được lập ngay khi giao hàng.",
        "Thuế giá trị gia tăng (VAT) là 10% cho hầu hết hàng hóa. Một số mặt hàng thiết yếu chịu thuế suất 5%.",
    )
    answer = extractive_answer("Thuế suất VAT là bao nhiêu?", sources)
    assert answer.text.startswith("Thuế giá trị gia tăng (VAT) là 10% cho hầu hết hàng hóa. [1]")
    assert answer.citations[0][1].number == 2


def test_extractive_answer_without_word_overlap_shows_the_top_passage() -> None:
    answer = extractive_answer("qwertyuiop?", sources_of("First passage. Second sentence.", "Other."))
    assert answer.text.startswith("First passage. [1]")
    assert [s.number for _, s in answer.citations] == [1]


def test_extractive_answer_without_sources() -> None:
    answer = extractive_answer("anything", [])
    assert answer.text == NO_HITS_ANSWER and answer.citations == []


def test_extractive_answer_is_bounded() -> None:
    text = " ".join(f"Leave rule number {i} applies to annual leave." for i in range(50))
    answer = extractive_answer("annual leave rule", sources_of(text))
    assert len(markers(answer.text)) <= EXTRACTIVE_SENTENCES
    assert len(answer.text) < EXTRACTIVE_CHARS + 300


# -------------------------------------------------------------------------- text helpers


def test_sentences_split_on_any_script_and_on_lines() -> None:
    assert split_sentences("Một. Hai? Ba! 四。五\n\nSix") == ["Một.", "Hai?", "Ba!", "四。", "五", "Six"]


def test_a_sentence_goes_on_across_a_blank_line_in_lower_case() -> None:
    text = "Do not use on patients with a cardiac pacemaker, implanted\n\ndefibrillator or other device.\n\nlater."
    assert split_sentences(text) == [
        "Do not use on patients with a cardiac pacemaker, implanted defibrillator or other device.", "later."]


def test_a_long_paragraph_cut_on_a_lower_case_word_goes_on_whatever_the_next_case() -> None:
    text = ("Sample size calculation: using the mean birthweight for diabetics as reported in the Hyperglycemia and"
            "\n\nAdverse Pregnancy Outcomes study we need 41 participants.\n\nPostoperative care and follow-up"
            "\n\nPatients are discharged on the next day.")
    assert split_sentences(text) == [
        "Sample size calculation: using the mean birthweight for diabetics as reported in the Hyperglycemia and "
        "Adverse Pregnancy Outcomes study we need 41 participants.", "Postoperative care and follow-up",
        "Patients are discharged on the next day."]


def test_wrapped_pdf_lines_join_but_table_rows_and_list_items_stand_alone() -> None:
    text = "The airplane touched down with the gear\nretracted and was damaged.\nCrew | 2\n- one item\n- two"
    assert split_sentences(text) == [
        "The airplane touched down with the gear retracted and was damaged.", "Crew | 2", "- one item", "- two",
    ]


def test_a_list_item_wrapped_onto_a_lower_case_line_goes_on() -> None:
    text = ("• Exclusion Criteria: Pre-existing type 1 or type 2 diabetes, and those diagnosed with gestational\n\n"
            "diabetes in the first trimester.\n• Inclusion Criteria: singleton pregnancy\nCrew | 2\nnext line.")
    assert split_sentences(text) == [
        "• Exclusion Criteria: Pre-existing type 1 or type 2 diabetes, and those diagnosed with gestational "
        "diabetes in the first trimester.", "• Inclusion Criteria: singleton pregnancy", "Crew | 2", "next line."]


def test_bulleted_lines_of_any_mark_stand_alone() -> None:
    text = "Feasibility measures:\no Recruitment rate: patients enrolled per month\n▪ Dropout rate: patients lost"
    assert split_sentences(text) == ["Feasibility measures:", "o Recruitment rate: patients enrolled per month",
                                     "▪ Dropout rate: patients lost"]


def test_snippet_starts_at_the_best_sentence() -> None:
    text = "Intro sentence about nothing in particular. " * 10 + "Refunds are paid within 5 days. " + "Tail. " * 5
    snippet = best_snippet(text, "when are refunds paid", limit=80)
    assert snippet.startswith("…Refunds are paid within 5 days.")
    assert len(snippet) <= 82


def test_short_text_is_its_own_snippet() -> None:
    assert best_snippet("Short  text\n here.", "x") == "Short text here."


def test_extractive_answer_skips_section_headings_but_keeps_table_rows() -> None:
    # Extraction puts headings in blocks of their own (blank lines around them).
    text = ("Probable Cause and Findings\n\nThe probable cause was the pilot's failure to lower the gear.\n"
            "Aircraft Damage | Substantial")
    answer = extractive_answer("What was the probable cause and the aircraft damage?", sources_of(text))
    assert "Probable Cause and Findings" not in answer.text
    assert "failure to lower the gear. [1]" in answer.text and "Aircraft Damage | Substantial [1]" in answer.text


def test_extractive_answer_never_quotes_boilerplate() -> None:
    """The standard paragraph every report carries is skipped, marked or repeated."""
    standard = ("The NTSB does not assign fault or blame for an accident or incident; investigations are "
                "fact-finding proceedings with no adverse parties.")
    a = Source(1, hit(standard + " The left main landing gear collapsed on landing.", 0), "")
    a = Source(1, a.hit, a.hit.text)
    b = Source(2, hit(standard + " The engine lost power during cruise flight.", 1), "")
    b = Source(2, b.hit, b.hit.text)
    c = Source(3, hit(standard + " The pilot reported a partial loss of engine power.", 2), "")
    c = Source(3, c.hit, c.hit.text)
    answer = extractive_answer("Does the NTSB assign fault or blame for the accident?", [a, b, c])
    assert "assign fault" not in answer.text  # repeated in three documents' sources
    marked = extractive_answer("landing gear", [a, b], boilerplate=frozenset({a.hit.point_id}))
    assert "landing gear" not in marked.text and "[1]" in marked.text
    everything = extractive_answer("landing gear", [a], boilerplate=frozenset({a.hit.point_id}))
    assert "standard text repeated" in everything.text and everything.citations == []


def test_a_sentence_two_documents_share_is_quoted() -> None:
    """A study's protocol and its consent form state its procedure in the same words: shared by
    two documents, the sentence is the study's, not a template's, and it answers."""
    procedure = "Choose 60 degrees per second, 90 degrees per second and 120 degrees per second angular velocity."
    protocol = Source(1, hit("Isokinetic testing. " + procedure, 0), "")
    consent = Source(2, hit("What will happen to you. " + procedure, 1), "")
    sources = [Source(s.number, s.hit, s.hit.text) for s in (protocol, consent)]
    answer = extractive_answer("Which angular velocity is chosen for isokinetic testing?", sources)
    assert procedure in answer.text


def test_a_sentence_that_restates_a_quoted_one_is_skipped() -> None:
    """Sibling studies state one figure in sentences that differ by a clause; quoting the second
    would leave no room for the sentence with the rest of the answer."""
    sources = sources_of(
        "The median proportion of cancelled operations was 7.7% (range 0% to 82.4%) across trusts.",
        "The median proportion of cancelled operations was 7.7% (range 0% to 82.4%) across trusts, 18,912 cases.",
        "The proportion of operations cancelled for a lack of beds was 40%.",
    )
    answer = extractive_answer("What proportion of operations was cancelled and why?", sources, max_sentences=2)
    assert answer.text.count("7.7%") == 1
    assert "lack of beds" in answer.text


def test_rows_of_one_table_and_a_short_instruction_are_not_restatements() -> None:
    """Rows share their column labels, and a long sentence may hold a short one's words; each
    still says something of its own."""
    rows = sources_of(
        "Age: 9 months | Vaccine: Measles | Dose: 1 | Cost: Free (expanded immunisation)\n"
        "Age: 4 months | Vaccine: OPV | Dose: 3 | Cost: Free (expanded immunisation)",
    )
    answer = extractive_answer("Which vaccines are free, at what age?", rows)
    assert "Measles" in answer.text and "OPV" in answer.text
    prose = sources_of(
        "The warranty does not apply when the filter is connected to a hot water supply above 38 C or repaired by the owner.",
        "Do not connect the filter to hot water.",
    )
    answer = extractive_answer("What about connecting the filter to hot water?", prose)
    assert "Do not connect" in answer.text and "warranty" in answer.text


def test_question_words_of_the_documents_header_do_not_pick_the_sentence() -> None:
    """The question names the study by its title's words; the sentence that answers is the one
    with the question's other words, not the one that repeats the title."""
    context = "Low-dose emicizumab prophylaxis in severe hemophilia A — 6 Statistical analysis"
    text = (
        "Low-dose emicizumab prophylaxis in children with severe hemophilia A was studied. "
        "Bleeding rates before and after the switch will be compared with the Wilcoxon signed rank test."
    )
    source = Source(1, hit(text, title="Emicizumab protocol").model_copy(update={"context": context}), text)
    answer = extractive_answer(
        "Which test compares bleeding rates in the low-dose emicizumab severe hemophilia A study?", [source],
        max_sentences=1,
    )
    assert answer.text == "Bleeding rates before and after the switch will be compared with the Wilcoxon signed rank test. [1]"


def test_the_title_names_the_document_even_where_the_context_line_shortened_it() -> None:
    """A long title is cut in the context line; its words still name the document, so the row
    that repeats the whole title does not outweigh the sentence with the figure."""
    title = "Phase II study of daratumumab, bortezomib, lenalidomide and dexamethasone in double-hit myeloma"
    text = (
        "Study topic | Phase II study of daratumumab, bortezomib, lenalidomide and dexamethasone in double-hit myeloma\n"
        "A total of 40 patients will be enrolled."
    )
    shortened = hit(text, title=title).model_copy(update={"context": "Phase II study of daratumumab — 5 Sample size"})
    answer = extractive_answer("How many patients will the daratumumab bortezomib lenalidomide double-hit myeloma "
                               "study enrol?", [Source(1, shortened, text)], max_sentences=1)
    assert answer.text == "A total of 40 patients will be enrolled. [1]"


def test_inflections_of_a_question_word_match() -> None:
    sources = sources_of("Participants were recruited in 2021 at four sites.",
                         "Enrollment closed after 120 participants.")
    answer = extractive_answer("When does enrolling close?", sources, max_sentences=1)
    assert answer.text == "Enrollment closed after 120 participants. [1]"


def test_short_words_meet_their_plural_and_past_forms_and_no_is_number_before_a_figure() -> None:
    sources = sources_of("The Karnofsky score must be above 60.", "Both genders, aged 18 to 60.",
                         "No adverse events were seen.", "IRB No. 0206/66")
    assert extractive_answer("What are the age limits?", sources, max_sentences=1).text == "Both genders, aged 18 to 60. [1]"
    answer = extractive_answer("What is the IRB number?", sources, max_sentences=1)
    assert answer.text == "IRB No. 0206/66 [1]"


def test_a_sentence_is_not_picked_on_its_sources_header_words_alone() -> None:
    text = "1.\n\n2.\n\nLast updated: Mar 15th 2023\n\nPrimary endpoint: negative rate of MRD."
    source = Source(1, hit(text, 0, title="DVRd double-hit myeloma study"), text)
    answer = extractive_answer("What is the primary endpoint of the DVRd myeloma study?", [source])
    assert answer.text == "Primary endpoint: negative rate of MRD. [1]"


def test_a_long_table_row_is_quoted_where_the_question_points_not_from_its_start() -> None:
    row = ("Induction therapy | " + "; ".join(f"drug {i} {i} mg/kg on days 1, 8 and 15" for i in range(30))
           + "; stem cell mobilization: cyclophosphamide 50 mg/kg and plerixafor 0.24 mg/kg")
    answer = extractive_answer("Which stem cell mobilization regimen is used?", sources_of(row), max_sentences=1)
    assert "plerixafor 0.24 mg/kg" in answer.text and answer.text.startswith("…")
    assert len(answer.text) <= MAX_SENTENCE_CHARS + 10


def test_list_items_and_bare_figures_are_not_headings() -> None:
    text = "IRB number\n0206/66\nRecords taken before treatment:\n− Upper and lower orthodontic cast"
    answer = extractive_answer("Which orthodontic records and IRB number?", sources_of(text), max_sentences=6)
    assert "0206/66" in answer.text and "Upper and lower orthodontic cast" in answer.text
    assert "IRB number [1]" not in answer.text  # the heading itself is still not quoted


def test_a_labelled_figure_is_a_value_not_a_heading() -> None:
    answer = extractive_answer("What is the IRB number of the study?", sources_of("Ethics\n\nIRB No. 0206/66\n\n2.3 IRB Methods"))
    assert answer.text.startswith("IRB No. 0206/66 [1]") and "Methods" not in answer.text


def test_a_lead_in_carries_the_list_items_that_answer_it() -> None:
    text = ("Records taken before treatment:\n− Upper and lower orthodontic cast\n− Intraoral photograph\n"
            "The miniscrews are placed under local anaesthesia.")
    answer = extractive_answer("Which records are taken before treatment?", sources_of(text))
    assert answer.text.startswith(
        "Records taken before treatment: Upper and lower orthodontic cast; Intraoral photograph [1]")


def test_a_possessive_s_is_not_a_question_word() -> None:
    sources = sources_of("According to the pilot's statement, the winds were light.",
                         "Examination revealed that the main landing gear was separated.")
    answer = extractive_answer("What happened to the airplane's landing gear?", sources, max_sentences=1)
    assert answer.text.startswith("Examination revealed that the main landing gear was separated.")


def test_a_sentence_giving_the_kind_of_answer_asked_for_comes_first() -> None:
    sources = sources_of(
        "The app reminds women to log their symptoms and mood in the diary.",
        "The app reminds women to log their symptoms and mood twice a week.",
    )
    answer = extractive_answer("How often were women reminded to log their symptoms and mood?", sources)
    assert answer.text.startswith("The app reminds women to log their symptoms and mood twice a week. [1]")


def test_a_question_across_documents_quotes_each_document_before_a_second_sentence_of_one() -> None:
    sources = [
        Source(1, hit("The myeloma trial's primary endpoint is MRD negativity. Its primary endpoint is measured after "
                      "maintenance. The primary endpoint is assessed centrally.", 0), ""),
        Source(2, hit("The melanoma trial's primary endpoint is the objective response.", 1), ""),
    ]
    sources = [Source(s.number, s.hit, s.hit.text) for s in sources]
    answer = extractive_answer("Compare the primary endpoints of the two trials.", sources)
    assert markers(answer.text)[:2] == [1, 2]
    assert "objective response" in answer.text.split("[1]")[1]
