"""Right-to-left script (Arabic, Hebrew) from PDFs, in reading order.

PDF producers store right-to-left glyphs in different orders: some in visual order (left to
right as drawn, which PDFium passes through, so every word comes out reversed: the nih-trials
Arabic protocol reads "ثحبلا ناونع" for "عنوان البحث"), some shaped by HarfBuzz in visual order
(PDFium reverses those runs itself, but swaps the two letters of each lam-alef ligature).
Both are put right the same way: the characters sorted by where they are drawn give the visual
line, and the Unicode bidi algorithm (python-bidi) turns a visual line back into logical order
(its reordering is its own inverse). A line mostly in right-to-left script is read as a
right-to-left paragraph; the Latin words and numbers inside it keep their order.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import regex
from bidi import get_display

RIGHT_TO_LEFT = regex.compile(r"[\p{Bidi_Class=R}\p{Bidi_Class=AL}]")
_LETTER = regex.compile(r"\p{L}")


def reading_order(textpage: pdfium.PdfTextPage, indices: Iterable[int]) -> str:
    """The characters at ``indices`` of one line, in logical order."""
    box = pdfium_c.FS_RECTF()
    drawn = []
    for index in indices:
        pdfium_c.FPDFText_GetLooseCharBox(textpage, index, ctypes.byref(box))
        drawn.append((box.left, index, chr(pdfium_c.FPDFText_GetUnicode(textpage, index) or 32)))
    visual = "".join(char for _, _, char in sorted(drawn))
    mostly_rtl = 2 * len(RIGHT_TO_LEFT.findall(visual)) >= len(_LETTER.findall(visual))
    return get_display(visual, base_dir="R" if mostly_rtl else "L")


def lines_within(textpage: pdfium.PdfTextPage, left: float, bottom: float, right: float, top: float) -> list[list[int]]:
    """The indices of the characters whose centre lies in the rectangle, in storage order, one
    list per line (a new line where PDFium breaks one, or where the text drops by a line)."""
    box = pdfium_c.FS_RECTF()
    lines: list[list[int]] = []
    previous = None
    for index in range(pdfium_c.FPDFText_CountChars(textpage)):
        if chr(pdfium_c.FPDFText_GetUnicode(textpage, index) or 32) in "\r\n":
            previous = None
            continue
        pdfium_c.FPDFText_GetLooseCharBox(textpage, index, ctypes.byref(box))
        middle = (box.top + box.bottom) / 2
        if not (left <= (box.left + box.right) / 2 <= right and bottom <= middle <= top):
            continue
        if previous is None or abs(middle - previous) > (box.top - box.bottom) / 2:
            lines.append([])
        lines[-1].append(index)
        previous = middle
    return lines
