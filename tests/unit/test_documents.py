"""Document context (issue 8): descriptors that tell documents apart, section paths and context
headers on chunks, tables that keep header cells and row labels with their figures, and
chunking that stays linear on huge inputs. Real pages of the shared corpora where they exist."""

from __future__ import annotations

import ctypes
import io
from pathlib import Path

import docx
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from ragline.chunking import chunk_document, fingerprint
from ragline.errors import DocumentError
from ragline.extract import extract
from ragline.extract.common import BlockBuilder
from ragline.extract.descriptor import describe, detect_language, find_date, find_period
from ragline.extract.pdf import _is_heading, _Line
from ragline.models import Block, DocumentDescriptor, ExtractedDocument, Table
from ragline.text import count_tokens

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
NTSB = CORPORA / "ntsb"
NIH = CORPORA / "nih-trials"
needs_corpora = pytest.mark.skipif(not CORPORA.exists(), reason="sample corpora not available")
PROTOCOL = "NCT06152900_Prot_SAP_000.pdf"  # a schedule of activities on page 19


def read(folder: Path, name: str) -> ExtractedDocument:
    return extract((folder / name).read_bytes(), name)


# --- descriptors ---------------------------------------------------------------------------


@needs_corpora
def test_no_two_ntsb_reports_share_a_title() -> None:
    titles = [read(NTSB, path.name).title for path in sorted(NTSB.glob("*.pdf"))]
    assert len(set(titles)) == len(titles) == 20
    assert all(t.startswith("National Transportation Safety Board Aviation Accident") for t in titles)


@needs_corpora
def test_protocol_titles_are_distinct_and_never_bare_form_headers() -> None:
    titles = []
    for path in sorted(NIH.glob("*.pdf")):
        try:
            titles.append(read(NIH, path.name).title)
        except DocumentError:
            continue  # the scanned protocol
    assert len(set(titles)) == len(titles) >= 19
    assert "Study Protocol" not in titles and "Clinical Study Protocol" not in titles
    assert "Clinical Study Protocol (NCT06151600)" not in titles
    # The cover's labelled title ("Title | A Prospective ...") leads; a form's name stays after it.
    assert ("A Prospective Natural History and Outcome Measure Discovery Study of Charcot-Marie-Tooth Disease, "
            "Type 4J — Clinical Study Protocol (NCT06151600)") in titles
    assert any(t.startswith("Evaluation of Rhomboid flap outcome") and t.endswith("— Research Proposal Form (NCT06152952)")
               for t in titles)  # "1.2 English Title of research project:" with the title on the next line
    assert any(t.startswith("The Feasibility of Virtual Reality-Based Activities") for t in titles)  # not the letterhead
    # A title set over several lines is whole, however the metadata or the labelled field cut it.
    assert ("Phase II clinical study of daratumumab combined with bortezomib, lenalidomide and dexamethasone (DVRd) "
            "in the treatment of patients with newly diagnosed double-hit multiple myeloma (NCT06158269)") in titles
    assert any(t.startswith("The effect of postprandial ambulation on birth weight percentile in patients with "
                            "gestational diabetes mellitus") for t in titles)
    assert any(t.startswith("The Effect of Music Therapy on Cognition in Neurorehabilitation – A Feasibility "
                            "Randomized Controlled Trial") for t in titles)
    # A generic metadata title ("data analysis plan") gives way to the cover's title line.
    assert any(t.startswith("Understanding the Effectiveness of an Online Support Group") for t in titles)
    # The next field of the cover is not part of the title ("… spinal cord injury Grant Number: 1R43…").
    faucet = next(t for t in titles if t.startswith("Access-H20"))
    assert "Grant Number" not in faucet and faucet.endswith("spinal cord injury — Study Protocol (NCT06159946)")


def test_a_generic_metadata_title_gives_way_to_a_title_line_but_not_to_prose() -> None:
    titled = [Block(text="Walking After Meals in Gestational Diabetes: A Randomised Trial\nVersion 2", page=1)]
    assert describe(titled, "sap.pdf", "Statistical Analysis Plan").title.startswith("Walking After Meals")
    prose = [Block(text="This plan describes the analyses. It covers the primary outcome in full.", page=1)]
    assert describe(prose, "sap.pdf", "Statistical Analysis Plan").title == "Statistical Analysis Plan (sap)"


@needs_corpora
def test_ntsb_descriptor_from_the_cover_page() -> None:
    descriptor = read(NTSB, "20071229X02007.pdf").descriptor
    assert descriptor.title == "National Transportation Safety Board Aviation Accident Final Report (NYC08CA055)"
    assert descriptor.date == "2007-12-08"  # "Date & Time: 12/08/2007, 1730 EST"
    assert "Aircraft: Piper PA-22-150" in descriptor.entities
    assert "Location: Tallahassee, FL" in descriptor.entities
    assert descriptor.language == "en"


@needs_corpora
def test_protocol_descriptor() -> None:
    descriptor = read(NIH, PROTOCOL).descriptor
    assert descriptor.title.startswith("Prospective Clinical Evaluation of the Safety and Efficacy")
    assert "Sponsor: Lutronic, Inc." in " ".join(descriptor.entities)
    assert descriptor.date == "2021-09-08"
    undated_cover = read(NIH, "NCT06145295_Prot_SAP_000.pdf")
    assert undated_cover.descriptor.date == undated_cover.metadata_date == "2023-11-15"  # the PDF's CreationDate


TEN_Q_COVER = """UNITED STATES
SECURITIES AND EXCHANGE COMMISSION
Washington, D.C. 20549

FORM 10-Q

(Mark One)
QUARTERLY REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934
For the quarterly period ended {period}
Commission File Number: 001-36743

{company}
(Exact name of Registrant as specified in its charter)

California 94-2404110
"""


def test_filings_of_one_form_get_titles_that_name_company_and_quarter() -> None:
    titles = {}
    for company, period in [("Apple Inc.", "June 25, 2022"), ("Apple Inc.", "March 26, 2022"), ("Intel Corporation", "June 25, 2022")]:
        doc = extract(TEN_Q_COVER.format(company=company, period=period).encode(), "10q.txt")
        titles[(company, period)] = doc.title
        assert doc.descriptor.period == f"quarterly period ended {period}"
        assert company in doc.descriptor.entities
    assert len(set(titles.values())) == 3
    assert titles[("Apple Inc.", "June 25, 2022")] == "Apple Inc. — FORM 10-Q — quarterly period ended June 25, 2022"


def test_periods_and_dates_as_filings_write_them() -> None:
    cover = "QUARTERLY REPORT PURSUANT TO SECTION 13\nFor the quarterly period ended June 25, 2022\nor"
    assert find_period(cover) == "quarterly period ended June 25, 2022"
    assert find_date(cover) == "2022-06-25"
    assert find_period("Net sales for the three months ended March 26, 2022 rose") == "three months ended March 26, 2022"
    assert find_period("Results for Q2 2023 were strong") == "Q2 2023"
    assert find_period("Báo cáo tài chính quý 2/2022 của công ty") == "quý 2/2022"
    assert find_date("Hà Nội, ngày 15 tháng 7 năm 2022") == "2022-07-15"
    assert find_date("Version 2.0 dated 14 March 2021") == "2021-03-14"
    assert find_date("Printed 2020-01-02. Protocol date: 05/31/2021") == "2021-05-31"  # the labelled one
    assert find_period("no period here") is None and find_date("no date here") is None


def test_language_from_script_and_stop_words() -> None:
    assert detect_language("Hà Nội là thủ đô của nước Cộng hòa Xã hội chủ nghĩa Việt Nam.") == "vi"
    assert detect_language("The pilot reported that the engine lost power on approach to the runway.") == "en"
    assert detect_language("临床试验知情同意书模板，患者必须签署。") == "other"
    assert detect_language("Der Pilot meldete einen Leistungsverlust des Motors im Anflug.") == "other"


# --- context headers and section paths -------------------------------------------------------


@needs_corpora
def test_every_chunk_carries_its_document_and_section() -> None:
    doc = read(NIH, PROTOCOL)
    chunks = chunk_document(doc, 220, 40)
    acute = next(c for c in chunks if "erythema or edema" in c.text)
    assert acute.section_path == ["6. STUDY PROCEDURES AND SCHEDULE", "6.5 STUDY TREATMENT", "6.5.3 Acute Responses"]
    assert acute.context.startswith("Prospective Clinical Evaluation")
    assert acute.context.endswith("6.5 STUDY TREATMENT > 6.5.3 Acute Responses")
    for chunk in chunks:
        assert chunk.context.startswith("Prospective Clinical Evaluation")
        assert chunk.indexed_text() == f"{chunk.context}\n{chunk.text}"
        assert not chunk.text.startswith(chunk.context)  # the passage itself stays as written
        assert count_tokens(chunk.indexed_text()) <= 220  # room for the header is reserved


@needs_corpora
def test_ntsb_chunks_name_the_accident() -> None:
    chunks = chunk_document(read(NTSB, "20071229X02007.pdf"), 220, 40)
    analysis = next(c for c in chunks if "attempting to land" in c.text)
    assert analysis.context == (
        "National Transportation Safety Board Aviation Accident Final Report (NYC08CA055)"
        " — Tallahassee, FL, Piper PA-22-150 — Analysis"
    )


def test_heading_levels_make_section_paths() -> None:
    builder = BlockBuilder()
    builder.add_heading("Chương 1", level=1)
    builder.add_heading("1.1 Lịch sử", level=2)
    builder.add_text("Thăng Long được chọn làm kinh đô vào năm 1010.")
    builder.add_heading("1.2 Ẩm thực", level=2)
    builder.add_text("Phở và bún chả.")
    builder.add_heading("Chương 2", level=1)
    builder.add_text("Huế.")
    assert [b.section_path for b in builder.blocks if b.kind == "text"] == [
        ["Chương 1", "1.1 Lịch sử"],
        ["Chương 1", "1.2 Ẩm thực"],
        ["Chương 2"],
    ]


def test_docx_heading_levels_become_section_paths() -> None:
    document = docx.Document()
    document.add_heading("Báo cáo", level=1)
    document.add_heading("Doanh thu", level=2)
    document.add_paragraph("Doanh thu quý 2/2022 tăng 12%.")
    buffer = io.BytesIO()
    document.save(buffer)
    doc = extract(buffer.getvalue(), "bao-cao.docx")
    assert next(b for b in doc.blocks if "Doanh thu quý" in b.text).section_path == ["Báo cáo", "Doanh thu"]
    assert doc.descriptor.period == "quý 2/2022" and doc.descriptor.language == "vi"


def test_fingerprint_matches_repeated_boilerplate() -> None:
    a = "I, Tim Cook, certify that: 1. I have reviewed this Quarterly Report on Form 10-Q of Apple Inc.;"
    b = "I, Tim  Cook, certify that:\n2. I have reviewed this quarterly report on Form 10-Q of Apple Inc."
    assert fingerprint(a) == fingerprint(b)
    signed = "Date: August 5, 2022 By: /s/ Luca Maestri, Senior Vice President, Chief Financial Officer"
    assert fingerprint(signed) == fingerprint(signed.replace("August 5, 2022", "October 28, 2021"))
    assert fingerprint(a) != fingerprint("Net sales increased 2% during the third quarter of 2022.")
    q3 = "Gross margin | Three Months Ended June 25, 2022: 35,885 | Three Months Ended June 26, 2021: 35,255"
    q2 = "Gross margin | Three Months Ended March 26, 2022: 42,559 | Three Months Ended March 27, 2021: 38,079"
    assert fingerprint(q3) != fingerprint(q2)  # the same table of two quarters is not boilerplate


# --- tables -------------------------------------------------------------------------------


@needs_corpora
def test_schedule_of_activities_keeps_header_cells_and_row_labels() -> None:
    doc = read(NIH, PROTOCOL)
    schedule = next(b for b in doc.blocks if b.table is not None and "Concomitant Medications" in b.text)
    assert schedule.page == 19
    names = schedule.table.column_names()
    assert names[1:4] == ["Screening", "Tx 1", "Tx 2"] and names[-1] == "FU 90 days"
    row = next(r for r in schedule.table.rows if r[0] == "Concomitant Medications")
    assert row[1] == "x"
    chunk = next(c for c in chunk_document(doc, 220, 40) if "Concomitant Medications" in c.text and "|" in c.text)
    line = next(li for li in chunk.text.split("\n") if li.startswith("Concomitant Medications"))
    assert line.startswith("Concomitant Medications | Screening: x | Tx 1: x")
    assert "FU 90 days: x" in line


@needs_corpora
def test_ntsb_form_grid_reads_as_label_value_pairs() -> None:
    chunks = chunk_document(read(NTSB, "20071229X02007.pdf"), 220, 40)
    pilot = next(c for c in chunks if "Pilot Information" in c.text)
    assert "Certificate: Private | Age: 85, Male" in pilot.text.split("\n")


@needs_corpora
def test_a_boxed_paragraph_is_text_not_a_one_column_table() -> None:
    # The rhomboid-flap protocol is a form: its operative steps sit in one framed box per field.
    # Read as a table, the box's first line ("enclosed by a rhombus shape … equal to") became a
    # header repeated before every other line, and split the sentences it was put into.
    doc = read(NIH, "NCT06152952_Prot_000.pdf")
    assert not [b for b in doc.blocks if b.table is not None and all(sum(map(bool, r)) <= 1 for r in b.table.header + b.table.rows)]
    steps = next(c for c in chunk_document(doc, 220, 40) if "4/0 Prolene" in c.text)
    assert "equal to: " not in steps.text
    assert "the skin with 4/0 Prolene)." in " ".join(steps.text.split())


def test_a_table_whose_rows_hold_one_cell_each_is_a_paragraph() -> None:
    builder = BlockBuilder()
    builder.add_table([["", "2.2 Aim of the Research:"], ["", "This trial compares two"], ["", "operations."]])
    builder.add_table([["Visit", "Day"], ["Screening", "-14"]])
    assert [b.kind for b in builder.blocks] == ["text", "table"]
    assert builder.blocks[0].text == "2.2 Aim of the Research:\nThis trial compares two\noperations."


def test_split_table_repeats_caption_and_header_in_every_chunk() -> None:
    rows = [["Tỉnh", "Dân số 2022", "Dân số 2023"]] + [[f"Tỉnh {i}", f"{i * 1000}", f"{i * 1010}"] for i in range(120)]
    builder = BlockBuilder()
    builder.add_text("Bảng 3: Dân số theo tỉnh")
    builder.add_table(rows)
    table = builder.blocks[-1].table
    assert table.caption == "Bảng 3: Dân số theo tỉnh" and table.header == [rows[0]]
    chunks = [c for c in chunk_document(ExtractedDocument(file_type="text", blocks=builder.blocks), 100, 20) if "Tỉnh: Tỉnh" in c.text]
    assert len(chunks) > 3
    seen = set()
    for chunk in chunks:
        lines = chunk.text.split("\n")
        start = lines.index("Bảng 3: Dân số theo tỉnh")
        assert lines[start + 1] == "Tỉnh | Dân số 2022 | Dân số 2023"
        for line in lines[start + 2 :]:
            assert line.startswith("Tỉnh: Tỉnh ") and " | Dân số 2022: " in line and " | Dân số 2023: " in line
            seen.add(line.split(" | ")[0])
    assert len(seen) == 120  # every row, none cut


def test_html_table_header_cells_caption_and_spans() -> None:
    page = """<html><body><table><caption>Condensed statement of operations</caption>
    <thead><tr><th></th><th colspan="2">Three Months Ended</th></tr>
    <tr><th></th><th>June 25, 2022</th><th>June 26, 2021</th></tr></thead>
    <tr><td>Gross margin</td><td>$ 6,018</td><td>$ 6,535</td></tr></table></body></html>"""
    doc = extract(page.encode(), "q3.html")
    table = next(b.table for b in doc.blocks if b.table is not None)
    assert table.caption == "Condensed statement of operations"
    assert table.column_names() == ["", "Three Months Ended June 25, 2022", "Three Months Ended June 26, 2021"]
    text = chunk_document(doc, 220, 0)[0].text
    assert "Gross margin | Three Months Ended June 25, 2022: $ 6,018 | Three Months Ended June 26, 2021: $ 6,535" in text


def test_docx_repeated_header_row() -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(table.rows, [("", "2022", "2021"), ("Doanh thu", "1.200", "1.100"), ("Lợi nhuận", "300", "250")]):
        for cell, value in zip(row.cells, cells):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    doc = extract(buffer.getvalue(), "ket-qua.docx")
    block = next(b for b in doc.blocks if b.table is not None)
    assert block.table.header == [["", "2022", "2021"]]
    assert "Doanh thu | 2022: 1.200 | 2021: 1.100" in chunk_document(doc, 220, 0)[0].text


def test_currency_and_percent_cells_join_their_figures() -> None:
    builder = BlockBuilder()
    builder.add_table([["", "2022", "", "2021", ""], ["Net sales", "$", "82,959", "$", "81,434"], ["Margin", "", "43.3", "", "41.8"]])
    builder.add_table([["Segment", "Share", ""], ["Americas", "40.1", "%"], ["Europe", "23.4", "%"]])
    first, second = (b.table for b in builder.blocks)
    assert first.rows[0] == ["Net sales", "$82,959", "$81,434"] and first.header == [["", "2022", "2021"]]
    assert second.rows == [["Americas", "40.1%"], ["Europe", "23.4%"]]


def statement_pdf(pages: int = 3) -> bytes:
    """A 10-Q style statement without ruling lines, written with PDFium: column headers in the
    top margin of every page (where running headers live), "$" and "%" set apart from their
    figures, a bold total row."""
    pdf = pdfium.PdfDocument.new()
    regular = pdfium_c.FPDFText_LoadStandardFont(pdf.raw, b"Helvetica")
    bold = pdfium_c.FPDFText_LoadStandardFont(pdf.raw, b"Helvetica-Bold")

    def put(page: pdfium.PdfPage, text: str, x: float, y: float, font=regular, size: float = 9.0) -> None:
        obj = pdfium_c.FPDFPageObj_CreateTextObj(pdf.raw, font, size)
        data = (text + "\0").encode("utf-16-le")
        buffer = ctypes.create_string_buffer(data, len(data))
        pdfium_c.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
        pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, y)
        pdfium_c.FPDFPage_InsertObject(page.raw, obj)

    rows = [
        ("Net sales", "$", "82,959", "$", "81,434", regular),
        ("Cost of sales", "", "47,074", "", "46,179", regular),
        ("Gross margin", "", "35,885", "", "35,255", bold),
        ("Gross margin percentage", "", "43.3", "%", "43.3", regular),
    ]
    for number in range(pages):
        page = pdf.new_page(612, 792)
        put(page, "Three Months Ended", 350, 725)
        put(page, "June 25, 2022", 305, 713)
        put(page, "June 26, 2021", 405, 713)
        y = 698.0
        for label, sign, this_year, sign_or_percent, last_year, font in rows:
            put(page, label, 50, y, font)
            shift = 40 - len(this_year) * 5  # right-aligned figures
            if sign:
                put(page, sign, 290, y, font)
            put(page, this_year, 320 + shift, y, font)
            if sign_or_percent:
                put(page, sign_or_percent, 362 if sign_or_percent == "%" else 390, y, font)
            put(page, last_year, 420 + shift, y, font)
            y -= 14
        put(page, f"Net sales rose in every region during quarter {number + 1}, driven by strong demand.", 50, y - 20)
        put(page, f"Page {number + 1}", 290, 30)
        pdfium_c.FPDFPage_GenerateContent(page.raw)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_unruled_statement_keeps_rows_headers_and_figures_together() -> None:
    doc = extract(statement_pdf(), "10-q.pdf")
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert [t.page for t in tables] == [1, 2, 3]  # rows are not merged into a paragraph
    table = tables[0].table
    assert table.column_names() == ["", "Three Months Ended June 25, 2022", "Three Months Ended June 26, 2021"]
    assert table.rows == [
        ["Net sales", "$82,959", "$81,434"],
        ["Cost of sales", "47,074", "46,179"],
        ["Gross margin", "35,885", "35,255"],  # the bold total row is a row, not a heading
        ["Gross margin percentage", "43.3%", "43.3"],
    ]
    assert not any(b.kind == "heading" for b in doc.blocks)
    chunk = next(c for c in chunk_document(doc, 220, 40) if "Gross margin" in c.text)
    assert "Gross margin | Three Months Ended June 25, 2022: 35,885 | Three Months Ended June 26, 2021: 35,255" in chunk.text
    assert any("Net sales rose in every region" in b.text and b.kind == "text" for b in doc.blocks)


@needs_corpora
def test_unruled_adverse_event_table_in_a_protocol() -> None:
    doc = read(NIH, "NCT06152367_Prot_000.pdf")
    table = next(b for b in doc.blocks if b.table is not None and "Chills" in b.text)
    assert table.page == 12
    assert table.table.column_names() == ["System", "GRADE 3", "GRADE 4", "ALL EVENTS"]
    assert ["Chills", "70 (13%)", "0 (0%)", "271 (52%)"] in table.table.rows


def _line(text: str, bold: bool = True) -> _Line:
    return _Line(text=text, size=10.0, bold=bold, bold_end=bold, top=700.0, bottom=690.0, right=500.0)


def test_bold_total_rows_and_contents_entries_are_not_headings() -> None:
    assert not _is_heading([_line("Gross margin 6,018 6,535 18,456 17,912")], 10.0)
    assert not _is_heading([_line("Total net sales $ 82,959 $ 81,434")], 10.0)
    assert not _is_heading([_line("2.3.1 Known Potential Risks 12", bold=False)], 10.0)
    assert _is_heading([_line("Results of Operations")], 10.0)
    assert _is_heading([_line("6.5.3 Acute Responses", bold=False)], 10.0)


# --- linear chunking ----------------------------------------------------------------------


def test_five_megabytes_on_one_line_chunk_into_full_chunks() -> None:
    """A 5 MB single line (no paragraph, line or sentence break) packs into chunks that are
    nearly full: the number of chunks follows the size, as a linear packer's does."""
    line = " ".join(["pilot", "reported", "engine", "power", "during", "approach"] * 140_000)
    assert len(line) > 5_000_000
    total = count_tokens(line)
    chunks = chunk_document(ExtractedDocument(file_type="text", blocks=[Block(text=line)]), 220, 0)
    assert total / 220 <= len(chunks) <= total / 190 + 1
    assert "".join(c.text.replace(" ", "") for c in chunks) == line.replace(" ", "")


def test_descriptor_round_trips_through_the_artifact() -> None:
    doc = extract("Báo cáo quý 2/2022\n\nDoanh thu của công ty tăng.".encode(), "bao-cao.txt")
    again = ExtractedDocument.model_validate(doc.model_dump(mode="json"))
    assert again.descriptor == doc.descriptor
    assert isinstance(again.descriptor, DocumentDescriptor) and again.descriptor.period == "quý 2/2022"
    assert isinstance(Table(rows=[["a"]]).column_names(), list)


# --- through the pipeline steps -------------------------------------------------------------


class _MemoryStorage:
    """The artifact half of ObjectStorage, in memory (JSON round trips as through S3)."""

    def __init__(self, documents: dict[str, bytes]) -> None:
        self.documents = documents
        self.objects: dict[str, str] = {}

    def read_document(self, key: str, version_id: str | None = None):
        from ragline.storage import StoredObject

        data = self.documents[key]
        return StoredObject(data=data, content_type=None, size=len(data))

    def put_json(self, key: str, value) -> None:
        import json

        self.objects[key] = json.dumps(value)

    def read_json(self, key: str):
        import json

        return json.loads(self.objects[key])

    def put_jsonl(self, key: str, rows) -> None:
        import json

        self.objects[key] = "\n".join(json.dumps(row) for row in rows)

    def read_jsonl(self, key: str):
        import json

        return [json.loads(line) for line in self.objects[key].splitlines()]


class _RecordingIndex:
    def __init__(self) -> None:
        self.points = []

    def ensure_collection(self, dimensions: int, embedder_name: str | None = None) -> None:
        pass

    def upsert(self, points) -> None:
        self.points += points


class _RecordingEmbedder:
    """The hash embedder, remembering what it was asked to embed."""

    def __init__(self) -> None:
        from ragline.embeddings.hash_embedder import HashEmbedder

        self.inner = HashEmbedder(64)
        self.dimensions = 64
        self.name = self.inner.name
        self.texts: list[str] = []

    def embed_documents(self, texts):
        self.texts += texts
        return self.inner.embed_documents(texts)


@needs_corpora
def test_index_payload_carries_document_context(tmp_path) -> None:
    from types import SimpleNamespace

    from ragline import pipeline
    from ragline.catalog import SqlCatalog, ensure_migrated
    from ragline.settings import Settings

    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    ensure_migrated(url)
    name = "20071229X02007.pdf"
    key = f"acme/{name}"
    services = SimpleNamespace(
        catalog=SqlCatalog(url),
        storage=_MemoryStorage({key: (NTSB / name).read_bytes()}),
        index=_RecordingIndex(),
        embedder=_RecordingEmbedder(),
        settings=Settings(),
    )
    record = services.catalog.register(tenant="acme", key=key, file_name=name, content_hash="v1", execution_id="e1")
    doc = pipeline.DocumentRef(
        document_id=record.document.id, tenant="acme", key=key, source=name, file_name=name, version="v1",
        revision=record.document.revision,
    )
    extracted = pipeline.extract_text(doc, "e1", services)
    chunked = pipeline.chunk(doc, extracted, "e1", services)
    for batch in chunked.batch_keys:
        pipeline.embed_and_index(doc, batch, "e1", services)
    points = services.index.points
    assert len(points) == chunked.chunk_count > 3
    analysis = next(p for p in points if "attempting to land" in p.text)
    assert analysis.title == "National Transportation Safety Board Aviation Accident Final Report (NYC08CA055)"
    assert analysis.section_path[-1] == "Analysis" and analysis.heading == "Analysis"
    assert analysis.context.endswith("Piper PA-22-150 — Analysis")
    assert (analysis.document_date, analysis.language, analysis.period) == ("2007-12-08", "en", None)
    assert analysis.fingerprint and not analysis.text.startswith(analysis.context)
    assert f"{analysis.context}\n{analysis.text}" in services.embedder.texts  # the header is embedded
