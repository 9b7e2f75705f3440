"""Helpers shared by the format extractors: text clean-up and block assembly."""

from __future__ import annotations

import unicodedata

import regex

from ragline.models import Block

# Characters that carry no text: C0/C1 controls (except tab and newline), BOMs, soft hyphens,
# noncharacters, and private-use code points (symbol-font glyphs such as bullets).
_INVISIBLE = regex.compile(r"[[\p{Cc}\p{Co}\u00ad\ufeff\ufffe\uffff]--[\t\n]]", regex.V1)
_SPACES = regex.compile(r"[^\S\n]+")
_BLANK_LINES = regex.compile(r"\n\s*\n")
_EXTRA_BLANK_LINES = regex.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """NFC, "\\n" line ends, no invisible characters, single spaces, no blank-line padding.

    NFC (not NFKC) keeps the document's own characters while making composed and decomposed
    Vietnamese spellings identical.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _SPACES.sub(" ", _INVISIBLE.sub("", text))
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _EXTRA_BLANK_LINES.sub("\n\n", text).strip()


def one_line(text: str) -> str:
    """Collapse all whitespace (for headings and table cells)."""
    return " ".join(clean_text(text).split())


def paragraphs(text: str) -> list[str]:
    """Split cleaned text at blank lines."""
    return [p for p in (part.strip() for part in _BLANK_LINES.split(clean_text(text))) if p]


class BlockBuilder:
    """Collects blocks in reading order, stamping each with the heading in effect."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.heading: str | None = None

    def add_heading(self, text: str, page: int | None = None) -> None:
        text = one_line(text)
        if text:
            self.heading = text
            self.blocks.append(Block(text=text, page=page, heading=text, kind="heading"))

    def add_text(self, text: str, page: int | None = None) -> None:
        text = clean_text(text)
        if text:
            self.blocks.append(Block(text=text, page=page, heading=self.heading, kind="text"))

    def add_table(self, rows: list[list[str]], page: int | None = None) -> None:
        """Rows in reading order, one per line, cells separated by " | "."""
        lines = [" | ".join(cells) for cells in _tidy([[one_line(c) for c in row] for row in rows])]
        if lines:
            self.blocks.append(Block(text="\n".join(lines), page=page, heading=self.heading, kind="table"))

    def first_heading(self) -> str | None:
        return next((b.text for b in self.blocks if b.kind == "heading"), None)


def _tidy(rows: list[list[str]]) -> list[list[str]]:
    """Drop empty rows, columns empty in every row, and empty cells at row ends: layout
    artefacts (spacer columns, ruled margins) that only add noise to the text."""
    rows = [row for row in rows if any(row)]
    width = max((len(row) for row in rows), default=0)
    used = [any(i < len(row) and row[i] for row in rows) for i in range(width)]
    rows = [[cell for i, cell in enumerate(row) if used[i]] for row in rows]
    for row in rows:
        while row and not row[-1]:
            row.pop()
    return rows
