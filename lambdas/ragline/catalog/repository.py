"""``SqlCatalog``: the catalog of documents, tenant generations, queries and feedback, in
SQLAlchemy Core so that one implementation serves SQLite, PostgreSQL and SQL Server.

Concurrency without dialect-specific upserts: writes that may race (two deliveries of one S3
event, two finalizes bumping one tenant's generation) try the INSERT, and on a primary-key
conflict retry as an UPDATE in a new transaction. The primary keys are deterministic (the
document id is uuid5 of tenant/key), so the database itself decides who was first.

One ordering per key (issue 9). S3 and EventBridge deliver at least once and out of order,
and executions for one key overlap. The row keeps the highest S3 ``sequencer`` seen for its
key, deletes included (a deleted document stays as a tombstone), and a ``revision``. Register
and delete decide from the row as read and write with compare-and-set on (revision,
sequencer), so concurrent events serialise per key on every dialect: an older event is
acknowledged and changes nothing, the same event twice is a duplicate, and an event for a
deleted key never resurrects it. Each ingestion or delete that takes the row over bumps the
revision; points carry it (``models.point_id_for``).

Step updates (``set_step``, ``set_file_info``, ``mark_ready``, ``mark_failed``) are
conditional on the execution that owns the current revision: they change a row only while it
is ``processing`` and names their ``execution_id``. A superseded execution, or an attempt
that timed out and wakes up after the state machine moved on (or failed the document), changes
nothing; a ``failed``, ``ready`` or ``deleted`` row is never reopened except by a new
``register``. They return the row as it is, so the caller can tell (compare ``status`` and
``execution_id``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import posixpath
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    Row,
    Select,
    Update,
    and_,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ragline.catalog.collections import in_collections
from ragline.catalog.engine import engine_for
from ragline.catalog.records import FeedbackRecord, QueryRecord
from ragline.catalog.schema import (
    COMMENT_LENGTH,
    ERROR_LENGTH,
    KEY_LENGTH,
    QUESTION_LENGTH,
    RATINGS,
    TENANT_LENGTH,
    documents,
    feedback,
    queries,
    tenant_generations,
)
from ragline.errors import DocumentError, NotFoundError, RaglineError, TransientError
from ragline.models import (
    DeleteOutcome,
    DeleteResult,
    DocumentRecord,
    DocumentStatus,
    RegisterOutcome,
    RegisterResult,
    document_id_for,
    normalise_sequencer,
)

# How often a write that lost a race on a unique key is retried as the other branch.
CONFLICT_ATTEMPTS = 3
MAX_PAGE_SIZE = 1000

PROCESSING = DocumentStatus.processing.value
READY = DocumentStatus.ready.value
FAILED = DocumentStatus.failed.value
DELETED = DocumentStatus.deleted.value
# How often register/delete re-read and re-decide after losing a compare-and-set race.
CAS_ATTEMPTS = 20

Outcome = TypeVar("Outcome", RegisterOutcome, DeleteOutcome)


class InvalidCursorError(RaglineError, ValueError):
    """A pagination cursor that this catalog did not issue (the API answers 400)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def hash_question(question: str) -> str:
    """sha256 of the question normalised the way a person would not notice: Unicode NFKC,
    case folded, whitespace collapsed. Equal hashes group repeated questions in analytics."""
    normalised = " ".join(unicodedata.normalize("NFKC", question).casefold().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _truncate(value: str | None, length: int) -> str | None:
    if value is None or len(value) <= length:
        return value
    return value[: length - 1] + "…"


def encode_cursor(updated_at: datetime, document_id: str) -> str:
    """An opaque cursor: the sort key of the last row of a page."""
    payload = json.dumps({"u": updated_at.astimezone(UTC).isoformat(), "i": document_id})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        updated_at = datetime.fromisoformat(payload["u"])
        document_id = str(payload["i"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise InvalidCursorError(f"invalid cursor {cursor[:40]!r}: pass next_cursor as returned") from exc
    if updated_at.tzinfo is None:
        raise InvalidCursorError(f"invalid cursor {cursor[:40]!r}: pass next_cursor as returned")
    return updated_at, document_id


# -- statements (module functions so the SQL Server test compiles exactly what runs) ----------


def page_statement(
    tenant: str,
    status: DocumentStatus | str | None,
    rows: int,
    cursor: str | None,
    collections: Sequence[str] | None = None,
) -> Select[Any]:
    """One page of a tenant's documents in (updated_at, id) descending order, after ``cursor``,
    only from ``collections`` when given (``catalog.collections``).

    The keyset condition is spelled with OR/AND rather than a row-value comparison
    ``(a, b) < (x, y)``, which SQL Server does not have."""
    statement = select(documents).where(documents.c.tenant == tenant)
    if collections is not None:
        statement = statement.where(in_collections(tenant, collections))
    if status is None:
        statement = statement.where(documents.c.status != DELETED)
    else:
        statement = statement.where(documents.c.status == DocumentStatus(status).value)
    if cursor is not None:
        after_updated, after_id = decode_cursor(cursor)
        statement = statement.where(
            or_(
                documents.c.updated_at < after_updated,
                and_(documents.c.updated_at == after_updated, documents.c.id < after_id),
            )
        )
    return statement.order_by(documents.c.updated_at.desc(), documents.c.id.desc()).limit(rows)


def advance_statement(document_id: str, values: Mapping[str, Any], execution_id: str | None) -> Update:
    """A pipeline step's update, applied only to a row still processing and owned by
    ``execution_id`` (``None`` matches a row without an owner: the reconciler's case)."""
    owner = documents.c.execution_id.is_(None) if execution_id is None else documents.c.execution_id == execution_id
    return (
        update(documents)
        .where(documents.c.id == document_id, documents.c.status == PROCESSING, owner)
        .values(**values)
    )


def cas_statement(current: DocumentRecord, values: Mapping[str, Any]) -> Update:
    """Write ``values`` only if the row still has the revision and sequencer it was read with."""
    sequencer = documents.c.sequencer
    same_sequencer = sequencer.is_(None) if current.sequencer is None else sequencer == current.sequencer
    return (
        update(documents)
        .where(documents.c.id == current.id, documents.c.revision == current.revision, same_sequencer)
        .values(**values)
    )


def compare_sequencers(incoming: str | None, stored: str | None) -> int | None:
    """-1/0/1 as the incoming event is older/the same/newer than the stored sequencer; None
    when either is unknown (events the reconciler makes carry none: it reads the live object)."""
    if incoming is None or stored is None:
        return None
    return (incoming > stored) - (incoming < stored)


def highest_sequencer(incoming: str | None, current: DocumentRecord | None) -> str | None:
    stored = current.sequencer if current is not None else None
    return max((s for s in (incoming, stored) if s is not None), default=None)


def register_outcome(
    current: DocumentRecord | None, content_hash: str, sequencer: str | None, force: bool = False
) -> RegisterOutcome:
    """What an Object Created event does to the row as it is now (the ordering rules)."""
    if current is None:
        return RegisterOutcome.ingest
    order = compare_sequencers(sequencer, current.sequencer)
    if order is not None and order < 0:
        return RegisterOutcome.stale  # a later PUT or DELETE of this key was already seen
    if order == 0:
        return RegisterOutcome.duplicate  # the very same S3 operation, delivered again
    if not force and current.status == DocumentStatus.ready and current.content_hash == content_hash:
        return RegisterOutcome.unchanged
    return RegisterOutcome.ingest


def bump_statement(tenant: str, now: datetime) -> Update:
    """Increment in the database, under the row lock: concurrent bumps serialise."""
    return (
        update(tenant_generations)
        .where(tenant_generations.c.tenant == tenant)
        .values(generation=tenant_generations.c.generation + 1, updated_at=now)
    )


def _document(row: Row[Any]) -> DocumentRecord:
    return DocumentRecord.model_validate(dict(row._mapping))


def _query(row: Row[Any]) -> QueryRecord:
    values = dict(row._mapping)
    values["cited_document_ids"] = json.loads(values["cited_document_ids"] or "[]")
    return QueryRecord.model_validate(values)


def _feedback(row: Row[Any]) -> FeedbackRecord:
    return FeedbackRecord.model_validate(dict(row._mapping))


class SqlCatalog:
    """The ``Catalog`` port on a SQL database (see the module docstring for the concurrency
    rules). Construct with an Engine, or a URL whose process-wide engine is reused."""

    def __init__(self, engine: Engine | str | URL, *, clock: Callable[[], datetime] = utc_now):
        self.engine = engine if isinstance(engine, Engine) else engine_for(engine)
        self._clock = clock

    # -- plumbing ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A transaction; lost connections, lock timeouts and deadlocks become TransientError,
        which the state machines retry with backoff (Lambdas never sleep-and-retry)."""
        try:
            with self.engine.begin() as connection:
                yield connection
        except OperationalError as exc:
            raise TransientError(f"catalog database unavailable: {exc.orig}") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise TransientError(f"catalog connection lost: {exc.orig}") from exc
            raise

    def _fetch_document(self, connection: Connection, document_id: str) -> Row[Any] | None:
        return connection.execute(select(documents).where(documents.c.id == document_id)).first()

    def _require_document(self, connection: Connection, document_id: str) -> DocumentRecord:
        row = self._fetch_document(connection, document_id)
        if row is None:
            raise NotFoundError(f"document {document_id} is not in the catalog")
        return _document(row)

    # -- documents --------------------------------------------------------------------------

    def register(
        self,
        tenant: str,
        key: str,
        file_name: str,
        content_hash: str,
        etag: str | None = None,
        version_id: str | None = None,
        size_bytes: int | None = None,
        execution_id: str | None = None,
        *,
        sequencer: str | None = None,
        force: bool = False,
    ) -> RegisterResult:
        """Record an Object Created event for one object version; the outcome says what the
        workflow does next (``models.RegisterOutcome``, decided by ``register_outcome``).

        ``ingest``: the row restarts -- status processing, step ``register``, error and counts
        cleared, a new ``revision``, owned by ``execution_id``. ``unchanged`` (same content
        already indexed): only etag, version_id and the sequencer follow the object; status,
        counts, revision and ``execution_id`` stay, so the row still names the execution that
        indexed it. ``duplicate``/``stale``: nothing changes. ``force`` (the reconciler's
        re-ingestion of a document whose points drifted) skips the ``unchanged`` shortcut.
        """
        if len(tenant) > TENANT_LENGTH or not tenant:
            raise DocumentError(
                f"{key}: the tenant folder name must be 1 to {TENANT_LENGTH} characters; "
                "move the file under a shorter top-level folder"
            )
        if len(key) > KEY_LENGTH:
            raise DocumentError(f"{key[:80]}…: keys longer than {KEY_LENGTH} characters are not supported")
        document_id = document_id_for(tenant, key)
        sequencer = normalise_sequencer(sequencer)
        restart = {
            "file_name": file_name,
            "status": PROCESSING,
            "step": "register",
            "error": None,
            "content_hash": content_hash,
            "etag": etag,
            "version_id": version_id,
            "size_bytes": size_bytes,
            "file_type": None,
            "page_count": None,
            "chunk_count": None,
            "execution_id": execution_id,
        }

        def decide(current: DocumentRecord | None) -> tuple[RegisterOutcome, dict[str, Any] | None]:
            outcome = register_outcome(current, content_hash, sequencer, force)
            if outcome == RegisterOutcome.ingest:
                return outcome, restart
            if outcome == RegisterOutcome.unchanged:
                return outcome, {"etag": etag, "version_id": version_id}
            return outcome, None

        outcome, record = self._compare_and_set(document_id, tenant, key, sequencer, decide)
        return RegisterResult(document=record, outcome=outcome)

    def mark_deleted(
        self, tenant: str, key: str, *, sequencer: str | None = None, execution_id: str | None = None
    ) -> DeleteResult:
        """The object is gone: the row becomes a ``deleted`` tombstone (no chunks, a new
        revision), created when the key was never seen, so that an older Object Created event
        arriving later is recognised as stale and never resurrects the document. A delete
        older than the newest PUT seen (by sequencer) is ``stale`` and changes nothing."""
        sequencer = normalise_sequencer(sequencer)
        tombstone = {"status": DELETED, "step": None, "error": None, "chunk_count": 0, "execution_id": execution_id}

        def decide(current: DocumentRecord | None) -> tuple[DeleteOutcome, dict[str, Any] | None]:
            order = compare_sequencers(sequencer, current.sequencer if current else None)
            if current is not None and order is not None and order < 0:
                return DeleteOutcome.stale, None
            if current is not None and order == 0:
                return DeleteOutcome.duplicate, None
            if current is None:
                return DeleteOutcome.deleted, {**tombstone, "file_name": posixpath.basename(key) or key}
            return DeleteOutcome.deleted, tombstone

        outcome, record = self._compare_and_set(document_id_for(tenant, key), tenant, key, sequencer, decide)
        assert record is not None
        return DeleteResult(document=record, outcome=outcome)

    def _compare_and_set(
        self,
        document_id: str,
        tenant: str,
        key: str,
        sequencer: str | None,
        decide: Callable[[DocumentRecord | None], tuple[Outcome, dict[str, Any] | None]],
    ) -> tuple[Outcome, DocumentRecord | None]:
        """Read the row, let ``decide`` choose an outcome and the values to write, and write
        them only if the row is still as read (same revision and sequencer: optimistic
        concurrency, the same SQL on every dialect). A lost race reads again and decides again.

        Values that take the row over (a ``status`` among them) bump the revision; every write
        raises the stored sequencer to the highest seen."""
        for _attempt in range(CAS_ATTEMPTS):
            try:
                with self._begin() as connection:
                    row = self._fetch_document(connection, document_id)
                    current = None if row is None else _document(row)
                    outcome, values = decide(current)
                    if values is None:
                        return outcome, current
                    now = self._now()
                    values = {**values, "sequencer": highest_sequencer(sequencer, current)}
                    if "status" in values:  # a takeover; an unchanged re-upload keeps updated_at
                        values["updated_at"] = now
                    if current is None:
                        connection.execute(
                            insert(documents).values(
                                id=document_id, tenant=tenant, key=key, created_at=now, revision=1, **values
                            )
                        )
                    else:
                        if "status" in values:
                            values["revision"] = current.revision + 1
                        written = connection.execute(cas_statement(current, values))
                        if written.rowcount != 1:
                            continue  # another writer got there first: read again
                    return outcome, self._require_document(connection, document_id)
            except IntegrityError:
                continue  # another delivery inserted the row between our SELECT and INSERT
        raise TransientError(f"document {document_id}: too many concurrent catalog writes; retry")

    def _advance(self, document_id: str, values: Mapping[str, Any], execution_id: str | None) -> DocumentRecord:
        """Apply a pipeline step's update if the row is processing and owned by
        ``execution_id`` (None: a row registered without an execution, as test fixtures and
        scripts do -- never "any owner"); return the row as it is afterwards either way."""
        with self._begin() as connection:
            connection.execute(
                advance_statement(document_id, {**values, "updated_at": self._now()}, execution_id)
            )
            return self._require_document(connection, document_id)

    def set_step(self, document_id: str, step: str, *, execution_id: str | None = None) -> DocumentRecord:
        """Record the step a document has reached (shown while it is indexed). Never reopens a
        row: a failed, ready or deleted document stays so (a timed-out attempt that wakes up
        late cannot bring it back to ``processing``)."""
        return self._advance(document_id, {"step": step}, execution_id)

    def set_file_info(
        self,
        document_id: str,
        file_type: str,
        page_count: int | None,
        *,
        execution_id: str | None = None,
    ) -> DocumentRecord:
        """Record what extraction found: the detected type and the page count (None: no pages)."""
        return self._advance(document_id, {"file_type": file_type, "page_count": page_count}, execution_id)

    def mark_ready(self, document_id: str, chunk_count: int, *, execution_id: str | None = None) -> DocumentRecord:
        """The document is searchable: status ready with its chunk count; step stays at the last one."""
        values = {"status": READY, "step": "finalize", "error": None, "chunk_count": chunk_count}
        return self._advance(document_id, values, execution_id)

    def mark_failed(
        self, document_id: str, step: str, reason: str, *, execution_id: str | None = None
    ) -> DocumentRecord:
        """Status failed, keeping the step it failed in and the reason users will read."""
        values = {"status": FAILED, "step": step, "error": _truncate(reason, ERROR_LENGTH)}
        return self._advance(document_id, values, execution_id)

    def owns(self, document_id: str, execution_id: str) -> DocumentRecord | None:
        """The row if ``execution_id`` still owns it (processing, its execution), else None:
        what a step checks before and after writing points (see ``pipeline``)."""
        with self._begin() as connection:
            row = self._fetch_document(connection, document_id)
        if row is None:
            return None
        record = _document(row)
        owned = record.status == DocumentStatus.processing and record.execution_id == execution_id
        return record if owned else None

    def document(self, document_id: str) -> DocumentRecord | None:
        """A document by id in any tenant and status (pipeline and reconciler use; the API
        reads through ``get``, which checks the tenant)."""
        with self._begin() as connection:
            row = self._fetch_document(connection, document_id)
        return None if row is None else _document(row)

    def tenants(self) -> list[str]:
        """Every tenant with a row (tombstones included), for the reconciler."""
        with self._begin() as connection:
            return sorted(connection.execute(select(documents.c.tenant).distinct()).scalars())

    def all_documents(self, tenant: str, page_size: int = MAX_PAGE_SIZE) -> Iterator[DocumentRecord]:
        """Every row of a tenant, tombstones included, in id order (keyset pages)."""
        after = ""
        while True:
            statement = (
                select(documents)
                .where(documents.c.tenant == tenant, documents.c.id > after)
                .order_by(documents.c.id)
                .limit(page_size)
            )
            with self._begin() as connection:
                rows = connection.execute(statement).all()
            yield from (_document(row) for row in rows)
            if len(rows) < page_size:
                return
            after = rows[-1].id

    def get(self, tenant: str, document_id: str) -> DocumentRecord:
        """One of the tenant's documents; NotFoundError when absent or another tenant's."""
        with self._begin() as connection:
            row = connection.execute(
                select(documents).where(documents.c.id == document_id, documents.c.tenant == tenant)
            ).first()
        if row is None:
            raise NotFoundError(f"document {document_id} not found")
        return _document(row)

    def find_by_key(self, tenant: str, key: str) -> DocumentRecord | None:
        """The document for an S3 key (key including the tenant prefix), or None."""
        document_id = document_id_for(tenant, key)
        with self._begin() as connection:
            row = connection.execute(
                select(documents).where(
                    documents.c.id == document_id,
                    documents.c.tenant == tenant,
                    documents.c.key == key,
                )
            ).first()
        return None if row is None else _document(row)

    def list_documents(
        self,
        tenant: str,
        status: DocumentStatus | str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        collections: Sequence[str] | None = None,
    ) -> tuple[list[DocumentRecord], str | None]:
        """A page of the tenant's documents, most recently updated first, and the cursor of the
        next page (None on the last). Without ``status``, deleted tombstones are left out.

        Keyset pagination on (updated_at, id): stable under inserts, no OFFSET scans. A row
        updated while a client pages moves to the front and is not repeated on later pages.
        """
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
        statement = page_statement(tenant, status, limit + 1, cursor, collections)
        with self._begin() as connection:
            rows = connection.execute(statement).all()
        page = [_document(row) for row in rows[:limit]]
        next_cursor = encode_cursor(page[-1].updated_at, page[-1].id) if len(rows) > limit else None
        return page, next_cursor

    # -- tenant generations -----------------------------------------------------------------

    def bump_generation(self, tenant: str) -> int:
        """Advance the tenant's index generation (part of every answer-cache key, so cached
        answers of the old index are never served again) and return the new value.

        The increment happens in the database (``generation + 1`` under the row lock), so
        concurrent bumps never return the same number.
        """
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                with self._begin() as connection:
                    now = self._now()
                    where = tenant_generations.c.tenant == tenant
                    bumped = connection.execute(bump_statement(tenant, now))
                    if bumped.rowcount == 0:
                        connection.execute(
                            insert(tenant_generations).values(tenant=tenant, generation=1, updated_at=now)
                        )
                        return 1
                    return int(
                        connection.execute(select(tenant_generations.c.generation).where(where)).scalar_one()
                    )
            except IntegrityError:
                if attempt == CONFLICT_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def generation(self, tenant: str) -> int:
        """The tenant's current index generation; 0 before its first change."""
        with self._begin() as connection:
            value = connection.execute(
                select(tenant_generations.c.generation).where(tenant_generations.c.tenant == tenant)
            ).scalar_one_or_none()
        return int(value or 0)

    # -- queries and feedback ---------------------------------------------------------------

    def log_query(
        self,
        tenant: str,
        question: str,
        *,
        mode: str,
        top_k: int,
        cache_hit: bool,
        answer_type: str,
        model: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        latency_ms_total: float | None = None,
        latency_ms_embed: float | None = None,
        latency_ms_search: float | None = None,
        latency_ms_llm: float | None = None,
        cited_document_ids: Sequence[str] = (),
        question_hash: str | None = None,
        query_id: str | None = None,
        top_score: float | None = None,
    ) -> str:
        """Log an answered question and return its id (the id feedback refers to).

        The question is stored (truncated to 2,000 characters) next to its hash: a product
        decision, so that answers can be reviewed. Pass ``query_id`` to fix the id up front
        (e.g. to return it in the response before the log is written).
        """
        query_id = query_id or str(uuid.uuid4())
        with self._begin() as connection:
            connection.execute(
                insert(queries).values(
                    id=query_id,
                    tenant=tenant,
                    question=_truncate(question, QUESTION_LENGTH),
                    question_hash=question_hash or hash_question(question),
                    mode=mode,
                    top_k=top_k,
                    cache_hit=cache_hit,
                    answer_type=answer_type,
                    model=model,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                    latency_ms_total=latency_ms_total,
                    latency_ms_embed=latency_ms_embed,
                    latency_ms_search=latency_ms_search,
                    latency_ms_llm=latency_ms_llm,
                    cited_document_ids=json.dumps(list(cited_document_ids)),
                    created_at=self._now(),
                    top_score=top_score,
                )
            )
        return query_id

    def get_query(self, tenant: str, query_id: str) -> QueryRecord:
        """A logged query of this tenant; NotFoundError when absent or another tenant's."""
        with self._begin() as connection:
            row = connection.execute(
                select(queries).where(queries.c.id == query_id, queries.c.tenant == tenant)
            ).first()
        if row is None:
            raise NotFoundError(f"query {query_id} not found")
        return _query(row)

    def add_feedback(self, tenant: str, query_id: str, rating: str, comment: str | None = None) -> str:
        """Attach a rating (``up``/``down``) and an optional comment to one of the tenant's
        queries; NotFoundError when the query id is unknown for this tenant."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}, got {rating!r}")
        feedback_id = str(uuid.uuid4())
        with self._begin() as connection:
            known = connection.execute(
                select(queries.c.id).where(queries.c.id == query_id, queries.c.tenant == tenant)
            ).first()
            if known is None:
                raise NotFoundError(f"query {query_id} not found: feedback needs the query_id of an answer")
            connection.execute(
                insert(feedback).values(
                    id=feedback_id,
                    query_id=query_id,
                    tenant=tenant,
                    rating=rating,
                    comment=_truncate(comment, COMMENT_LENGTH),
                    created_at=self._now(),
                )
            )
        return feedback_id

    def list_feedback(
        self, tenant: str, query_id: str | None = None, limit: int = 100
    ) -> list[FeedbackRecord]:
        """The tenant's feedback, newest first, optionally for one query."""
        statement = select(feedback).where(feedback.c.tenant == tenant)
        if query_id is not None:
            statement = statement.where(feedback.c.query_id == query_id)
        statement = statement.order_by(feedback.c.created_at.desc(), feedback.c.id.desc()).limit(limit)
        with self._begin() as connection:
            return [_feedback(row) for row in connection.execute(statement)]

    # -- health -----------------------------------------------------------------------------

    def ping(self) -> bool:
        """True when the database answers (``GET /health``); never raises."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False
