"""BM25-style sparse vectors computed locally, with no model.

Qdrant scores a sparse query as the dot product of query and document values. With the
collection's sparse vector configured with ``modifier=IDF``, Qdrant multiplies each query term
by its IDF over the collection, so the document side only needs BM25's saturated term
frequency; the query side is just the unique query terms with weight 1. Together that is BM25.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable

from ragline.models import SparseVector
from ragline.text import tokenize

K1 = 1.2  # term-frequency saturation: the 2nd occurrence adds less than the 1st, the 10th little
B = 0.75  # how much a long chunk's term frequencies are discounted

# BM25 needs the average document (chunk) length in lexical tokens. The true average changes
# with every upload and would make stored vectors stale, so it is a constant: at the default
# chunk size (220 estimated tokens) chunks of the sample corpora average 95 lexical tokens
# (median 100), punctuation and subword pieces making up the difference. A chunk of this length
# gets plain BM25 weights; shorter chunks are boosted and longer ones discounted, as in BM25.
AVG_DOC_LENGTH = 100.0

_INDEX_MASK = 0x7FFFFFFF


def token_index(token: str) -> int:
    """The sparse dimension of a token: CRC-32 of its UTF-8 bytes, 31 bits.

    Stable across processes, machines and Python versions (unlike `hash()`, which is salted per
    process), so vectors written at ingestion match queries embedded anywhere later.
    """
    return zlib.crc32(token.encode("utf-8")) & _INDEX_MASK


def bm25_weight(tf: int, doc_length: int) -> float:
    """BM25's term-frequency component: saturates towards K1 + 1 as tf grows."""
    norm = K1 * (1.0 - B + B * doc_length / AVG_DOC_LENGTH)
    return tf * (K1 + 1.0) / (tf + norm)


def sparse_document_vector(text: str) -> SparseVector:
    """BM25 document weights for a chunk's text (IDF is applied by Qdrant at query time)."""
    tokens = tokenize(text)
    weights = ((token, bm25_weight(tf, len(tokens))) for token, tf in Counter(tokens).items())
    return _to_vector(weights)


def sparse_query_vector(text: str) -> SparseVector:
    """Each distinct query term with weight 1.0: BM25 ignores query term frequency."""
    return _to_vector((token, 1.0) for token in dict.fromkeys(tokenize(text)))


def _to_vector(weights: Iterable[tuple[str, float]]) -> SparseVector:
    """Map tokens to indices; tokens whose hashes collide share a dimension (values summed)."""
    merged: dict[int, float] = {}
    for token, weight in weights:
        index = token_index(token)
        merged[index] = merged.get(index, 0.0) + weight
    indices = sorted(merged)
    return SparseVector(indices=indices, values=[merged[i] for i in indices])
