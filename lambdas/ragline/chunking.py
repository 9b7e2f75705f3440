"""Token-bounded chunks with overlap, cut at the most natural break available.

The document becomes a stream of units (sentences, table rows, whole tables that fit), each
knowing how strong the break before it is: a new section, a paragraph, a line, a sentence,
a word, or (for an oversized run without spaces) a character. Units are packed greedily; when
the next one does not fit, the chunk is cut at the strongest break that still leaves it
reasonably full, so chunks end at paragraph ends rather than mid-sentence whenever possible.
Consecutive chunks of one section share `overlap_tokens` of text (whole sentences if they fit).

Sizes use ragline.text.count_tokens, which is additive over text split at whitespace or between
characters of unsegmented scripts, so a chunk's count never exceeds the sum of its units'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import regex

from ragline.models import Block, Chunk, ExtractedDocument
from ragline.text import count_tokens

SECTION, PARAGRAPH, LINE, SENTENCE, WORD, CHARACTER = 5, 4, 3, 2, 1, 0
# A break qualifies only if the chunk before it is at least this full (fraction of max_tokens):
# a tiny section joins the next one rather than becoming a chunk of its own.
_MIN_FILL = {SECTION: 0.25, PARAGRAPH: 0.5, LINE: 0.5, SENTENCE: 0.5, WORD: 0.0, CHARACTER: 0.0}

_PARAGRAPHS = regex.compile(r"\n\s*\n")
# Sentence ends: terminal punctuation (any script), optional closing quotes/brackets, then space
# before something that is not a lowercase letter ("e.g. this" stays whole); or CJK full stops,
# which need no space after them.
_SENTENCE_ENDS = regex.compile(r"(?<=[.!?…。！？؟।॥።፧][\"'”’»)\]]*)\s+(?!\p{Ll})|(?<=[。！？])(?=\S)")
_WORDS = regex.compile(r"\S+")
_GRAPHEMES = regex.compile(r"\X")

Piece = tuple[str, int, str]  # text, strength of the break before it, separator before it


@dataclass(frozen=True)
class _Unit:
    text: str
    tokens: int
    strength: int  # of the break before this unit
    page: int | None
    heading: str | None
    separator: str  # what joins it to the unit before

    @property
    def is_section_start(self) -> bool:
        return self.strength == SECTION


def chunk_document(doc: ExtractedDocument, max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split a document into chunks of at most `max_tokens` (estimated) tokens, indexed 0..n-1."""
    if max_tokens < 2:
        raise ValueError("max_tokens must be at least 2")
    overlap_tokens = max(0, min(overlap_tokens, max_tokens // 2))
    packer = _Packer(max_tokens, overlap_tokens)
    previous_heading: object = object()
    for block in doc.blocks:
        starts_section = block.kind == "heading" or block.heading != previous_heading
        previous_heading = block.heading
        for unit in _units(block, max_tokens, SECTION if starts_section else PARAGRAPH):
            packer.add(unit)
    packer.flush()
    return [_to_chunk(index, units) for index, units in enumerate(packer.chunks)]


def _units(block: Block, max_tokens: int, strength: int) -> list[_Unit]:
    """A block as units no larger than max_tokens. Headings and tables stay whole if they fit;
    prose is always split into sentences so that a chunk can end between any two of them."""
    text = block.text.strip()
    if block.kind != "text" and (tokens := count_tokens(text)) <= max_tokens:
        return [_Unit(text, tokens, strength, block.page, block.heading, "\n\n")]
    units = []
    for piece, piece_strength, separator in _split(text, strength, prose=block.kind == "text"):
        tokens = count_tokens(piece)
        pieces = [(piece, tokens, piece_strength, separator)]
        if tokens > max_tokens:
            pieces = _split_words(piece, piece_strength, separator, max_tokens)
        units += [_Unit(t, n, s, block.page, block.heading, sep) for t, n, s, sep in pieces]
    return units


def _split(text: str, strength: int, prose: bool) -> list[Piece]:
    """Paragraphs, then lines, then (in prose) sentences."""
    pieces: list[Piece] = [(text, strength, "\n\n")]
    pieces = _refine(pieces, PARAGRAPH, lambda t: [(p, "\n\n") for p in _PARAGRAPHS.split(t)])
    pieces = _refine(pieces, LINE, lambda t: [(line, "\n") for line in t.split("\n")])
    return _refine(pieces, SENTENCE, _sentences) if prose else pieces


def _refine(pieces: list[Piece], level: int, splitter: Callable[[str], list[tuple[str, str]]]) -> list[Piece]:
    """Split each piece further; its first part keeps the piece's break, the rest get `level`."""
    refined: list[Piece] = []
    for text, strength, separator in pieces:
        parts = [(part.strip(), sep) for part, sep in splitter(text) if part.strip()]
        for i, (part, sep) in enumerate(parts):
            refined.append((part, strength, separator) if i == 0 else (part, level, sep))
    return refined


def _sentences(text: str) -> list[tuple[str, str]]:
    """Sentences with the separator that preceded each: a space, or nothing after "。"."""
    parts: list[tuple[str, str]] = []
    start, separator = 0, ""
    for end in _SENTENCE_ENDS.finditer(text):
        parts.append((text[start : end.start()], separator))
        start, separator = end.end(), " " if end.group() else ""
    parts.append((text[start:], separator))
    return parts


def _split_words(text: str, strength: int, separator: str, max_tokens: int) -> list[tuple[str, int, int, str]]:
    """Words; a single word over the limit (a long URL, Chinese text without punctuation) is cut
    between characters. A word's estimate is not additive over its pieces (a long word counts a
    little more than its halves), so each piece carries one token of slack."""
    pieces: list[tuple[str, int, int, str]] = []
    for i, word in enumerate(_WORDS.findall(text)):
        first_strength, first_separator = (strength, separator) if i == 0 else (WORD, " ")
        tokens = count_tokens(word)
        if tokens <= max_tokens:
            pieces.append((word, tokens, first_strength, first_separator))
            continue
        graphemes = _GRAPHEMES.findall(word)
        step = max(1, max_tokens // 2)
        for j in range(0, len(graphemes), step):
            part = "".join(graphemes[j : j + step])
            pieces.append(
                (part, count_tokens(part) + 1, *((first_strength, first_separator) if j == 0 else (CHARACTER, "")))
            )
    return pieces


class _Packer:
    def __init__(self, max_tokens: int, overlap_tokens: int) -> None:
        self.max_tokens = max_tokens
        self.overlap_tokens = overlap_tokens
        self.chunks: list[list[_Unit]] = []
        self.current: list[_Unit] = []
        self.carried = 0  # leading units of `current` that repeat the previous chunk's end

    def tokens(self) -> int:
        return sum(u.tokens for u in self.current)

    def add(self, unit: _Unit) -> None:
        while self.tokens() + unit.tokens > self.max_tokens and len(self.current) > self.carried:
            self._cut(unit)
        while self.current and self.tokens() + unit.tokens > self.max_tokens:
            self.current.pop(0)  # only overlap is left: shorten it so the unit fits
            self.carried -= 1
        self.current.append(unit)

    def flush(self) -> None:
        if len(self.current) > self.carried:
            self.chunks.append(self.current)
        self.current, self.carried = [], 0

    def _cut(self, incoming: _Unit) -> None:
        at = self._best_cut(incoming)
        chunk, rest = self.current[:at], self.current[at:]
        self.chunks.append(chunk)
        following = rest[0] if rest else incoming
        overlap = [] if following.is_section_start else _overlap(chunk, following, self.overlap_tokens)
        self.current = overlap + rest
        self.carried = len(overlap)

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
    text = units[0].text + "".join(u.separator + u.text for u in units[1:])
    weight: dict[str | None, int] = {}
    for unit in units:
        weight[unit.heading] = weight.get(unit.heading, 0) + unit.tokens
    pages = [u.page for u in units if u.page is not None]
    return Chunk(
        index=index,
        text=text,
        token_count=count_tokens(text),
        page_start=min(pages) if pages else None,
        page_end=max(pages) if pages else None,
        heading=max(weight, key=lambda h: (weight[h], h is not None)),
    )
