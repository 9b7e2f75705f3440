"""A document's descriptor: a title that tells it apart, its date and period, the entities its
cover page names, and its language, found cheaply from metadata and the first pages.

Why it matters: chunks of twenty quarterly filings (or twenty NTSB reports) read alike; only the
descriptor says which company, which report and which quarter a passage belongs to. It becomes
each chunk's context header and the index payload's date/period/language fields.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import PurePosixPath

import regex

from ragline.extract.common import one_line
from ragline.models import Block, DocumentDescriptor, Language

_COVER_CHARS = 6000  # how much of the first pages counts as the cover
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_PATTERNS = [
    # June 25, 2022 / June 25 2022
    (regex.compile(rf"\b(?P<m>{_MONTH})\s+(?P<d>\d{{1,2}}),?\s+(?P<y>(?:19|20)\d\d)\b", regex.I), "mdy"),
    # 25 June 2022
    (regex.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m>{_MONTH}),?\s+(?P<y>(?:19|20)\d\d)\b", regex.I), "dmy"),
    # 2022-06-25
    (regex.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"), "ymd"),
    # ngày 25 tháng 6 năm 2022 (Vietnamese)
    (regex.compile(r"ngày\s+(?P<d>\d{1,2})\s+tháng\s+(?P<m>\d{1,2})\s+năm\s+(?P<y>(?:19|20)\d\d)", regex.I), "dmy"),
    # 06/25/2022 or 25/06/2022 (month first unless the first number cannot be a month)
    (regex.compile(r"\b(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>(?:19|20)\d\d)\b"), "numeric"),
]
# A date the cover labels as the document's own ("Date:", "Version date", "dated", "as of").
_DATE_LABEL = regex.compile(
    r"(?:\bdate(?:d)?\b|\bas of\b|\bended\b|\beffective\b|\bversion\b|\bngày\b)[^\n\d]{0,40}$", regex.I
)
_PERIOD_PATTERNS = [
    regex.compile(
        rf"\b(?:(?:three|six|nine|twelve|3|6|9|12)[ -]months?|(?:fiscal\s+)?(?:quarter(?:ly period)?|year|half[ -]year|period))"
        rf"\s+ended\s+{_MONTH}\s+\d{{1,2}},?\s+(?:19|20)\d\d",
        regex.I,
    ),
    regex.compile(r"\b(?:Q[1-4]|[1-4]Q|H[12])\s*(?:FY)?\s*'?(?:19|20)?\d\d\b"),
    regex.compile(r"\b(?:first|second|third|fourth)\s+quarter\s+(?:of\s+)?(?:fiscal\s+)?(?:year\s+)?(?:19|20)\d\d\b", regex.I),
    regex.compile(r"\bfiscal\s+(?:year\s+)?(?:19|20)\d\d\b|\bFY\s?(?:19|20)\d\d\b", regex.I),
    regex.compile(r"\bquý\s+(?:[1-4]|I{1,3}|IV)(?:\s*/\s*|\s+năm\s+)(?:19|20)\d\d\b", regex.I),
]
# Identifiers that tell one document of a series from the next.
_IDENTIFIERS = [
    regex.compile(r"(?<![A-Z0-9])NCT\d{8}(?!\d)"),  # also inside file names ("NCT06152900_Prot.pdf")
    regex.compile(
        r"\b(?:accident|report|protocol|study|case|file|commission file|docket|reference|ref)\s*"
        r"(?:number|no\.?|#|id|code)\s*[:.]?\s*(?P<id>[A-Z0-9][A-Z0-9./-]{3,30})",
        regex.I,
    ),
]
_ENTITY_LABELS = regex.compile(
    r"^(?P<label>(?i:sponsor|principal investigator|investigator|registrant|company|issuer|institution|"
    r"organi[sz]ation|operator|aircraft|location|applicant|prepared (?:by|for)|nhà tài trợ|công ty|đơn vị))"
    r"\s*[:：]\s*(?P<value>.{2,100}?)(?=[ \t]+\p{Lu}\p{Ll}+(?:[ \t](?:&[ \t])?\p{Lu}\p{Ll}+){0,3}[ \t]?:|\s{2,}|$)",
    regex.M,
)
_ORGANISATION = regex.compile(
    r"^[\p{Lu}][\p{L}\p{N}&.,' -]{2,80}\b(?:Inc\.?|Incorporated|Corporation|Corp\.?|Ltd\.?|Limited|LLC|PLC|plc|"
    r"S\.A\.|AG|GmbH|N\.V\.|Co\.|Company|University|Hospital|Institute|Foundation|Công ty[\p{L} ]*)$",
    regex.M,
)
_FILING_FORM = regex.compile(r"\bform\s+(?:10-q|10-k|20-f|40-f|8-k|6-k)\b", regex.I)
_REGISTRANT_NAME = regex.compile(r"^(?P<name>.{2,100})\n\(exact name of registrant", regex.I | regex.M)
# A title every document of its kind shares names a form, not the document.
_GENERIC_TITLE = regex.compile(
    r"\b(?:final report|report form|application form|template|form \d|informed consent form|"
    r"protocol template|research proposal form|quarterly report|annual report|form 10-[qk]|form 20-f|form 8-k|"
    r"securities and exchange commission)\b|"
    r"^(?:(?:clinical\s+)?(?:study\s+|research\s+|trial\s+)?protocol|(?:statistical|data)\s+analysis\s+plan|"
    r"study protocol and statistical analysis plan|\d+(?:\.\d+)*\.?\s.*)$",
    regex.I,
)
# A title the cover page states in a labelled field, preferred to the extractor's: "Study title:
# X", "Project Name: X", a form's "1.2 English Title of research project:" with X on the next
# line, or a table row "Title | X".
_TITLE_LABEL = (
    r"(?:\d+(?:\.\d+)*\.?\s+)?(?:(?:official|study|protocol|project|trial|full|research|english|scientific)\s+)?"
    r"(?:title|name)(?:\s+of\s+(?:the\s+)?(?:research\s+)?(?:study|project|trial|protocol))?(?:\s*\([^)\n]{0,80}\))?"
)
_LABELLED_TITLE = regex.compile(
    rf"^(?:\s*\|\s*)?{_TITLE_LABEL}\s*(?:[:：]\s*\n?|\s\|\s)\s*(?P<title>\S[^|\n]{{8,200}})",
    regex.I | regex.M,
)
# The next field of a cover that runs on in the same line: "… spinal cord injury Grant Number: 1R43…".
_NEXT_FIELD = regex.compile(
    r"(?<=\S{3})\s+(?:\p{Lu}[\p{L}-]*\s+){0,2}(?i:number|no\.?|id|date|version|code|sponsor|investigator|author|"
    r"phone|e-?mail|site|reference|grant|funding|identifier)\s*[:：]\s"
)
_SENTENCE_BREAK = regex.compile(r"[.!?]\s+\p{Lu}")  # prose, not a title: "This report describes … It covers …"
# Words a title line does not end on when the title goes on in the next line.
_OPEN_WORDS = frozenset("a an the of with in and or for on to by from at versus vs".split())
_VI_MARKS = regex.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", regex.I)
_VI_WORDS = frozenset("của và là các được trong cho những với không có này người một để đã theo từ khi".split())
_EN_WORDS = frozenset("the of and to in is for with that on by this are be as or at from which".split())
_WORD = regex.compile(r"\p{L}+")
_LATIN_WORD = regex.compile(r"^\p{Latin}+$")


def describe(
    blocks: list[Block],
    file_name: str,
    title: str | None,
    metadata_date: str | None = None,
) -> DocumentDescriptor:
    """The descriptor of an extracted document. `title` is the extractor's best title (metadata
    or the cover's most prominent line); it is kept unless it is generic, and then completed with
    an identifier from the cover or the file name so that no two documents share it."""
    cover = _cover_text(blocks)
    return DocumentDescriptor(
        title=_distinguishing_title(title, cover, file_name),
        file_name=file_name,
        date=find_date(cover) or metadata_date,
        period=find_period(cover),
        entities=_entities(cover),
        language=detect_language(_sample(blocks)),
    )


def _cover_text(blocks: list[Block]) -> str:
    """The first page's text (the first few thousand characters for formats without pages)."""
    first_page = blocks[0].page if blocks else None
    parts: list[str] = []
    size = 0
    for block in blocks:
        if first_page is not None and block.page != first_page and size >= 400:
            break
        parts.append(block.text[: _COVER_CHARS - size])
        size += len(parts[-1])
        if size >= _COVER_CHARS:
            break
    return "\n".join(parts)


def _sample(blocks: list[Block], limit: int = 8000) -> str:
    parts, size = [], 0
    for block in blocks:
        if block.kind == "text":
            parts.append(block.text[: limit - size])
            size += len(parts[-1])
            if size >= limit:
                break
    return "\n".join(parts) or "\n".join(b.text[:limit] for b in blocks[:5])


def _distinguishing_title(title: str | None, cover: str, file_name: str) -> str:
    """A title that tells the document apart. A securities filing is named by its registrant,
    form and period ("Apple Inc. — FORM 10-Q — quarterly period ended June 25, 2022"); a form
    title every report shares ("... Final Report") gets the period, else the cover's identifier
    ("(NYC08CA055)"), else the file name."""
    stem = PurePosixPath(file_name).stem
    title = _completed(one_line(title or ""), cover)[:200]
    registrant = _REGISTRANT_NAME.search(cover)
    if registrant:  # a securities filing: its cover names the registrant, the form and the period
        form = _FILING_FORM.search(cover)
        period = find_period(cover)
        parts = [one_line(registrant.group("name"))] + ([form.group().upper()] if form else []) + ([period] if period else [])
        return " — ".join(parts)
    # The cover's own labelled title beats a heading the extractor guessed (a form's name, the
    # institution on the letterhead: "Glasgow Caledonian University"); a short guess stays after
    # it, as it tells a study's consent form from its protocol.
    labelled = next((_completed(_NEXT_FIELD.split(one_line(m.group("title")), 1)[0].rstrip(" ."), cover)[:200]
                     for m in _LABELLED_TITLE.finditer(cover)
                     if len(m.group("title").split()) >= 3 and not _GENERIC_TITLE.search(m.group("title"))), None)
    if labelled and title and labelled.casefold() not in title.casefold() and len(title.split()) <= 6:
        title = f"{labelled} — {title}"
    elif labelled:
        title = labelled
    if title and _GENERIC_TITLE.search(title):
        title = _cover_line_title(cover) or title  # metadata "data analysis plan" over a cover that names the study
    if not title:
        return stem
    if _GENERIC_TITLE.search(title):
        period = find_period(cover)
        if period:
            return f"{title} — {period}"
    identifier = _identifier(cover) or _identifier(stem)
    if identifier and identifier.casefold() not in title.casefold():
        return f"{title} ({identifier})"
    if _GENERIC_TITLE.search(title) and stem.casefold() not in title.casefold():
        return f"{title} ({stem})"
    return title


def _cover_line_title(cover: str) -> str | None:
    """The cover's first line when it reads as a title (five words or more, one sentence at
    most, no field label, not itself a form's name), completed by the lines that continue it."""
    first = next((one_line(line) for line in cover.splitlines() if line.strip()), "")
    if (len(first.split()) < 5 or len(first) > 250 or _GENERIC_TITLE.search(first)
            or _NEXT_FIELD.match(" " + first) or _SENTENCE_BREAK.search(first)):
        return None
    return _completed(first, cover)


def _completed(title: str, cover: str) -> str:
    """``title`` with the rest of its cover paragraph where the title ends a cover line that
    does not end the title: PDF metadata titles are often the first line of a title set over
    two or three ("… combined with bortezomib," / "lenalidomide and …"). The next lines join
    while they start in lower case or the line before ends open (",", "–", "of", "with" …)."""
    if not title:
        return title
    lines = [one_line(line) for line in cover.splitlines()]
    for i, line in enumerate(lines):
        if line != title and not line.endswith((" " + title, ":" + title)):
            continue
        parts = [title]
        for following in lines[i + 1 : i + 3]:
            last = parts[-1].split()[-1]
            opens = last.endswith((",", "–", "-", ":")) or last.casefold() in _OPEN_WORDS
            if not following or following.startswith("(") or _NEXT_FIELD.match(" " + following):
                break
            if not (following[0].islower() or opens):
                break
            parts.append(following)
        return " ".join(parts)
    return title


def _identifier(text: str) -> str | None:
    for pattern in _IDENTIFIERS:
        for found in pattern.finditer(text):
            identifier = found.groupdict().get("id") or found.group()
            if any(ch.isdigit() for ch in identifier):  # "Study ID: Date" is a label, not an id
                return identifier.rstrip(".")
    return None


def find_date(text: str) -> str | None:
    """The document's own date, ISO: a date the text labels ("Date:", "dated", "ended"), else
    the first date it states."""
    found = [(match.start(), iso) for match, iso in _dates(text)]
    labelled = [(start, iso) for start, iso in found if _DATE_LABEL.search(text[max(0, start - 60) : start])]
    chosen = labelled or found
    return chosen[0][1] if chosen else None


def _dates(text: str):
    for pattern, order in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            iso = _iso(match, order)
            if iso:
                yield match, iso


def _iso(match: re.Match, order: str) -> str | None:
    groups = match.groupdict()
    try:
        year = int(groups["y"])
        if order == "numeric":
            a, b = int(groups["a"]), int(groups["b"])
            month, day = (a, b) if a <= 12 else (b, a)
        else:
            raw = groups["m"].rstrip(".").casefold()
            month = int(raw) if raw.isdigit() else _MONTHS[raw]
            day = int(groups["d"])
        return date(year, month, day).isoformat()
    except (KeyError, ValueError):
        return None


def find_period(text: str) -> str | None:
    """The reporting period the text names first ("three months ended June 25, 2022", "Q2 2022")."""
    matches = [m for pattern in _PERIOD_PATTERNS if (m := pattern.search(text))]
    if not matches:
        return None
    return one_line(min(matches, key=lambda m: m.start()).group())


def _entities(cover: str) -> list[str]:
    """Cover-page lines that name whose document it is: labelled fields and organisation names."""
    found: list[str] = []
    registrant = _REGISTRANT_NAME.search(cover)
    if registrant:
        found.append(one_line(registrant.group("name")))
    for match in _ENTITY_LABELS.finditer(cover):
        found.append(f"{match.group('label').strip().capitalize()}: {one_line(match.group('value'))}")
    for match in _ORGANISATION.finditer(cover):
        found.append(one_line(match.group()))
    identifier = _identifier(cover)
    if identifier:
        found.append(identifier)
    return list(dict.fromkeys(e for e in found if e))[:8]


def detect_language(text: str) -> Language:
    """en, vi or other, from script and stop words: enough to choose analysers and to tell a
    Vietnamese passage from an English one. Cheap (a few thousand characters)."""
    letters = _WORD.findall(text.casefold())
    if not letters:
        return "other"
    latin = sum(1 for w in letters if _LATIN_WORD.match(w))
    if latin < 0.7 * len(letters):
        return "other"
    vi = sum(1 for w in letters if w in _VI_WORDS) + sum(1 for w in letters if _VI_MARKS.search(w)) / 2
    en = sum(1 for w in letters if w in _EN_WORDS)
    if vi > en and vi >= 0.05 * len(letters):
        return "vi"
    if en >= 0.05 * len(letters):
        return "en"
    return "other"
