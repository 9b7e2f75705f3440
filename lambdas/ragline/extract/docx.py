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
            builder.add_table(_table_rows(item))
        elif _is_heading(item):
            builder.add_heading(item.text)
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


def _is_heading(paragraph: Paragraph) -> bool:
    if _outline_level(paragraph._p) not in (None, _BODY_OUTLINE_LEVEL):
        return True
    style: BaseStyle | None = paragraph.style
    while style is not None:
        name = (style.name or "").lower()
        if name == "title" or name.startswith("heading"):
            return True
        if _outline_level(style.element) not in (None, _BODY_OUTLINE_LEVEL):
            return True
        style = style.base_style
    return False


def _outline_level(element) -> str | None:
    values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
    return values[0] if values else None


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
