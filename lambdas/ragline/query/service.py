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
from dataclasses import dataclass, replace
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence

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
from ragline.query.followup import Turn, history_text
from ragline.query.retrieval import Retriever, Timer
from ragline.query.second_stage import Ranked
from ragline.query.schemas import Citation, QueryRequest, QueryResponse, SearchHit, SearchResponse, Usage
from ragline.query.streaming import CitationStream, extractive_pieces

logger = logging.getLogger(__name__)

EMPTY_ANSWER = "The model returned no answer. Try rephrasing the question."
# Before the sources in a follow-up's prompt: the answerer sees the recent turns too.
CONVERSATION_PREAMBLE = "Conversation so far (for context; answer only from the sources):\n{history}\n\n"


@dataclass(frozen=True)
class ConversationContext:
    """What a follow-up adds to a question: the query retrieval uses instead of the question,
    and the recent turns the answerer sees."""

    standalone_query: str
    turns: tuple[Turn, ...] = ()


@dataclass(frozen=True)
class StartEvent:
    """First of every answer: what retrieval searches for (the question, or a follow-up's
    standalone query), so a client can show "searched for: …" while the answer is written."""

    standalone_query: str


@dataclass(frozen=True)
class TokenEvent:
    """Answer text, in the order produced (citations already validated and renumbered)."""

    text: str


@dataclass(frozen=True)
class CitationsEvent:
    citations: list[Citation]


@dataclass(frozen=True)
class DoneEvent:
    response: QueryResponse


AnswerEvent = StartEvent | TokenEvent | CitationsEvent | DoneEvent


def _final(events: Iterable[AnswerEvent]) -> QueryResponse:
    for event in events:
        if isinstance(event, DoneEvent):
            return event.response
    raise AssertionError("answer_events ended without a DoneEvent")


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
            neighbour_chunks=settings.neighbour_chunks,
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

    def cache_key(
        self,
        tenant: str,
        request: QueryRequest,
        context: "ConversationContext | None" = None,
        collections: Sequence[str] | None = None,
    ) -> str:
        """The answer cache key. A follow-up's answer depends on the turns the answerer saw
        and the standalone query retrieval used, so both join the question in its key; a
        conversation's first question shares the entry of the same question on /query. The
        caller's collection set is part of it: callers who read different collections never
        share an answer."""
        question = request.question
        if context is not None and context.turns:
            question = "\u241e".join([question, context.standalone_query, history_text(context.turns)])
        return answer_key(
            tenant=tenant,
            question=question,
            mode=request.mode,
            top_k=request.top_k,
            document_ids=request.document_ids,
            file_types=request.file_types,
            embedder=self.retriever.embedder_name(request.mode),
            llm_model=self.llm.model if self.llm else None,
            generation=self.catalog.generation(tenant),
            collections=collections,
        )

    def ask(
        self,
        tenant: str,
        request: QueryRequest,
        context: "ConversationContext | None" = None,
        collections: Sequence[str] | None = None,
    ) -> QueryResponse:
        """The full answer (what the JSON API returns), from ``collections`` only when given."""
        return _final(self.answer_events(tenant, request, context, stream=False, collections=collections))

    def ask_stream(
        self,
        tenant: str,
        request: QueryRequest,
        on_delta: Callable[[str], None],
        collections: Sequence[str] | None = None,
    ) -> QueryResponse:
        """Like `ask`, calling ``on_delta`` with text as the model writes it (the CLI)."""
        events = self.answer_events(tenant, request, collections=collections)
        for event in events:
            if isinstance(event, TokenEvent):
                on_delta(event.text)
            elif isinstance(event, DoneEvent):
                return event.response
        raise AssertionError("answer_events ended without a DoneEvent")

    def answer_events(
        self,
        tenant: str,
        request: QueryRequest,
        context: "ConversationContext | None" = None,
        *,
        stream: bool = True,
        collections: Sequence[str] | None = None,
    ) -> Iterator[AnswerEvent]:
        """The one answer path: `StartEvent`, `TokenEvent`s as text is produced, then
        `CitationsEvent`, then `DoneEvent` with the whole response. ``stream=False`` asks the
        model for the whole answer in one call (usage is always counted then) and yields it as
        one token. Only ``collections`` are searched when given (the caller's readable set).

        A cached answer comes as one token at once; an extractive one a sentence at a time.
        Closing the generator early (a client that disconnected) closes the model's stream,
        and nothing is cached or logged for the unfinished answer.
        """
        timer = Timer()
        yield StartEvent(context.standalone_query if context else request.question)
        with timer.stage("cache_lookup"):
            key = self.cache_key(tenant, request, context, collections)
            cached = self._cached(key)
        if cached is not None:
            result, cache_hit = cached, True
            yield TokenEvent(result.answer)
        else:
            computed = self._compute(tenant, request, context, timer, stream, collections)
            result = yield from computed
            cache_hit = False
            if result.answer:
                with timer.stage("cache_store"):
                    self.cache.set(key, result.model_dump_json(), self.answer_ttl_s)
        yield CitationsEvent(result.citations)

        query_id = str(uuid.uuid4())
        with timer.stage("log"):
            self._log(tenant, request, query_id, result, cache_hit, timer)
        latency = {**timer.stages, "total": timer.total_ms()}
        yield DoneEvent(
            QueryResponse(
                query_id=query_id,
                answer=result.answer,
                answer_type=result.answer_type,  # type: ignore[arg-type]
                citations=result.citations,
                cached=cache_hit,
                latency_ms=latency,
                model=result.model,
                usage=result.usage,
            )
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
        context: "ConversationContext | None",
        timer: Timer,
        stream: bool,
        collections: Sequence[str] | None = None,
    ) -> Generator[TokenEvent, None, CachedAnswer]:
        """Retrieve with the standalone query, answer, and note the best passage's score
        (insights list low-scoring questions as unanswered)."""
        search_text = context.standalone_query if context else request.question
        ranked = self.retriever.retrieve(
            tenant,
            search_text,
            mode=request.mode,
            limit=request.top_k,
            document_ids=request.document_ids,
            file_types=request.file_types,
            collections=collections,
            timer=timer,
        )
        result = yield from self._answer(request, search_text, ranked, context, timer, stream)
        return result.model_copy(update={"top_score": max((float(hit.score) for hit in ranked.hits), default=None)})

    def _answer(
        self,
        request: QueryRequest,
        search_text: str,
        ranked: Ranked,
        context: "ConversationContext | None",
        timer: Timer,
        stream: bool,
    ) -> Generator[TokenEvent, None, CachedAnswer]:
        hits = ranked.hits
        if not hits:
            yield TokenEvent(NO_HITS_ANSWER)
            return CachedAnswer(answer=NO_HITS_ANSWER, answer_type="extractive", citations=[])
        if self.llm is None:
            # The token budget bounds what a model reads; the extractive answer quotes a few
            # sentences, so it reads every passage the user asked for (top_k).
            sources = [Source(number, hit, hit.text) for number, hit in enumerate(hits, 1)]
            with timer.stage("answer"):
                cited = extractive_answer(search_text, sources, boilerplate=ranked.boilerplate)
            for piece in extractive_pieces(cited.text):
                yield TokenEvent(piece)
            return CachedAnswer(
                answer=cited.text,
                answer_type="extractive",
                citations=to_citations(cited, search_text),
            )
        sources = select_sources(hits, self.context_token_budget)
        return (yield from self._generate(request.question, sources, context, timer, stream))

    def _generate(
        self,
        question: str,
        sources: list[Source],
        context: "ConversationContext | None",
        timer: Timer,
        stream: bool,
    ) -> Generator[TokenEvent, None, CachedAnswer]:
        assert self.llm is not None
        system, user = build_prompt(question, sources)
        if context is not None and context.turns:
            user = CONVERSATION_PREAMBLE.format(history=history_text(context.turns)) + user
        with timer.stage("llm"):
            if not stream:
                completion = self.llm.complete(system, user, self.llm_max_tokens)
                cited = map_citations(completion.text, sources, renumber=True)
                usage: Usage | None = Usage(
                    prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens
                )
                if cited.text:
                    yield TokenEvent(cited.text)
            else:
                cited, usage = yield from self._stream_model(system, user, sources)
        if cited.invalid:
            logger.warning(
                "answer cited sources that do not exist; dropped them",
                extra={"invalid_citations": cited.invalid, "sources": len(sources)},
            )
        if not cited.citations and sources:
            # The model cited nothing: still show what it was given, so the answer can be checked.
            logger.warning("answer cites no source; returning the sources it was given")
            cited = replace(cited, citations=[(source.number, source) for source in sources])
        if not cited.text:
            yield TokenEvent(EMPTY_ANSWER)
        return CachedAnswer(
            answer=cited.text or EMPTY_ANSWER,
            answer_type="generated",
            citations=to_citations(cited, question),
            model=self.llm.model,
            usage=usage,
        )

    def _stream_model(
        self, system: str, user: str, sources: list[Source]
    ) -> Generator[TokenEvent, None, tuple[CitedAnswer, Usage | None]]:
        """Model deltas with their citations renumbered as they stream (`CitationStream`);
        the model's stream is closed however this generator ends."""
        assert self.llm is not None
        renumbered = CitationStream(sources)
        deltas = self.llm.stream(system, user, self.llm_max_tokens)
        try:
            while True:
                try:
                    delta = next(deltas)
                except StopIteration as end:
                    reported = end.value
                    break
                text = renumbered.feed(delta)
                if text:
                    yield TokenEvent(text)
        finally:
            close = getattr(deltas, "close", None)
            if close:
                close()
        rest, cited = renumbered.finish()
        if rest:
            yield TokenEvent(rest)
        usage = None
        if reported is not None:
            usage = Usage(prompt_tokens=reported.prompt_tokens, completion_tokens=reported.completion_tokens)
        return cited, usage

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
