"""The catalog against real databases: every behavioural case runs on SQLite and PostgreSQL
(``database_url`` from tests/support/databases.py), on a database migrated by ``migrate``."""

from __future__ import annotations

import itertools
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from ragline.catalog import (
    InvalidCursorError,
    SqlCatalog,
    current_revision,
    engine_for,
    hash_question,
    head_revision,
    make_catalog,
    migrate,
)
from ragline.catalog.schema import documents, metadata
from ragline.errors import DocumentError, NotFoundError
from ragline.models import DeleteOutcome, DocumentStatus, RegisterOutcome, document_id_for, normalise_sequencer
from ragline.settings import Settings
from sqlalchemy import func, inspect, select, text

pytest_plugins = ["tests.support.databases"]  # database_url, empty_database_url

TABLES = {"documents", "tenant_generations", "queries", "feedback"}


class StepClock:
    """A clock that advances by ``step`` on every reading (deterministic ordering), and can be
    frozen to produce equal timestamps (tie-breaking by id)."""

    def __init__(self, start: datetime, step: timedelta = timedelta(milliseconds=1)) -> None:
        self.now = start
        self.step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += self.step
            return self.now


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    migrate(database_url)
    return database_url


@pytest.fixture
def catalog(migrated_url: str) -> SqlCatalog:
    return SqlCatalog(migrated_url)


@pytest.fixture
def tenant() -> str:
    """A tenant of its own per test: tests share the session database without seeing each other."""
    return f"t-{uuid.uuid4().hex[:10]}"


def _register(catalog: SqlCatalog, tenant: str, name: str = "report.pdf", content_hash: str = "h1", **kw):
    values = {
        "etag": f"etag-{content_hash}",
        "version_id": f"v-{content_hash}",
        "size_bytes": 1234,
        "execution_id": "exec-1",
    }
    values.update(kw)
    return catalog.register(tenant, f"{tenant}/docs/{name}", name, content_hash, **values)


# -- migrations ------------------------------------------------------------------------------


def test_migrate_from_empty_to_head_is_idempotent(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None

    assert migrate(empty_database_url) == head_revision()
    assert migrate(empty_database_url) == head_revision()  # second run: nothing to do

    engine = engine_for(empty_database_url)
    assert TABLES <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        # The migrated schema is what schema.py declares: no drift between the two.
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_migrated_schema_has_the_indexes_listing_relies_on(migrated_url: str) -> None:
    inspector = inspect(engine_for(migrated_url))
    indexes = {index["name"]: index["column_names"] for index in inspector.get_indexes("documents")}
    assert indexes["ix_documents_tenant_status"] == ["tenant", "status", "updated_at", "id"]
    assert indexes["ix_documents_tenant_updated"] == ["tenant", "updated_at", "id"]
    foreign_keys = inspector.get_foreign_keys("feedback")
    assert [(fk["referred_table"], fk["constrained_columns"]) for fk in foreign_keys] == [
        ("queries", ["query_id"])
    ]


def test_make_catalog_on_sqlite_creates_the_folder_migrates_and_uses_wal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'catalog.db'}"
    catalog = make_catalog(Settings(catalog_url=url))

    assert (tmp_path / "nested" / "dir" / "catalog.db").exists()
    assert current_revision(url) == head_revision()
    assert catalog.ping()
    assert make_catalog(Settings(catalog_url=url)).engine is catalog.engine  # one engine per URL
    with catalog.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


# -- register --------------------------------------------------------------------------------


def test_register_new_document_is_processing(catalog: SqlCatalog, tenant: str) -> None:
    result = _register(catalog, tenant)

    doc = result.document
    assert result.unchanged is False
    assert doc.id == document_id_for(tenant, f"{tenant}/docs/report.pdf")
    assert (doc.tenant, doc.key, doc.file_name) == (tenant, f"{tenant}/docs/report.pdf", "report.pdf")
    assert doc.status == DocumentStatus.processing
    assert doc.step == "register"
    assert (doc.content_hash, doc.etag, doc.version_id, doc.size_bytes) == ("h1", "etag-h1", "v-h1", 1234)
    assert doc.execution_id == "exec-1"
    assert doc.error is None and doc.chunk_count is None and doc.page_count is None
    assert doc.created_at.tzinfo is not None and doc.created_at.utcoffset() == timedelta(0)
    assert abs(doc.created_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert catalog.get(tenant, doc.id) == doc


def test_same_content_after_ready_is_unchanged_and_keeps_the_row(catalog: SqlCatalog, tenant: str) -> None:
    doc = _register(catalog, tenant).document
    catalog.set_file_info(doc.id, "pdf", 3, execution_id="exec-1")
    ready = catalog.mark_ready(doc.id, 12, execution_id="exec-1")

    again = _register(catalog, tenant, execution_id="exec-2", version_id="v-new", etag="etag-h1")

    assert again.unchanged is True
    kept = again.document
    assert kept.status == DocumentStatus.ready
    assert (kept.chunk_count, kept.page_count, kept.file_type) == (12, 3, "pdf")
    assert kept.execution_id == "exec-1"  # still names the execution that indexed it
    assert kept.updated_at == ready.updated_at
    assert kept.version_id == "v-new"  # the live object version is tracked
    # An exact replay of the event changes nothing at all.
    assert _register(catalog, tenant, execution_id="exec-3", version_id="v-new").document == kept


def test_changed_content_restarts_processing_and_clears_counts(catalog: SqlCatalog, tenant: str) -> None:
    first = _register(catalog, tenant).document
    catalog.set_file_info(first.id, "pdf", 3, execution_id="exec-1")
    catalog.mark_ready(first.id, 12, execution_id="exec-1")

    result = _register(catalog, tenant, content_hash="h2", execution_id="exec-2", size_bytes=99)

    doc = result.document
    assert result.unchanged is False
    assert doc.id == first.id
    assert doc.status == DocumentStatus.processing and doc.step == "register"
    assert (doc.chunk_count, doc.page_count, doc.file_type, doc.error) == (None, None, None, None)
    assert (doc.content_hash, doc.size_bytes, doc.execution_id) == ("h2", 99, "exec-2")
    assert doc.created_at == first.created_at and doc.updated_at > first.updated_at


@pytest.mark.parametrize("state", ["processing", "failed"])
def test_same_content_not_ready_is_processed_again(catalog: SqlCatalog, tenant: str, state: str) -> None:
    """A row stuck in processing (a crashed execution) or failed must not block a re-upload."""
    doc = _register(catalog, tenant).document
    if state == "failed":
        catalog.mark_failed(doc.id, "extract", "broken", execution_id="exec-1")

    result = _register(catalog, tenant, execution_id="exec-2")

    assert result.unchanged is False
    assert result.document.status == DocumentStatus.processing
    assert (result.document.error, result.document.execution_id) == (None, "exec-2")


def test_concurrent_double_delivery_registers_one_row(catalog: SqlCatalog, tenant: str) -> None:
    key = f"{tenant}/docs/twice.pdf"
    barrier = threading.Barrier(8)

    def deliver(n: int):
        barrier.wait()
        return catalog.register(tenant, key, "twice.pdf", "same-hash", "etag", "v1", 10, f"exec-{n % 2}")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(deliver, range(8)))

    assert {r.document.id for r in results} == {document_id_for(tenant, key)}
    assert all(r.document.status == DocumentStatus.processing for r in results)
    with catalog.engine.connect() as connection:
        count = connection.execute(
            select(func.count()).select_from(documents).where(documents.c.tenant == tenant)
        ).scalar_one()
    assert count == 1


def test_register_refuses_an_overlong_tenant_with_a_readable_reason(catalog: SqlCatalog) -> None:
    tenant = "x" * 200
    with pytest.raises(DocumentError, match="shorter top-level folder"):
        catalog.register(tenant, f"{tenant}/a.txt", "a.txt", "h")


def test_unicode_keys_and_long_keys_round_trip(catalog: SqlCatalog, tenant: str) -> None:
    key = f"{tenant}/Verträge/生成/{'x' * 900}.pdf"
    doc = catalog.register(tenant, key, "Verträge.pdf", "h").document
    assert catalog.find_by_key(tenant, key) == doc
    assert doc.key == key


# -- pipeline steps --------------------------------------------------------------------------


def test_steps_then_ready(catalog: SqlCatalog, tenant: str) -> None:
    doc = _register(catalog, tenant).document

    assert catalog.set_step(doc.id, "extract", execution_id="exec-1").step == "extract"
    info = catalog.set_file_info(doc.id, "pdf", 7, execution_id="exec-1")
    assert (info.file_type, info.page_count) == ("pdf", 7)
    ready = catalog.mark_ready(doc.id, 42, execution_id="exec-1")

    assert ready.status == DocumentStatus.ready
    assert (ready.chunk_count, ready.step, ready.error) == (42, "finalize", None)
    assert catalog.get(tenant, doc.id) == ready


def test_mark_failed_keeps_step_and_reason(catalog: SqlCatalog, tenant: str) -> None:
    doc = _register(catalog, tenant).document
    catalog.set_step(doc.id, "extract", execution_id="exec-1")
    reason = "report.pdf: the PDF has no text layer; export it with text or run OCR first"

    failed = catalog.mark_failed(doc.id, "extract", reason, execution_id="exec-1")

    assert failed.status == DocumentStatus.failed
    assert (failed.step, failed.error) == ("extract", reason)
    assert catalog.get(tenant, doc.id).error == reason
    other = _register(catalog, tenant, name="other.pdf").document
    long_reason = catalog.mark_failed(other.id, "extract", "é" * 10_000, execution_id="exec-1").error
    assert long_reason is not None and len(long_reason) == 4000 and long_reason.endswith("…")


def test_superseded_execution_cannot_touch_the_row(catalog: SqlCatalog, tenant: str) -> None:
    doc = _register(catalog, tenant, execution_id="old").document
    _register(catalog, tenant, content_hash="h2", execution_id="new")

    stale = catalog.mark_ready(doc.id, 5, execution_id="old")
    assert (stale.status, stale.execution_id, stale.chunk_count) == (DocumentStatus.processing, "new", None)
    assert (
        catalog.mark_failed(doc.id, "chunk", "late", execution_id="old").status == DocumentStatus.processing
    )

    assert catalog.mark_ready(doc.id, 5, execution_id="new").status == DocumentStatus.ready


def test_finished_rows_are_never_reopened_by_late_steps(catalog: SqlCatalog, tenant: str) -> None:
    doc = _register(catalog, tenant).document
    catalog.mark_ready(doc.id, 3, execution_id="exec-1")
    # e.g. finalize's generation bump failed after mark_ready: the document is still indexed
    assert catalog.mark_failed(doc.id, "finalize", "boom", execution_id="exec-1").status == DocumentStatus.ready
    assert catalog.set_step(doc.id, "extract", execution_id="exec-1").status == DocumentStatus.ready

    # A step timed out, MarkFailed failed the row; the abandoned attempt finishes later.
    other = _register(catalog, tenant, name="other.pdf").document
    catalog.mark_failed(other.id, "chunk", "timed out", execution_id="exec-1")
    late = catalog.set_step(other.id, "embed_and_index", execution_id="exec-1")
    assert (late.status, late.step, late.error) == (DocumentStatus.failed, "chunk", "timed out")
    assert catalog.mark_ready(other.id, 9, execution_id="exec-1").status == DocumentStatus.failed
    assert catalog.owns(other.id, "exec-1") is None
    # Only a new upload reopens it.
    assert _register(catalog, tenant, name="other.pdf", execution_id="exec-2").document.status == DocumentStatus.processing


def test_steps_without_the_owning_execution_change_nothing(catalog: SqlCatalog, tenant: str) -> None:
    doc = _register(catalog, tenant).document
    assert catalog.set_step(doc.id, "extract").step == "register"  # None is not "any owner"
    assert catalog.set_step(doc.id, "extract", execution_id="exec-9").step == "register"
    assert catalog.owns(doc.id, "exec-1") is not None


def test_step_updates_of_unknown_documents_raise_not_found(catalog: SqlCatalog) -> None:
    with pytest.raises(NotFoundError):
        catalog.mark_failed(str(uuid.uuid4()), "register", "no row")
    with pytest.raises(NotFoundError):
        catalog.set_step(str(uuid.uuid4()), "extract")


def test_mark_deleted_leaves_a_tombstone_and_register_revives(catalog: SqlCatalog, tenant: str) -> None:
    doc = _register(catalog, tenant).document
    catalog.mark_ready(doc.id, 4, execution_id="exec-1")

    deleted = catalog.mark_deleted(tenant, doc.key, sequencer="0A", execution_id="delete-1")

    assert deleted.outcome == DeleteOutcome.deleted
    record = deleted.document
    assert record.status == DocumentStatus.deleted and record.chunk_count == 0
    assert record.revision == doc.revision + 1
    again = catalog.mark_deleted(tenant, doc.key, sequencer="0A")
    assert again.outcome == DeleteOutcome.duplicate and again.document == record  # idempotent
    assert catalog.mark_ready(doc.id, 4, execution_id="exec-1").status == DocumentStatus.deleted  # a late finalize
    assert catalog.list_documents(tenant)[0] == []
    assert [d.id for d in catalog.list_documents(tenant, status="deleted")[0]] == [doc.id]

    revived = _register(catalog, tenant, sequencer="0B")
    assert revived.unchanged is False and revived.document.status == DocumentStatus.processing


# -- ordering per key (issue 9) --------------------------------------------------------------


def test_sequencers_order_events_per_key_after_left_padding(catalog: SqlCatalog, tenant: str) -> None:
    newer = _register(catalog, tenant, content_hash="h2", sequencer="0100", execution_id="e-new")
    assert newer.outcome == RegisterOutcome.ingest
    # "FF" < "0100" once padded to equal length, although "FF" > "0100" as plain strings.
    older = _register(catalog, tenant, content_hash="h1", sequencer="FF", execution_id="e-old")
    assert older.outcome == RegisterOutcome.stale
    assert older.document.execution_id == "e-new" and older.document.content_hash == "h2"
    same = _register(catalog, tenant, content_hash="h2", sequencer="100", execution_id="e-dup")
    assert same.outcome == RegisterOutcome.duplicate and same.document.execution_id == "e-new"
    assert normalise_sequencer("00ff") == normalise_sequencer("FF")


def test_a_tombstone_is_not_resurrected_by_an_older_upload_event(catalog: SqlCatalog, tenant: str) -> None:
    key = f"{tenant}/docs/report.pdf"
    # The delete's event is processed before the upload's (deleted at 0 s): the key was never seen.
    tombstone = catalog.mark_deleted(tenant, key, sequencer="0200", execution_id="delete-1")
    assert tombstone.outcome == DeleteOutcome.deleted and tombstone.document.status == DocumentStatus.deleted
    late_upload = _register(catalog, tenant, sequencer="0150", execution_id="upload-1")
    assert late_upload.outcome == RegisterOutcome.stale
    assert catalog.find_by_key(tenant, key).status == DocumentStatus.deleted
    # A delete older than the newest upload changes nothing either.
    _register(catalog, tenant, sequencer="0300", execution_id="upload-2")
    stale_delete = catalog.mark_deleted(tenant, key, sequencer="0250")
    assert stale_delete.outcome == DeleteOutcome.stale
    assert stale_delete.document.status == DocumentStatus.processing


def test_revisions_grow_with_each_takeover_and_unchanged_keeps_its_revision(catalog: SqlCatalog, tenant: str) -> None:
    first = _register(catalog, tenant, sequencer="01").document
    assert first.revision == 1
    catalog.mark_ready(first.id, 2, execution_id="exec-1")
    unchanged = _register(catalog, tenant, sequencer="02", execution_id="exec-2")
    assert unchanged.outcome == RegisterOutcome.unchanged and unchanged.document.revision == 1
    assert unchanged.document.sequencer == normalise_sequencer("02")
    forced = _register(catalog, tenant, execution_id="exec-3", force=True)  # the reconciler's
    assert forced.outcome == RegisterOutcome.ingest and forced.document.revision == 2
    assert forced.document.sequencer == normalise_sequencer("02"), "an event without a sequencer keeps the highest"


def test_concurrent_events_for_one_key_serialise(catalog: SqlCatalog, tenant: str) -> None:
    key = f"{tenant}/docs/race.pdf"
    barrier = threading.Barrier(8)

    def deliver(n: int):
        barrier.wait()
        return catalog.register(tenant, key, "race.pdf", f"h{n}", execution_id=f"exec-{n}", sequencer=f"{n + 1:04X}")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(deliver, range(8)))
    final = catalog.find_by_key(tenant, key)
    assert final.execution_id == "exec-7" and final.sequencer == normalise_sequencer("0008")
    winners = [r for r in results if r.outcome == RegisterOutcome.ingest]
    assert final.revision == len(winners), "every takeover got its own revision"


# -- reading, listing, tenants ---------------------------------------------------------------


def test_list_documents_pages_newest_first_without_gaps_or_repeats(migrated_url: str, tenant: str) -> None:
    clock = StepClock(datetime(2026, 1, 1, tzinfo=UTC))
    catalog = SqlCatalog(migrated_url, clock=clock)
    for n in range(4):
        _register(catalog, tenant, name=f"doc-{n}.txt")
    clock.step = timedelta(0)  # three documents with the same updated_at: the id breaks ties
    for n in range(4, 7):
        _register(catalog, tenant, name=f"doc-{n}.txt")
    expected = sorted(
        catalog.list_documents(tenant, limit=100)[0], key=lambda d: (d.updated_at, d.id), reverse=True
    )

    pages, cursor = [], None
    for _ in range(10):
        page, cursor = catalog.list_documents(tenant, limit=3, cursor=cursor)
        pages.append(page)
        if cursor is None:
            break

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [d.id for d in itertools.chain(*pages)] == [d.id for d in expected]
    assert len(expected) == 7


def test_list_documents_filters_by_status(catalog: SqlCatalog, tenant: str) -> None:
    ready = _register(catalog, tenant, name="a.txt").document
    catalog.mark_ready(ready.id, 1, execution_id="exec-1")
    failed = _register(catalog, tenant, name="b.txt").document
    catalog.mark_failed(failed.id, "extract", "bad", execution_id="exec-1")
    processing = _register(catalog, tenant, name="c.txt").document

    def ids(status: str | None) -> set[str]:
        return {d.id for d in catalog.list_documents(tenant, status=status)[0]}

    assert ids("ready") == {ready.id}
    assert ids("failed") == {failed.id}
    assert ids(DocumentStatus.processing) == {processing.id}
    assert ids(None) == {ready.id, failed.id, processing.id}


def test_list_documents_rejects_bad_input(catalog: SqlCatalog, tenant: str) -> None:
    with pytest.raises(InvalidCursorError):
        catalog.list_documents(tenant, cursor="not-a-cursor")
    with pytest.raises(ValueError):
        catalog.list_documents(tenant, limit=0)
    with pytest.raises(ValueError):
        catalog.list_documents(tenant, status="archived")


def test_tenants_never_see_each_other(catalog: SqlCatalog, tenant: str) -> None:
    other = f"{tenant}-b"
    doc = _register(catalog, tenant).document
    query_id = catalog.log_query(
        tenant, "secret?", mode="hybrid", top_k=3, cache_hit=False, answer_type="llm"
    )

    assert catalog.list_documents(other) == ([], None)
    assert catalog.list_documents(other, status="processing") == ([], None)
    with pytest.raises(NotFoundError):
        catalog.get(other, doc.id)
    assert catalog.find_by_key(other, doc.key) is None
    assert catalog.mark_deleted(other, doc.key).document.tenant == other  # a tombstone of its own
    assert catalog.find_by_key(tenant, doc.key) == doc
    with pytest.raises(NotFoundError):
        catalog.get_query(other, query_id)
    with pytest.raises(NotFoundError):
        catalog.add_feedback(other, query_id, "down")
    assert catalog.list_feedback(other) == []
    assert catalog.get(tenant, doc.id).status == DocumentStatus.processing


def test_get_unknown_document_raises_not_found(catalog: SqlCatalog, tenant: str) -> None:
    with pytest.raises(NotFoundError):
        catalog.get(tenant, str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        catalog.get(tenant, "not even a uuid")
    assert catalog.find_by_key(tenant, f"{tenant}/missing.pdf") is None


# -- generations -----------------------------------------------------------------------------


def test_generation_starts_at_zero_and_bumps_monotonically(catalog: SqlCatalog, tenant: str) -> None:
    assert catalog.generation(tenant) == 0
    assert [catalog.bump_generation(tenant) for _ in range(3)] == [1, 2, 3]
    assert catalog.generation(tenant) == 3
    assert catalog.generation(f"{tenant}-other") == 0


def test_concurrent_generation_bumps_never_repeat(catalog: SqlCatalog, tenant: str) -> None:
    barrier = threading.Barrier(8)

    def bump(_: int) -> int:
        barrier.wait()
        return catalog.bump_generation(tenant)

    with ThreadPoolExecutor(8) as pool:
        values = list(pool.map(bump, range(16)))

    assert sorted(values) == list(range(1, 17))
    assert catalog.generation(tenant) == 16


# -- queries and feedback --------------------------------------------------------------------


def test_query_log_and_feedback_are_tied(catalog: SqlCatalog, tenant: str) -> None:
    cited = [str(uuid.uuid4()), str(uuid.uuid4())]
    query_id = catalog.log_query(
        tenant,
        "  What is the   refund POLICY? ",
        mode="hybrid",
        top_k=5,
        cache_hit=False,
        answer_type="llm",
        model="gpt-4o-mini",
        prompt_tokens=812,
        completion_tokens=64,
        latency_ms_total=1234.5,
        latency_ms_embed=12.25,
        latency_ms_search=3.5,
        latency_ms_llm=1200.0,
        cited_document_ids=cited,
    )

    logged = catalog.get_query(tenant, query_id)
    assert logged.question == "  What is the   refund POLICY? "
    assert logged.question_hash == hash_question("what is the refund policy?")
    assert (logged.mode, logged.top_k, logged.cache_hit, logged.answer_type) == ("hybrid", 5, False, "llm")
    assert (logged.prompt_tokens, logged.completion_tokens) == (812, 64)
    assert (
        logged.latency_ms_total,
        logged.latency_ms_embed,
        logged.latency_ms_search,
        logged.latency_ms_llm,
    ) == (
        1234.5,
        12.25,
        3.5,
        1200.0,
    )
    assert logged.cited_document_ids == cited

    up = catalog.add_feedback(tenant, query_id, "up", "spot on")
    down = catalog.add_feedback(tenant, query_id, "down")
    other_query = catalog.log_query(
        tenant, "x" * 5000, mode="dense", top_k=1, cache_hit=True, answer_type="extractive"
    )
    catalog.add_feedback(tenant, other_query, "down", "c" * 9000)

    for_query = catalog.list_feedback(tenant, query_id)
    assert {f.id for f in for_query} == {up, down}
    assert {(f.rating, f.comment) for f in for_query} == {("up", "spot on"), ("down", None)}
    assert all(f.query_id == query_id and f.tenant == tenant for f in for_query)
    assert len(catalog.list_feedback(tenant)) == 3
    truncated = catalog.get_query(tenant, other_query)
    assert (
        len(truncated.question) == 2000 and truncated.cache_hit is True and truncated.cited_document_ids == []
    )


def test_feedback_needs_a_known_query_and_a_valid_rating(catalog: SqlCatalog, tenant: str) -> None:
    with pytest.raises(NotFoundError):
        catalog.add_feedback(tenant, str(uuid.uuid4()), "up")
    query_id = catalog.log_query(tenant, "q", mode="hybrid", top_k=1, cache_hit=False, answer_type="llm")
    with pytest.raises(ValueError):
        catalog.add_feedback(tenant, query_id, "meh")


def test_log_query_accepts_a_caller_chosen_id(catalog: SqlCatalog, tenant: str) -> None:
    query_id = str(uuid.uuid4())
    assert (
        catalog.log_query(
            tenant, "q", mode="sparse", top_k=2, cache_hit=False, answer_type="llm", query_id=query_id
        )
        == query_id
    )
    assert catalog.get_query(tenant, query_id).id == query_id


# -- health ----------------------------------------------------------------------------------


def test_ping(catalog: SqlCatalog) -> None:
    assert catalog.ping() is True
    assert SqlCatalog("postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2").ping() is False
