"""Ruled tables in PDF pages, found from the lines drawn on the page (pdfium path objects).

pdfplumber finds tables well, but it parses every page through pdfminer in pure Python
(≈15 pages/s on the sample protocols), so it cannot meet the extraction budget. This is the
same "lattice" idea on pdfium's data: collect horizontal and vertical rulings, group the ones
that cross into grids, and read each cell's text with pdfium's bounded-text call. Tables
without rulings are found from word positions instead (pdf_columns).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ragline.extract.pdf_bidi import RIGHT_TO_LEFT, lines_within, reading_order
from ragline.extract.pdf_exponents import Exponent, cell_with_exponents

Matrix = tuple[float, float, float, float, float, float]
Segment = tuple[float, float, float]  # position across the line, start and end along it

_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_SNAP = 3.0  # rulings closer than this (points) are the same line (double rules, thin rects)
_MIN_LENGTH = 2.0
_MAX_SEGMENTS = 5000  # paths with more segments are drawings (charts, maps), not tables
_MAX_PAIRS = 250_000  # crossing tests per page; beyond this the page is a drawing
_MAX_DEPTH = 8  # nested form XObjects


@dataclass(frozen=True)
class Table:
    bbox: tuple[float, float, float, float]  # left, bottom, right, top in PDF points
    rows: list[list[str]]
    header_rows: int | None = None  # leading rows known to be column headers; None: guessed later

    def contains(self, x: float, y: float) -> bool:
        left, bottom, right, top = self.bbox
        return left <= x <= right and bottom <= y <= top


def find_tables(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, exponents: Sequence[Exponent]) -> list[Table]:
    """Ruled tables with at least two rows and two columns, top to bottom; ``exponents``: the
    page's power-of-ten candidates (pdf_exponents), marked in the cells that hold them."""
    horizontals, verticals = _rulings(page)
    if not horizontals or not verticals or len(horizontals) * len(verticals) > _MAX_PAIRS:
        return []
    tables = []
    for h_group, v_group in _grids(horizontals, verticals):
        table = _read_grid(h_group, v_group, textpage, exponents)
        if table is not None:
            tables.append(table)
    return sorted(tables, key=lambda t: -t.bbox[3])


def _rulings(page: pdfium.PdfPage) -> tuple[list[Segment], list[Segment]]:
    horizontals: list[Segment] = []
    verticals: list[Segment] = []
    _walk(page.raw, pdfium_c.FPDFPage_CountObjects, pdfium_c.FPDFPage_GetObject, _IDENTITY, 0, horizontals, verticals)
    return _merge(horizontals), _merge(verticals)


def _walk(parent, count, get, outer: Matrix, depth: int, horizontals: list[Segment], verticals: list[Segment]) -> None:
    for i in range(count(parent)):
        obj = get(parent, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < _MAX_DEPTH:
            matrix = _compose(_matrix(obj), outer)
            _walk(obj, pdfium_c.FPDFFormObj_CountObjects, pdfium_c.FPDFFormObj_GetObject, matrix, depth + 1, horizontals, verticals)
        elif kind == pdfium_c.FPDF_PAGEOBJ_PATH and _is_drawn(obj):
            _add_path(obj, _compose(_matrix(obj), outer), horizontals, verticals)


def _is_drawn(obj) -> bool:
    """Clipping paths are neither filled nor stroked: they draw nothing."""
    fill_mode, stroke = ctypes.c_int(), ctypes.c_int()
    if not pdfium_c.FPDFPath_GetDrawMode(obj, ctypes.byref(fill_mode), ctypes.byref(stroke)):
        return False
    return bool(fill_mode.value or stroke.value)


def _add_path(obj, matrix: Matrix, horizontals: list[Segment], verticals: list[Segment]) -> None:
    """Straight horizontal and vertical pieces of a path (rectangle edges included)."""
    n = pdfium_c.FPDFPath_CountSegments(obj)
    if n <= 0 or n > _MAX_SEGMENTS:
        return
    x, y = ctypes.c_float(), ctypes.c_float()
    start = previous = None
    for j in range(n):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj, j)
        if not pdfium_c.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y)):
            continue
        point = _apply(matrix, x.value, y.value)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO:
            start = point
        elif kind == pdfium_c.FPDF_SEGMENT_LINETO and previous is not None:
            _add_line(previous, point, horizontals, verticals)
        if pdfium_c.FPDFPathSegment_GetClose(segment) and start is not None:
            _add_line(point, start, horizontals, verticals)
        previous = point


def _add_line(p, q, horizontals: list[Segment], verticals: list[Segment]) -> None:
    dx, dy = abs(q[0] - p[0]), abs(q[1] - p[1])
    if dy <= 1.0 and dx >= _MIN_LENGTH:
        horizontals.append(((p[1] + q[1]) / 2, min(p[0], q[0]), max(p[0], q[0])))
    elif dx <= 1.0 and dy >= _MIN_LENGTH:
        verticals.append(((p[0] + q[0]) / 2, min(p[1], q[1]), max(p[1], q[1])))


def _matrix(obj) -> Matrix:
    m = pdfium_c.FS_MATRIX()
    if not pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(m)):
        return _IDENTITY
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix applying `inner`, then `outer`."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


def _merge(segments: list[Segment]) -> list[Segment]:
    """Snap near-identical positions together and join collinear pieces that touch or overlap."""
    merged: list[Segment] = []
    segments.sort()
    i = 0
    while i < len(segments):
        j = i + 1
        while j < len(segments) and segments[j][0] - segments[j - 1][0] <= _SNAP:
            j += 1
        group = segments[i:j]
        position = sum(s[0] for s in group) / len(group)
        spans = sorted((s[1], s[2]) for s in group)
        start, end = spans[0]
        for s, e in spans[1:]:
            if s <= end + _SNAP:
                end = max(end, e)
            else:
                merged.append((position, start, end))
                start, end = s, e
        merged.append((position, start, end))
        i = j
    return merged


def _grids(horizontals: list[Segment], verticals: list[Segment]) -> list[tuple[list[Segment], list[Segment]]]:
    """Groups of rulings connected by crossings (union-find over horizontal+vertical lines)."""
    parent = list(range(len(horizontals) + len(verticals)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    offset = len(horizontals)
    for hi, (y, x0, x1) in enumerate(horizontals):
        for vi, (x, y0, y1) in enumerate(verticals):
            if x0 - _SNAP <= x <= x1 + _SNAP and y0 - _SNAP <= y <= y1 + _SNAP:
                parent[root(hi)] = root(offset + vi)
    groups: dict[int, tuple[list[Segment], list[Segment]]] = {}
    for hi, h in enumerate(horizontals):
        groups.setdefault(root(hi), ([], []))[0].append(h)
    for vi, v in enumerate(verticals):
        groups.setdefault(root(offset + vi), ([], []))[1].append(v)
    return [g for g in groups.values() if len(g[0]) >= 2 and len(g[1]) >= 2]


def _read_grid(horizontals: list[Segment], verticals: list[Segment], textpage: pdfium.PdfTextPage,
               exponents: Sequence[Exponent]) -> Table | None:
    """Cells are the gaps between rulings; columns per row come from the verticals crossing it,
    so cells merged across columns stay one cell. Rejects grids that are not tables (a frame
    around the page, a boxed paragraph) and grids whose cells miss text inside the grid."""
    ys = sorted({round(h[0], 1) for h in horizontals}, reverse=True)
    left = min(v[0] for v in verticals)
    right = max(v[0] for v in verticals)
    rows: list[list[str]] = []
    widest = 0
    for top, bottom in zip(ys, ys[1:]):
        if top - bottom < _SNAP:
            continue
        xs = sorted(v[0] for v in verticals if v[1] - _SNAP <= bottom and v[2] + _SNAP >= top)
        cells = [_cell_text(textpage, exponents, x0, bottom, x1, top) for x0, x1 in zip(xs, xs[1:]) if x1 - x0 >= _SNAP]
        widest = max(widest, len(cells))
        if any(cells):
            rows.append(cells)
    if len(rows) < 2 or widest < 2:
        return None
    bbox = (left, ys[-1], right, ys[0])
    inside = _visible_chars(textpage.get_text_bounded(*bbox))
    captured = sum(_visible_chars(cell) for row in rows for cell in row)
    if captured < 0.9 * inside:
        return None
    return Table(bbox=bbox, rows=rows)


def _cell_text(textpage: pdfium.PdfTextPage, exponents: Sequence[Exponent], left: float, bottom: float, right: float,
               top: float) -> str:
    text = textpage.get_text_bounded(left, bottom, right, top)
    if RIGHT_TO_LEFT.search(text):
        text = "\n".join(reading_order(textpage, line) for line in lines_within(textpage, left, bottom, right, top))
    else:
        text = cell_with_exponents(text, exponents, left, bottom, right, top)
    return " ".join(text.replace("\ufffe", "-").split())


def _visible_chars(text: str) -> int:
    return sum(not ch.isspace() for ch in text)
