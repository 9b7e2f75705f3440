"""Powers of ten in PDFs: the raised exponent digits that PDFium reads inline.

"2×10⁶ CD34+ cells/kg" and "75×10⁹/L" are typeset as "2×10" followed by a raised "6", and
PDFium's text reads "2×106", another figure (the nih-trials myeloma protocol's stem-cell and
platelet thresholds). A digit run after "×10" whose baseline sits above the "0" by a fifth of
its height is an exponent and is written "10^6". Only this notation is looked at: footnote
marks and other superscripts keep their text as read.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import regex

POWER_OF_TEN = regex.compile(r"(?<=\d\s?[×xX]\s?10)[-−]?\d+")
_RAISED = 0.2  # of the "0"'s height


@dataclass(frozen=True, slots=True)
class Exponent:
    """A power-of-ten candidate on a page: where its first digit is in the text page (index and
    centre) and whether it is raised."""

    index: int
    x: float
    y: float
    raised: bool


def exponents_on(textpage: pdfium.PdfTextPage, page_text: str) -> list[Exponent]:
    """Every candidate of the page, read once for its lines and its table cells alike."""
    found = []
    for match in POWER_OF_TEN.finditer(page_text):
        box = _box(textpage, match.start())
        found.append(Exponent(match.start(), (box.left + box.right) / 2, (box.top + box.bottom) / 2,
                              _raised(textpage, match.start())))
    return found


def line_with_exponents(raw: str, offset: int, exponents: Sequence[Exponent]) -> str:
    """A line of the page text (its characters from ``offset``), exponents marked."""
    return _marked(raw, [e.index - offset for e in exponents if e.raised and offset <= e.index < offset + len(raw)])


def cell_with_exponents(text: str, exponents: Sequence[Exponent], left: float, bottom: float, right: float,
                        top: float) -> str:
    """A table cell's text (PDFium's bounded text, which has no character indices), exponents
    marked: its candidates are paired in order with the page's candidates inside the cell."""
    candidates = list(POWER_OF_TEN.finditer(text))
    if not candidates:
        return text
    inside = [e for e in exponents if left <= e.x <= right and bottom <= e.y <= top]
    if len(inside) != len(candidates):
        return text  # they cannot be paired: leave the cell as read
    return _marked(text, [c.start() for c, e in zip(candidates, inside) if e.raised])


def _marked(text: str, positions: Sequence[int]) -> str:
    for at in sorted(positions, reverse=True):
        text = f"{text[:at]}^{text[at:]}"
    return text


def _raised(textpage: pdfium.PdfTextPage, index: int) -> bool:
    """Whether the character at ``index`` sits higher than the "0" before it."""
    zero, digit = _box(textpage, index - 1), _box(textpage, index)
    return digit.bottom > zero.bottom + _RAISED * (zero.top - zero.bottom)


def _box(textpage: pdfium.PdfTextPage, index: int) -> pdfium_c.FS_RECTF:
    box = pdfium_c.FS_RECTF()
    pdfium_c.FPDFText_GetLooseCharBox(textpage, index, ctypes.byref(box))
    return box
