"""Conversations in the catalog on SQLite and PostgreSQL (``database_url``), migration 0003
compiled for SQL Server: ownership by tenant *and* user, ordering, paging, racing appends."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import inspect
from sqlalchemy.dialects.mssql.pymssql import MSDialect_pymssql
from sqlalchemy.schema import CreateTable

from ragline.catalog import InvalidCursorError, SqlCatalog, engine_for, migrate, migration_sql
from ragline.catalog.conversations import ConversationStore, NewMessage
from ragline.catalog.schema import conversation_messages, conversations
from ragline.errors import NotFoundError

pytest_plugins = ["tests.support.databases"]  # database_url


@pytest.fixture(scope="module")
def store(database_url: str) -> ConversationStore:
    migrate(database_url)
    return ConversationStore(SqlCatalog(database_url))


@pytest.fixture
def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def _message(question: str = "What did the inspection find?", **overrides) -> NewMessage:
    values = dict(
        query_id=str(uuid.uuid4()), question=question, standalone_query=question + " Harbor Bridge",
        answer="Corrosion [1].", citations=[{"number": 1, "source": "bridge.md", "title": "Bridge"}],
        answer_type="extractive", latency_ms={"total": 12.5, "search": 3.0}, cached=False,
    )
    values.update(overrides)
    return NewMessage(**values)


def test_migration_creates_the_tables(store: ConversationStore, database_url: str) -> None:
    inspector = inspect(engine_for(database_url))
    assert {"conversations", "conversation_messages"} <= set(inspector.get_table_names())
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("conversations")}
    assert indexes["ix_conversations_tenant_user_updated"] == ["tenant", "user_id", "updated_at", "id"]


def test_messages_keep_everything_and_the_title_is_the_first_question(store, tenant) -> None:
    conversation = store.create(tenant, "alice")
    assert conversation.title == ""
    first = store.add_message(tenant, "alice", conversation.id, _message(prompt_tokens=10, completion_tokens=4,
                                                                          model="m", answer_type="generated"))
    second = store.add_message(tenant, "alice", conversation.id, _message("And its budget?"))
    assert (first.position, second.position) == (1, 2)
    messages = store.messages(tenant, "alice", conversation.id)
    assert [m.question for m in messages] == ["What did the inspection find?", "And its budget?"]
    stored = messages[0]
    assert stored.standalone_query.endswith("Harbor Bridge") and stored.citations[0]["source"] == "bridge.md"
    assert (stored.model, stored.prompt_tokens, stored.completion_tokens) == ("m", 10, 4)
    assert stored.latency_ms == {"total": 12.5, "search": 3.0} and stored.cached is False
    assert [m.question for m in store.messages(tenant, "alice", conversation.id, last=1)] == ["And its budget?"]
    assert store.get(tenant, "alice", conversation.id).title == "What did the inspection find?"
    rated = store.rate(tenant, "alice", conversation.id, first.id, "down", "wrong span")
    assert (rated.rating, rated.feedback_comment) == ("down", "wrong span")


def test_another_user_or_tenant_sees_nothing(store, tenant) -> None:
    conversation = store.create(tenant, "alice", "private")
    message = store.add_message(tenant, "alice", conversation.id, _message())
    for other_tenant, user in ((tenant, "bob"), (f"{tenant}-x", "alice")):
        with pytest.raises(NotFoundError):
            store.get(other_tenant, user, conversation.id)
        assert store.messages(other_tenant, user, conversation.id) == []
        with pytest.raises(NotFoundError):
            store.add_message(other_tenant, user, conversation.id, _message())
        with pytest.raises(NotFoundError):
            store.rate(other_tenant, user, conversation.id, message.id, "up")
        with pytest.raises(NotFoundError):
            store.delete(other_tenant, user, conversation.id)
        assert store.page(other_tenant, user)[0] == []
    assert len(store.messages(tenant, "alice", conversation.id)) == 1


def test_pages_newest_activity_first_and_delete_removes_messages(store, tenant) -> None:
    made = [store.create(tenant, "alice", f"c{i}") for i in range(5)]
    store.add_message(tenant, "alice", made[0].id, _message())  # the oldest becomes the most recent
    page, cursor = store.page(tenant, "alice", limit=3)
    assert page[0].id == made[0].id and cursor
    rest, end = store.page(tenant, "alice", limit=3, cursor=cursor)
    assert end is None and {c.id for c in page + rest} == {c.id for c in made}
    with pytest.raises(InvalidCursorError):
        store.page(tenant, "alice", cursor="garbage")
    store.delete(tenant, "alice", made[0].id)
    with pytest.raises(NotFoundError):
        store.get(tenant, "alice", made[0].id)
    assert store.messages(tenant, "alice", made[0].id) == []


def test_concurrent_appends_take_distinct_positions(store, tenant) -> None:
    conversation = store.create(tenant, "alice")
    with ThreadPoolExecutor(8) as pool:
        records = list(pool.map(lambda i: store.add_message(tenant, "alice", conversation.id, _message(f"q{i}")),
                                range(8)))
    assert sorted(r.position for r in records) == list(range(1, 9))


def test_sql_server_ddl_and_migration() -> None:
    dialect = MSDialect_pymssql()
    messages = str(CreateTable(conversation_messages).compile(dialect=dialect))
    assert "answer NVARCHAR(max) NOT NULL" in messages and "cached BIT NOT NULL" in messages
    assert "CONSTRAINT uq_conversation_messages_conversation_id_position UNIQUE (conversation_id, position)" in messages
    assert "user_id NVARCHAR(256) NOT NULL" in str(CreateTable(conversations).compile(dialect=dialect))
    script = migration_sql("mssql+pymssql://")
    assert "CREATE TABLE conversations (" in script and "CREATE TABLE conversation_messages (" in script
    assert "'0003_conversations'" in script
