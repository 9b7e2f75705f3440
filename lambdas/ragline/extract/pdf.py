"""PDF text with page numbers, headings, paragraphs and ruled tables, via pypdfium2.

Why pypdfium2: PDFium (C++) extracts text in reading order at ≈590 pages/s on the nih-trials
protocols on this 2-core machine, against ≈42 for pypdf and ≈15 for pdfplumber (pure-Python
pdfminer), with text as good. Layout comes from PDFium's per-character data, read once per line:
font size and weight (headings), line positions (paragraphs, running headers and footers).
Ruled tables come from the page's drawn lines (pdf_tables). All of it together: ≈275 pages/s
on nih-trials and on ntsb.
"""

from __future__ import annotations

import ctypes
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import regex

from ragline.errors import DocumentError
from ragline.extract.common import BlockBuilder, clean_text, is_numeric_cell, one_line
from ragline.extract.pdf_bidi import RIGHT_TO_LEFT, reading_order
from ragline.extract.pdf_columns import find_unruled_tables
from ragline.extract.pdf_exponents import Exponent, exponents_on, line_with_exponents
from ragline.extract.pdf_tables import Table, find_tables
from ragline.models import ExtractedDocument

# PDFium is not thread-safe, even across documents; the local runtime runs handlers in threads.
_PDFIUM = threading.Lock()
_MARGIN = 0.1  # running headers and footers live in the top and bottom 10% of a page
# PDFium keeps what it parsed for a document (≈105 KB a page on nih-trials) until the document
# is closed: reading a 2,403-page PDF through one handle grew by 250 MB. A fresh handle every
# this many pages bounds that (re-opening from memory takes milliseconds).
_PAGES_PER_HANDLE = 200
_PERMIT_COPY = 0x10  # PDF permission bit 5: copy or otherwise extract text and graphics
_BOLD_FLAG = 0x40000  # PDF font descriptor flag ForceBold
_BOLD_NAME = regex.compile(r"bold|black|heavy|semibold|demi", regex.IGNORECASE)
_DIGITS = regex.compile(r"\p{N}+")
_TOC_LEADER = regex.compile(r"(?:\.{4,}|…{2,}|(?:\. ){4,}|_{4,})\s*\S*$")
_NUMBERED = regex.compile(r"^(?:\p{N}+(?:\.\p{N}+)*\.?|[IVXLC]+\.|\p{Lu}\.|[一二三四五六七八九十]+、)\s*\p{L}")
_SECTION_NUMBER = regex.compile(r"^\p{N}+(?:\.\p{N}+)*\.?(?=\s)")
_PAGE_NUMBER = regex.compile(r"^[\W_]*(?:\p{N}+|[ivxlc]+)(?:\s*(?:/|of)\s*\p{N}+)?[\W_]*$", regex.IGNORECASE)
_PDF_DATE = regex.compile(r"^(?:D:)?((?:19|20)\d\d)(\d\d)(\d\d)")
_TOC_PAGE = regex.compile(r"\p{L}\S*\s+\p{N}{1,3}$")
_LIST_ITEM = regex.compile(r"^(?:[•◦▪▫●○■□‣⁃–—*-]|\p{N}+[.)]|\p{L}[.)])\s")
_LETTER = regex.compile(r"\p{L}")
_CJK_EDGE = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_SAME_LINE, _NO_SPACE = 0.6, 0.12  # of the line's height: a gap narrower than a space joins words
_JUNK_TITLE = regex.compile(
    r"^(?:untitled|microsoft word|document\s*\d*$)|\.(?:docx?|pdf|rtf|odt|pptx?)$|\s{4,}", regex.IGNORECASE
)


@dataclass(slots=True)  # one per line of every page: slots keep a long PDF's layout small
class _Line:
    text: str
    size: float
    bold: bool  # the first character's font is bold
    bold_end: bool  # ... and the last character's
    top: float
    bottom: float
    right: float
    left: float = 0.0
    first: int = -1  # indices of its first and last characters in the text page
    last: int = -1

    @property
    def height(self) -> float:
        return max(self.top - self.bottom, 1.0)

    def style(self) -> tuple[float, bool]:
        return (round(self.size * 2) / 2, self.bold)


@dataclass
class _Page:
    number: int  # 1-based
    height: float
    items: list[_Line | Table]  # reading order; a ruled table replaces the lines inside it

    def lines(self) -> list[_Line]:
        return [item for item in self.items if isinstance(item, _Line)]


def extract_pdf(data: bytes, file_name: str) -> ExtractedDocument:
    with _PDFIUM:
        pdf = _open(data, file_name)
        try:
            title = _metadata_title(pdf)
            created = _metadata_date(pdf)
            pages = []
            for index in range(len(pdf)):
                if index and index % _PAGES_PER_HANDLE == 0:
                    pdf.close()
                    pdf = _open(data, file_name)
                pages.append(_read_page(pdf, index))
            if not any(page.items for page in pages):
                raise _no_text_layer(pdf, file_name)
        finally:
            pdf.close()
    _drop_running_headers(pages)
    builder = BlockBuilder()
    cover_title = _assemble(pages, builder)
    return ExtractedDocument(
        file_type="pdf",
        title=title or cover_title or builder.first_heading(),
        metadata_date=created,
        page_count=len(pages),
        blocks=builder.blocks,
    )


def _open(data: bytes, file_name: str) -> pdfium.PdfDocument:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise DocumentError(
                f"{file_name} is password-protected. Save a copy without the password and upload that."
            ) from exc
        raise DocumentError(
            f"{file_name} is a damaged or truncated PDF and cannot be read. "
            "Check that the upload completed, or export the PDF again and re-upload it."
        ) from exc
    encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(pdf) != -1
    if encrypted and not pdfium_c.FPDF_GetDocPermissions(pdf) & _PERMIT_COPY:
        pdf.close()
        raise DocumentError(
            f"{file_name} is encrypted and its permissions forbid copying its text. "
            "Ask the author for an unrestricted copy and upload that."
        )
    return pdf


def _read_page(pdf: pdfium.PdfDocument, index: int) -> _Page:
    page = pdf[index]
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        exponents = exponents_on(textpage, text)
        tables = find_tables(page, textpage, exponents) if text.strip() else []
        items: list[_Line | Table] = []
        placed: set[int] = set()
        for match in regex.finditer(r"[^\r\n]+", text):
            line = _line(textpage, match, exponents)
            if line is None:
                continue
            table = next((t for t in tables if t.contains(line.right - 1, (line.top + line.bottom) / 2)), None)
            if table is None:
                items.append(line)
            elif id(table) not in placed:  # the table goes where its first line was
                placed.add(id(table))
                items.append(table)
        return _Page(number=index + 1, height=page.get_height(), items=_with_unruled_tables(textpage, items))
    finally:
        textpage.close()
        page.close()


def _with_unruled_tables(textpage: pdfium.PdfTextPage, items: list[_Line | Table]) -> list[_Line | Table]:
    """Each run of lines between ruled tables, with its unruled tables (pdf_columns) in place of
    their lines."""
    result: list[_Line | Table] = []
    run: list[_Line] = []
    for item in [*items, None]:
        if isinstance(item, _Line):
            run.append(item)
            continue
        tables = find_unruled_tables(textpage, run)
        consumed = {k for indices, _ in tables for k in indices}
        placed_at = {min(indices): table for indices, table in tables}
        for k, line in enumerate(run):
            if k in placed_at:
                result.append(placed_at[k])  # where its first line was, in reading order
            elif k not in consumed:
                result.append(line)
        run = []
        if item is not None:
            result.append(item)
    return result


def _line(textpage: pdfium.PdfTextPage, match: regex.Match, exponents: Sequence[Exponent]) -> _Line | None:
    raw = match.group()
    if RIGHT_TO_LEFT.search(raw):
        ordered = reading_order(textpage, range(match.start(), match.end()))
    else:
        ordered = line_with_exponents(raw, match.start(), exponents)
    text = clean_text(ordered.replace("\ufffe", "-"))  # PDFium marks a hyphen where it joined two lines
    if not text:
        return None
    first = match.start() + len(raw) - len(raw.lstrip())
    last = match.end() - 1 - (len(raw) - len(raw.rstrip()))
    start, end = pdfium_c.FS_RECTF(), pdfium_c.FS_RECTF()
    pdfium_c.FPDFText_GetLooseCharBox(textpage, first, ctypes.byref(start))
    pdfium_c.FPDFText_GetLooseCharBox(textpage, last, ctypes.byref(end))
    return _Line(
        text=text,
        size=pdfium_c.FPDFText_GetFontSize(textpage, first),
        bold=_is_bold(textpage, first),
        bold_end=_is_bold(textpage, last),
        top=start.top,
        bottom=start.bottom,
        right=max(end.right, start.right),
        left=start.left,
        first=first,
        last=last,
    )


def _is_bold(textpage: pdfium.PdfTextPage, index: int) -> bool:
    """Font weight is often missing (0 or 400 for bold faces), so the name and flags count too."""
    if pdfium_c.FPDFText_GetFontWeight(textpage, index) >= 600:
        return True
    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    pdfium_c.FPDFText_GetFontInfo(textpage, index, name, len(name), ctypes.byref(flags))
    return bool(flags.value & _BOLD_FLAG) or bool(_BOLD_NAME.search(name.value.decode("latin-1")))


def _drop_running_headers(pages: list[_Page]) -> None:
    """Remove lines repeated in the top or bottom margin of three or more pages (two in short
    documents): running headers and footers, "Page 3 of 28"; and bare page numbers ("12",
    "- 3 -", "iv"). They are noise in every chunk and never an answer. Digits are ignored when
    comparing lines. A line of figures near the top ("2022 2021", a table's column header) is
    not a page number and stays."""

    def signature(line: _Line) -> str:
        return _DIGITS.sub("#", line.text.casefold())

    def in_margin(page: _Page) -> list[_Line]:
        band = page.height * _MARGIN
        return [li for li in page.lines() if li.top >= page.height - band or li.bottom <= band]

    margins = [in_margin(page) for page in pages]
    counts = Counter(sig for lines in margins for sig in {signature(li) for li in lines})
    repeated = {sig for sig, n in counts.items() if n >= (2 if len(pages) <= 4 else 3)}

    def running(line: _Line) -> bool:  # also "Page 1 of 4" when later pages say "Page # of # ABC123"
        sig = signature(line)
        return sig in repeated or (len(sig) >= 5 and any(r.startswith(sig) or r.endswith(sig) for r in repeated))

    for page, lines in zip(pages, margins):
        drop = {id(li) for li in lines if running(li) or _PAGE_NUMBER.match(li.text)}
        page.items = [item for item in page.items if id(item) not in drop]


def _assemble(pages: list[_Page], builder: BlockBuilder) -> str | None:
    """Group lines into paragraphs, find the headings among them, and emit blocks in order.
    Returns the title found on the cover page, if any."""
    body = _body_size([line for page in pages for line in page.lines()])
    gap = _typical_gap(pages)
    units: list[tuple[int, list[_Line] | Table]] = []
    for page in pages:
        paragraph: list[_Line] = []
        for item in page.items:
            if isinstance(item, Table) or (paragraph and _breaks(paragraph[-1], item, gap)):
                if paragraph:
                    units.append((page.number, paragraph))
                paragraph = []
            if isinstance(item, Table):
                units.append((page.number, item))
            else:
                paragraph.append(item)
        if paragraph:
            units.append((page.number, paragraph))
    headings = _headings([unit for _, unit in units], body)
    levels = _heading_levels([u for (_, u), h in zip(units, headings) if h])
    for (page_number, unit), heading in zip(units, headings):
        if isinstance(unit, Table):
            builder.add_table(unit.rows, page=page_number, header_rows=unit.header_rows)
        elif heading:
            builder.add_heading(" ".join(line.text for line in unit), page=page_number, level=levels[id(unit)])
        else:
            builder.add_text(_join_lines(unit), page=page_number)
    return _cover_title(units, body)


def _cover_title(units: list[tuple[int, list[_Line] | Table]], body_size: float) -> str | None:
    """The largest paragraph of the first page with text, if set larger than the body text."""
    first = [unit for number, unit in units if number == units[0][0] and not isinstance(unit, Table)] if units else []
    cover = max(first, key=lambda paragraph: paragraph[0].size, default=None)
    if cover is None or cover[0].size < body_size * 1.15 or len(cover) > 4:
        return None
    return one_line(" ".join(line.text for line in cover))


def _headings(units: list[list[_Line] | Table], body_size: float) -> list[bool]:
    """Heading candidates, except runs of three or more alike in a row: those are a list of
    bold labels or form fields, not a section structure."""
    flags = [not isinstance(u, Table) and _is_heading(u, body_size) for u in units]
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and flags[j] and units[j][0].style() == units[i][0].style():
            j += 1
        if j - i >= 3:
            flags[i:j] = [False] * (j - i)
        i = max(j, i + 1)
    return flags


def _heading_levels(headings: list[list[_Line]]) -> dict[int, int]:
    """Nesting level of each heading paragraph (by id): a numbered heading's depth ("6.5.3" is
    3); otherwise its rank among the heading styles by size, larger first, bold before plain.
    The section path of every block comes from these levels."""
    styles = sorted({(p[0].style()[0], p[0].bold) for p in headings}, reverse=True)
    levels = {}
    for paragraph in headings:
        number = _SECTION_NUMBER.match(paragraph[0].text)
        if number:
            levels[id(paragraph)] = min(number.group().rstrip(".").count(".") + 1, 6)
        else:
            levels[id(paragraph)] = min(styles.index((paragraph[0].style()[0], paragraph[0].bold)) + 1, 6)
    return levels


def _body_size(lines: list[_Line]) -> float:
    """The font size most of the text is set in (by characters)."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size * 2) / 2] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def _typical_gap(pages: list[_Page]) -> float:
    """The usual space between lines of one paragraph (single, 1.5 or double spacing)."""
    gaps: Counter[float] = Counter()
    for page in pages:
        lines = page.lines()
        for a, b in zip(lines, lines[1:]):
            gap = a.bottom - b.top
            if a.style() == b.style() and 0 <= gap < 1.5 * a.height:
                gaps[round(gap * 2) / 2] += 1
    return gaps.most_common(1)[0][0] if gaps else 2.0


def _breaks(a: _Line, b: _Line, line_gap: float) -> bool:
    """Does line b start a new paragraph after line a?"""
    if b.top > a.top + 1:  # moved up the page: next column or a separate text box
        return True
    if a.style() != b.style():
        return True
    return a.bottom - b.top > line_gap + 0.35 * min(a.height, b.height)


def _join_lines(paragraph: list[_Line]) -> str:
    right = max(line.right for line in paragraph)
    text = paragraph[0].text
    for previous, line in zip(paragraph, paragraph[1:]):
        text += _joiner(previous, line, right) + line.text
    return text


def _joiner(previous: _Line, line: _Line, right: float) -> str:
    """Wrapped lines join with a space (nothing between CJK characters); a line that ends
    short of the right edge, or a list item, keeps its line break. PDFium also ends a line
    after raised text ("75×10^9" | "/L"): what goes on along the same baseline joins it."""
    if abs(line.bottom - previous.bottom) <= 1 and -1 <= line.left - previous.right <= _SAME_LINE * previous.height:
        return "" if line.left - previous.right < _NO_SPACE * previous.height else " "
    if _LIST_ITEM.match(line.text) or previous.right < right - 3 * previous.height:
        return "\n"
    if _CJK_EDGE.match(previous.text[-1]) and _CJK_EDGE.match(line.text[0]):
        return ""
    return " "


def _is_heading(paragraph: list[_Line], body_size: float) -> bool:
    """Short, no closing punctuation, and set larger, all bold, or numbered like "4.2 Title"."""
    text = " ".join(line.text for line in paragraph)
    first, last = paragraph[0], paragraph[-1]
    if len(paragraph) > 3 or len(text.split()) > 20 or len(text) > 200 or not _LETTER.search(text):
        return False
    if text[-1] in ".,;:!?。，；：" or _TOC_LEADER.search(text):
        return False
    if _SECTION_NUMBER.match(text) and _TOC_PAGE.search(text):
        return False  # "2.3.1 Known Potential Risks 12": a table-of-contents entry
    figures = sum(is_numeric_cell(token) for token in text.split()[1:])
    if figures >= 2 or (figures and figures * 3 >= len(text.split())):
        return False  # a bold total row of a table ("Gross margin 6,018 6,535"), not a section
    larger = first.size >= body_size * 1.15
    bold = first.bold and last.bold_end
    numbered = len(paragraph) == 1 and len(text.split()) <= 12 and _NUMBERED.match(text) is not None
    return larger or bold or numbered


def _metadata_date(pdf: pdfium.PdfDocument) -> str | None:
    """The CreationDate ("D:20071229093000-05'00'") as an ISO date; the descriptor falls back
    to it when the cover states no date."""
    found = _PDF_DATE.match(pdf.get_metadata_value("CreationDate") or "")
    if not found:
        return None
    year, month, day = (int(g) for g in found.groups())
    return f"{year:04d}-{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else None


def _metadata_title(pdf: pdfium.PdfDocument) -> str | None:
    """The document's Title, unless it is a placeholder or a file name ("Microsoft Word - x.doc")."""
    raw = (pdf.get_metadata_value("Title") or "").strip()
    if not _LETTER.search(raw) or _JUNK_TITLE.search(raw):
        return None
    return one_line(raw)


def _no_text_layer(pdf: pdfium.PdfDocument, file_name: str) -> DocumentError:
    images = any(
        next(iter(pdf[i].get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,))), None) is not None
        for i in range(len(pdf))
    )
    what = "its pages are scanned images" if images else "its pages contain no text"
    return DocumentError(
        f"{file_name} has no text layer ({what}). Run OCR on it first (for example with ocrmypdf) "
        "and upload the searchable PDF."
    )
