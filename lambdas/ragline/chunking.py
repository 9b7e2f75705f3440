"""Token-bounded chunks with overlap, cut at the most natural break available.

The document becomes a stream of units (sentences, table rows, whole tables that fit), each
knowing how strong the break before it is: a new section, a paragraph, a line, a sentence,
a word, or (for an oversized run without spaces) a character. Units are packed greedily; when
the next one does not fit, the chunk is cut at the strongest break that still leaves it
reasonably full, so chunks end at paragraph ends rather than mid-sentence whenever possible.
Consecutive chunks of one section share `overlap_tokens` of text (whole sentences if they fit).

Every chunk knows whose it is: its section path (the headings enclosing it) and a context header
("title — period — section > subsection") built from the document's descriptor. The header is
embedded and sparse-indexed with the passage (Chunk.indexed_text) but is not part of Chunk.text,
which stays the passage as written; room for it is reserved so the indexed text keeps the bound.
A structured table is rendered row by row with each figure labelled by its column header
("Gross margin | Three Months Ended June 25, 2022: 6,018"); a chunk that starts inside a table
repeats its caption and header row.

Everything is linear in the input: the packer keeps a running token count, and a cut looks
only at the units of the chunk being cut.

Sizes use ragline.text.count_tokens, which is additive over text split at whitespace or between
characters of unsegmented scripts, so a chunk's count never exceeds the sum of its units'.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace

import regex

from ragline.models import Block, Chunk, DocumentDescriptor, ExtractedDocument, Table
from ragline.text import count_tokens, normalize, sentences

SECTION, PARAGRAPH, LINE, SENTENCE, WORD, CHARACTER = 5, 4, 3, 2, 1, 0
# A break qualifies only if the chunk before it is at least this full (fraction of max_tokens):
# a tiny section joins the next one rather than becoming a chunk of its own.
_MIN_FILL = {SECTION: 0.25, PARAGRAPH: 0.5, LINE: 0.5, SENTENCE: 0.5, WORD: 0.0, CHARACTER: 0.0}

_PARAGRAPHS = regex.compile(r"\n\s*\n")
_WORDS = regex.compile(r"\S+")
_GRAPHEMES = regex.compile(r"\X")
_MONTH_NAMES = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DATES_AND_SMALL_NUMBERS = regex.compile(
    rf"\b(?:{_MONTH_NAMES})[a-z]*\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?(?:\s+\d{{4}})?"  # june 25, 2022
    r"|\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b"  # 06/25/2022, 2022-06-25
    r"|(?<![\d.,])(?:\d{1,2}|(?:19|20)\d\d)(?![\d.,]*\d)"  # 3, 12, 2022: numbering, pages, years
)
_NON_WORD_OR_FIGURE = regex.compile(r"[^\p{L}\p{M}\p{N}]+")
_TRAILING_ID = regex.compile(r"\s\([^()]{2,40}\)$")
_HEADER_SHARE = 6  # the context header gets at most 1/6 of the token budget (36 of 220)

Piece = tuple[str, int, str]  # text, strength of the break before it, separator before it


@dataclass(frozen=True)
class _Unit:
    text: str
    tokens: int
    strength: int  # of the break before this unit
    page: int | None
    heading: str | None
    separator: str  # what joins it to the unit before
    section_path: tuple[str, ...] = ()
    lead: str = ""  # repeated before this unit when a chunk starts at it (a table's caption and header)
    lead_tokens: int = 0
    exact: bool = True  # `tokens` is count_tokens(text) (a piece cut inside a word carries slack)

    @property
    def is_section_start(self) -> bool:
        return self.strength == SECTION


def chunk_document(doc: ExtractedDocument, max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split a document into chunks of at most `max_tokens` (estimated) tokens, indexed 0..n-1.
    With a descriptor, each chunk's indexed text (context header + passage) keeps the bound."""
    if max_tokens < 2:
        raise ValueError("max_tokens must be at least 2")
    header_budget = max_tokens // _HEADER_SHARE if doc.descriptor is not None else 0
    passage_tokens = max_tokens - header_budget
    overlap_tokens = max(0, min(overlap_tokens, passage_tokens // 2))
    packer = _Packer(passage_tokens, overlap_tokens)
    previous_heading: object = object()
    for block in doc.blocks:
        starts_section = block.kind == "heading" or block.heading != previous_heading
        previous_heading = block.heading
        for unit in _units(block, passage_tokens, SECTION if starts_section else PARAGRAPH):
            packer.add(unit)
    packer.flush()
    chunks = [_to_chunk(index, units) for index, units in enumerate(packer.chunks)]
    if doc.descriptor is not None:
        headers: dict[tuple[str, ...], str] = {}  # one per section, not per chunk
        for chunk in chunks:
            path = tuple(chunk.section_path)
            if path not in headers:
                headers[path] = context_header(doc.descriptor, chunk.section_path, header_budget)
            chunk.context = headers[path]
    return chunks


def context_header(descriptor: DocumentDescriptor, section_path: list[str], budget: int) -> str:
    """"title — entities — period — section > subsection" within `budget` tokens. What gives
    way first: the cover's entity lines, then outer sections, then the title's last words."""
    title = _shortened(descriptor.title, budget * 3 // 5)  # a long protocol title leaves room for sections
    entities = [_entity_value(e) for e in descriptor.entities[:2]]
    entities = [e for e in entities if e and e.casefold() not in descriptor.title.casefold()]
    period = [descriptor.period] if descriptor.period and descriptor.period not in descriptor.title else []
    path = [s for s in section_path if s.casefold() not in descriptor.title.casefold()]
    while True:
        parts = [title, ", ".join(entities), *period, " > ".join(path)]
        header = " — ".join(part for part in parts if part)
        if count_tokens(header) <= budget:
            return header
        if entities:
            entities = []
        elif path:
            path = path[1:]
        elif len(title.split()) > 1:
            title = " ".join(title.split()[:-1])
        else:
            return ""


def _shortened(title: str, budget: int) -> str:
    """The title within `budget` tokens, cut at its end but keeping a trailing "(identifier)",
    which is what tells documents of one series apart."""
    found = _TRAILING_ID.search(title)
    suffix = found.group() if found else ""
    words = title[: len(title) - len(suffix)].split()
    kept = len(words)
    while kept > 1 and count_tokens(" ".join(words[:kept]) + suffix) > budget:
        kept -= 1
    return " ".join(words[:kept]) + ("…" if kept < len(words) else "") + suffix


def _entity_value(entity: str) -> str:
    """ "Aircraft: Piper PA-22-150" -> "Piper PA-22-150"."""
    return entity.split(":", 1)[-1].strip(" •·-")


def fingerprint(text: str) -> str:
    """The same for passages that differ only in case, spacing, punctuation, dates, years,
    page numbers and list numbering: boilerplate repeated across a tenant's documents (the
    certification of every quarterly report). Other figures count, so the same statement
    table of two quarters is two fingerprints."""
    kept = _DATES_AND_SMALL_NUMBERS.sub(" ", normalize(text))
    words = _NON_WORD_OR_FIGURE.sub(" ", kept).strip()
    return hashlib.blake2b(words.encode("utf-8"), digest_size=8).hexdigest()


def _units(block: Block, max_tokens: int, strength: int) -> list[_Unit]:
    """A block as units no larger than max_tokens. Headings and tables stay whole if they fit;
    prose is always split into sentences so that a chunk can end between any two of them."""
    path = tuple(block.section_path)
    if block.table is not None:
        return _table_units(block, block.table, max_tokens, strength, path)
    text = block.text.strip()
    if block.kind != "text" and (tokens := count_tokens(text)) <= max_tokens:
        return [_Unit(text, tokens, strength, block.page, block.heading, "\n\n", path)]
    units = []
    for piece, piece_strength, separator in _split(text, strength, prose=block.kind == "text"):
        tokens = count_tokens(piece)
        pieces = [(piece, tokens, piece_strength, separator, True)]
        if tokens > max_tokens:
            pieces = _split_words(piece, piece_strength, separator, max_tokens)
        units += [_Unit(t, n, s, block.page, block.heading, sep, path, exact=e) for t, n, s, sep, e in pieces]
    return units


def render_table(table: Table) -> tuple[list[str], list[str]]:
    """(lead lines, row lines). The lead is the caption and the header row; with a header, each
    row labels its figures with their column names so that a figure is never read without its
    row label and column header, whichever rows a chunk holds."""
    names = table.column_names()
    lead = ([table.caption] if table.caption else []) + [" | ".join(c for c in row if c) for row in table.header]
    rows = []
    for row in table.rows:
        cells = [
            f"{names[i]}: {cell}" if i < len(names) and names[i] else cell
            for i, cell in enumerate(row)
            if cell
        ]
        rows.append(" | ".join(cells if any(names) else _join_form_labels(cells)))
    return lead, [r for r in rows if r]


def _join_form_labels(cells: list[str]) -> list[str]:
    """A form laid out as a grid: "Age:" | "85, Male" -> "Age: 85, Male"."""
    joined: list[str] = []
    for cell in cells:
        if joined and joined[-1].endswith(":") and not cell.endswith(":"):
            joined[-1] += " " + cell
        else:
            joined.append(cell)
    return joined


def _table_units(block: Block, table: Table, max_tokens: int, strength: int, path: tuple[str, ...]) -> list[_Unit]:
    lead_lines, rows = render_table(table)
    lead = "\n".join(line for line in lead_lines if line)
    lead_tokens = count_tokens(lead)
    if lead_tokens > max_tokens // 3:  # a header too big to repeat: keep its first line only
        lead = lead_lines[0] if lead_lines and count_tokens(lead_lines[0]) <= max_tokens // 3 else ""
        lead_tokens = count_tokens(lead)
    whole = "\n".join(line for line in lead_lines + rows if line)
    # A table far longer than a chunk is not counted whole (it goes row by row either way).
    if len(whole) <= 8 * max_tokens and (tokens := count_tokens(whole)) <= max_tokens:
        return [_Unit(whole, tokens, strength, block.page, block.heading, "\n\n", path)]
    units: list[_Unit] = []
    for i, row in enumerate(rows):
        text = f"{lead}\n{row}" if i == 0 and lead else row
        row_strength, separator = (strength, "\n\n") if i == 0 else (LINE, "\n")
        tokens = count_tokens(text)
        if tokens + (0 if i == 0 else lead_tokens) <= max_tokens:
            units.append(_Unit(text, tokens, row_strength, block.page, block.heading, separator, path,
                               "" if i == 0 else lead, 0 if i == 0 else lead_tokens))
            continue
        for t, n, s, sep, exact in _split_words(text, row_strength, separator, max_tokens):
            units.append(_Unit(t, n, s, block.page, block.heading, sep, path, exact=exact))
    return units


def _split(text: str, strength: int, prose: bool) -> list[Piece]:
    """Paragraphs, then lines, then (in prose) sentences."""
    pieces: list[Piece] = [(text, strength, "\n\n")]
    pieces = _refine(pieces, PARAGRAPH, lambda t: [(p, "\n\n") for p in _PARAGRAPHS.split(t)])
    pieces = _refine(pieces, LINE, lambda t: [(line, "\n") for line in t.split("\n")])
    return _refine(pieces, SENTENCE, sentences) if prose else pieces


def _refine(pieces: list[Piece], level: int, splitter: Callable[[str], list[tuple[str, str]]]) -> list[Piece]:
    """Split each piece further; its first part keeps the piece's break, the rest get `level`."""
    refined: list[Piece] = []
    for text, strength, separator in pieces:
        parts = [(part.strip(), sep) for part, sep in splitter(text) if part.strip()]
        for i, (part, sep) in enumerate(parts):
            refined.append((part, strength, separator) if i == 0 else (part, level, sep))
    return refined


def _split_words(text: str, strength: int, separator: str, max_tokens: int) -> list[tuple[str, int, int, str, bool]]:
    """Runs of words of at most max_tokens/8 tokens (a chunk can end between any two runs; runs
    rather than single words keep a megabyte without punctuation to thousands of units, not
    hundreds of thousands). A single word over the limit (a long URL, Chinese text without
    punctuation) is cut between characters. A word's estimate is not additive over its pieces
    (a long word counts a little more than its halves), so each piece carries one token of slack."""
    pieces: list[tuple[str, int, int, str, bool]] = []  # text, tokens, strength, separator, exact
    run_limit = max(1, max_tokens // 8)
    run: list[str] = []
    run_tokens = 0

    def close_run() -> None:
        nonlocal run, run_tokens
        if run:
            first = not pieces
            pieces.append((" ".join(run), run_tokens, strength if first else WORD, separator if first else " ", True))
            run, run_tokens = [], 0

    for word in _WORDS.findall(text):
        tokens = count_tokens(word)
        if tokens > max_tokens:
            close_run()
            graphemes = _GRAPHEMES.findall(word)
            step = max(1, max_tokens // 2)
            for j in range(0, len(graphemes), step):
                part = "".join(graphemes[j : j + step])
                first = not pieces
                position = (strength, separator) if first else ((WORD, " ") if j == 0 else (CHARACTER, ""))
                pieces.append((part, count_tokens(part) + 1, *position, False))
            continue
        if run_tokens + tokens > run_limit:
            close_run()
        run.append(word)
        run_tokens += tokens
    close_run()
    return pieces


class _Packer:
    """Greedy packing with a running token total: adding a unit costs O(1) plus, on a cut, the
    units of the chunk being cut, so packing is linear in the document."""

    def __init__(self, max_tokens: int, overlap_tokens: int) -> None:
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.chunks: list[list[_Unit]] = []
        self.current: list[_Unit] = []
        self.total = 0  # tokens of `current`, its first unit's lead included
        self.carried = 0  # leading units of `current` that repeat the previous chunk's end

    def _start(self, units: list[_Unit], carried: int) -> None:
        self.current, self.carried = units, carried
        self.total = sum(u.tokens for u in units) + (units[0].lead_tokens if units else 0)

    def _cost(self, unit: _Unit) -> int:
        return unit.tokens + (unit.lead_tokens if not self.current else 0)

    def add(self, unit: _Unit) -> None:
        while self.total + self._cost(unit) > self.max_tokens and len(self.current) > self.carried:
            self._cut(unit)
        while self.current and self.total + self._cost(unit) > self.max_tokens:
            self._start(self.current[1:], self.carried - 1)  # only overlap is left: shorten it
        self.total += self._cost(unit)
        self.current.append(unit)

    def flush(self) -> None:
        if len(self.current) > self.carried:
            self.chunks.append(self.current)
        self._start([], 0)

    def _cut(self, incoming: _Unit) -> None:
        at = self._best_cut(incoming)
        chunk, rest = self.current[:at], self.current[at:]
        self.chunks.append(chunk)
        following = rest[0] if rest else incoming
        starts_fresh = following.is_section_start or following.lead  # a table's rows repeat its header instead
        overlap = [] if starts_fresh else _overlap(chunk, following, self.overlap_tokens)
        self._start(overlap + rest, len(overlap))

    def _best_cut(self, incoming: _Unit) -> int:
        """Index where the next chunk starts: the strongest break with enough text before it,
        the latest among equals; failing that, just before the incoming unit."""
        best, best_strength = len(self.current), -1
        filled = sum(u.tokens for u in self.current[: self.carried])
        for at in range(self.carried + 1, len(self.current) + 1):
            filled += self.current[at - 1].tokens
            strength = (self.current[at] if at < len(self.current) else incoming).strength
            if filled >= _MIN_FILL[strength] * self.max_tokens and strength >= best_strength:
                best, best_strength = at, strength
        return best


def _overlap(chunk: list[_Unit], following: _Unit, budget: int) -> list[_Unit]:
    """The end of `chunk` to repeat before `following`: whole trailing units of the same section
    that fit in `budget`, else the trailing words (or characters) of the last unit."""
    if budget <= 0:
        return []
    taken: list[_Unit] = []
    used = 0
    for unit in reversed(chunk):
        if unit.heading != following.heading or used + unit.tokens > budget:
            break
        taken.insert(0, unit)
        used += unit.tokens
        if unit.is_section_start:
            break
    if taken:
        return taken
    last = chunk[-1]
    if last.heading != following.heading:
        return []
    tail = _tail(last.text, budget)
    return [replace(last, text=tail, tokens=count_tokens(tail))] if tail else []


def _tail(text: str, budget: int) -> str:
    """The longest end of `text` within `budget` tokens made of whole lines (table rows), else
    of whole words of the last line, else (a run without spaces) of its last characters."""
    lines = [line for line in text.split("\n") if line.strip()]
    kept = _take_from_end(lines, budget)
    if kept:
        return "\n".join(kept)
    words = _WORDS.findall(lines[-1]) if lines else []
    kept = _take_from_end(words, budget)
    if kept or not words:
        return " ".join(kept)
    return "".join(_take_from_end(_GRAPHEMES.findall(words[-1]), budget))


def _take_from_end(items: list[str], budget: int) -> list[str]:
    kept: list[str] = []
    used = 0
    for item in reversed(items):
        used += count_tokens(item)
        if used > budget:
            break
        kept.insert(0, item)
    return kept


def _to_chunk(index: int, units: list[_Unit]) -> Chunk:
    text = (units[0].lead + "\n" if units[0].lead else "") + units[0].text
    text += "".join(u.separator + u.text for u in units[1:])
    weight: dict[str | None, int] = {}
    paths: dict[str | None, tuple[str, ...]] = {}
    for unit in units:
        weight[unit.heading] = weight.get(unit.heading, 0) + unit.tokens
        paths.setdefault(unit.heading, unit.section_path)
    pages = [u.page for u in units if u.page is not None]
    tokens = units[0].lead_tokens + sum(u.tokens for u in units)
    heading = max(weight, key=lambda h: (weight[h], h is not None))
    return Chunk(
        index=index,
        text=text,
        # Counts add up over text joined at whitespace, so only a chunk holding a piece cut inside
        # a word is counted again.
        token_count=tokens if all(u.exact for u in units) else count_tokens(text),
        page_start=min(pages) if pages else None,
        page_end=max(pages) if pages else None,
        heading=heading,
        section_path=list(paths[heading]),
        fingerprint=fingerprint(text),
    )
