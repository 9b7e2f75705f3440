"""A deterministic dense embedder without a model: signed feature hashing.

Why it exists: tests, demos and laptops without a model still need dense vectors whose cosine
means something, and that are identical on every machine and Python version. So features go
through crc32 (Python's ``hash()`` is salted per process), never through anything random.

Features are the normalized words from ``ragline.text.tokenize`` (diacritics kept; Chinese,
Thai... as character bigrams) plus character trigrams of each word. The trigrams make it
forgiving where exact words differ: inflections ("index"/"indexes"), compounds, a Vietnamese
word typed without some of its diacritics. It captures shared vocabulary, not meaning:
"car" and "automobile" are unrelated to it.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from collections.abc import Sequence

from ragline.text import tokenize

NGRAM_SIZES = (3,)
WORD_WEIGHT = 1.0
NGRAM_WEIGHT = 0.5  # a word's n-grams together outweigh the word; each alone counts less


class HashEmbedder:
    """Signed feature hashing (the "hashing trick") into ``dimensions`` buckets, L2-normalized."""

    def __init__(self, dimensions: int = 384) -> None:
        if dimensions < 8:
            raise ValueError(f"HashEmbedder needs at least 8 dimensions, got {dimensions}")
        self.dimensions = dimensions
        self.name = f"hash-v1-{dimensions}"

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for feature, weight in _features(text).items():
            code = zlib.crc32(feature.encode("utf-8"))
            # Low bits pick the bucket, the top bit the sign: collisions then cancel out on
            # average instead of inflating the cosine of unrelated texts.
            sign = -1.0 if code & 0x8000_0000 else 1.0
            vector[code % self.dimensions] += sign * weight
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            # No features (empty or punctuation-only text): a fixed unit vector, because the
            # cosine of a zero vector is undefined and some engines turn it into NaN.
            vector[0] = 1.0
            return vector
        return [v / norm for v in vector]


def _features(text: str) -> dict[str, float]:
    """Word and character n-gram features with sublinear (1 + log tf) weights."""
    counts: Counter[str] = Counter()
    for word in tokenize(text):  # already NFKC-casefolded
        counts["w:" + word] += 1
        padded = f"<{word}>"
        for n in NGRAM_SIZES:
            for start in range(max(1, len(padded) - n + 1)):
                counts["c:" + padded[start : start + n]] += 1
    return {
        feature: (WORD_WEIGHT if feature[0] == "w" else NGRAM_WEIGHT) * (1.0 + math.log(count))
        for feature, count in counts.items()
    }
