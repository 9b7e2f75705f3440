"""Language-neutral text primitives: lexical tokens (for sparse vectors) and token estimates
(for chunk sizes). Nothing here assumes English or ASCII: words are Unicode letter/mark/number
runs, diacritics are kept (Vietnamese "hà" and "ha" are different words), and scripts written
without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) are handled.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import regex
import snowballstemmer

# Scripts that do not separate words with spaces. Without a dictionary we cannot find word
# boundaries in them, so lexical matching uses overlapping character bigrams (as Lucene's CJK
# analyzer does): a query bigram matches the same bigram inside any longer word.
_UNSEGMENTED = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\p{Tibetan}"

# A run of unsegmented-script characters, or a run of other letters, combining marks and digits.
# Punctuation (hyphens, apostrophes) separates words: "COVID-19" -> "covid", "19".
_LEXICAL = regex.compile(
    rf"(?P<cjk>[{_UNSEGMENTED}]+)|[[\p{{L}}\p{{M}}\p{{N}}]--[{_UNSEGMENTED}]]+", regex.V1
)

# Pieces for the token estimate: single characters (unsegmented scripts, punctuation, symbols),
# words (letters and marks) and digit runs. Whitespace is never part of a piece, so the estimate
# is additive over text split at whitespace (the chunker relies on this).
_SINGLE_TOKENS = regex.compile(rf"[{_UNSEGMENTED}]|[^\s\p{{L}}\p{{M}}\p{{N}}]", regex.V1)
_WORDS = regex.compile(rf"[[\p{{L}}\p{{M}}]--[{_UNSEGMENTED}]]+", regex.V1)
_DIGITS = regex.compile(r"\p{N}+")
# The same three patterns for ASCII-only text, in the standard library's engine, which is several
# times faster there (large CSV files and English text are mostly ASCII). White_Space in ASCII is
# tab to carriage return and space.
_ASCII_SINGLE_TOKENS = re.compile(r"[^\t\n\x0b\x0c\r A-Za-z0-9]")
_ASCII_WORDS = re.compile(r"[A-Za-z]+")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_ASCII_LEXICAL = re.compile(r"[a-z0-9]+")  # _LEXICAL on ASCII text: letters and digits, lower case


def normalize(text: str) -> str:
    """NFKC + casefold (Unicode's NFKC_Casefold, recomposed): "Ｈà  ＮỘI" and "hà nội" compare equal.

    The final NFC recomposes the rare characters casefold leaves decomposed (e.g. "İ").
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFKC", text).casefold())


def tokenize(text: str) -> list[str]:
    """Lexical tokens for BM25 matching: normalized words, diacritics kept.

    Runs of unsegmented scripts become overlapping bigrams ("知情同意" -> "知情", "情同", "同意");
    a single such character stays a unigram.
    """
    if text.isascii():  # the same tokens, several times faster: most chunks and questions
        return _ASCII_LEXICAL.findall(text.lower())
    tokens: list[str] = []
    for match in _LEXICAL.finditer(normalize(text)):
        run = match.group()
        if match.group("cjk") is None or len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens


_STEMMER = snowballstemmer.stemmer("english")


@functools.lru_cache(maxsize=1 << 16)
def stem(token: str) -> str:
    """A word's stem for matching inflections ("interviews" / "interview", "eligible" /
    "eligibility", "aged" / "ages"): Snowball's English stemmer on alphabetic tokens; figures,
    codes and other scripts as they are. Vietnamese syllables do not inflect and come back
    unchanged; another language's words are stemmed as English, consistently on both sides, so
    the worst case is two words meeting that should not.

    Cached: the second stage stems every word of ~30 candidate passages per question (≈7,500
    words), and Snowball in pure Python takes ≈45 µs a word, while a corpus's vocabulary is
    small and repeats."""
    return _STEMMER.stemWord(token) if token.isalpha() and token.isascii() else token


def count_tokens(text: str) -> int:
    """Estimate how many subword tokens an embedding model or LLM will see in `text`.

    No vocabulary is needed (tiktoken cannot fetch its files offline; Lambda cold starts stay
    small). The estimate leans high so chunks stay inside model limits:

    - a word of ASCII letters: 1 token up to 6 letters, 2 up to 10, then one more per 4 letters
      (BPE and WordPiece vocabularies hold most short English words whole);
    - any other word (Vietnamese, Cyrillic, Greek, ...): one token per 3 UTF-8 bytes, since
      vocabularies split accented and non-Latin words into smaller pieces;
    - each Han/Kana/Thai/... character: 1 token;
    - a digit run: one token per 3 digits; each punctuation mark or symbol: 1 token.

    Against the all-MiniLM-L6-v2 WordPiece tokenizer on the sample corpora (English, Chinese,
    Thai, Arabic): 1.17x overall, 1.2x median per 1,000 characters (tests/unit/test_text.py).
    """
    if text.isascii() and text.isalpha():  # one plain English word: the common case, by far
        n = len(text)
        return 1 if n <= 6 else 2 if n <= 10 else 2 + (n - 7) // 4
    ascii_only = text.isascii()
    singles, words, digit_runs = (
        (_ASCII_SINGLE_TOKENS, _ASCII_WORDS, _ASCII_DIGITS) if ascii_only else (_SINGLE_TOKENS, _WORDS, _DIGITS)
    )
    total = len(singles.findall(text))
    for word in words.findall(text):
        if word.isascii():
            n = len(word)
            total += 1 if n <= 6 else 2 if n <= 10 else 2 + (n - 7) // 4
        else:
            total += (len(word.encode("utf-8")) + 2) // 3
    for digits in digit_runs.findall(text):
        total += (len(digits) + 2) // 3
    return total


# Sentence ends: terminal punctuation (any script), optional closing quotes/brackets, then space
# before something that is not a lowercase letter ("e.g. this" stays whole); or CJK full stops,
# which need no space after them. Never after an abbreviation that a name or figure follows
# ("Dr. Whelan", "Fig. 2", "No. 5", "et al. 2019", "vs. Deep suturing").
# Written as punctuation first, then the gap (not as a lookbehind tried at every space), so the
# scan is fast on long text; the gap group is the break.
_SENTENCE_ENDS = regex.compile(
    r"(?<!\b(?:e\.g|i\.e|cf|vs|Dr|Mr|Mrs|Ms|Prof|Fig|Figs|No|Nos|approx|et\s+al|St))"
    r"[.!?…。！？؟।॥።፧][\"'”’»)\]]*(?P<gap>\s+(?!\p{Ll})|(?<=[。！？])(?=\S))"
)


def sentences(text: str) -> list[tuple[str, str]]:
    """Sentences with the separator that preceded each: a space, or nothing after "。". The one
    sentence splitter: chunks end at these boundaries and extractive answers quote these."""
    parts: list[tuple[str, str]] = []
    start, separator = 0, ""
    for end in _SENTENCE_ENDS.finditer(text):
        parts.append((text[start : end.start("gap")], separator))
        start, separator = end.end("gap"), " " if end.group("gap") else ""
    parts.append((text[start:], separator))
    return parts
