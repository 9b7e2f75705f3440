"""CSV and TSV: one line per record, each cell labelled with its column ("Name: An | Age: 31"),
so any chunk of rows is self-describing without the header line."""

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
    builder = BlockBuilder()
    if header:
        builder.add_text(" | ".join(header))
    for start in range(0, len(records), _ROWS_PER_BLOCK):
        builder.add_table([[_labelled(header, record)] for record in records[start : start + _ROWS_PER_BLOCK]])
    return ExtractedDocument(file_type="csv", title=PurePosixPath(file_name).stem, blocks=builder.blocks)


def _delimiter(text: str, file_name: str) -> str:
    """Detected from the content; else tab for .tsv files and comma otherwise."""
    return csv_delimiter(text) or ("\t" if file_name.lower().endswith(".tsv") else ",")


def _labelled(header: list[str], record: list[str]) -> str:
    names = header + [f"column {i + 1}" for i in range(len(header), len(record))]
    return " | ".join(f"{name}: {value}" if name else value for name, value in zip(names, record) if value)
