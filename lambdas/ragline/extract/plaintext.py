"""Plain text: paragraphs at blank lines; no headings (nothing marks them reliably)."""

from __future__ import annotations

from ragline.extract.common import BlockBuilder, paragraphs
from ragline.models import ExtractedDocument


def extract_text(text: str, file_name: str) -> ExtractedDocument:
    builder = BlockBuilder()
    for paragraph in paragraphs(text):
        builder.add_text(paragraph)
    return ExtractedDocument(file_type="text", blocks=builder.blocks)
