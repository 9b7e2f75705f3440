"""What a question's form says: several documents, or the kind of answer it wants."""

from __future__ import annotations

import pytest
from ragline.query.question import across_documents, answer_kind


@pytest.mark.parametrize("question", [
    "Compare the primary endpoints of the myeloma and the melanoma trials.",
    "Which trials capture their data in REDCap?",
    "Who is interviewed in each of the two day-case studies?",
    "What do both reports say about the landing gear?",
    "Which companies reported lower net sales in the quarter?",
    "So sánh học phí của hai trường.",
])
def test_questions_about_several_documents(question: str) -> None:
    assert across_documents(question)


@pytest.mark.parametrize("question", [
    "How long is each participant in the Accufit study?",  # "each" of people, one study
    "What is the IRB number of the hemophilia A emicizumab versus factor VIII study?",
    "What was the probable cause of the accident in Belen, NM?",
    "Học phí ngành Quản trị kinh doanh là bao nhiêu?",
    "Which statistical tests will be used to compare bleeding rates before and after the switch?",
])
def test_questions_about_one_document(question: str) -> None:
    assert not across_documents(question)


@pytest.mark.parametrize(("question", "kind"), [
    ("How often were women reminded to log their symptoms?", "frequency"),
    ("How long will the data be kept?", "duration"),
    ("What age limits apply to enrolment?", "age"),
    ("When is the suction drain taken out?", "time"),
    ("On which days are the vaccine doses given?", "time"),
    ("How many participants will be recruited?", "quantity"),
    ("Học phí một năm bao nhiêu?", "quantity"),
    ("Xe buýt chạy bao lâu một chuyến?", "duration"),
    ("Which survey measured quality of life?", None),
])
def test_the_kind_of_answer_a_question_asks_for(question: str, kind: str | None) -> None:
    found = answer_kind(question)
    assert (found.name if found else None) == kind


@pytest.mark.parametrize(("kind_of", "sentence", "gives"), [
    ("How often?", "Notifications prompt participants to record symptoms twice a week.", True),
    ("How often?", "Participants record their symptoms in the app.", False),
    ("How long?", "Data will be stored for 5 years, after which it will be deleted.", True),
    ("How long?", "Data will be stored on the university drive.", False),
    ("How often?", "Confusion | GRADE 3: 57 (11%) | GRADE 4: 5 (1%)", True),  # a rate is how often
    ("When?", "The drain is removed on day 3 after surgery.", True),
    ("When?", "The suction drain will be removed when drainage is less than 20 mL.", True),  # a condition
    ("How many?", "We will recruit twenty subjects.", True),
])
def test_a_sentence_gives_the_kind_of_answer_or_not(kind_of: str, sentence: str, gives: bool) -> None:
    kind = answer_kind(kind_of)
    assert kind is not None and bool(kind.given.search(sentence)) is gives
