"""Word (.docx): body paragraphs and tables in document order; headings from Heading/Title
styles (or an outline level), including custom styles based on them. DOCX has no fixed pages,
so blocks carry no page numbers."""

from __future__ import annotations

import io
from collections.abc import Iterator

import docx
from docx.document import Document
from docx.oxml.ns import qn
from docx.styles.style import BaseStyle
from docx.table import Table
from docx.text.paragraph import Paragraph

from ragline.extract.common import BlockBuilder, one_line
from ragline.models import ExtractedDocument

_BODY_OUTLINE_LEVEL = "9"  # outline levels 0-8 are heading levels; 9 is body text


def extract_docx(data: bytes, file_name: str) -> ExtractedDocument:
    document = docx.Document(io.BytesIO(data))
    builder = BlockBuilder()
    for item in _body_items(document):
        if isinstance(item, Table):
            builder.add_table(_table_rows(item), header_rows=_repeated_header_rows(item))
        elif (level := _heading_level(item)) is not None:
            builder.add_heading(item.text, level=level)
        else:
            builder.add_text(item.text)
    title = one_line(document.core_properties.title or "")
    return ExtractedDocument(file_type="docx", title=title or builder.first_heading(), blocks=builder.blocks)


def _body_items(document: Document) -> Iterator[Paragraph | Table]:
    """Paragraphs and tables in order, including those inside content controls (w:sdt), which
    Word uses for cover pages and tables of contents."""

    def walk(element) -> Iterator[Paragraph | Table]:
        for child in element.iterchildren():
            if child.tag == qn("w:p"):
                yield Paragraph(child, document)
            elif child.tag == qn("w:tbl"):
                yield Table(child, document)
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    yield from walk(content)

    yield from walk(document.element.body)


def _heading_level(paragraph: Paragraph) -> int | None:
    """1 for Title and Heading 1 (or outline level 0), 2 for Heading 2, ...; None for body text.
    Custom styles based on a heading style inherit its level."""
    level = _outline_level(paragraph._p)
    if level not in (None, _BODY_OUTLINE_LEVEL):
        return int(level) + 1
    style: BaseStyle | None = paragraph.style
    while style is not None:
        name = (style.name or "").lower()
        if name == "title":
            return 1
        if name.startswith("heading"):
            digits = "".join(ch for ch in name if ch.isdigit())
            return int(digits) if digits else 1
        level = _outline_level(style.element)
        if level not in (None, _BODY_OUTLINE_LEVEL):
            return int(level) + 1
        style = style.base_style
    return None


def _outline_level(element) -> str | None:
    values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
    return values[0] if values else None


def _repeated_header_rows(table: Table) -> int | None:
    """Leading rows marked "repeat as header row" (w:tblHeader); None when unmarked (guessed)."""
    count = 0
    for tr in table._tbl.tr_lst:
        if not tr.xpath("./w:trPr/w:tblHeader"):
            break
        count += 1
    return count if 0 < count < len(table._tbl.tr_lst) else None


def _table_rows(table: Table) -> list[list[str]]:
    """One list of cell texts per row; a cell merged across columns counts once."""
    rows = []
    for tr in table._tbl.tr_lst:
        cells = []
        for tc in tr.tc_lst:
            paragraphs = ("".join(p.xpath(".//w:t/text()")) for p in tc.xpath(".//w:p"))
            cells.append(" ".join(p for p in paragraphs if p))
        rows.append(cells)
    return rows
