"""Extraction at the edges issue 9 found: pages nested thousands of elements deep, and
right-to-left text in PDFs."""

from __future__ import annotations

from ragline.extract import extract


def test_html_nested_ten_thousand_divs_deep_is_extracted_not_rejected():
    depth = 10_000
    page = ("<html><head><title>Deep</title></head><body>" + "<div>" * depth
            + "<h2>Bottom</h2><p>The text at the very bottom.</p>" + "</div>" * depth
            + "<p>After the nest.</p></body></html>")
    document = extract(page.encode(), "deep.html")
    texts = [block.text for block in document.blocks]
    assert "The text at the very bottom." in texts
    assert "After the nest." in texts
    bottom = next(b for b in document.blocks if b.text == "The text at the very bottom.")
    assert bottom.heading == "Bottom"


def test_html_walk_keeps_blocks_and_inline_text_in_order():
    page = "<body><div>one <b>two</b><div>three</div>four<br>five</div><table><tr><td>a</td><td>b</td></tr></table></body>"
    texts = [block.text for block in extract(page.encode(), "order.html").blocks]
    assert texts == ["one two", "three", "four\nfive", "a | b"]
