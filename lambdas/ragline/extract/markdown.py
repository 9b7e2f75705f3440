"""Markdown (CommonMark + tables): headings tracked, formatting syntax removed."""

from __future__ import annotations

import regex
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ragline.extract.common import BlockBuilder, one_line
from ragline.models import ExtractedDocument

_FRONT_MATTER = regex.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", regex.DOTALL)
_FRONT_TITLE = regex.compile(r"^title:\s*[\"']?(.+?)[\"']?\s*$", regex.MULTILINE)
_PARSER = MarkdownIt("commonmark").enable("table")


def extract_markdown(text: str, file_name: str) -> ExtractedDocument:
    title = None
    front = _FRONT_MATTER.match(text)
    if front:  # YAML front matter is metadata, not text (CommonMark would read it as a heading)
        found = _FRONT_TITLE.search(front.group(1))
        title = one_line(found.group(1)) if found else None
        text = text[front.end() :]
    builder = BlockBuilder()
    tokens = _PARSER.parse(text)
    i = 0
    while i < len(tokens):
        i = _block(tokens, i, builder)
    return ExtractedDocument(file_type="markdown", title=title or builder.first_heading(), blocks=builder.blocks)


def _block(tokens: list[Token], i: int, builder: BlockBuilder) -> int:
    """Emit the block starting at tokens[i]; return the index after it."""
    token = tokens[i]
    if token.type == "heading_open":
        builder.add_heading(_inline_text(tokens[i + 1]))
        return i + 3
    if token.type == "paragraph_open":
        builder.add_text(_inline_text(tokens[i + 1]))
        return i + 3
    if token.type in ("fence", "code_block"):
        builder.add_text(token.content)
    elif token.type == "html_block":
        builder.add_text(BeautifulSoup(token.content, "lxml").get_text("\n"))
    elif token.type == "table_open":
        return _table(tokens, i, builder)
    return i + 1


def _table(tokens: list[Token], i: int, builder: BlockBuilder) -> int:
    rows: list[list[str]] = []
    header_rows = 0
    while tokens[i].type != "table_close":
        if tokens[i].type == "thead_close":
            header_rows = len(rows)
        if tokens[i].type == "tr_open":
            rows.append([])
        elif tokens[i].type == "inline":
            rows[-1].append(_inline_text(tokens[i]))
        i += 1
    builder.add_table(rows, header_rows=header_rows if 0 < header_rows < len(rows) else None)
    return i + 1


def _inline_text(token: Token) -> str:
    """Plain text of an inline run: link text kept, URLs, emphasis marks and tags dropped."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":  # source wrapping, not a line break
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child))
    return "".join(parts)
