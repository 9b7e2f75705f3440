"""Grounded answers: the prompt with numbered sources, citation mapping, the extractive answer.

Why citations are re-mapped after generation: a model may cite numbers that were never in the
prompt, cite out of order, or cite the same source many times. Users see only what exists:
invented numbers are dropped from the text (and reported, for logging), and the cited sources
are renumbered 1..n in the order the answer first cites them, so `[1]` is always the first
citation in the text and every number has a `Citation`.

Everything here is language-neutral: words come from `ragline.text.tokenize` (Unicode word
segmentation, so Vietnamese syllables with diacritics are words too), sentence boundaries are
punctuation of any script plus line breaks, and there are no stop-word lists; common words
are discounted by their frequency among the candidate sentences instead.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ragline.models import Hit
from ragline.query.question import across_documents, answer_kind
from ragline.query.second_stage import BOILERPLATE_DOCUMENTS
from ragline.text import sentences, stem, tokenize

SNIPPET_CHARS = 320
MAX_SENTENCE_CHARS = 400
EXTRACTIVE_SENTENCES = 6
EXTRACTIVE_CHARS = 1600
FIGURE_BONUS = 1.25  # a sentence or table row that states a figure answers more questions than prose
ANSWER_KIND_BONUS = 1.5  # ... and one that gives what the question's form asks for ("how often": "twice a week") more
RELATIVE_SCORE_FLOOR = 0.4
RESTATED_SHARE = 0.8  # a sentence with this share of its words in a quoted one restates it
# Question words found in a source's context header (its document's title, period, section)
# say which document is meant, not which of its sentences answers: every sentence of the
# source shares them, whether it repeats them or not. They count this fraction of a word.
HEADER_TERM_WEIGHT = 0.5
KEY_LETTERS = 5
RUN_ON_WORDS = 8  # a paragraph this long that stops on a lower-case word was cut, not ended
LEAD_WORDS = 3  # words kept before the question's first word when a long sentence is cut

SYSTEM_PROMPT = """\
You answer questions for a team, using only the numbered sources given with each question \
(passages from the team's own documents).

Rules:
- Base every statement on the sources. Do not use outside knowledge.
- Cite the source of each statement with its number in square brackets, e.g. [1] or [2][3], \
right after the statement. Only cite numbers that are listed.
- If the sources do not answer the question, say that the documents do not contain the answer.
- Answer in the language of the question, concisely."""

# The sources travel in the user message: some OpenAI-compatible servers' chat templates (Gemma's
# in llama.cpp, for one) drop system messages, and an answer without its sources is ungrounded.
USER_PROMPT = "Sources:\n{sources}\n\nQuestion: {question}"

ONLY_BOILERPLATE_ANSWER = (
    "The passages that match this question are standard text repeated across your documents, "
    "not an answer from one of them. Try naming the document, the case or the figure you need."
)

NO_HITS_ANSWER = (
    "No passage in your documents matches this question. Try other words, remove filters, "
    "or check that the documents you expect are uploaded and ready."
)


@dataclass(frozen=True)
class Source:
    """A hit as numbered in the prompt; ``text`` may be cut to fit the context budget."""

    number: int
    hit: Hit
    text: str


@dataclass
class CitedAnswer:
    """An answer whose `[n]` markers refer to ``citations`` (number -> source), numbered in order
    of first appearance. ``invalid`` lists numbers the model cited that were not sources."""

    text: str
    citations: list[tuple[int, Source]] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)


# ----------------------------------------------------------------------------- text helpers


_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
# "No. 0206/66", "Nº 12": the abbreviation of "number" before a figure (not the word "no").
_NUMBER_ABBREVIATION = re.compile(r"\b(?:No\.|Nº|N°)\s*(?=\d)", re.IGNORECASE)
# A short word's plural "s" or past "d" after "e" ("ages", "aged" / "age"; "arms" / "arm").
_SHORT_INFLECTION = re.compile(r"(?<=[^su])s$|(?<=e)d$")


def _keys(text: str) -> frozenset[str]:
    """Words as the extractive answer matches them: a word's stem (``ragline.text.stem``, as the
    passage rerank has), then a long one by its first KEY_LETTERS letters, so inflections and
    derivations meet ("funds" / "funded", "score" / "scoring", "enrolled" / "enrollment",
    "treated" / "treatment"); a short one without its plural or past ending; figures and
    syllables (Vietnamese) as they are. A possessive's "s" is no word ("the airplane's gear"
    would match every "pilot's"); "No." before a figure is the word "number". The stem alone
    misses "treated" / "treatment" and the prefix alone "funds" / "funded" (nih answers 0.49 and
    0.51, both together 0.51 with the multi-document ones 0.11 → 0.15; docs/benchmarks.md)."""
    text = _NUMBER_ABBREVIATION.sub("number ", _POSSESSIVE.sub("", text))
    return frozenset(_key(t) for t in tokenize(text))


def _key(term: str) -> str:
    if not term.isalpha() or len(term) < 4:
        return term
    base = stem(term)
    return base[:KEY_LETTERS] if len(base) > KEY_LETTERS else _SHORT_INFLECTION.sub("", base)


# A list item's mark: a bullet of any shape (PDFs draw "o" and "▪" as bullets too).
_BULLETS = "-–−•◦▪●○■□‣⁃*"
_LIST_MARK = re.compile(rf"^(?:[{_BULLETS}]|o(?=\s))\s*")
_NUMBERED_ITEM = re.compile(r"^(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)]\s")
# Lines that stand alone: table rows, list items, headings. Other lines are wrapped prose.
_STANDALONE_LINE = re.compile(rf"^(?:[{_BULLETS}#]\s|o\s|\d+[.)]\s)|\|")


def _is_list_item(line: str) -> bool:
    return bool(_LIST_MARK.match(line) or _NUMBERED_ITEM.match(line))


def split_sentences(text: str) -> list[str]:
    """Sentences by end punctuation of any script (``ragline.text.sentences``, as the chunker
    cuts them). PDF text wraps lines mid-sentence, so wrapped lines are joined first; table
    rows and list items stay whole."""
    return [s.strip() for block in _blocks(text) for s, _ in sentences(block) if s.strip()]


def _blocks(text: str) -> list[str]:
    """Prose paragraphs and standalone lines. A blank line (a page or chunk break) inside a
    sentence does not end it: prose that starts in lower case after prose or a list item that
    did not end a sentence goes on the same paragraph ("… a cardiac pacemaker, implanted" /
    "defibrillator …"), and so does any prose after a paragraph of at least RUN_ON_WORDS words
    that stops on a lower-case word ("… as reported in the Hyperglycemia and" / "Adverse
    Pregnancy Outcomes study …"); a heading is shorter."""
    blocks: list[str] = []
    prose: list[str] = []
    open_prose = False  # the last block is prose that stopped mid-sentence
    runs_on = False  # ... on a lower-case word, well past a heading's length: any next prose goes on
    for line in (line.strip() for line in text.splitlines()):
        if line and not _STANDALONE_LINE.search(line):
            if not prose and open_prose and (line[0].islower() or runs_on):
                prose = [blocks.pop()]
            prose.append(line)
            continue
        if prose:
            blocks.append(" ".join(prose))
            open_prose = not blocks[-1].endswith(_SENTENCE_FINAL)
            words = blocks[-1].split()
            runs_on = open_prose and len(words) >= RUN_ON_WORDS and words[-1][0].islower()
            prose = []
        if line:
            blocks.append(line)
            # A list item wraps like prose: "• Exclusion: type 1 diabetes, and those diagnosed
            # with gestational" / "diabetes in the first trimester." (a table row never does).
            open_prose = _is_list_item(line) and "|" not in line and not line.endswith(_SENTENCE_FINAL)
            runs_on = False
    if prose:
        blocks.append(" ".join(prose))
    return blocks


def _clip(text: str, limit: int) -> str:
    """Cut at a word boundary, marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[: limit] else text[:limit]
    return cut.rstrip(" ,;:") + "…"


def _focused(sentence: str, wanted: set[str], limit: int = MAX_SENTENCE_CHARS) -> str:
    """A long sentence or table row cut to ``limit`` characters around the question's words,
    marked "…" where cut: from a few words before the latest start that still holds the most
    of them, since what a label asks for follows it ("mobilization: cyclophosphamide 50 mg/kg").
    Rows of wide tables and run-on list paragraphs reach thousands of characters, and the
    figure asked for is seldom in their first few hundred."""
    if len(sentence) <= limit:
        return sentence
    words = sentence.split()
    matches = [1 if _keys(word) & wanted else 0 for word in words]

    def end_from(start: int) -> int:
        end, length = start, -1
        while end < len(words) and length + 1 + len(words[end]) <= limit:
            length += 1 + len(words[end])
            end += 1
        return max(end, start + 1)

    counts = [sum(matches[start:end_from(start)]) for start in range(len(words))]
    most = max(counts)
    start = max(0, max(i for i, count in enumerate(counts) if count == most) - LEAD_WORDS) if most else 0
    end = end_from(start)
    window = " ".join(words[start:end])
    return ("…" if start else "") + _clip(window, limit) + ("…" if end < len(words) else "")


def best_snippet(text: str, question: str, limit: int = SNIPPET_CHARS) -> str:
    """The part of a chunk worth showing: from the sentence sharing most words with the question
    onward, up to ``limit`` characters (the chunk's start when nothing matches)."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    wanted = set(tokenize(question))
    sentences = split_sentences(text)
    best_index, best_score = 0, 0
    for i, sentence in enumerate(sentences):
        score = len(wanted.intersection(tokenize(sentence)))
        if score > best_score:
            best_index, best_score = i, score
    window = " ".join(" ".join(s.split()) for s in sentences[best_index:])
    if len(window) < limit // 2 and best_index > 0:
        # Near the end of the chunk: show some text before the match too.
        start = max(0, len(flat) - limit)
        return "…" + _clip(flat[start:].split(" ", 1)[-1], limit)
    prefix = "…" if best_index > 0 else ""
    return prefix + _clip(window, limit)


def page_label(hit: Hit) -> str | None:
    if hit.page_start is None:
        return None
    if hit.page_end is None or hit.page_end == hit.page_start:
        return f"p. {hit.page_start}"
    return f"pp. {hit.page_start}–{hit.page_end}"


def format_source(number: int, hit: Hit, text: str) -> str:
    """``[n] context, p. X: text`` — what the model sees for one source. The context header
    ("title — period — section > subsection", from the chunker) says whose and which part a
    passage is, which a model needs as much as the retriever did; else the title or file."""
    label = getattr(hit, "context", None) or hit.title or hit.source
    page = page_label(hit)
    head = f"[{number}] {label}" + (f", {page}" if page else "")
    return f"{head}: {' '.join(without_reference_marks(text).split())}"


# ------------------------------------------------------------------------------- the prompt


def _truncate_to_tokens(text: str, budget: int, count_tokens: Callable[[str], int]) -> str:
    """The longest word prefix of ``text`` within ``budget`` tokens (binary search on words)."""
    words = text.split()
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens(" ".join(words[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo])


def select_sources(
    hits: Sequence[Hit],
    token_budget: int,
    count_tokens: Callable[[str], int] | None = None,
) -> list[Source]:
    """Number hits in rank order while they fit the context budget (tokens of the formatted
    source lines). A hit that does not fit is skipped, a smaller one after it may still fit;
    the best hit is always included, cut to the budget if it alone exceeds it."""
    if count_tokens is None:
        from ragline.text import count_tokens

    sources: list[Source] = []
    used = 0
    for hit in hits:
        number = len(sources) + 1
        cost = count_tokens(format_source(number, hit, hit.text)) + 1  # +1: the separator
        if used + cost <= token_budget:
            sources.append(Source(number, hit, hit.text))
            used += cost
        elif not sources:
            overhead = count_tokens(format_source(number, hit, "")) + 1
            text = _truncate_to_tokens(hit.text, max(1, token_budget - overhead), count_tokens)
            sources.append(Source(number, hit, text))
            used = token_budget
    return sources


def build_prompt(question: str, sources: Sequence[Source]) -> tuple[str, str]:
    """(system, user) messages: the grounding rules, then the numbered sources and the question."""
    listing = "\n\n".join(format_source(s.number, s.hit, s.text) for s in sources)
    return SYSTEM_PROMPT, USER_PROMPT.format(sources=listing, question=question.strip())


# -------------------------------------------------------------------------- citation mapping

# [1]  [1, 3]  [1-3]  [2; 4]  [Source 2]  [nguồn 1]
_CITATION = re.compile(
    r"\s?\[\s*(?:(?:sources?|nguồn|ref)\s*:?\s*)?(\d{1,3}(?:\s*(?:,|;|-|–|and)\s*\d{1,3})*)\s*\]",
    re.IGNORECASE,
)


def _numbers(group: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*(?:,|;|and)\s*", group):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            lo, hi = int(bounds[0]), int(bounds[1])
            numbers.extend(range(lo, hi + 1) if 0 < hi - lo < 20 else (lo, hi))
        elif part.strip().isdigit():
            numbers.append(int(part))
    return numbers


def without_reference_marks(text: str) -> str:
    """``text`` without the document's own reference marks ("… multidirectional differentiation
    [5]."): beside the answer's ``[n]`` they read as citations of source 5, and a model shown
    them copies them."""
    return _CITATION.sub("", text)


def map_citations(text: str, sources: Sequence[Source], *, renumber: bool = True) -> CitedAnswer:
    """Renumber the answer's citations to the sources it actually cites, in order of first
    appearance; drop numbers that name no source (returned in ``invalid``). With
    ``renumber=False`` (text already streamed to a user) the prompt's numbers are kept."""
    by_number = {s.number: s for s in sources}
    mapping: dict[int, int] = {}
    invalid: list[int] = []

    def replace(match: re.Match[str]) -> str:
        rendered: list[str] = []
        for old in _numbers(match.group(1)):
            if old not in by_number:
                if old not in invalid:
                    invalid.append(old)
                continue
            new = mapping.setdefault(old, len(mapping) + 1 if renumber else old)
            marker = f"[{new}]"
            if marker not in rendered:
                rendered.append(marker)
        if not rendered:
            return ""
        lead = " " if match.group(0)[0].isspace() else ""
        return lead + "".join(rendered)

    mapped = _CITATION.sub(replace, text).strip()
    citations = [(new, by_number[old]) for old, new in sorted(mapping.items(), key=lambda kv: kv[1])]
    return CitedAnswer(mapped, citations, invalid)


# ------------------------------------------------------------------------- extractive answer


@dataclass(frozen=True)
class _Candidate:
    sentence: str
    source: Source
    order: int  # position among all candidate sentences (rank of hit, then position in it)
    terms: frozenset[str]


_SENTENCE_FINAL = tuple(".!?…。！？؟।:;)\"'”")



def _is_heading(sentence: str) -> bool:
    """A short unpunctuated line ("Probable Cause and Findings") names a section; it answers
    nothing. Kept: table rows ("Damage | Substantial"), list items ("− Intraoral photograph"),
    lines without a word (a bare figure, "0206/66", is a value) and labelled figures ("IRB No.
    0206/66": a figure after the first word; a section number comes first, "2.3 Methods")."""
    words = sentence.split()
    return ("|" not in sentence and not sentence.endswith(_SENTENCE_FINAL) and len(words) <= 6
            and not _LIST_MARK.match(sentence) and any(ch.isalpha() for ch in sentence)
            and not any(ch.isdigit() for word in words[1:] for ch in word))


def _with_their_lists(sentences: list[str]) -> list[str]:
    """``sentences`` where a lead-in ("Records taken before treatment:") carries the list items
    that follow it ("− Orthodontic casts; − Intraoral photographs"): the items answer what the
    lead-in names, and share no word with the question themselves. Items stay sentences too."""
    out: list[str] = []
    for i, sentence in enumerate(sentences):
        if sentence.endswith(":"):
            items = []
            for item in sentences[i + 1:]:
                if not _is_list_item(item):
                    break
                items.append(_LIST_MARK.sub("", item, count=1).strip())
            if items:
                sentence = f"{sentence} {'; '.join(items)}"
        out.append(sentence)
    return out


def _repeated_sentences(sources: Sequence[Source]) -> set[str]:
    """Sentences (normalised) that occur in sources of ``BOILERPLATE_DOCUMENTS`` or more
    documents: standard text of a form or template, never the answer to a question about one
    document. Two documents are not enough: a study's protocol and its consent form state its
    procedure in the same words ("Choose 60 °/s, 90 °/s and 120 °/s angular velocity …"), and
    that sentence answers questions about the study."""
    documents: dict[str, set[str]] = {}
    for source in sources:
        for sentence in split_sentences(source.text):
            documents.setdefault(_sentence_key(sentence), set()).add(source.hit.document_id)
    return {key for key, ids in documents.items() if len(ids) >= BOILERPLATE_DOCUMENTS}


def _sentence_key(sentence: str) -> str:
    return " ".join(tokenize(sentence))


def _restates(candidate: _Candidate, picked: _Candidate) -> bool:
    """Whether ``candidate`` says what an already quoted sentence says: the two share nearly all
    the words of the longer one. Sibling documents (a staff and a patient study of one project)
    state the same figure in sentences that differ by a clause ("7.7% (range 0% to 82.4%)" /
    "…, 18,912 cases"); quoting both would leave no room for the other half of the answer.
    Measured against the longer sentence, so a short instruction whose words a long one happens
    to hold ("Không nối máy với đường nước nóng") is not taken for it; table rows never restate
    each other: their shared words are the column labels, and each row is its own record."""
    if "|" in candidate.sentence or "|" in picked.sentence:
        return False
    longer = max(len(candidate.terms), len(picked.terms))
    return bool(longer) and len(candidate.terms & picked.terms) >= RESTATED_SHARE * longer


def _each_document_in_turn(ranked: list[_Candidate]) -> list[_Candidate]:
    """``ranked`` re-ordered so that every document's best sentence comes before any document's
    second: a question across documents wants each one's answer, not one document's six."""
    turns: dict[str, int] = {}
    position = []
    for order, candidate in enumerate(ranked):
        turn = turns[candidate.source.hit.document_id] = turns.get(candidate.source.hit.document_id, -1) + 1
        position.append((turn, order))
    return [ranked[order] for _, order in sorted(position)]


def extractive_answer(
    question: str,
    sources: Sequence[Source],
    *,
    boilerplate: frozenset[str] = frozenset(),
    max_sentences: int = EXTRACTIVE_SENTENCES,
    max_chars: int = EXTRACTIVE_CHARS,
) -> CitedAnswer:
    """The sentences and table rows of the top sources that share the most (rarer) words with
    the question, best first, each followed by its citation. Word weights are IDF over the
    candidate sentences, so words common to all of them ("là", "the", "của") count for little;
    the question's own figures (a year, a dose, a visit number) count double.

    Never quoted: sources the retriever marked as ``boilerplate`` (point ids of passages
    repeated across documents) and sentences that occur in more than one document's source."""
    if not sources:
        return CitedAnswer(NO_HITS_ANSWER)
    usable = [s for s in sources if s.hit.point_id not in boilerplate]
    if not usable:
        return CitedAnswer(ONLY_BOILERPLATE_ANSWER)
    repeated = _repeated_sentences(sources)
    wanted = set(_keys(question))
    figures = {t for t in wanted if any(ch.isdigit() for ch in t)}
    kind = answer_kind(question)
    candidates: list[_Candidate] = []
    for source in usable:
        for sentence in _with_their_lists(split_sentences(source.text)):
            if _is_heading(sentence) or _sentence_key(sentence) in repeated:
                continue
            candidates.append(
                _Candidate(quoted := _focused(sentence, wanted), source, len(candidates), _keys(quoted))
            )
    sources = usable
    df: Counter[str] = Counter()
    for candidate in candidates:
        df.update(candidate.terms & wanted)
    n = len(candidates)
    # The header: the source's context line (title, entities, period, section) and its whole
    # title (the context line shortens long titles).
    headers = {s.number: _keys(f"{getattr(s.hit, 'context', None) or ''} {s.hit.title or ''}") for s in sources}

    def score(candidate: _Candidate) -> float:
        header = headers[candidate.source.number]
        # A question word in the source's header (title, entities, section) says the source is
        # about it, for every one of its sentences alike: it counts at HEADER_TERM_WEIGHT,
        # whether or not the sentence repeats it. Other words count where the sentence has them.
        # A sentence with no question word of its own ("1.", "Last updated: Mar 15th") is not
        # picked on its header alone.
        if not candidate.terms & wanted:
            return 0.0
        weight = sum(
            math.log(1 + n / max(df[t], 1)) * (2.0 if t in figures else 1.0) * (HEADER_TERM_WEIGHT if t in header else 1.0)
            for t in (candidate.terms | header) & wanted
        )
        # Prefer higher-ranked hits a little; shorter sentences with the same overlap are denser.
        rank_factor = 1.0 / (1.0 + 0.1 * (candidate.source.number - 1))
        length_factor = 1.0 / (1.0 + math.log1p(len(candidate.terms)) / 10)
        if kind is not None:  # a sentence that gives the kind of answer asked for ("twice a week")
            form_factor = ANSWER_KIND_BONUS if kind.given.search(candidate.sentence) else 1.0
        else:
            form_factor = FIGURE_BONUS if any(ch.isdigit() for ch in candidate.sentence) else 1.0
        return weight * rank_factor * length_factor * form_factor

    scored = sorted(((score(c), c) for c in candidates), key=lambda sc: (-sc[0], sc[1].order))
    best = scored[0][0] if scored else 0.0
    # Sentences far weaker than the best one are noise ("days" alone is no answer).
    chosen = [c for s, c in scored if s > 0 and s >= RELATIVE_SCORE_FLOOR * best]
    if not chosen:
        # Nothing shares a word (e.g. a dense match across languages): show the top passage.
        chosen = [c for c in candidates if c.source.number == sources[0].number]
    elif across_documents(question):
        chosen = _each_document_in_turn(chosen)

    picked: list[_Candidate] = []
    seen: set[str] = set()
    length = 0
    for candidate in chosen:
        key = " ".join(candidate.sentence.casefold().split())
        if key in seen or any(_restates(candidate, p) for p in picked):
            continue
        if picked and (len(picked) >= max_sentences or length + len(candidate.sentence) > max_chars):
            break
        picked.append(candidate)
        seen.add(key)
        length += len(candidate.sentence)

    renumber: dict[int, int] = {}
    parts: list[str] = []
    for candidate in picked:
        new = renumber.setdefault(candidate.source.number, len(renumber) + 1)
        parts.append(f"{without_reference_marks(candidate.sentence)} [{new}]")
    by_old = {s.number: s for s in sources}
    citations = [(new, by_old[old]) for old, new in sorted(renumber.items(), key=lambda kv: kv[1])]
    return CitedAnswer(" ".join(parts), citations)
