"""The query use case: cache lookup -> embed -> search -> answer -> cache store -> query log.

Why this order: the cache key needs only the request and the tenant's index generation (one
catalog read), so a hit skips embedding, search and the LLM entirely. The generation is what
ingestion and deletion bump, so a hit can never serve an answer computed over an older index.
Every request is logged (hits too, with their own query id) because feedback refers to the
answer a user saw, and analytics need the hit rate. Latency is measured per stage and
returned, so slow requests explain themselves.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Callable, Sequence

from pydantic import BaseModel, ValidationError

from ragline.cache import answer_key
from ragline.models import Hit, SearchMode
from ragline.ports import LLM, Cache
from ragline.query.answer import (
    NO_HITS_ANSWER,
    CitedAnswer,
    Source,
    best_snippet,
    build_prompt,
    extractive_answer,
    map_citations,
    select_sources,
)
from ragline.query.retrieval import Retriever, Timer
from ragline.query.second_stage import Ranked
from ragline.query.schemas import Citation, QueryRequest, QueryResponse, SearchHit, SearchResponse, Usage

logger = logging.getLogger(__name__)

EMPTY_ANSWER = "The model returned no answer. Try rephrasing the question."


class CachedAnswer(BaseModel):
    """What the answer cache stores: the response without the per-request fields."""

    answer: str
    answer_type: str
    citations: list[Citation]
    model: str | None = None
    usage: Usage | None = None
    top_score: float | None = None  # the best retrieved passage's score (insights: "unanswered")


def to_search_hit(hit: Hit, question: str, text: str | None = None, *, full_text: bool = False) -> SearchHit:
    return SearchHit(
        document_id=hit.document_id,
        source=hit.source,
        title=hit.title,
        page_start=hit.page_start,
        page_end=hit.page_end,
        heading=hit.heading,
        snippet=best_snippet(text if text is not None else hit.text, question),
        score=round(float(hit.score), 6),
        chunk_index=hit.chunk_index,
        text=(text if text is not None else hit.text) if full_text else None,
    )


def to_citations(cited: CitedAnswer, question: str) -> list[Citation]:
    return [
        Citation(number=number, **to_search_hit(source.hit, question, source.text).model_dump())
        for number, source in cited.citations
    ]


class QueryService:
    """Answers and searches for one tenant at a time; stateless apart from its ports."""

    def __init__(
        self,
        *,
        catalog,
        retriever: Retriever,
        cache: Cache,
        llm: LLM | None,
        context_token_budget: int = 3000,
        llm_max_tokens: int = 512,
        answer_ttl_s: int = 3600,
    ) -> None:
        self.catalog = catalog
        self.retriever = retriever
        self.cache = cache
        self.llm = llm
        self.context_token_budget = context_token_budget
        self.llm_max_tokens = llm_max_tokens
        self.answer_ttl_s = answer_ttl_s

    @classmethod
    def from_services(cls, services) -> "QueryService":
        """Built per request from the process-wide ports (cheap: no connections are opened)."""
        settings = services.settings
        retriever = Retriever(
            services.index,
            lambda: services.embedder,  # resolved only for dense/hybrid requests
            services.cache,
            embedding_ttl_s=settings.embedding_cache_ttl_s,
            prefetch_limit=settings.prefetch_k,
            candidates=settings.rerank_candidates,
            max_per_document=settings.max_chunks_per_document,
            passage_rerank=settings.passage_rerank,
        )
        return cls(
            catalog=services.catalog,
            retriever=retriever,
            cache=services.cache,
            llm=services.llm,
            context_token_budget=settings.context_token_budget,
            llm_max_tokens=settings.llm_max_tokens,
            answer_ttl_s=settings.answer_cache_ttl_s,
        )

    # ------------------------------------------------------------------------------- search

    def search(
        self,
        tenant: str,
        question: str,
        *,
        mode: SearchMode = "hybrid",
        top_k: int = 6,
        document_ids: Sequence[str] | None = None,
        file_types: Sequence[str] | None = None,
        full_text: bool = False,
        collections: Sequence[str] | None = None,
    ) -> SearchResponse:
        """Ranked passages with snippets, from ``collections`` only (None: all; the caller's
        readable set); ``full_text`` adds each passage's whole text, for applications that use
        Ragline as a retrieval service (their own model reads it)."""
        timer = Timer()
        hits = self.retriever.search(
            tenant,
            question,
            mode=mode,
            limit=top_k,
            document_ids=document_ids,
            file_types=file_types,
            collections=collections,
            timer=timer,
        )
        return SearchResponse(
            hits=[to_search_hit(h, question, full_text=full_text) for h in hits], latency_ms=timer.total_ms()
        )

    # ---------------------------------------------------------------------------------- ask

    def cache_key(self, tenant: str, request: QueryRequest, collections: Sequence[str] | None = None) -> str:
        return answer_key(
            tenant=tenant,
            question=request.question,
            mode=request.mode,
            top_k=request.top_k,
            document_ids=request.document_ids,
            file_types=request.file_types,
            embedder=self.retriever.embedder_name(request.mode),
            llm_model=self.llm.model if self.llm else None,
            generation=self.catalog.generation(tenant),
            collections=collections,
        )

    def ask(self, tenant: str, request: QueryRequest, collections: Sequence[str] | None = None) -> QueryResponse:
        """The full answer (what the API returns), from ``collections`` only when given."""
        return self._ask(tenant, request, on_delta=None, collections=collections)

    def ask_stream(
        self,
        tenant: str,
        request: QueryRequest,
        on_delta: Callable[[str], None],
        collections: Sequence[str] | None = None,
    ) -> QueryResponse:
        """Like `ask`, calling ``on_delta`` with text as the model writes it (for the CLI).

        Streamed text cannot be renumbered after it was shown, so here citations keep the
        numbers of the prompt's sources (invented ones are still dropped from the returned
        answer and its citations); a cached answer is delivered as one delta.
        """
        return self._ask(tenant, request, on_delta=on_delta, collections=collections)

    def _ask(
        self,
        tenant: str,
        request: QueryRequest,
        on_delta: Callable[[str], None] | None,
        collections: Sequence[str] | None = None,
    ) -> QueryResponse:
        timer = Timer()
        with timer.stage("cache_lookup"):
            key = self.cache_key(tenant, request, collections)
            cached = self._cached(key)
        if cached is not None:
            result, cache_hit = cached, True
            if on_delta:
                on_delta(result.answer)
        else:
            result, cache_hit = self._compute(tenant, request, timer, on_delta, collections), False
            if result.answer:
                with timer.stage("cache_store"):
                    self.cache.set(key, result.model_dump_json(), self.answer_ttl_s)

        query_id = str(uuid.uuid4())
        with timer.stage("log"):
            self._log(tenant, request, query_id, result, cache_hit, timer)
        latency = {**timer.stages, "total": timer.total_ms()}
        return QueryResponse(
            query_id=query_id,
            answer=result.answer,
            answer_type=result.answer_type,  # type: ignore[arg-type]
            citations=result.citations,
            cached=cache_hit,
            latency_ms=latency,
            model=result.model,
            usage=result.usage,
        )

    def _cached(self, key: str) -> CachedAnswer | None:
        raw = self.cache.get(key)
        if raw is None:
            return None
        try:
            return CachedAnswer.model_validate_json(raw)
        except ValidationError:
            logger.warning("ignoring an unreadable cached answer")
            return None

    def _compute(
        self,
        tenant: str,
        request: QueryRequest,
        timer: Timer,
        on_delta: Callable[[str], None] | None,
        collections: Sequence[str] | None = None,
    ) -> CachedAnswer:
        ranked = self.retriever.retrieve(
            tenant,
            request.question,
            mode=request.mode,
            limit=request.top_k,
            document_ids=request.document_ids,
            file_types=request.file_types,
            collections=collections,
            timer=timer,
        )
        return self._answer(request, ranked, timer, on_delta).model_copy(
            update={"top_score": max((float(hit.score) for hit in ranked.hits), default=None)}
        )

    def _answer(
        self,
        request: QueryRequest,
        ranked: Ranked,
        timer: Timer,
        on_delta: Callable[[str], None] | None,
    ) -> CachedAnswer:
        hits = ranked.hits
        if not hits:
            if on_delta:
                on_delta(NO_HITS_ANSWER)
            return CachedAnswer(answer=NO_HITS_ANSWER, answer_type="extractive", citations=[])
        sources = select_sources(hits, self.context_token_budget)
        if self.llm is None:
            with timer.stage("answer"):
                cited = extractive_answer(request.question, sources, boilerplate=ranked.boilerplate)
            if on_delta:
                on_delta(cited.text)
            return CachedAnswer(
                answer=cited.text,
                answer_type="extractive",
                citations=to_citations(cited, request.question),
            )
        return self._generate(request.question, sources, timer, on_delta)

    def _generate(
        self,
        question: str,
        sources: list[Source],
        timer: Timer,
        on_delta: Callable[[str], None] | None,
    ) -> CachedAnswer:
        assert self.llm is not None
        system, user = build_prompt(question, sources)
        with timer.stage("llm"):
            if on_delta is None:
                completion = self.llm.complete(system, user, self.llm_max_tokens)
                text, usage = completion.text, Usage(
                    prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens
                )
            else:
                parts: list[str] = []
                for delta in self.llm.stream(system, user, self.llm_max_tokens):
                    parts.append(delta)
                    on_delta(delta)
                text, usage = "".join(parts), None
        cited = map_citations(text, sources, renumber=on_delta is None)
        if cited.invalid:
            logger.warning(
                "answer cited sources that do not exist; dropped them",
                extra={"invalid_citations": cited.invalid, "sources": len(sources)},
            )
        if not cited.citations and sources:
            # The model cited nothing: still show what it was given, so the answer can be checked.
            logger.warning("answer cites no source; returning the sources it was given")
            cited = replace(cited, citations=[(source.number, source) for source in sources])
        return CachedAnswer(
            answer=cited.text or EMPTY_ANSWER,
            answer_type="generated",
            citations=to_citations(cited, question),
            model=self.llm.model,
            usage=usage,
        )

    def _log(
        self,
        tenant: str,
        request: QueryRequest,
        query_id: str,
        result: CachedAnswer,
        cache_hit: bool,
        timer: Timer,
    ) -> None:
        stages = timer.stages
        spent = result.usage if (result.usage and not cache_hit) else None
        self.catalog.log_query(
            tenant,
            request.question,
            query_id=query_id,
            mode=request.mode,
            top_k=request.top_k,
            cache_hit=cache_hit,
            answer_type=result.answer_type,
            model=result.model,
            prompt_tokens=spent.prompt_tokens if spent else 0 if cache_hit else None,
            completion_tokens=spent.completion_tokens if spent else 0 if cache_hit else None,
            latency_ms_total=timer.total_ms(),
            latency_ms_embed=stages.get("embed"),
            latency_ms_search=stages.get("search"),
            latency_ms_llm=stages.get("llm"),
            cited_document_ids=list(dict.fromkeys(c.document_id for c in result.citations)),
            top_score=result.top_score,
        )
