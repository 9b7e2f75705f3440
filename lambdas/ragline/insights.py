"""What is happening in a tenant: the figures behind ``GET /insights`` and the Insights page.

Everything is read from the catalog (the query log, feedback, documents) for a range of UTC
days, and aggregated here in Python rather than in SQL: day buckets and percentiles have no
spelling common to SQLite, PostgreSQL and SQL Server, and one admin report over a bounded
range reads few enough rows. Figures are exact counts, except the embedding tokens, which are
estimated (the pipeline does not log them per document): ``ragline.text.count_tokens`` of each
question embedded, plus each indexed chunk counted at the configured chunk size.

"Unanswered" questions are the ones an admin should act on: nothing was retrieved, the best
passage scored below `LOW_SCORE` for its search mode, or the answer got a thumbs-down.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, select

from ragline.catalog.schema import documents, feedback, queries
from ragline.settings import Settings
from ragline.text import count_tokens

MAX_RANGE_DAYS = 366
LIST_LIMIT = 100
# Below these best-passage scores a question counts as unanswered. Dense: cosine similarity;
# sparse: BM25; hybrid: reciprocal rank fusion (k=60), where 0.02 means no passage ranked near
# the top of both the dense and the sparse list.
LOW_SCORE: dict[str, float] = {"dense": 0.3, "sparse": 1.0, "hybrid": 0.02}
STAGES = ("total", "embed", "search", "llm")


class DayCount(BaseModel):
    day: date
    queries: int
    cache_hits: int


class StageLatency(BaseModel):
    stage: str
    samples: int
    p50_ms: float | None
    p95_ms: float | None


class FeedbackComment(BaseModel):
    query_id: str
    question: str
    rating: Literal["up", "down"]
    comment: str
    created_at: datetime


class FeedbackSummary(BaseModel):
    up: int
    down: int
    comments: list[FeedbackComment]


class UnansweredQuestion(BaseModel):
    question: str
    reason: Literal["no_passage", "low_score", "thumbs_down"]
    times: int = Field(description="How often it was asked in the range.")
    last_query_id: str
    last_asked_at: datetime
    top_score: float | None
    mode: str


class CitedDocument(BaseModel):
    document_id: str
    file_name: str
    citations: int


class UncitedDocument(BaseModel):
    document_id: str
    file_name: str


class FailureReason(BaseModel):
    step: str | None
    reason: str
    documents: int


class TokenUsage(BaseModel):
    embedding_tokens: int = Field(description="Estimated (see the module docstring).")
    llm_prompt_tokens: int
    llm_completion_tokens: int
    estimated_cost_usd: float
    price_per_million: dict[str, float]


class Insights(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    queries: int
    cache_hits: int
    cache_hit_rate: float | None = Field(description="cache_hits / queries; null without queries.")
    queries_per_day: list[DayCount]
    latency: list[StageLatency]
    feedback: FeedbackSummary
    unanswered: list[UnansweredQuestion]
    most_cited: list[CitedDocument]
    never_cited: list[UncitedDocument]
    never_cited_count: int
    ingestion_failures: list[FailureReason]
    tokens: TokenUsage


class InvalidRangeError(ValueError):
    """A date range the report cannot cover (reversed, or longer than MAX_RANGE_DAYS)."""


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last 30 days, today included."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=29), today


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least pct% of values at or below)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 3)


def compute_insights(engine: Engine, tenant: str, start: date, end: date, settings: Settings) -> Insights:
    """The tenant's figures for the UTC days ``start`` .. ``end`` (both included)."""
    if end < start:
        raise InvalidRangeError(f"'from' ({start}) is after 'to' ({end}); swap them.")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRangeError(f"a report covers at most {MAX_RANGE_DAYS} days; narrow the range.")
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    with engine.connect() as connection:
        query_rows = connection.execute(
            select(queries).where(
                queries.c.tenant == tenant, queries.c.created_at >= since, queries.c.created_at < until
            ).order_by(queries.c.created_at)
        ).mappings().all()
        feedback_rows = connection.execute(
            select(feedback, queries.c.question)
            .join(queries, queries.c.id == feedback.c.query_id)
            .where(feedback.c.tenant == tenant, feedback.c.created_at >= since, feedback.c.created_at < until)
            .order_by(feedback.c.created_at.desc(), feedback.c.id.desc())
        ).mappings().all()
        document_rows = connection.execute(
            select(documents.c.id, documents.c.file_name, documents.c.status, documents.c.step,
                   documents.c.error, documents.c.chunk_count, documents.c.created_at, documents.c.updated_at)
            .where(documents.c.tenant == tenant)
        ).mappings().all()

    hits = sum(1 for row in query_rows if row["cache_hit"])
    return Insights(
        from_=start,
        to=end,
        queries=len(query_rows),
        cache_hits=hits,
        cache_hit_rate=round(hits / len(query_rows), 4) if query_rows else None,
        queries_per_day=_per_day(query_rows, start, end),
        latency=[_latency(query_rows, stage) for stage in STAGES],
        feedback=_feedback(feedback_rows),
        unanswered=_unanswered(query_rows, feedback_rows),
        most_cited=_most_cited(query_rows, document_rows),
        **_never_cited(query_rows, document_rows, until),
        ingestion_failures=_failures(document_rows, since, until),
        tokens=_tokens(query_rows, document_rows, since, until, settings),
    )


def _per_day(rows: Sequence, start: date, end: date) -> list[DayCount]:
    counts, cached = Counter(), Counter()
    for row in rows:
        day = row["created_at"].astimezone(UTC).date()
        counts[day] += 1
        cached[day] += bool(row["cache_hit"])
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [DayCount(day=day, queries=counts[day], cache_hits=cached[day]) for day in days]


def _latency(rows: Sequence, stage: str) -> StageLatency:
    values = [row[f"latency_ms_{stage}"] for row in rows if row[f"latency_ms_{stage}"] is not None]
    return StageLatency(stage=stage, samples=len(values), p50_ms=percentile(values, 50), p95_ms=percentile(values, 95))


def _feedback(rows: Sequence) -> FeedbackSummary:
    comments = [
        FeedbackComment(query_id=row["query_id"], question=row["question"], rating=row["rating"],
                        comment=row["comment"], created_at=row["created_at"])
        for row in rows if row["comment"] and row["comment"].strip()
    ]
    return FeedbackSummary(
        up=sum(1 for row in rows if row["rating"] == "up"),
        down=sum(1 for row in rows if row["rating"] == "down"),
        comments=comments[:LIST_LIMIT],
    )


def unanswered_reason(row, thumbs_down: set[str]) -> str | None:
    """Why a logged query counts as unanswered, or None when it does not."""
    if row["id"] in thumbs_down:
        return "thumbs_down"
    if row["top_score"] is None:
        return "no_passage"
    if row["top_score"] < LOW_SCORE.get(row["mode"], 0.0):
        return "low_score"
    return None


def _unanswered(query_rows: Sequence, feedback_rows: Sequence) -> list[UnansweredQuestion]:
    thumbs_down = {row["query_id"] for row in feedback_rows if row["rating"] == "down"}
    grouped: dict[str, UnansweredQuestion] = {}
    for row in query_rows:  # oldest first: the last one seen is the latest
        reason = unanswered_reason(row, thumbs_down)
        if reason is None:
            continue
        earlier = grouped.get(row["question_hash"])
        grouped[row["question_hash"]] = UnansweredQuestion(
            question=row["question"], reason=reason, times=(earlier.times if earlier else 0) + 1,
            last_query_id=row["id"], last_asked_at=row["created_at"], top_score=row["top_score"], mode=row["mode"],
        )
    ordered = sorted(grouped.values(), key=lambda q: (-q.times, -q.last_asked_at.timestamp()))
    return ordered[:LIST_LIMIT]


def _citations(query_rows: Sequence) -> Counter[str]:
    cited: Counter[str] = Counter()
    for row in query_rows:
        cited.update(json.loads(row["cited_document_ids"] or "[]"))
    return cited


def _most_cited(query_rows: Sequence, document_rows: Sequence) -> list[CitedDocument]:
    names = {row["id"]: row["file_name"] for row in document_rows}
    ranked = sorted(_citations(query_rows).items(), key=lambda item: (-item[1], names.get(item[0], item[0])))
    return [
        CitedDocument(document_id=doc_id, file_name=names.get(doc_id, "(no longer in the catalog)"), citations=n)
        for doc_id, n in ranked[:LIST_LIMIT]
    ]


def _never_cited(query_rows: Sequence, document_rows: Sequence, until: datetime) -> dict:
    cited = _citations(query_rows)
    uncited = sorted(
        (row for row in document_rows
         if row["status"] == "ready" and row["created_at"] < until and row["id"] not in cited),
        key=lambda row: row["file_name"],
    )
    return {
        "never_cited": [UncitedDocument(document_id=r["id"], file_name=r["file_name"]) for r in uncited[:LIST_LIMIT]],
        "never_cited_count": len(uncited),
    }


def _failures(document_rows: Sequence, since: datetime, until: datetime) -> list[FailureReason]:
    """Failed documents by step and reason; the file name is taken out of the reason so that
    the same failure of different files counts together."""
    counts: Counter[tuple[str | None, str]] = Counter()
    for row in document_rows:
        if row["status"] == "failed" and since <= row["updated_at"] < until:
            reason = (row["error"] or "unknown").replace(row["file_name"], "<file>")
            counts[(row["step"], reason)] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0][1]))
    return [FailureReason(step=step, reason=reason, documents=n) for (step, reason), n in ranked]


def _tokens(query_rows: Sequence, document_rows: Sequence, since: datetime, until: datetime,
            settings: Settings) -> TokenUsage:
    prompt = sum(row["prompt_tokens"] or 0 for row in query_rows)
    completion = sum(row["completion_tokens"] or 0 for row in query_rows)
    embedded_questions = sum(
        count_tokens(row["question"]) for row in query_rows if not row["cache_hit"] and row["mode"] != "sparse"
    )
    embedded_chunks = sum(
        (row["chunk_count"] or 0) * settings.chunk_tokens
        for row in document_rows if row["status"] == "ready" and since <= row["updated_at"] < until
    )
    embedding = embedded_questions + embedded_chunks
    prices = {
        "embedding": settings.price_embedding_per_mtok,
        "llm_prompt": settings.price_llm_prompt_per_mtok,
        "llm_completion": settings.price_llm_completion_per_mtok,
    }
    cost = (embedding * prices["embedding"] + prompt * prices["llm_prompt"]
            + completion * prices["llm_completion"]) / 1_000_000
    return TokenUsage(embedding_tokens=embedding, llm_prompt_tokens=prompt, llm_completion_tokens=completion,
                      estimated_cost_usd=round(cost, 6), price_per_million=prices)
