"""Extraction on real inputs: the sample PDFs, and documents generated here in each format
(Vietnamese text throughout, since nothing may assume English or ASCII)."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from pathlib import Path

import docx
import pypdf
import pytest
import regex
from docx.enum.style import WD_STYLE_TYPE
from PIL import Image

from ragline.chunking import chunk_document
from ragline.errors import DocumentError
from ragline.extract import extract
from ragline.models import ExtractedDocument

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
NTSB = CORPORA / "ntsb"
NIH = CORPORA / "nih-trials"
needs_corpora = pytest.mark.skipif(not CORPORA.exists(), reason="sample corpora not available")

VI_TITLE = "Báo cáo về Hà Nội"
VI_INTRO = "Hà Nội là thủ đô của nước Cộng hòa Xã hội chủ nghĩa Việt Nam."
VI_HISTORY = "Thăng Long được vua Lý Thái Tổ chọn làm kinh đô vào năm 1010."
VI_FOOD = "Người dân Hà Nội nổi tiếng với phở, bún chả và cà phê trứng."


def block_with(doc: ExtractedDocument, phrase: str):
    matches = [b for b in doc.blocks if phrase in b.text]
    assert matches, f"{phrase!r} not found"
    return matches[0]


def headings(doc: ExtractedDocument) -> list[str]:
    return [b.text for b in doc.blocks if b.kind == "heading"]


# --- generated documents -------------------------------------------------------------------


def vietnamese_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = VI_TITLE
    document.add_heading("Giới thiệu", level=1)
    document.add_paragraph(VI_INTRO)
    document.add_heading("Lịch sử", level=2)
    document.add_paragraph(VI_HISTORY)
    custom = document.styles.add_style("Tiêu đề mục riêng", WD_STYLE_TYPE.PARAGRAPH)
    custom.base_style = document.styles["Heading 2"]
    document.add_paragraph("Ẩm thực", style=custom)
    document.add_paragraph(VI_FOOD)
    table = document.add_table(rows=3, cols=2)
    for row, (city, population) in zip(table.rows, [("Thành phố", "Dân số"), ("Hà Nội", "8,4 triệu"), ("Huế", "1,2 triệu")]):
        row.cells[0].text, row.cells[1].text = city, population
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


VI_HTML = f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{VI_TITLE}</title>
<style>body {{ font-family: serif }}</style><script>var menu = "Trang chủ";</script></head>
<body>
<nav><a href="/">Trang chủ</a> | <a href="/lien-he">Liên hệ</a></nav>
<main>
<h1>Giới thiệu</h1><p>{VI_INTRO}</p>
<h2>Lịch sử</h2><p>{VI_HISTORY.replace("1010", "<b>1010</b>")}<br>Dòng thứ hai.</p>
<h2>Ẩm thực</h2><ul><li>Phở</li><li>Bún chả</li></ul>
<table><tr><th>Thành phố</th><th>Dân số</th></tr><tr><td>Hà Nội</td><td>8,4 triệu</td></tr></table>
</main>
<footer>© 2024 Bản quyền</footer>
</body></html>"""

VI_MARKDOWN = f"""---
title: {VI_TITLE}
tags: [du lịch]
---

# Giới thiệu

{VI_INTRO} Xem [bản đồ](https://example.org/ban-do) và **món ăn**.

## Ẩm thực

- {VI_FOOD}
- Cà phê trứng

| Món | Giá |
| --- | --- |
| Phở | 50.000 đ |

```
mã = "ví dụ"
```
"""

# Vietnamese in Windows-1258 writes most tone marks as combining characters after the letter.
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258(text: str) -> bytes:
    out = []
    for char in text:
        try:
            out.append(char.encode("cp1258"))
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
            out.append((base + "".join(c for c in parts if c in _TONE_MARKS)).encode("cp1258"))
    return b"".join(out)


def png_bytes(size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def image_only_pdf() -> bytes:
    """A 'scanned' page: one image, no text layer."""
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), (240, 240, 240)).save(buffer, "PDF")
    return buffer.getvalue()


def drawing_only_pdf() -> bytes:
    """A page with vector drawing only, written by hand."""
    return hand_written_pdf(b"0 0 1 RG 4 w 50 50 m 300 300 l S 100 100 200 100 re f")


def hand_written_pdf(content: bytes) -> bytes:
    """A one-page PDF of ``content`` (a page content stream; font /F1 is Helvetica)."""
    font = b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >> >> >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 400] /Resources %s /Contents 4 0 R >>" % font,
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def encrypted(pdf: bytes, **options) -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf))
    writer.encrypt(**options)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --- each format ---------------------------------------------------------------------------


def test_docx_vietnamese_headings_and_table() -> None:
    doc = extract(vietnamese_docx(), "bao-cao.docx")
    assert doc.file_type == "docx"
    assert doc.title == VI_TITLE
    assert headings(doc) == ["Giới thiệu", "Lịch sử", "Ẩm thực"]
    assert block_with(doc, "Thăng Long").heading == "Lịch sử"
    assert block_with(doc, "phở, bún chả").heading == "Ẩm thực"  # custom style based on Heading 2
    table = block_with(doc, "Dân số")
    assert table.kind == "table"
    assert table.text.split("\n") == ["Thành phố | Dân số", "Hà Nội | 8,4 triệu", "Huế | 1,2 triệu"]
    assert all(b.page is None for b in doc.blocks)


def test_html_vietnamese_drops_chrome() -> None:
    doc = extract(VI_HTML.encode("utf-8"), "ha-noi.html", "text/html")
    assert doc.file_type == "html"
    assert doc.title == VI_TITLE
    assert headings(doc) == ["Giới thiệu", "Lịch sử", "Ẩm thực"]
    everything = "\n".join(b.text for b in doc.blocks)
    for chrome in ("Trang chủ", "Liên hệ", "Bản quyền", "font-family", "var menu"):
        assert chrome not in everything
    assert block_with(doc, "Thăng Long").text == VI_HISTORY + "\nDòng thứ hai."
    assert block_with(doc, "Bún chả").heading == "Ẩm thực"
    assert block_with(doc, "Dân số").text == "Thành phố | Dân số\nHà Nội | 8,4 triệu"


def test_html_declared_legacy_charset() -> None:
    page = f'<html><head><meta charset="windows-1258"></head><body><h1>Lịch sử</h1><p>{VI_HISTORY}</p></body></html>'
    doc = extract(cp1258(page), "lich-su.htm")
    assert block_with(doc, "Thăng Long").text == VI_HISTORY


def test_markdown_vietnamese() -> None:
    doc = extract(VI_MARKDOWN.encode("utf-8"), "ha-noi.md")
    assert doc.file_type == "markdown"
    assert doc.title == VI_TITLE  # from front matter, which is not text
    assert headings(doc) == ["Giới thiệu", "Ẩm thực"]
    intro = block_with(doc, "Hà Nội là thủ đô")
    assert intro.text == f"{VI_INTRO} Xem bản đồ và món ăn."  # link text kept, URL and ** dropped
    assert block_with(doc, "Cà phê trứng").heading == "Ẩm thực"
    assert block_with(doc, "50.000").text == "Món | Giá\nPhở | 50.000 đ"
    assert block_with(doc, 'mã = "ví dụ"').heading == "Ẩm thực"
    assert "tags" not in "\n".join(b.text for b in doc.blocks)


def test_plain_text_in_windows_1258() -> None:
    text = f"{VI_INTRO}\n{VI_HISTORY}\n\n{VI_FOOD}\n"
    data = cp1258(text)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    doc = extract(data, "ghi-chu.txt")
    assert doc.file_type == "text"
    assert [b.text for b in doc.blocks] == [f"{VI_INTRO}\n{VI_HISTORY}", VI_FOOD]
    assert doc.title == VI_INTRO


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_plain_text_in_unicode_encodings(encoding: str) -> None:
    doc = extract(f"{VI_INTRO}\n\n{VI_FOOD}".encode(encoding), "ghi-chu.txt")
    assert [b.text for b in doc.blocks] == [VI_INTRO, VI_FOOD]


def test_csv_sniffed_dialect_and_labelled_rows() -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerows([["Tên", "Thành phố", "Ghi chú"], ["An", "Hà Nội", "thích phở; cà phê"], ["Bình", "Huế", ""]])
    doc = extract(buffer.getvalue().encode("utf-8"), "khach-hang")  # no extension: sniffed
    assert doc.file_type == "csv"
    table = [b for b in doc.blocks if b.kind == "table"][0]
    assert table.table.header == [["Tên", "Thành phố", "Ghi chú"]]
    assert table.table.rows == [["An", "Hà Nội", "thích phở; cà phê"], ["Bình", "Huế"]]
    rows = chunk_document(doc, 220, 0)[0].text.split("\n")
    assert rows == [
        "Tên | Thành phố | Ghi chú",
        "Tên: An | Thành phố: Hà Nội | Ghi chú: thích phở; cà phê",
        "Tên: Bình | Thành phố: Huế",
    ]


def test_tsv_by_extension() -> None:
    doc = extract("Món\tGiá\nPhở\t50000\n".encode("utf-8"), "menu.tsv")
    assert doc.file_type == "csv"
    assert block_with(doc, "Phở").text == "Món | Giá\nPhở | 50000"
    assert chunk_document(doc, 220, 0)[0].text == "Món | Giá\nMón: Phở | Giá: 50000"


def test_content_sniffing_without_helpful_names() -> None:
    assert extract(VI_HTML.encode(), "trang.txt").file_type == "html"  # a doctype beats .txt
    assert extract(VI_MARKDOWN.encode(), "ghi-chu", "application/octet-stream").file_type == "markdown"
    assert extract(vietnamese_docx(), "upload.bin").file_type == "docx"
    assert extract(f"{VI_INTRO}\n\n{VI_FOOD}".encode(), "ghi-chu").file_type == "text"


# --- real PDFs -----------------------------------------------------------------------------


@needs_corpora
def test_ntsb_report_pages_headings_and_tables() -> None:
    doc = extract((NTSB / "20071229X02007.pdf").read_bytes(), "20071229X02007.pdf")
    assert doc.file_type == "pdf"
    assert doc.page_count == 4
    assert doc.title == "National Transportation Safety Board Aviation Accident Final Report (NYC08CA055)"
    narrative = block_with(doc, "misjudged clearance over obstacles")
    assert narrative.page == 1 and narrative.heading == "Probable Cause and Findings"
    assert block_with(doc, "attempting to land a Piper PA-22-150").heading == "Analysis"
    pilot = block_with(doc, "Certificate: | Private | Age: | 85, Male")
    assert pilot.kind == "table" and pilot.page == 2
    assert block_with(doc, "Aircraft Make: | Piper | Registration: | N5921D").page == 2
    assert block_with(doc, "Departure Point: | Quincy, FL (2J9)").page == 3
    assert block_with(doc, "Independent Safety Board Act, as codified").page == 4
    assert not any("Page 2 of 4" in b.text for b in doc.blocks)  # running header removed


@needs_corpora
def test_all_ntsb_reports_keep_page_numbers() -> None:
    for path in sorted(NTSB.glob("*.pdf")):
        doc = extract(path.read_bytes(), path.name)
        assert doc.page_count and doc.page_count >= 3
        pages = [b.page for b in doc.blocks]
        assert pages == sorted(pages) and pages[0] == 1 and pages[-1] == doc.page_count
        assert doc.title.startswith("National Transportation Safety Board Aviation Accident")
        assert not any(f"Page 1 of {doc.page_count}" in b.text for b in doc.blocks)


@needs_corpora
def test_protocol_table_in_reading_order() -> None:
    doc = extract((NIH / "NCT06152900_Prot_SAP_000.pdf").read_bytes(), "NCT06152900_Prot_SAP_000.pdf")
    assert doc.page_count == 35
    schedule = block_with(doc, "Concomitant Medications | x | x")
    assert schedule.kind == "table" and schedule.page == 19
    assert schedule.heading == "TABLE 1: SCHEDULE OF ACTIVITIES"
    rows = schedule.text.split("\n")
    assert rows.index(next(r for r in rows if r.startswith("Informed Consent"))) < rows.index(
        next(r for r in rows if r.startswith("Subject Satisfaction"))
    )
    assert "6.5.3 Acute Responses" in headings(doc)
    assert block_with(doc, "erythema or edema").heading == "6.5.3 Acute Responses"
    toc = block_with(doc, "6.5.3 Acute Responses 19")  # the table of contents stays text
    assert toc.kind == "text" and toc.page == 9
    assert doc.title.startswith("Prospective Clinical Evaluation of the Safety and Efficacy")


@needs_corpora
def test_non_latin_pdfs() -> None:
    chinese = extract((NIH / "NCT06153992_ICF_001.pdf").read_bytes(), "icf.pdf")
    # the cover's labelled "Project Name: ...", then the metadata title (the consent form's own)
    assert chinese.title.endswith(" — 临床试验 知情同意书 模板")
    thai = extract((NIH / "NCT06155955_Prot_SAP_000.pdf").read_bytes(), "thai.pdf")
    assert thai.title == "โครงการวิจัยฉบับย่อ"
    arabic = extract((NIH / "NCT06152952_Prot_000.pdf").read_bytes(), "arabic.pdf")
    assert any(regex.search(r"\p{Arabic}{4}", b.text) for b in arabic.blocks)
    # not the file name in the metadata: the form's "English Title" field, then the form's name
    assert arabic.title.startswith("Evaluation of Rhomboid flap outcome in the surgical treatment")
    assert arabic.title.endswith(" — Research Proposal Form (arabic)")


@needs_corpora
def test_arabic_in_visual_order_is_read_in_reading_order() -> None:
    """The nih-trials Arabic protocol stores its glyphs left to right as drawn: read as stored,
    every word comes out reversed ("ثحبلا ناونع" for "عنوان البحث")."""
    text = " ".join(b.text for b in extract((NIH / "NCT06152952_Prot_000.pdf").read_bytes(), "arabic.pdf").blocks)
    assert "عنوان البحث" in text and "نوع البحث : عشوائي منضبط" in text
    assert "ثحبلا" not in text
    assert "تقییم نتائج السدیلة المعینیة" in text  # the Arabic title, in a ruled table's cell


def test_arabic_shaped_by_harfbuzz_keeps_its_ligatures_in_order() -> None:
    data = (Path(__file__).parents[1] / "fixtures" / "arabic_harfbuzz.pdf").read_bytes()
    text = " ".join(b.text for b in extract(data, "arabic.pdf").blocks)
    assert "فعالية العلاج الطبيعي" in text  # not "العالج": the lam-alef ligature read backwards
    assert "باستخدام برنامج SPSS الإصدار 26" in text and "في عام 2023" in text


@needs_corpora
def test_pdf_renamed_txt_is_read_as_pdf() -> None:
    doc = extract((NTSB / "20080102X00002.pdf").read_bytes(), "report.txt", "text/plain")
    assert doc.file_type == "pdf" and doc.page_count


# --- errors users see ----------------------------------------------------------------------


def error_for(data: bytes, name: str, content_type: str | None = None) -> str:
    with pytest.raises(DocumentError) as caught:
        extract(data, name, content_type)
    message = str(caught.value)
    assert name in message
    return message


@needs_corpora
def test_scanned_pdfs_have_no_text_layer() -> None:
    real_scan = error_for((NIH / "NCT06155240_Prot_SAP_000.pdf").read_bytes(), "scan.pdf")
    assert "no text layer" in real_scan and "OCR" in real_scan
    generated = error_for(image_only_pdf(), "fax.pdf")
    assert "no text layer" in generated and "scanned images" in generated


def test_pdf_with_drawings_only() -> None:
    assert "no text layer" in error_for(drawing_only_pdf(), "diagram.pdf")


@needs_corpora
def test_raised_powers_of_ten_keep_their_exponent() -> None:
    # "75×10⁹/L" typeset as a raised "9" (text rise, as word processors write it): PDFium reads "75×109/L", another figure. A figure
    # written inline ("2.4x106 IU", as some protocols type it) stays as written.
    line = b"BT /F1 11 Tf 40 300 Td (Platelet count 75\xd710) Tj /F1 7 Tf 4 Ts (9) Tj /F1 11 Tf 0 Ts (/L; dose 2.4x106 IU) Tj ET"
    cell = b"BT /F1 11 Tf 45 175 Td (2\xd710) Tj /F1 7 Tf 4 Ts (6) Tj /F1 11 Tf 0 Ts ( cells/kg) Tj ET"
    grid = b"0.5 w 40 160 m 360 160 l S 40 195 m 360 195 l S 40 230 m 360 230 l S " \
           b"40 160 m 40 230 l S 200 160 m 200 230 l S 360 160 m 360 230 l S"
    cells = b"BT /F1 11 Tf 45 210 Td (Target) Tj 160 0 Td (Minimum) Tj ET BT /F1 11 Tf 205 175 Td (CD34+) Tj ET"
    text = "\n".join(b.text for b in extract(hand_written_pdf(line + b" " + grid + b" " + cell + b" " + cells), "x.pdf").blocks)
    assert "75×10^9/L" in text and "2.4x106 IU" in text
    assert "2×10^6 cells/kg" in text


def test_truncated_pdf() -> None:
    data = (NTSB / "20071229X02007.pdf").read_bytes()
    message = error_for(data[: len(data) // 2], "truncated.pdf")
    assert "damaged or truncated" in message


@needs_corpora
def test_encrypted_pdfs() -> None:
    data = (NTSB / "20071229X02007.pdf").read_bytes()
    locked = error_for(encrypted(data, user_password="bí mật", owner_password="chủ"), "locked.pdf")
    assert "password" in locked
    no_copy = error_for(encrypted(data, user_password="", owner_password="chủ", permissions_flag=0), "nocopy.pdf")
    assert "forbid copying" in no_copy
    readable = encrypted(data, user_password="", owner_password="chủ")  # owner password, all permissions
    assert extract(readable, "ok.pdf").page_count == 4


@pytest.mark.parametrize("data", [b"", b"   \n\t  ", "  \n ".encode("utf-16")])
def test_empty_files(data: bytes) -> None:
    assert "empty" in error_for(data, "trong.txt")


def test_png_is_unsupported() -> None:
    message = error_for(png_bytes(), "anh.png", "image/png")
    assert "PNG image" in message and "Supported types" in message and "PDF" in message


def test_png_named_pdf_is_still_an_image() -> None:
    assert "PNG image" in error_for(png_bytes(), "scan.pdf", "application/pdf")


def test_zip_that_is_not_docx() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ghi-chu.txt", VI_INTRO)
    message = error_for(buffer.getvalue(), "tai-lieu.zip")
    assert "ZIP archive" in message and "Supported types" in message


def test_damaged_docx() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><not-closed>")
    assert "could not be read as a Word document" in error_for(buffer.getvalue(), "hong.docx")


def test_binary_garbage_named_pdf() -> None:
    data = bytes(range(256)) * 8
    assert "not one" in error_for(data, "report.pdf")
    assert "Supported types" in error_for(data, "data.bin")


def test_document_without_text() -> None:
    page = b"<html><body><script>alert(1)</script><nav>Menu</nav></body></html>"
    assert "no text" in error_for(page, "trong.html")
