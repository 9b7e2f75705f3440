"""CSV and TSV as tables: the first record is the header row, and every block of records is a
table that carries it, so each chunk of rows repeats the header and labels each value with its
column ("Name: An | Age: 31"): any chunk of rows is self-describing."""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath

from ragline.extract.common import BlockBuilder, one_line
from ragline.extract.sniff import csv_delimiter
from ragline.models import ExtractedDocument

_ROWS_PER_BLOCK = 50  # a block is a table; the chunker splits bigger ones at row boundaries


def extract_csv(text: str, file_name: str) -> ExtractedDocument:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text, file_name))
    rows = [[one_line(cell) for cell in row] for row in reader]
    rows = [row for row in rows if any(row)]
    header, records = (rows[0], rows[1:]) if len(rows) > 1 else ([], rows)
    width = max((len(r) for r in rows), default=0)
    header = header + [f"column {i + 1}" for i in range(len(header), width)] if header else []
    builder = BlockBuilder()
    for start in range(0, len(records), _ROWS_PER_BLOCK):
        block = records[start : start + _ROWS_PER_BLOCK]
        builder.add_table(([header] if header else []) + block, header_rows=1 if header else 0)
    return ExtractedDocument(file_type="csv", title=PurePosixPath(file_name).stem, blocks=builder.blocks)


def _delimiter(text: str, file_name: str) -> str:
    """Detected from the content; else tab for .tsv files and comma otherwise."""
    return csv_delimiter(text) or ("\t" if file_name.lower().endswith(".tsv") else ",")
