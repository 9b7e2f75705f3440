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

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import regex

POWER_OF_TEN = regex.compile(r"(?<=\d\s?[×xX]\s?10)[-−]?\d+")
_RAISED = 0.2  # of the "0"'s height


def line_with_exponents(textpage: pdfium.PdfTextPage, raw: str, offset: int) -> str:
    """A line of the text page's text (its characters from ``offset``), exponents marked."""
    raised = [m.start() for m in POWER_OF_TEN.finditer(raw) if _raised(textpage, offset + m.start())]
    return _marked(raw, raised)


def cell_with_exponents(textpage: pdfium.PdfTextPage, text: str, left: float, bottom: float, right: float,
                        top: float) -> str:
    """A table cell's text (PDFium's bounded text, which has no character indices), exponents
    marked: its candidates are paired in order with those the page text has inside the cell."""
    candidates = list(POWER_OF_TEN.finditer(text))
    if not candidates:
        return text
    page_text = textpage.get_text_range()
    inside = [m.start() for m in POWER_OF_TEN.finditer(page_text) if _centre_in(textpage, m.start(), left, bottom, right, top)]
    if len(inside) != len(candidates):
        return text  # they cannot be paired: leave the cell as read
    return _marked(text, [c.start() for c, at in zip(candidates, inside) if _raised(textpage, at)])


def _marked(text: str, positions: Sequence[int]) -> str:
    for at in sorted(positions, reverse=True):
        text = f"{text[:at]}^{text[at:]}"
    return text


def _raised(textpage: pdfium.PdfTextPage, index: int) -> bool:
    """Whether the character at ``index`` sits higher than the "0" before it."""
    zero, digit = _box(textpage, index - 1), _box(textpage, index)
    return digit.bottom > zero.bottom + _RAISED * (zero.top - zero.bottom)


def _centre_in(textpage: pdfium.PdfTextPage, index: int, left: float, bottom: float, right: float, top: float) -> bool:
    box = _box(textpage, index)
    return left <= (box.left + box.right) / 2 <= right and bottom <= (box.top + box.bottom) / 2 <= top


def _box(textpage: pdfium.PdfTextPage, index: int) -> pdfium_c.FS_RECTF:
    box = pdfium_c.FS_RECTF()
    pdfium_c.FPDFText_GetLooseCharBox(textpage, index, ctypes.byref(box))
    return box
