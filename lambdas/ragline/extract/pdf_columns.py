"""Tables without ruling lines in PDF pages, found from where the words sit.

Financial statements are set as rows of a label and figures in aligned columns, with no lines
drawn: PDFium reads each row as one line of text ("Net sales $ 82,959 $ 81,434"), and the
paragraph builder would join the rows into one paragraph. Here a row is a line whose characters
leave wide gaps (cells) and which holds figures after its label; consecutive rows whose cells
fall into the same columns make a table. The lines just above the first row that sit over the
figure columns ("Three Months Ended" / "June 25, 2022  June 26, 2021") are its header rows, so
every figure keeps its column header, and the table is placed before running headers are
filtered (a column header near the page top is not a running header).

Only lines that hold a figure after their first word are measured character by character, so
prose pages cost nothing extra.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Protocol

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import regex

from ragline.extract.common import is_numeric_cell
from ragline.extract.pdf_tables import Table

_FIGURE = regex.compile(r"\s[-+−–(\[$€£¥]*\p{N}[\p{N},.]*%?\)?(?=\s|$)")
_SYMBOL_SPACE = regex.compile(r"(?<=[$€£¥(])\s+(?=\p{N})|(?<=\p{N})\s+(?=%)")  # "$ 6,018" "43.3 %"
_MARKS = {"-", "–", "—", "x", "X", "✓", "✔", "n/a", "N/A", "nm", "NM"}
_CELL_GAP = 1.0  # a gap wider than this many font sizes separates cells
_MAX_HEADER_LINES = 3
_MAX_COLUMNS = 16


class LineLike(Protocol):
    text: str
    size: float
    top: float
    bottom: float
    left: float
    first: int  # index of the line's first character in the text page
    last: int


@dataclass(frozen=True)
class _Cell:
    text: str
    x0: float
    x1: float


def find_unruled_tables(textpage: pdfium.PdfTextPage, lines: list[LineLike]) -> list[tuple[list[int], Table]]:
    """(indices of the lines it is made of, table) for each unruled table among `lines`
    (reading order). Header lines are found by position, wherever the reading order put them."""
    found: list[tuple[list[int], Table]] = []
    cells: dict[int, list[_Cell]] = {}

    def cells_of(i: int) -> list[_Cell]:
        if i not in cells:
            cells[i] = _cells(textpage, lines[i])
        return cells[i]

    i = 0
    while i < len(lines):
        if not _may_be_row(lines[i]) or not _is_row(lines[i], cells_of(i)):
            i += 1
            continue
        end = _run_end(lines, i, cells_of)
        table = _table(lines, i, end, cells_of)
        if table is None:
            i += 1
            continue
        header_lines, table = table
        found.append((header_lines + list(range(i, end)), table))
        i = end
    return found


def _cells(textpage: pdfium.PdfTextPage, line: LineLike) -> list[_Cell]:
    gap = max(line.size, 4.0) * _CELL_GAP
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    box = [ctypes.byref(v) for v in (left, right, bottom, top)]
    result: list[_Cell] = []
    chars: list[str] = []
    x0 = x1 = None
    for index in range(line.first, line.last + 1):
        code = pdfium_c.FPDFText_GetUnicode(textpage, index)
        char = chr(code) if code else ""
        if not char.strip():
            if chars:
                chars.append(" ")
            continue
        pdfium_c.FPDFText_GetCharBox(textpage, index, *box)
        if x1 is not None and left.value - x1 > gap and chars:
            result.append(_Cell("".join(chars).strip(), x0, x1))
            chars, x0 = [], None
        chars.append(char)
        x0 = left.value if x0 is None else x0
        x1 = right.value
    if chars:
        result.append(_Cell("".join(chars).strip(), x0, x1))
    return [_Cell(_SYMBOL_SPACE.sub("", c.text), c.x0, c.x1) for c in result if c.text]


def _may_be_row(line: LineLike) -> bool:
    """Cheap test before measuring characters: a row holds a figure after its first word and
    ends with a figure or a mark (prose lines rarely do)."""
    return _FIGURE.search(line.text) is not None and _is_value(line.text.rsplit(None, 1)[-1])


def _is_value(text: str) -> bool:
    return is_numeric_cell(text) or text in _MARKS or text in {"$", "%"}


def _is_row(line: LineLike, cells: list[_Cell]) -> bool:
    """A label (or nothing) then cells that are all figures, at least one a real number."""
    if len(cells) < 2:
        return False
    values = cells[1:] if not _is_value(cells[0].text) else cells
    return all(_is_value(c.text) for c in values) and any(is_numeric_cell(c.text) for c in values)


def _run_end(lines: list[LineLike], start: int, cells_of) -> int:
    """The line after the last row of the run that starts at `start`. Label-only lines between
    rows ("Operating expenses:") belong to it when a row follows."""
    end = start + 1
    j = start + 1
    while j < len(lines):
        previous, line = lines[j - 1], lines[j]
        if previous.bottom - line.top > 2.5 * max(previous.top - previous.bottom, 1.0) or line.top > previous.top + 1:
            break
        if _may_be_row(line) and _is_row(line, cells_of(j)):
            end = j = j + 1
            continue
        if len(line.text) <= 80 and abs(line.left - lines[start].left) <= 2 * line.size and not _FIGURE.search(line.text):
            j += 1  # a group label; kept only if another row follows
            continue
        break
    return end


def _table(lines: list[LineLike], start: int, end: int, cells_of) -> tuple[list[int], Table] | None:
    body = [cells_of(k) if _may_be_row(lines[k]) else [] for k in range(start, end)]
    body = [cells or [_Cell(lines[k].text, lines[k].left, lines[k].left)] for k, cells in zip(range(start, end), body)]
    rows_with_figures = sum(1 for cells in body if len(cells) >= 2)
    if rows_with_figures < 2:
        return None
    labelled = [(cells[0], cells[1:]) if not _is_value(cells[0].text) else (None, cells) for cells in body]
    columns = _columns([c for _, values in labelled for c in values])
    if not columns or len(columns) > _MAX_COLUMNS:
        return None
    rows: list[list[str]] = []
    for label, values in labelled:
        row = [label.text if label else ""] + [""] * len(columns)
        for cell in values:
            k = _column_of(cell, columns)
            if row[k + 1]:
                return None  # two figures in one column: not an aligned table
            row[k + 1] = cell.text
        rows.append(row)
    figure_columns = {k for k in range(len(columns)) if any(is_numeric_cell(row[k + 1]) for row in rows)}
    header, header_lines = _header(lines, start, end, columns, figure_columns, cells_of)
    used = header_lines + list(range(start, end))
    bbox = (
        min(lines[k].left for k in used),
        min(lines[k].bottom for k in used),
        max(x1 for _, x1 in columns),
        max(lines[k].top for k in used),
    )
    return header_lines, Table(bbox=bbox, rows=header + rows, header_rows=len(header))


def _columns(cells: list[_Cell]) -> list[tuple[float, float]]:
    """Column spans: the union of overlapping cell spans, left to right."""
    spans: list[tuple[float, float]] = []
    for cell in sorted(cells, key=lambda c: c.x0):
        if spans and cell.x0 <= spans[-1][1] + 1.0:
            spans[-1] = (spans[-1][0], max(spans[-1][1], cell.x1))
        else:
            spans.append((cell.x0, cell.x1))
    return spans


def _column_of(cell: _Cell, columns: list[tuple[float, float]]) -> int:
    overlaps = [min(cell.x1, x1) - max(cell.x0, x0) for x0, x1 in columns]
    best = max(range(len(columns)), key=lambda k: overlaps[k])
    if overlaps[best] > 0:
        return best
    middle = (cell.x0 + cell.x1) / 2
    return min(range(len(columns)), key=lambda k: abs((columns[k][0] + columns[k][1]) / 2 - middle))


def _header(
    lines: list[LineLike], start: int, end: int, columns: list[tuple[float, float]], figure_columns: set[int], cells_of
) -> tuple[list[list[str]], list[int]]:
    """Header rows (top first) and their line indices: up to three lines stacked right above the
    first row that sit over its figure columns; a line of a single cell spans every column of
    figures ("Three Months Ended")."""
    header: list[list[str]] = []
    taken: list[int] = []
    table_left = columns[0][0]
    below = lines[start]
    candidates = [k for k in range(len(lines)) if not start <= k < end]
    while len(taken) < _MAX_HEADER_LINES:
        height = max(below.top - below.bottom, 1.0)
        above = [
            k for k in candidates
            if k not in taken and lines[k].bottom >= below.top - 0.5 * height and lines[k].bottom - below.top <= 2.5 * height
        ]
        if not above:
            break
        k = min(above, key=lambda k: lines[k].bottom)
        line, cells = lines[k], cells_of(k)
        if not cells or cells[0].x0 < table_left - 3 * line.size or _is_row(line, cells):
            break  # starts in the label column (a caption, prose) or is itself a row of figures
        row = [""] * (len(columns) + 1)
        if len(cells) == 1:
            for j in figure_columns:
                row[j + 1] = cells[0].text
        else:
            for cell in cells:
                covered = [j for j, (x0, x1) in enumerate(columns) if min(cell.x1, x1) > max(cell.x0, x0)]
                for j in covered or [_column_of(cell, columns)]:
                    row[j + 1] = f"{row[j + 1]} {cell.text}".strip()
        header.insert(0, row)
        taken.append(k)
        below = line
    return header, taken
