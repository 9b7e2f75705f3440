"""Chunking: size bound, overlap, natural breaks, tables, pages and headings, determinism."""

from __future__ import annotations

from pathlib import Path

import pytest
import regex

from ragline.chunking import chunk_document
from ragline.errors import DocumentError
from ragline.extract import extract
from ragline.models import Block, Chunk, ExtractedDocument
from ragline.text import count_tokens

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"
needs_corpora = pytest.mark.skipif(not CORPORA.exists(), reason="sample corpora not available")

VI_SENTENCES = [
    "Hà Nội là thủ đô của nước Cộng hòa Xã hội chủ nghĩa Việt Nam.",
    "Thăng Long được vua Lý Thái Tổ chọn làm kinh đô vào năm 1010.",
    "Người dân Hà Nội nổi tiếng với phở, bún chả và cà phê trứng!",
    "Hồ Hoàn Kiếm nằm ở trung tâm thành phố và là biểu tượng của thủ đô?",
    "Phố cổ có ba mươi sáu phố phường với nhiều nghề thủ công truyền thống.",
]


def doc_of(*blocks: Block) -> ExtractedDocument:
    return ExtractedDocument(file_type="text", blocks=list(blocks))


def prose(n_sentences: int, offset: int = 0) -> str:
    return " ".join(VI_SENTENCES[(offset + i) % len(VI_SENTENCES)] for i in range(n_sentences))


def assert_bounded(chunks: list[Chunk], max_tokens: int) -> None:
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.token_count == count_tokens(chunk.text) <= max_tokens
        assert chunk.text == chunk.text.strip() and chunk.text


def words(text: str) -> set[str]:
    return set(text.split())


def _longest_shared(before: str, after: str) -> str:
    """The longest prefix of `after` that is also a suffix of `before`."""
    for size in range(min(len(before), len(after)), 0, -1):
        if before.endswith(after[:size]):
            return after[:size]
    return ""


@pytest.mark.parametrize("max_tokens", [32, 64, 220, 1000])
def test_chunks_respect_the_bound(max_tokens: int) -> None:
    doc = doc_of(
        Block(text="Giới thiệu", heading="Giới thiệu", kind="heading", page=1),
        *[Block(text=prose(7, i), heading="Giới thiệu", page=1 + i // 3) for i in range(12)],
    )
    chunks = chunk_document(doc, max_tokens, max_tokens // 5)
    assert_bounded(chunks, max_tokens)
    source = " ".join(b.text for b in doc.blocks)
    for chunk in chunks:
        assert words(chunk.text) <= words(source)  # never a broken word


def test_small_document_is_one_chunk() -> None:
    chunks = chunk_document(doc_of(Block(text=VI_SENTENCES[0], page=3)), 220, 40)
    assert [(c.text, c.page_start, c.page_end, c.heading) for c in chunks] == [(VI_SENTENCES[0], 3, 3, None)]


def test_consecutive_chunks_overlap_within_a_section() -> None:
    doc = doc_of(*[Block(text=prose(5, i), heading="Lịch sử") for i in range(8)])
    chunks = chunk_document(doc, 100, 30)
    assert len(chunks) > 3
    for before, after in zip(chunks, chunks[1:]):
        shared = _longest_shared(before.text, after.text)
        assert 5 <= count_tokens(shared) <= 30, (before.text, after.text)


def test_no_overlap_across_sections() -> None:
    doc = doc_of(
        Block(text="Lịch sử", heading="Lịch sử", kind="heading"),
        *[Block(text=prose(5, i), heading="Lịch sử") for i in range(3)],
        Block(text="Ẩm thực", heading="Ẩm thực", kind="heading"),
        *[Block(text=prose(5, i + 2), heading="Ẩm thực") for i in range(3)],
    )
    chunks = chunk_document(doc, 120, 30)
    first_food = next(i for i, c in enumerate(chunks) if c.heading == "Ẩm thực")
    assert chunks[first_food].text.startswith("Ẩm thực\n\n")
    assert all(c.heading == "Lịch sử" for c in chunks[:first_food])


def test_breaks_prefer_paragraphs_then_sentences() -> None:
    paragraphs = [Block(text=prose(3, i), heading="A") for i in range(10)]  # ~60 tokens each
    chunks = chunk_document(doc_of(*paragraphs), 150, 0)
    texts = {b.text for b in paragraphs}
    for chunk in chunks:
        assert all(part in texts for part in chunk.text.split("\n\n"))  # whole paragraphs only

    one_long_paragraph = Block(text=prose(40), heading="A")
    for chunk in chunk_document(doc_of(one_long_paragraph), 100, 0):
        assert chunk.text[-1] in ".!?"  # ends at a sentence end
        assert chunk.text[0].isupper()  # starts at a sentence start


def test_sentence_split_is_unicode_aware() -> None:
    text = "Xin chào! Bạn khỏe không? Tôi khỏe. Cảm ơn…"
    chunks = chunk_document(doc_of(Block(text=text * 20)), 24, 0)
    assert all(regex.search(r"[!?.…]$", c.text) for c in chunks)


def test_oversized_sentence_splits_at_words() -> None:
    sentence = " ".join(["thành phố"] * 300) + "."
    chunks = chunk_document(doc_of(Block(text=sentence)), 50, 10)
    assert_bounded(chunks, 50)
    assert all(words(c.text) <= {"thành", "phố", "phố."} for c in chunks)


def test_text_without_spaces_splits_between_characters() -> None:
    chinese = "患者知情同意书是临床试验的重要文件" * 40 + "。"
    chunks = chunk_document(doc_of(Block(text=chinese)), 64, 8)
    assert_bounded(chunks, 64)
    assert len(chunks) > 5
    assert chunks[1].text[:8] == chunks[0].text[-8:]  # overlap of trailing characters


def test_cjk_sentences_break_at_full_stops() -> None:
    sentences = [f"第{i}条规定患者必须签署知情同意书后方可参加临床试验。" for i in range(20)]
    chunks = chunk_document(doc_of(Block(text="".join(sentences))), 80, 0)
    assert_bounded(chunks, 80)
    assert all(c.text.endswith("。") for c in chunks)
    assert "".join(c.text for c in chunks) == "".join(sentences)  # nothing added between sentences


def test_tables_stay_whole_when_they_fit_and_split_at_rows_otherwise() -> None:
    small = "Thành phố | Dân số\nHà Nội | 8,4 triệu\nHuế | 1,2 triệu"
    big = "\n".join(f"Tỉnh {i} | {i * 1000} người | ghi chú số {i}" for i in range(200))
    doc = doc_of(
        Block(text=prose(8), heading="Dân số"),
        Block(text=small, heading="Dân số", kind="table"),
        Block(text=prose(8, 2), heading="Dân số"),
        Block(text=big, heading="Dân số", kind="table"),
    )
    chunks = chunk_document(doc, 120, 20)
    assert_bounded(chunks, 120)
    assert sum(small in c.text for c in chunks) >= 1
    rows = set(big.split("\n"))
    table_chunks = [c for c in chunks if "Tỉnh 150 |" in c.text]
    assert table_chunks
    for chunk in chunks:
        for line in chunk.text.split("\n"):
            if line.startswith("Tỉnh "):
                assert line in rows  # rows are never cut


def test_pages_and_headings_are_carried() -> None:
    doc = doc_of(
        Block(text="Chương 1", heading="Chương 1", kind="heading", page=1),
        Block(text=prose(6), heading="Chương 1", page=1),
        Block(text=prose(6, 1), heading="Chương 1", page=2),
        Block(text="Chương 2", heading="Chương 2", kind="heading", page=3),
        Block(text=prose(3, 2), heading="Chương 2", page=3),
    )
    chunks = chunk_document(doc, 400, 40)
    assert [(c.heading, c.page_start, c.page_end) for c in chunks] == [("Chương 1", 1, 2), ("Chương 2", 3, 3)]


def test_deterministic() -> None:
    doc = doc_of(*[Block(text=prose(9, i), heading=f"H{i // 3}", page=i) for i in range(10)])
    assert chunk_document(doc, 80, 20) == chunk_document(doc.model_copy(deep=True), 80, 20)


def test_overlap_larger_than_half_the_chunk_is_capped() -> None:
    chunks = chunk_document(doc_of(Block(text=prose(30))), 40, 100)
    assert_bounded(chunks, 40)


@needs_corpora
def test_real_reports_keep_pages_and_bounds() -> None:
    name = "20071229X02007.pdf"
    doc = extract((CORPORA / "ntsb" / name).read_bytes(), name)
    chunks = chunk_document(doc, 220, 40)
    assert_bounded(chunks, 220)
    owner = next(c for c in chunks if "Willis O Forman" in c.text)
    assert owner.page_start == 2 and owner.heading == "Factual Information"
    analysis = next(c for c in chunks if "attempting to land" in c.text)
    assert (analysis.page_start, analysis.page_end, analysis.heading) == (1, 1, "Analysis")
    assert chunks[-1].page_end == 4


@needs_corpora
def test_whole_protocol_corpus() -> None:
    for path in sorted((CORPORA / "nih-trials").glob("*.pdf")):
        try:
            doc = extract(path.read_bytes(), path.name)
        except DocumentError:
            continue  # the scanned protocol
        chunks = chunk_document(doc, 220, 40)
        assert_bounded(chunks, 220)
        pages = [(c.page_start, c.page_end) for c in chunks]
        assert all(1 <= start <= end <= doc.page_count for start, end in pages)
        assert [s for s, _ in pages] == sorted(s for s, _ in pages)
