"""What a question's form says, before any document is read: whether it asks about several
documents, and what kind of answer it wants.

These are cues of grammar, not of topic ("how often" wants a frequency whatever it is about),
in English and Vietnamese. Which documents and which passages are meant is still up to the
index and the passage text; a cue only re-orders what they found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# What documents call themselves; a question that names them in the plural, or "both"/"each"
# of them, or asks to compare (as its verb: "Compare …", "how does … compare"; not "the tests
# used to compare bleeding rates"), is about several documents.
_DOCUMENT_NOUN = (r"(?:stud(?:y|ies)|trials?|protocols?|documents?|reports?|filings?|papers?|files?|"
                  r"compan(?:y|ies)|projects?|programmes?|programs?|contracts?|polic(?:y|ies)|manuals?|"
                  r"accidents?|investigations?|tài\s+liệu|báo\s+cáo|nghiên\s+cứu)")
_ACROSS_DOCUMENTS = re.compile(
    rf"^\W*compare\b|\bhow\s+do(?:es)?\b.*\bcompare\b|\bcomparison\s+(?:of|between)\b|^\W*so\s+sánh|cả\s+hai|"
    rf"\b(?:both|each|all|either|neither)\s+(?:of\s+)?(?:the\s+|these\s+|those\s+)?(?:\w+\s+){{0,2}}?{_DOCUMENT_NOUN}\b|"
    r"\b(?:studies|trials|protocols|documents|reports|filings|papers|files|companies|projects|programmes|"
    r"programs|contracts|policies|manuals|accidents|investigations)\b|các\s+(?:tài\s+liệu|báo\s+cáo|nghiên\s+cứu)",
    re.IGNORECASE,
)


def across_documents(question: str) -> bool:
    """Whether the question asks about several documents (compare them, which of them, each)."""
    return bool(_ACROSS_DOCUMENTS.search(question))


@dataclass(frozen=True)
class AnswerKind:
    """A kind of answer: the question forms that ask for it and what a sentence giving it holds."""

    name: str
    asked: re.Pattern[str]
    given: re.Pattern[str]


_UNIT_OF_TIME = r"(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|cycles?|phút|giờ|ngày|tuần|tháng|năm)"
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# First match wins: "how long" before "how many" ("how many weeks" is a count, and is a quantity).
ANSWER_KINDS = (
    AnswerKind(
        "frequency",
        re.compile(r"\bhow\s+(?:often|frequently)\b|\bhow\s+many\s+times\b|mấy\s+lần|bao\s+nhiêu\s+lần|thường\s+xuyên", re.I),
        re.compile(rf"\b(?:once|twice|thrice|daily|weekly|fortnightly|monthly|quarterly|yearly|annually|hourly|"
                   rf"nightly|every|per)\b|\b\d+\s*(?:times|x)\b|\d\s*%|\b(?:bi|tri)-?weekly\b|mỗi|hằng|hàng\s+(?:ngày|tuần|tháng|năm)|"
                   rf"\blần\b", re.I),
    ),
    AnswerKind(
        "age",
        re.compile(r"\bhow\s+old\b|\bwhat\s+ages?\b|\bage\s+(?:limits?|range|groups?)\b|\bages?\s+of\b|bao\s+nhiêu\s+tuổi|mấy\s+tuổi", re.I),
        re.compile(r"\d\s*(?:-|–|to)?\s*\d*\s*(?:years?|yrs?|months?)(?:\s+(?:old|of\s+age))?|\baged?\b|[<>≤≥]\s*\d|\d+\s*tuổi", re.I),
    ),
    AnswerKind(
        "duration",
        re.compile(r"\bhow\s+long\b|\bfor\s+how\s+long\b|\bwhat\s+(?:duration|period|length\s+of\s+time)\b|bao\s+lâu", re.I),
        re.compile(rf"\d+(?:[.,]\d+)?\s*(?:(?:-|–|to)\s*\d+(?:[.,]\d+)?\s*)?{_UNIT_OF_TIME}\b|"
                   rf"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|a|an)\s+{_UNIT_OF_TIME}\b", re.I),
    ),
    AnswerKind(
        "time",
        re.compile(r"^\s*when\b|\bwhen\s+(?:is|are|was|were|do|does|did|will|should|can|must)\b|\bat\s+what\s+(?:time|point|stage)\b|"
                   r"\bwhat\s+(?:date|time|year|day|month)\b|\bon\s+which\s+days?\b|\bin\s+which\s+(?:year|month|period)\b|"
                   r"khi\s+nào|lúc\s+nào|ngày\s+nào|mấy\s+giờ|thời\s+gian\s+nào", re.I),
        re.compile(rf"\b{_MONTH}\b|\b(?:19|20)\d\d\b|\b(?:day|week|month|year|visit|cycle)\s+\d|\d{{1,2}}[:h]\d\d|"
                   rf"\b(?:before|after|until|within|prior\s+to|during|at\s+the\s+end|at\s+baseline|when|as\s+soon\s+as)\b|\d+\s*{_UNIT_OF_TIME}\b|"
                   rf"\b(?:ngày|tháng|năm|giờ)\s+\d|trước|sau\s+khi", re.I),
    ),
    AnswerKind(
        "quantity",
        re.compile(r"\bhow\s+(?:many|much)\b|\bwhat\s+(?:number|percentage|proportion|share|amount|dose|rate|size|sum|value)\b|"
                   r"bao\s+nhiêu|mấy\b", re.I),
        re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|million|billion|"
                   r"half|dozen|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười|trăm|nghìn|triệu|tỷ)\b", re.I),
    ),
)


def answer_kind(question: str) -> AnswerKind | None:
    """The kind of answer the question's form asks for, if it asks for one of ``ANSWER_KINDS``."""
    return next((kind for kind in ANSWER_KINDS if kind.asked.search(question)), None)
