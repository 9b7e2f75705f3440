"""The answer and query-embedding cache against real Redis servers.

The shared Redis at 127.0.0.1:6379 (a unique key prefix per test, removed afterwards; under
CI=true an unreachable server fails the tests) for hits, misses and invalidation; a Redis we
start ourselves on a free port for "Redis stopped mid-test", plus a port nobody listens on.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from ragline.cache import (
    CircuitBreaker,
    MemoryCache,
    RedisCache,
    answer_key,
    decode_vector,
    embedding_key,
    encode_vector,
    make_cache,
    normalise_question,
)
from ragline.query.retrieval import Retriever
from ragline.query.schemas import QueryRequest
from ragline.query.service import QueryService
from ragline.settings import Settings

from tests.integration.query_fixtures import RedisProcess, build_world, delete_prefix, free_port, redis_server_url

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_url() -> str:
    return redis_server_url()


@pytest.fixture
def redis_cache(redis_url: str):
    prefix = f"ragline-test:{uuid.uuid4().hex}:"
    cache = RedisCache(redis_url, prefix=prefix)
    yield cache
    cache.close()
    delete_prefix(redis_url, prefix)


class CountingEmbedder:
    """The real HashEmbedder, counting the query embeddings it computes."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dimensions, self.calls = inner, inner.name, inner.dimensions, 0

    def embed_documents(self, texts):
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        self.calls += 1
        return self.inner.embed_query(text)


@pytest.fixture
def world(tmp_path: Path):
    return build_world(tmp_path)


def service_for(world, cache, embedder=None) -> QueryService:
    embedder = embedder or world.embedder
    return QueryService(
        catalog=world.catalog,
        retriever=Retriever(world.index, lambda: embedder, cache),
        cache=cache,
        llm=None,
    )


# ------------------------------------------------------------------------------------ keys


def test_question_normalisation() -> None:
    assert normalise_question("  Thuế   VAT\tlà bao nhiêu? ") == normalise_question("thuế vat là bao nhiêu?")
    assert normalise_question("ＡＢＣ") == "abc"  # NFKC folds full-width letters
    # Decomposed and precomposed Vietnamese diacritics are the same question.
    assert normalise_question("Thu\u0065\u0302\u0301") == normalise_question("Thuế")


def key(**overrides) -> str:
    params = dict(
        tenant="acme", question="How long is leave?", mode="hybrid", top_k=6, document_ids=None,
        file_types=None, embedder="hash-v1-64", llm_model=None, generation=3,
    )
    params.update(overrides)
    return answer_key(**params)


def test_answer_key_covers_every_parameter() -> None:
    base = key()
    assert key(question="  how LONG is   leave?") == base
    assert key(document_ids=["b", "a"]) == key(document_ids=["a", "b", "a"])
    for change in (
        {"tenant": "globex"}, {"question": "How long is sick leave?"}, {"mode": "sparse"}, {"top_k": 5},
        {"document_ids": ["a"]}, {"file_types": ["pdf"]}, {"embedder": "openai-1536"},
        {"llm_model": "gpt-4o-mini"}, {"generation": 4},
    ):
        assert key(**change) != base, change


def test_embedding_key_and_vector_codec() -> None:
    assert embedding_key("hash-v1-64", "Hello  World") == embedding_key("hash-v1-64", "hello world")
    assert embedding_key("hash-v1-64", "x") != embedding_key("other", "x")
    vector = [0.25, -1.5, 3.0e-3]
    assert decode_vector(encode_vector(vector)) == pytest.approx(vector, rel=1e-6)
    for corrupt in ("", "AAA=", "not base64!"):  # a miss for the caller, never a struct.error
        with pytest.raises(ValueError):
            decode_vector(corrupt)


# ------------------------------------------------------------------------ implementations


def test_make_cache_picks_redis_or_the_memory_fallback(redis_url: str) -> None:
    assert isinstance(make_cache(Settings(redis_url=None)), MemoryCache)
    cache = make_cache(Settings(redis_url=redis_url))
    assert isinstance(cache, RedisCache) and cache.ping() == "ok"


def test_memory_cache_is_a_bounded_ttl_lru() -> None:
    now = [0.0]
    cache = MemoryCache(max_entries=2, clock=lambda: now[0])
    cache.set("a", "1", ttl_s=10)
    cache.set("b", "2", ttl_s=10)
    assert cache.get("a") == "1"  # a is now the most recently used
    cache.set("c", "3", ttl_s=10)
    assert cache.get("b") is None and cache.get("a") == "1" and len(cache) == 2
    now[0] = 11
    assert cache.get("a") is None


def test_redis_get_set_ttl_and_incr(redis_cache: RedisCache, redis_url: str) -> None:
    import redis

    assert redis_cache.get("k") is None
    redis_cache.set("k", "valeur – thuế", ttl_s=30)
    assert redis_cache.get("k") == "valeur – thuế"
    raw = redis.Redis.from_url(redis_url)
    assert 0 < raw.ttl(redis_cache.prefix + "k") <= 30
    assert redis_cache.incr("n") == 1 and redis_cache.incr("n") == 2


# --------------------------------------------------------------------- the query use case


def test_second_identical_query_is_served_from_cache(world, redis_cache: RedisCache) -> None:
    embedder = CountingEmbedder(world.embedder)
    service = service_for(world, redis_cache, embedder)
    first = service.ask("acme", QueryRequest(question="How many days of annual leave?"))
    second = service.ask("acme", QueryRequest(question="  how many DAYS of annual   leave? "))
    assert first.cached is False and second.cached is True
    assert second.answer == first.answer and second.citations == first.citations
    assert second.query_id != first.query_id  # every request is logged on its own
    assert "embed" not in second.latency_ms and "search" not in second.latency_ms
    assert embedder.calls == 1
    assert world.catalog.get_query("acme", second.query_id).cache_hit is True
    assert world.catalog.get_query("acme", first.query_id).cache_hit is False


def test_query_embeddings_are_cached(world, redis_cache: RedisCache) -> None:
    embedder = CountingEmbedder(world.embedder)
    service = service_for(world, redis_cache, embedder)
    service.ask("acme", QueryRequest(question="refund policy", top_k=3))
    service.ask("acme", QueryRequest(question="Refund  policy", top_k=4))  # another answer key
    assert embedder.calls == 1
    assert redis_cache.get(embedding_key(embedder.name, "refund policy")) is not None


def test_generation_bump_makes_the_next_identical_query_a_miss(world, redis_cache: RedisCache) -> None:
    service = service_for(world, redis_cache)
    request = QueryRequest(question="refund within how many days?", mode="sparse")
    assert service.ask("acme", request).cached is False
    assert service.ask("acme", request).cached is True
    world.catalog.bump_generation("acme")  # what finalize and delete do
    assert service.ask("acme", request).cached is False
    assert service.ask("acme", request).cached is True


def test_other_parameters_are_other_entries(world, redis_cache: RedisCache) -> None:
    service = service_for(world, redis_cache)
    service.ask("acme", QueryRequest(question="refund"))
    assert service.ask("acme", QueryRequest(question="refund", mode="sparse")).cached is False
    assert service.ask("acme", QueryRequest(question="refund", file_types=["pdf"])).cached is False
    assert service.ask("acme", QueryRequest(question="refund", top_k=2)).cached is False


# --------------------------------------------------------------------------- Redis outages


def test_queries_keep_working_when_redis_stops_mid_test(world) -> None:
    with RedisProcess() as redis_process:
        cache = RedisCache(redis_process.url, prefix="t:", breaker=CircuitBreaker(base_s=0.2, max_s=0.2))
        service = service_for(world, cache)
        request = QueryRequest(question="annual leave days")
        assert service.ask("acme", request).cached is False
        assert service.ask("acme", request).cached is True
        port = redis_process.port
        redis_process.stop()  # SIGTERM: the server is really gone

        answers = [service.ask("acme", request) for _ in range(5)]
        assert all(a.cached is False and a.answer for a in answers)
        assert cache.breaker.is_open  # a dead Redis is skipped, not retried per request
        assert cache.ping() in {"unavailable", "error: ConnectionError"}

    # Redis comes back: after the back-off the cache is used again.
    with RedisProcess(port) as again:
        import time

        time.sleep(0.25)
        assert service.ask("acme", request).cached is False  # the restarted Redis is empty
        assert service.ask("acme", request).cached is True
        assert again.url == cache.url


def test_a_closed_port_costs_nothing_and_answers_uncached(world) -> None:
    cache = RedisCache(f"redis://127.0.0.1:{free_port()}/0", prefix="t:")
    assert cache.get("anything") is None
    cache.set("anything", "v", 10)  # no exception
    assert cache.incr("n") == 0
    service = service_for(world, cache)
    for _ in range(3):
        response = service.ask("acme", QueryRequest(question="refund"))
        assert response.cached is False and response.citations
    assert cache.breaker.is_open
    assert cache.ping() == "unavailable"


def test_breaker_backs_off_and_recovers() -> None:
    now = [0.0]
    breaker = CircuitBreaker(base_s=1.0, max_s=4.0, clock=lambda: now[0])
    assert breaker.allow()
    assert breaker.failure() == 1.0 and not breaker.allow()
    now[0] = 1.01
    assert breaker.allow()  # the half-open probe …
    assert not breaker.allow()  # … only one at a time
    assert breaker.failure() == 2.0
    now[0] = 3.02
    assert breaker.allow()
    assert breaker.failure() == 4.0
    now[0] = 7.03
    assert breaker.allow()
    assert breaker.failure() == 4.0  # capped
    now[0] = 11.04
    assert breaker.allow()
    breaker.success()
    assert breaker.allow() and breaker.allow() and not breaker.is_open
