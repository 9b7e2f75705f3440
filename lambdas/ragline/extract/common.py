"""Helpers shared by the format extractors: text clean-up and block assembly."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import regex

from ragline.models import Block, Table

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
    """Collapse all whitespace (for headings and table cells). Called per cell of large CSVs,
    so it does only what a single line needs: NFC, no invisible characters, single spaces; and
    nothing at all for the plain ASCII cells that make up most of such files."""
    if text.isascii() and text.isprintable() and "  " not in text and text.strip() == text:
        return text
    return " ".join(unicodedata.normalize("NFC", _INVISIBLE.sub("", text)).split())


def paragraphs(text: str) -> list[str]:
    """Split cleaned text at blank lines."""
    return [p for p in (part.strip() for part in _BLANK_LINES.split(clean_text(text))) if p]


class BlockBuilder:
    """Collects blocks in reading order, stamping each with the heading in effect and the
    path of headings enclosing it (a heading of level n closes every open heading of level >= n)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.heading: str | None = None
        self._open: list[tuple[int, str]] = []  # (level, heading) from the outermost

    @property
    def section_path(self) -> list[str]:
        return [text for _, text in self._open]

    def add_heading(self, text: str, page: int | None = None, level: int = 1) -> None:
        text = one_line(text)
        if text:
            self.heading = text
            while self._open and self._open[-1][0] >= level:
                self._open.pop()
            self._open.append((level, text))
            self.blocks.append(Block(text=text, page=page, heading=text, section_path=self.section_path, kind="heading"))

    def add_text(self, text: str, page: int | None = None) -> None:
        text = clean_text(text)
        if text:
            self.blocks.append(Block(text=text, page=page, heading=self.heading, section_path=self.section_path))

    def add_table(
        self,
        rows: list[list[str]],
        page: int | None = None,
        header_rows: int | None = None,
        caption: str | None = None,
    ) -> None:
        """A table block: rows in reading order, one per line, cells separated by " | ", and the
        same rows structured (header, body, caption). `header_rows` is how many leading rows are
        column headers when the format says so (<th>, a repeated Word header row); None guesses."""
        rows = _tidy([[one_line(c) for c in row] for row in rows])
        if not rows:
            return
        if all(sum(1 for cell in row if cell) <= 1 for row in rows):
            # No row with two cells is a framed box (a form's field, a boxed paragraph), not a
            # table: its "header" is only its first line, and repeated before every other line it
            # would be read into each of them. It is text, wrapped lines and all.
            self.add_text("\n".join(cell for row in rows for cell in row if cell), page)
            return
        caption = one_line(caption) if caption else self._caption_above()
        first = 0
        if len(rows) > 2 and sum(1 for c in rows[0] if c) == 1 and max(len(r) for r in rows[1:]) >= 2:
            caption = caption or next(c for c in rows[0] if c)  # a title row spanning the table
            first = 1
        if header_rows is None:
            header_rows = header_row_count(rows[first:])
        end = first + header_rows
        table = Table(header=rows[first:end], rows=rows[end:], caption=caption or None)
        text = "\n".join(" | ".join(cells) for cells in rows)
        self.blocks.append(
            Block(text=text, page=page, heading=self.heading, section_path=self.section_path, kind="table", table=table)
        )

    def _caption_above(self) -> str | None:
        """The line just above a table that names it ("Table 2: Adverse events"), if any."""
        last = self.blocks[-1] if self.blocks else None
        if last is None or last.kind == "table" or not _CAPTION.match(last.text) or len(last.text) > 200:
            return None
        if last.kind == "text":
            self.blocks.pop()  # it travels with the table (and repeats with it), not on its own
        return last.text

    def first_heading(self) -> str | None:
        return next((b.text for b in self.blocks if b.kind == "heading"), None)


_CAPTION = regex.compile(r"^(?:table|tab\.|bảng|exhibit|schedule)\s*[\p{N}IVX]+\b", regex.IGNORECASE)
_NUMERIC_CELL = regex.compile(r"^[-+−–(\[$€£¥%.,\s\p{N}\p{Sc})\]]+$")


def is_numeric_cell(cell: str) -> bool:
    """A figure: digits with currency, sign, percent, separators or accounting brackets."""
    return bool(cell) and _NUMERIC_CELL.match(cell) is not None and any(ch.isdigit() for ch in cell)


_YEAR = regex.compile(r"^(?:FY\s?)?(?:19|20)\d\d[A-Z]?$")


def looks_like_header(row: list[str]) -> bool:
    """Column headers name things: no cell is a figure other than a year ("2022"), and no cell
    is a form label ("Age:") followed by its value, which is how key-value forms laid out as
    grids look."""
    cells = [c for c in row if c]
    return len(cells) >= 1 and not any((is_numeric_cell(c) and not _YEAR.match(c)) or c.endswith(":") for c in cells)


def header_row_count(rows: list[list[str]], most: int = 3) -> int:
    """Leading rows that are column headers: rows that look like headers, the second and later
    ones with an empty label cell (stacked headers: "Three Months Ended" over "June 25, 2022").
    At least one body row is left."""
    count = 0
    while count < min(most, len(rows) - 1) and looks_like_header(rows[count]) and (count == 0 or not rows[count][0]):
        count += 1
    return count


# Symbols that a layout puts in a column of their own but that belong to the figure beside them.
_LEADING_SYMBOLS = {"$", "€", "£", "¥", "(", "US$", "S$"}
_TRAILING_SYMBOLS = {"%", ")", "%)", "pts", "bps"}
_SYMBOLS = _LEADING_SYMBOLS | _TRAILING_SYMBOLS


def join_symbol_cells(cells: list[str]) -> list[str]:
    """'$' | '6,018' -> '$6,018' and '12.5' | '%' -> '12.5%': a currency sign or percent
    sign in a cell of its own is joined to its figure (PDF layouts set them in their own column)."""
    joined: list[str] = []
    pending = ""
    for cell in cells:
        if cell in _LEADING_SYMBOLS:
            pending += cell
            continue
        if cell in _TRAILING_SYMBOLS and joined and joined[-1] and not pending:
            joined[-1] += cell
            continue
        joined.append(pending + cell)
        pending = ""
    if pending:
        joined.append(pending)
    return joined


def _tidy(rows: list[list[str]]) -> list[list[str]]:
    """Drop empty rows, columns empty in every row, and empty cells at row ends: layout
    artefacts (spacer columns, ruled margins) that only add noise to the text. Columns that
    hold only currency or percent signs join the figures beside them."""
    rows = [row for row in rows if any(row)]
    rows = _merge_symbol_columns(rows)
    width = max((len(row) for row in rows), default=0)
    used = [any(i < len(row) and row[i] for row in rows) for i in range(width)]
    rows = [[cell for i, cell in enumerate(row) if used[i]] for row in rows]
    for row in rows:
        while row and not row[-1]:
            row.pop()
    return rows


def _merge_symbol_columns(rows: list[list[str]]) -> list[list[str]]:
    """A column whose cells are all "$" (or all "%"), a header cell in the first row aside, is
    folded into the column to its right (or left). The header cell, set over both, moves along
    when the other column has none. Every other column stays where it is."""
    width = max((len(row) for row in rows), default=0)
    for row in rows:
        row.extend([""] * (width - len(row)))
    for i in range(width):
        cells = [row[i] for row in rows[1:] if row[i]] + ([rows[0][i]] if rows and rows[0][i] in _SYMBOLS else [])
        if not cells:
            continue
        if all(c in _LEADING_SYMBOLS for c in cells) and i + 1 < width:
            _fold(rows, i, i + 1, lambda symbol, figure: symbol + figure)
        elif all(c in _TRAILING_SYMBOLS for c in cells) and i > 0:
            _fold(rows, i, i - 1, lambda symbol, figure: figure + symbol)
    return rows


def _fold(rows: list[list[str]], source: int, target: int, join: Callable[[str, str], str]) -> None:
    head = rows[0]
    if head[source] and head[source] not in _SYMBOLS and not head[target]:
        head[target], head[source] = head[source], ""
    for row in rows:
        if row[source] in _SYMBOLS and row[target]:
            row[target], row[source] = join(row[source], row[target]), ""
