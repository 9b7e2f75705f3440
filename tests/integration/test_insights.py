"""GET /insights' figures against a catalog seeded with known counts, on SQLite and PostgreSQL:
every number below is worked out by hand from the seed, not computed by the code under test."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from ragline.catalog import SqlCatalog, migrate
from ragline.insights import compute_insights
from ragline.models import document_id_for
from ragline.settings import Settings
from ragline.text import count_tokens

pytest_plugins = ["tests.support.databases"]  # database_url

START, END = date(2026, 11, 1), date(2026, 11, 3)


class Clock:
    """The catalog's clock, set by the seed before each write."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: int, hour: int, month: int = 11) -> None:
        self.now = datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def seeded(database_url: str):
    return seed(database_url)


def seed(database_url: str):
    """A tenant with known queries, feedback and documents in November 2026 (also the
    browser test's data: tests/e2e/test_insights_page.py)."""
    migrate(database_url)
    clock = Clock()
    catalog = SqlCatalog(database_url, clock=clock)
    tenant = f"insights-{uuid.uuid4().hex[:8]}"
    ids = {}

    clock.at(2, 8)
    for name, chunks in (("a.md", 2), ("b.pdf", 3), ("c.txt", 1)):
        key = f"{tenant}/{name}"
        catalog.register(tenant, key, name, f"h-{name}")
        catalog.mark_ready(document_id_for(tenant, key), chunks)
        ids[name] = document_id_for(tenant, key)
    for name, step, reason in (
        ("d.pdf", "extract", "d.pdf is empty. Upload the file again with its content."),
        ("e.pdf", "extract", "e.pdf is empty. Upload the file again with its content."),
        ("f.pdf", "embed_and_index", "The step timed out; the document may be too large."),
    ):
        key = f"{tenant}/{name}"
        catalog.register(tenant, key, name, f"h-{name}")
        catalog.mark_failed(document_id_for(tenant, key), step, reason)

    def ask(day, hour, question, mode, *, month=11, hit=False, total, embed=None, search=None, llm=None,
            prompt=None, completion=None, score, cited=()):
        clock.at(day, hour, month)
        return catalog.log_query(
            tenant, question, mode=mode, top_k=6, cache_hit=hit, answer_type="generated",
            prompt_tokens=prompt, completion_tokens=completion, latency_ms_total=total,
            latency_ms_embed=embed, latency_ms_search=search, latency_ms_llm=llm,
            cited_document_ids=[ids[c] for c in cited], top_score=score,
        )

    ask(31, 23, "before the range", "hybrid", month=10, total=9999, score=0.001)
    q1 = ask(1, 9, "How many leave days?", "hybrid", total=100, embed=10, search=20, llm=60,
             prompt=1000, completion=100, score=0.03, cited=["a.md"])
    ask(1, 10, "how many  LEAVE days?", "hybrid", hit=True, total=5, prompt=0, completion=0,
        score=0.03, cited=["a.md"])
    q3 = ask(2, 9, "zebra?", "sparse", total=50, embed=1, search=5, score=None)
    q4 = ask(2, 11, "Refunds?", "dense", total=200, embed=8, search=30, llm=150, prompt=500,
             completion=50, score=0.1, cited=["b.pdf"])
    q5 = ask(3, 9, "How many leave days?", "hybrid", total=300, embed=12, search=40, llm=240,
             prompt=300, completion=30, score=0.05, cited=["a.md", "b.pdf"])
    ask(4, 0, "after the range", "hybrid", total=9999, score=0.001)

    clock.at(3, 12)
    catalog.add_feedback(tenant, q1, "up", "great")
    clock.at(3, 13)
    catalog.add_feedback(tenant, q4, "down")
    clock.at(3, 14)
    catalog.add_feedback(tenant, q5, "down", "wrong number")
    return catalog, tenant, ids, {"q3": q3, "q4": q4, "q5": q5}


def test_insights_match_the_seeded_catalog(seeded) -> None:
    catalog, tenant, ids, queries = seeded
    settings = Settings()
    report = compute_insights(catalog.engine, tenant, START, END, settings)

    assert (report.queries, report.cache_hits, report.cache_hit_rate) == (5, 1, 0.2)
    assert [(d.day.isoformat(), d.queries, d.cache_hits) for d in report.queries_per_day] == [
        ("2026-11-01", 2, 1), ("2026-11-02", 2, 0), ("2026-11-03", 1, 0)]
    latency = {s.stage: (s.samples, s.p50_ms, s.p95_ms) for s in report.latency}
    assert latency["total"] == (5, 100.0, 300.0)  # sorted 5, 50, 100, 200, 300: nearest rank 3 and 5
    assert latency["llm"] == (3, 150.0, 240.0)  # 60, 150, 240
    assert latency["search"] == (4, 20.0, 40.0)  # 5, 20, 30, 40: ranks 2 and 4
    assert (report.feedback.up, report.feedback.down) == (1, 2)
    assert [(c.comment, c.rating) for c in report.feedback.comments] == [("wrong number", "down"), ("great", "up")]

    unanswered = [(q.question, q.reason, q.times, q.last_query_id) for q in report.unanswered]
    assert unanswered == [
        ("How many leave days?", "thumbs_down", 1, queries["q5"]),
        ("Refunds?", "thumbs_down", 1, queries["q4"]),
        ("zebra?", "no_passage", 1, queries["q3"]),
    ]
    assert [(d.file_name, d.citations) for d in report.most_cited] == [("a.md", 3), ("b.pdf", 2)]
    assert [d.file_name for d in report.never_cited] == ["c.txt"] and report.never_cited_count == 1
    assert [(f.step, f.reason, f.documents) for f in report.ingestion_failures] == [
        ("extract", "<file> is empty. Upload the file again with its content.", 2),
        ("embed_and_index", "The step timed out; the document may be too large.", 1),
    ]
    tokens = report.tokens
    assert (tokens.llm_prompt_tokens, tokens.llm_completion_tokens) == (1800, 180)
    embedded = sum(count_tokens(q) for q in ("How many leave days?", "Refunds?", "How many leave days?"))
    assert tokens.embedding_tokens == embedded + 6 * settings.chunk_tokens
    expected_cost = (tokens.embedding_tokens * 0.02 + 1800 * 0.15 + 180 * 0.60) / 1_000_000
    assert tokens.estimated_cost_usd == pytest.approx(expected_cost, abs=1e-6)


def test_a_low_best_score_counts_as_unanswered_and_other_tenants_count_nothing(seeded) -> None:
    catalog, tenant, _, _ = seeded
    other = f"{tenant}-other"
    catalog.log_query(other, "Anything?", mode="dense", top_k=6, cache_hit=False, answer_type="extractive",
                      top_score=0.2, latency_ms_total=1.0)
    day = catalog._now().date()
    report = compute_insights(catalog.engine, other, day, day, Settings())
    assert report.queries == 1
    assert [(q.question, q.reason) for q in report.unanswered] == [("Anything?", "low_score")]
    assert report.most_cited == [] and report.ingestion_failures == []
    empty = compute_insights(catalog.engine, other, date(2026, 10, 1), date(2026, 10, 3), Settings())
    assert empty.queries == 0 and empty.cache_hit_rate is None and len(empty.queries_per_day) == 3
