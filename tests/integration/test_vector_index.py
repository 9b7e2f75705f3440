"""Both vector index engines against the same cases: qdrant-edge (in-process Rust engine) and
qdrant-client local mode (the QdrantClient code path that production uses against a server).

Vectors are real: dense from the HashEmbedder, sparse BM25 from ragline.sparse, as ingestion
makes them."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ragline.embeddings.hash_embedder import HashEmbedder
from ragline.errors import ProviderError, TransientError
from ragline.index import fusion_from, make_index
from ragline.index.schema import EmbedderMismatchError, Fusion
from ragline.index.edge_index import EdgeIndex
from ragline.index.qdrant_index import QdrantIndex
from ragline.models import IndexPoint, SparseVector, document_id_for, point_id_for
from ragline.settings import Settings
from ragline.sparse import sparse_document_vector, sparse_query_vector

DIMS = 64
EMBEDDER = HashEmbedder(DIMS)
ACME, GLOBEX = "acme", "globex"

HANDBOOK = [
    "To reset your password, open the customer portal and choose Forgot password.",
    "Passwords expire every ninety days; the portal reminds you a week before.",
    "Error XJ-4471 means the single sign-on certificate has expired.",
    "Holiday requests go to your manager at least two weeks in advance.",
]
REPORT = [
    "Quarterly revenue grew by twelve percent, driven by sales in Asia.",
    "Operating costs fell after the data centre migration was completed.",
]
VIETNAMESE = [
    "Hà Nội là thủ đô của Việt Nam, nằm bên bờ sông Hồng.",
    "Vịnh Hạ Long ở tỉnh Quảng Ninh nổi tiếng với hàng nghìn đảo đá vôi.",
]
# Globex has a near copy of Acme's password chunk: isolation must still hold.
GLOBEX_DOC = [
    "To reset your password, open the Globex intranet and choose Forgot password.",
    "Globex canteen opens at eight.",
]


def points_for(
    tenant: str, key: str, texts: list[str], *, file_type: str, version: str = "v1", start: int = 0
) -> list[IndexPoint]:
    document_id = document_id_for(tenant, key)
    dense = EMBEDDER.embed_documents(texts)
    return [
        IndexPoint(
            id=point_id_for(document_id, start + i),
            tenant=tenant,
            document_id=document_id,
            version=version,
            chunk_index=start + i,
            text=text,
            source=key,
            file_type=file_type,
            title=key.rsplit(".", 1)[0].title(),
            page_start=start + i + 1 if file_type == "pdf" else None,
            page_end=start + i + 1 if file_type == "pdf" else None,
            heading="Section" if file_type == "markdown" else None,
            dense=dense[i],
            sparse=sparse_document_vector(text),
        )
        for i, text in enumerate(texts)
    ]


HANDBOOK_ID = document_id_for(ACME, "handbook.md")
REPORT_ID = document_id_for(ACME, "report.pdf")
VIETNAMESE_ID = document_id_for(ACME, "vietnam.txt")
GLOBEX_ID = document_id_for(GLOBEX, "intranet.md")


@pytest.fixture(params=["edge", "local"])
def index(request, tmp_path) -> Iterator[EdgeIndex | QdrantIndex]:
    if request.param == "edge":
        index = EdgeIndex(str(tmp_path / "qdrant"), "chunks")
    else:
        index = QdrantIndex("chunks", path=str(tmp_path / "qdrant-local"))
    yield index
    index.close()


@pytest.fixture
def loaded(index):
    index.ensure_collection(DIMS)
    index.upsert(points_for(ACME, "handbook.md", HANDBOOK, file_type="markdown"))
    index.upsert(points_for(ACME, "report.pdf", REPORT, file_type="pdf"))
    index.upsert(points_for(ACME, "vietnam.txt", VIETNAMESE, file_type="text"))
    index.upsert(points_for(GLOBEX, "intranet.md", GLOBEX_DOC, file_type="markdown"))
    return index


def search(index, tenant: str, query: str, mode: str = "hybrid", **kwargs):
    return index.search(
        tenant, dense=EMBEDDER.embed_query(query), sparse=sparse_query_vector(query), mode=mode, **kwargs
    )


# -- writes ------------------------------------------------------------------------------------


def test_empty_index_reads_as_empty(index):
    assert index.count(ACME) == 0
    assert index.point_ids(ACME, HANDBOOK_ID) == []
    assert search(index, ACME, "password") == []
    index.delete_document(ACME, HANDBOOK_ID)  # nothing to delete is not an error


def test_upsert_counts_per_tenant_and_document(loaded):
    assert loaded.count(ACME) == len(HANDBOOK) + len(REPORT) + len(VIETNAMESE)
    assert loaded.count(ACME, HANDBOOK_ID) == len(HANDBOOK)
    assert loaded.count(GLOBEX) == len(GLOBEX_DOC)
    assert loaded.count(GLOBEX, HANDBOOK_ID) == 0
    assert loaded.point_ids(ACME, REPORT_ID) == sorted(point_id_for(REPORT_ID, i) for i in range(len(REPORT)))


def test_reupsert_is_idempotent(loaded):
    before = (loaded.count(ACME), loaded.point_ids(ACME, HANDBOOK_ID))
    loaded.ensure_collection(DIMS)
    loaded.upsert(points_for(ACME, "handbook.md", HANDBOOK, file_type="markdown"))
    assert (loaded.count(ACME), loaded.point_ids(ACME, HANDBOOK_ID)) == before


def test_delete_document_removes_only_that_tenants_document(loaded):
    loaded.delete_document(GLOBEX, HANDBOOK_ID)  # wrong tenant: must not touch acme's points
    assert loaded.count(ACME, HANDBOOK_ID) == len(HANDBOOK)
    loaded.delete_document(ACME, HANDBOOK_ID)
    assert loaded.count(ACME, HANDBOOK_ID) == 0
    assert loaded.point_ids(ACME, HANDBOOK_ID) == []
    assert loaded.count(ACME) == len(REPORT) + len(VIETNAMESE)
    assert loaded.count(GLOBEX) == len(GLOBEX_DOC)
    assert all(
        hit.document_id != HANDBOOK_ID for hit in search(loaded, ACME, "reset your password", limit=20)
    )


def test_delete_keeping_a_version_drops_the_older_versions_chunks(loaded):
    # Version 2 of the handbook is shorter: chunks 0-1 are overwritten, 2-3 are stale v1 points.
    loaded.upsert(
        points_for(
            ACME, "handbook.md", ["New password rules.", "Use a passkey."], file_type="markdown", version="v2"
        )
    )
    assert loaded.count(ACME, HANDBOOK_ID) == 4
    loaded.delete_document(ACME, HANDBOOK_ID, keep_version="v2")
    assert loaded.point_ids(ACME, HANDBOOK_ID) == sorted(point_id_for(HANDBOOK_ID, i) for i in range(2))
    texts = {hit.text for hit in search(loaded, ACME, "password passkey expired certificate", limit=20)}
    assert "Use a passkey." in texts and not texts & set(HANDBOOK)
    assert loaded.count(ACME, REPORT_ID) == len(REPORT)


def test_dense_size_mismatch_is_reported(loaded):
    with pytest.raises(ProviderError, match=f"{DIMS}-dimensional.*makes 32"):
        loaded.ensure_collection(32)


def test_a_collection_refuses_another_embedders_vectors(loaded):
    """Two 384-d models have the same size: only the recorded name tells their vectors apart."""
    loaded.ensure_collection(DIMS, "model-a")  # an older collection: the first name is recorded
    loaded.ensure_collection(DIMS, "model-a")
    with pytest.raises(EmbedderMismatchError, match="built with the embedder model-a.*embeds with model-b"):
        loaded.ensure_collection(DIMS, "model-b")
    query = "reset your password"
    dense, sparse = EMBEDDER.embed_query(query), sparse_query_vector(query)
    with pytest.raises(EmbedderMismatchError, match="RAGLINE_EMBEDDER"):
        loaded.search(ACME, dense=dense, sparse=sparse, mode="hybrid", embedder="model-b")
    assert loaded.search(ACME, dense=dense, sparse=sparse, mode="hybrid", embedder="model-a")
    # Sparse search uses no model: it works whatever the embedder.
    assert loaded.search(ACME, dense=None, sparse=sparse, mode="sparse", embedder="model-b")


def test_the_recorded_embedder_survives_a_reopen(tmp_path):
    first = EdgeIndex(str(tmp_path), "chunks")
    first.ensure_collection(DIMS, "model-a")
    first.upsert(points_for(ACME, "handbook.md", HANDBOOK, file_type="markdown"))
    first.close()
    with pytest.raises(EmbedderMismatchError, match="model-a"):
        EdgeIndex(str(tmp_path), "chunks").ensure_collection(DIMS, "model-b")
    local = QdrantIndex("chunks", path=str(tmp_path / "local"))
    local.ensure_collection(DIMS, "model-a")
    local.close()
    reopened = QdrantIndex("chunks", path=str(tmp_path / "local"))
    with pytest.raises(EmbedderMismatchError, match="model-a"):
        reopened.ensure_collection(DIMS, "model-b")
    reopened.close()


# -- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
def test_tenant_never_sees_another_tenants_chunks(loaded, mode):
    globex_hits = search(loaded, GLOBEX, "reset your password customer portal", mode, limit=20)
    assert globex_hits and {hit.document_id for hit in globex_hits} == {GLOBEX_ID}
    acme_hits = search(loaded, ACME, "Globex intranet canteen", mode, limit=20)
    assert all(hit.document_id != GLOBEX_ID for hit in acme_hits)
    assert search(loaded, "initech", "reset your password", mode) == []


def test_hits_carry_the_chunk_and_its_position(loaded):
    hit = search(loaded, ACME, "Quarterly revenue grew in Asia", "dense", limit=1)[0]
    assert hit.point_id == point_id_for(REPORT_ID, 0)
    assert (hit.document_id, hit.chunk_index, hit.text) == (REPORT_ID, 0, REPORT[0])
    assert (hit.source, hit.file_type, hit.title, hit.page_start, hit.page_end) == (
        "report.pdf",
        "pdf",
        "Report",
        1,
        1,
    )
    assert hit.heading is None
    assert search(loaded, ACME, "holiday requests manager", "dense", limit=1)[0].heading == "Section"


def test_filters_by_document_and_file_type(loaded):
    query = "password revenue Hà Nội"
    only_report = search(loaded, ACME, query, document_ids=[REPORT_ID], limit=20)
    assert only_report and {h.document_id for h in only_report} == {REPORT_ID}
    two_docs = search(loaded, ACME, query, document_ids=[REPORT_ID, VIETNAMESE_ID], limit=20)
    assert {h.document_id for h in two_docs} == {REPORT_ID, VIETNAMESE_ID}
    texts_and_pdfs = search(loaded, ACME, query, file_types=["text", "pdf"], limit=20)
    assert {h.file_type for h in texts_and_pdfs} == {"text", "pdf"}
    assert search(loaded, ACME, query, document_ids=[GLOBEX_ID]) == []  # another tenant's id
    assert search(loaded, ACME, query, document_ids=[]) == []


def test_sparse_finds_an_exact_rare_term(loaded):
    hits = search(loaded, ACME, "what is XJ-4471", "sparse")
    assert hits[0].text == HANDBOOK[2]
    assert len(hits) == 1  # no other chunk shares a term with the query ("what", "is" appear nowhere)


def test_dense_ranks_by_cosine(loaded):
    hits = search(loaded, ACME, "operating costs after the migration", "dense", limit=5)
    assert hits[0].text == REPORT[1]
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0 + 1e-6
    assert len(hits) == 5  # dense always returns the nearest, related or not


def test_hybrid_fuses_both_result_lists(loaded):
    query = "reset forgotten passwords in the customer portal"
    sparse = search(loaded, ACME, query, "sparse", limit=8)
    hybrid = search(loaded, ACME, query, "hybrid", limit=8)
    assert hybrid[0].text == HANDBOOK[0]
    # Fusion keeps what only one side found (dense returns everything; sparse only term matches).
    assert {h.point_id for h in hybrid} >= {h.point_id for h in sparse}
    assert len(hybrid) > len(sparse)
    # RRF with k=60, ranks counted from 0: first in both lists scores 2/60, in both engines.
    assert hybrid[0].score == pytest.approx(2 / 60, rel=1e-4)


@pytest.mark.parametrize("engine", ["edge", "local"])
def test_fusion_methods_and_weights(tmp_path, engine):
    """Both engines fuse with the configured k and weights the same way (Qdrant's formula), and DBSF."""

    def open_index(fusion: Fusion):
        if engine == "edge":
            return EdgeIndex(str(tmp_path), "chunks", fusion=fusion)
        return QdrantIndex("chunks", path=str(tmp_path / "local"), fusion=fusion)

    # Dense prefers A, sparse prefers B (vectors by hand, as in the test below).
    base = open_index(Fusion())
    base.ensure_collection(DIMS)
    a = IndexPoint(id=point_id_for("d", 0), tenant=ACME, document_id="d", version="v", chunk_index=0, text="A",
                   source="a", file_type="text", dense=unit((0, 1.0)), sparse=SparseVector(indices=[7], values=[0.2]))
    b = IndexPoint(id=point_id_for("d", 1), tenant=ACME, document_id="d", version="v", chunk_index=1, text="B",
                   source="b", file_type="text", dense=unit((0, 0.5), (1, 1.0)),
                   sparse=SparseVector(indices=[7], values=[1.0]))
    base.upsert([a, b])

    def scores(fusion: Fusion) -> dict[str, float]:
        hits = open_index(fusion).search(
            ACME, dense=unit((0, 1.0)), sparse=SparseVector(indices=[7], values=[1.0]), mode="hybrid", limit=2
        )
        return {h.text: h.score for h in hits}

    def rrf(position: int, weight: float, k: int) -> float:
        """Qdrant's weighted RRF: a weight divides the (1-based) rank, 1 / (rank / w + k - 1)."""
        return 1 / ((position + 1) / weight + k - 1)

    # A is 1st in dense and 2nd in sparse; B the other way round.
    for k, dense_w, sparse_w in ((60, 1.0, 1.0), (10, 2.0, 1.0), (10, 1.0, 3.0)):
        got = scores(Fusion(k=k, dense_weight=dense_w, sparse_weight=sparse_w))
        assert got["A"] == pytest.approx(rrf(0, dense_w, k) + rrf(1, sparse_w, k), rel=1e-4)
        assert got["B"] == pytest.approx(rrf(1, dense_w, k) + rrf(0, sparse_w, k), rel=1e-4)
    assert set(scores(Fusion(method="dbsf"))) == {"A", "B"}
    if engine == "local":
        base.close()


def test_fusion_settings_are_validated():
    with pytest.raises(ValueError, match="DBSF fusion takes no weights"):
        Fusion(method="dbsf", sparse_weight=2.0)
    with pytest.raises(ValueError, match="at least 1"):
        Fusion(k=0)
    assert fusion_from(Settings(fusion="rrf", rrf_k=20, fusion_sparse_weight=1.5)) == Fusion("rrf", 20, 1.0, 1.5)


def unit(*components: tuple[int, float]) -> list[float]:
    vector = [0.0] * DIMS
    for axis, value in components:
        vector[axis] = value
    norm = sum(v * v for v in vector) ** 0.5
    return [v / norm for v in vector]


def test_hybrid_ranks_a_chunk_matching_both_first(loaded):
    """Second in both lists beats first in one: the point of fusing (vectors made by hand)."""

    def point(name: str, dense: list[float], sparse: dict[int, float]) -> IndexPoint:
        document_id = document_id_for("initech", name)
        return IndexPoint(
            id=point_id_for(document_id, 0),
            tenant="initech",
            document_id=document_id,
            version="v1",
            chunk_index=0,
            text=name,
            source=name,
            file_type="text",
            dense=dense,
            sparse=SparseVector(indices=sorted(sparse), values=[sparse[i] for i in sorted(sparse)]),
        )

    loaded.upsert(
        [
            point("dense-only", unit((0, 1.0)), {}),
            point("both", unit((0, 1.0), (1, 0.3)), {900_001: 1.0}),
            point("sparse-only", unit((7, 1.0)), {900_001: 2.0, 900_002: 2.0}),
            *(point(f"filler-{k}", unit((0, 1.0), (k, 0.5)), {}) for k in range(2, 7)),
        ]
    )

    def ranked(mode: str) -> list[str]:
        query = SparseVector(indices=[900_001, 900_002], values=[1.0, 1.0])
        hits = loaded.search("initech", dense=unit((0, 1.0)), sparse=query, mode=mode, limit=8)
        return [hit.text for hit in hits]

    assert ranked("dense")[:2] == ["dense-only", "both"]
    assert ranked("sparse") == ["sparse-only", "both"]
    assert ranked("hybrid")[0] == "both"


def test_hybrid_without_sparse_terms_falls_back_to_dense(loaded):
    hits = loaded.search(ACME, dense=EMBEDDER.embed_query("zzz"), sparse=sparse_query_vector("..."), limit=3)
    assert len(hits) == 3
    assert loaded.search(ACME, dense=None, sparse=sparse_query_vector("..."), mode="sparse") == []
    with pytest.raises(ValueError):
        loaded.search(ACME, dense=None, sparse=sparse_query_vector("password"), mode="dense")


@pytest.mark.parametrize("mode", ["hybrid", "sparse", "dense"])
def test_vietnamese_query_with_diacritics(loaded, mode):
    hits = search(loaded, ACME, "thủ đô Hà Nội", mode, limit=3)
    assert hits[0].text == VIETNAMESE[0]
    if mode == "sparse":  # "Hạ" is not "Hà": the Ha Long chunk shares no term with the query
        assert [hit.text for hit in hits] == [VIETNAMESE[0]]


# -- engines -----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["edge", "local"])
def test_concurrent_writers_lose_no_points(tmp_path, engine):
    """Four ingestion threads (a Step Functions Map, run in-process) and a reader at once."""
    if engine == "edge":
        index = EdgeIndex(str(tmp_path), "chunks")
    else:
        index = QdrantIndex("chunks", path=str(tmp_path))
    index.ensure_collection(DIMS)
    per_thread, batch = (400, 40) if engine == "edge" else (100, 20)
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(n: int) -> None:
        try:
            texts = [f"thread {n} chunk {i} about topic {i % 7}" for i in range(per_thread)]
            for start in range(0, per_thread, batch):
                index.upsert(
                    points_for(
                        ACME, f"doc-{n}.txt", texts[start : start + batch], file_type="text", start=start
                    )
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop.is_set():
                search(index, ACME, "chunk about topic 3", limit=5)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    read = threading.Thread(target=reader)
    read.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    read.join()
    assert errors == []
    assert index.count(ACME) == 4 * per_thread
    for n in range(4):
        assert len(index.point_ids(ACME, document_id_for(ACME, f"doc-{n}.txt"))) == per_thread
    index.close()


def test_edge_persists_across_reopen_and_shares_one_engine_per_path(tmp_path):
    first = EdgeIndex(str(tmp_path), "chunks")
    first.ensure_collection(DIMS)
    first.upsert(points_for(ACME, "handbook.md", HANDBOOK, file_type="markdown"))
    # A second index on the same path in this process (another handler thread, a Services
    # rebuild) shares the open engine instead of failing on the shard's lock.
    second = EdgeIndex(str(tmp_path), "chunks")
    assert second.count(ACME) == len(HANDBOOK)
    first.close()  # as at process exit

    reopened = EdgeIndex(str(tmp_path), "chunks")
    assert reopened.count(ACME, HANDBOOK_ID) == len(HANDBOOK)
    assert search(reopened, ACME, "XJ-4471", "sparse")[0].text == HANDBOOK[2]
    with pytest.raises(ProviderError):
        reopened.ensure_collection(DIMS * 2)
    reopened.close()


def test_server_unreachable_is_transient():
    index = QdrantIndex("chunks", url="http://127.0.0.1:9")  # the discard port: nothing listens
    with pytest.raises(TransientError, match="Qdrant at http://127.0.0.1:9 could not"):
        index.ensure_collection(DIMS)


def test_make_index_picks_the_engine(tmp_path):
    edge = make_index(Settings(qdrant_engine="edge", qdrant_path=str(tmp_path / "e"), collection="c"))
    assert isinstance(edge, EdgeIndex) and edge.path.endswith("/e/c")
    local = make_index(Settings(qdrant_engine="local", qdrant_path=str(tmp_path / "l"), collection="c"))
    assert isinstance(local, QdrantIndex) and not local.server
    server = make_index(
        Settings(qdrant_engine="server", qdrant_url="https://127.0.0.1:9", qdrant_api_key="k")
    )
    assert isinstance(server, QdrantIndex) and server.server
    with pytest.raises(ValueError, match="RAGLINE_QDRANT_URL"):
        make_index(Settings(qdrant_engine="server", qdrant_url=None))


# -- neighbouring chunks (the second stage's widening) -----------------------------------------


def test_chunks_at_reads_one_documents_chunks_in_chunk_order(loaded):
    chunks = loaded.chunks_at(ACME, HANDBOOK_ID, [2, 0, 99])
    assert [(c.chunk_index, c.text) for c in chunks] == [(0, HANDBOOK[0]), (2, HANDBOOK[2])]
    assert all(c.document_id == HANDBOOK_ID and c.score == 0.0 for c in chunks)
    assert loaded.chunks_at(GLOBEX, HANDBOOK_ID, [0, 1]) == []  # another tenant sees nothing
    assert loaded.chunks_at(ACME, HANDBOOK_ID, []) == []


def test_chunks_at_on_an_empty_index_is_empty(index):
    assert index.chunks_at(ACME, HANDBOOK_ID, [0, 1]) == []
