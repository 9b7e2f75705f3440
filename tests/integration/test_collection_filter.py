"""Both index engines restrict a search to the caller's collections inside the query filter
(the ``collection`` payload field), so a top-k is the caller's top-k: many better-matching
points in another collection neither leak nor crowd the caller's results out."""

from __future__ import annotations

import pytest
from ragline.index.schema import COLLECTION_FIELD, KEYWORD_INDEXES, PAYLOAD_FIELDS
from ragline.sparse import sparse_query_vector

from tests.integration.test_vector_index import EMBEDDER, index, points_for  # noqa: F401 (fixture)

QUERY = "reset your password portal"


@pytest.fixture
def shelved(index):  # noqa: F811
    index.ensure_collection(64)
    strong = "To reset your password, open the portal. Reset password portal reset password."
    for i in range(30):  # the best matches, all in "secret"
        points = points_for("acme", f"secret/p{i}.md", [strong], file_type="markdown")
        index.upsert([p.model_copy(update={"collection": "secret"}) for p in points])
    for i in range(8):  # weaker matches in the default collection
        points = points_for("acme", f"d{i}.md", [f"Note {i}: the password portal is on the intranet."], file_type="markdown")
        index.upsert(points)
    return index


@pytest.mark.parametrize("mode", ["sparse", "dense", "hybrid"])
def test_search_is_filtered_before_ranking(shelved, mode) -> None:
    dense = EMBEDDER.embed_query(QUERY) if mode != "sparse" else None
    sparse = sparse_query_vector(QUERY) if mode != "dense" else None
    kwargs = dict(dense=dense, sparse=sparse, mode=mode, limit=5)
    everything = shelved.search("acme", **kwargs)
    if mode == "sparse":
        assert all(hit.source.startswith("secret/") for hit in everything)  # they would crowd out
    only_default = shelved.search("acme", collections=["default"], **kwargs)
    assert len(only_default) == 5
    assert not any(hit.source.startswith("secret/") for hit in only_default)
    assert shelved.search("acme", collections=[], **kwargs) == []
    both = shelved.search("acme", collections=["default", "secret"], **kwargs)
    assert len(both) == 5  # naming every collection restricts nothing
    if mode == "sparse":
        assert all(hit.source.startswith("secret/") for hit in both)


def test_collection_is_stored_and_indexed() -> None:
    assert COLLECTION_FIELD in PAYLOAD_FIELDS and COLLECTION_FIELD in KEYWORD_INDEXES
