"""BM25-style sparse vectors: stable indices, saturation, length normalisation, query shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib

import pytest

from ragline.sparse import (
    AVG_DOC_LENGTH,
    K1,
    bm25_weight,
    sparse_document_vector,
    sparse_query_vector,
    token_index,
)


def as_dict(vector) -> dict[int, float]:
    return dict(zip(vector.indices, vector.values))


def test_token_index_is_masked_crc32_of_utf8() -> None:
    assert token_index("hà") == zlib.crc32("hà".encode("utf-8")) & 0x7FFFFFFF == 260334831
    assert token_index("nội") == 1392894258
    assert token_index("ha") != token_index("hà")
    assert all(0 <= token_index(t) < 2**31 for t in ["a", "知情", "ผล", "x" * 500])


def test_indices_identical_in_another_process_with_another_hash_seed() -> None:
    text = "Hà Nội là thủ đô của Việt Nam; 临床试验 protocol for NYC08CA055."
    code = (
        "import json, sys; from ragline.sparse import sparse_document_vector as v; "
        "print(json.dumps(v(sys.argv[1]).model_dump()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, text], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == sparse_document_vector(text).model_dump()


def test_document_vector_shape() -> None:
    vector = sparse_document_vector("the pilot and the pilot's airplane; the runway")
    assert vector.indices == sorted(set(vector.indices))
    assert len(vector.indices) == len(vector.values)
    weights = as_dict(vector)
    # "the" x3 outweighs "runway" x1, but by far less than 3x (saturation)
    assert 1 < weights[token_index("the")] / weights[token_index("runway")] < 2


def test_bm25_saturation_and_bounds() -> None:
    at_avg = [bm25_weight(tf, int(AVG_DOC_LENGTH)) for tf in range(1, 50)]
    assert at_avg[0] == pytest.approx(1.0)  # tf=1 at the average length: plain weight 1
    gains = [b - a for a, b in zip(at_avg, at_avg[1:])]
    assert all(g > 0 for g in gains)
    assert all(later < earlier for earlier, later in zip(gains, gains[1:]))
    assert max(at_avg) < K1 + 1


def test_length_normalisation() -> None:
    assert bm25_weight(2, 20) > bm25_weight(2, 100) > bm25_weight(2, 400)
    short = as_dict(sparse_document_vector("engine failure"))
    long = as_dict(sparse_document_vector("engine failure " + "during the cruise phase of flight " * 20))
    assert short[token_index("engine")] > long[token_index("engine")]


def test_query_vector_is_unique_terms_with_weight_one() -> None:
    vector = sparse_query_vector("Hà Nội hà NỘI phở")
    assert as_dict(vector) == {token_index("hà"): 1.0, token_index("nội"): 1.0, token_index("phở"): 1.0}


def test_colliding_tokens_share_a_summed_dimension() -> None:
    assert token_index("qk4osy") == token_index("m07ftsnw") == 240597469
    assert as_dict(sparse_query_vector("qk4osy m07ftsnw")) == {240597469: 2.0}
    doc = sparse_document_vector("qk4osy m07ftsnw")
    assert doc.indices == [240597469]
    assert doc.values[0] == pytest.approx(2 * bm25_weight(1, 2))


def test_query_matches_document_across_scripts() -> None:
    doc = set(sparse_document_vector("Bệnh nhân được theo dõi tại Hà Nội. 患者知情同意书").indices)
    assert set(sparse_query_vector("hà nội").indices) <= doc
    assert set(sparse_query_vector("知情同意").indices) <= doc
    assert not set(sparse_query_vector("ha noi").indices) & doc


def test_empty_text() -> None:
    assert sparse_document_vector("").indices == []
    assert sparse_query_vector("  ...  ").values == []
