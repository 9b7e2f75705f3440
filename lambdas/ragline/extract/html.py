"""HTML: visible text of the main content, h1-h6 as headings, tables as rows."""

from __future__ import annotations

from collections.abc import Iterator

import regex
from bs4 import BeautifulSoup, NavigableString, PageElement, Tag
from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

from ragline.extract.common import BlockBuilder, one_line
from ragline.models import ExtractedDocument

# Not content: code, styling, navigation and site chrome, embedded media, form controls.
_DROP = [
    "script", "style", "noscript", "template", "nav", "footer", "svg", "canvas", "iframe",
    "object", "embed", "button", "select", "input", "textarea", "head",
]
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "form", "header", "hr", "li", "main", "ol", "p", "section", "summary", "ul",
}
_SKIPPED_STRINGS = (Comment, Declaration, Doctype, ProcessingInstruction)
_WHITESPACE = regex.compile(r"\s+")


def extract_html(text: str, file_name: str) -> ExtractedDocument:
    soup = BeautifulSoup(text, "lxml")
    title = one_line(soup.title.get_text()) if soup.title else ""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for tag in soup.find_all(_is_hidden):
        tag.decompose()
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.body or soup
    walker = _Walker()
    walker.walk(root)
    walker.flush()
    return ExtractedDocument(
        file_type="html", title=title or walker.builder.first_heading(), blocks=walker.builder.blocks
    )


def _is_hidden(tag: Tag) -> bool:
    return tag.has_attr("hidden") or tag.get("aria-hidden") == "true" or tag.get("role") == "navigation"


class _Walker:
    """Depth-first walk that gathers inline text into paragraphs, split at block elements.

    Iterative, with its own stack: pages nest elements thousands deep (10,000 nested <div>s
    exceeded Python's recursion limit and the page was rejected as damaged)."""

    def __init__(self) -> None:
        self.builder = BlockBuilder()
        self.inline: list[str] = []

    def walk(self, root: Tag) -> None:
        # Each frame: the children still to visit, and whether leaving it ends a block.
        stack: list[tuple[Iterator[PageElement], bool]] = [(iter(root.children), False)]
        while stack:
            children, ends_block = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                if ends_block:
                    self.flush()
            elif isinstance(child, NavigableString):
                if not isinstance(child, _SKIPPED_STRINGS):
                    self.inline.append(_WHITESPACE.sub(" ", str(child)))
            elif isinstance(child, Tag) and not self.leaf(child):
                block = child.name in _BLOCKS
                if block:
                    self.flush()
                stack.append((iter(child.children), block))

    def leaf(self, tag: Tag) -> bool:
        """Handle an element whose content is taken whole; False for one to walk into."""
        name = tag.name
        if name in _HEADINGS:
            self.flush()
            self.builder.add_heading(tag.get_text(" "))
        elif name == "table":
            self.flush()
            rows, header_rows = _table_rows(tag)
            caption = tag.find("caption")
            self.builder.add_table(rows, header_rows=header_rows, caption=caption.get_text(" ") if caption else None)
        elif name == "pre":
            self.flush()
            self.builder.add_text(tag.get_text())
        elif name == "br":
            self.inline.append("\n")
        else:
            return False
        return True

    def flush(self) -> None:
        self.builder.add_text("".join(self.inline))
        self.inline = []


def _table_rows(table: Tag) -> tuple[list[list[str]], int | None]:
    """Rows of this table only (a nested table's rows stay inside their cell's text), and how
    many leading rows are headers: rows in <thead> or made only of <th> cells (None: unmarked,
    the builder guesses). A cell spanning columns (colspan) is repeated across them, so that
    stacked headers line up with the columns below."""
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    cells_of = [tr.find_all(["td", "th"], recursive=False) for tr in rows]
    texts = [[text for cell in cells for text in [cell.get_text(" ")] * _span(cell)] for cells in cells_of]
    header_rows = 0
    for tr, cells in zip(rows, cells_of):
        if not cells or not (tr.find_parent("thead") or all(cell.name == "th" for cell in cells)):
            break
        header_rows += 1
    return texts, header_rows if header_rows and header_rows < len(rows) else None


def _span(cell: Tag) -> int:
    try:
        return max(1, min(int(str(cell.get("colspan", "1")).strip() or 1), 50))
    except ValueError:
        return 1
