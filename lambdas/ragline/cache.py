"""The answer and query-embedding cache: Redis/Valkey, or a bounded in-process fallback.

Why it never fails a request: the cache is an optimisation. When Redis is unreachable the
API must keep answering (uncached), and a dead Redis must cost next to nothing per request.
So the Redis client uses short socket timeouts and no client-side retries, and a circuit
breaker stops calling Redis for a growing back-off period after a connection failure.

Keys are built here too (`answer_key`, `embedding_key`), so every caller agrees on what makes
two requests "the same": tenant, the normalised question, every retrieval parameter, the
embedder and LLM that produced the answer, and the tenant's index generation (bumped by
ingestion and deletion, which is how new documents invalidate cached answers).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import struct
import threading
import time
import unicodedata
from collections import OrderedDict
from typing import Any, Callable, Sequence

from ragline.settings import Settings

logger = logging.getLogger(__name__)

KEY_VERSION = "v1"  # bump when the cached value's shape changes
_WHITESPACE = re.compile(r"\s+")


# --------------------------------------------------------------------------------------- keys


def normalise_question(text: str) -> str:
    """NFKC + casefold + collapsed whitespace: "Thuế  VAT?" and "thuế vat?" hit the same entry.

    NFKC folds compatibility forms (full-width letters, ligatures) and composes Vietnamese
    diacritics consistently, so the key does not depend on how the client typed them.
    """
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _digest(parts: dict[str, Any]) -> str:
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def answer_key(
    *,
    tenant: str,
    question: str,
    mode: str,
    top_k: int,
    document_ids: Sequence[str] | None,
    file_types: Sequence[str] | None,
    embedder: str,
    llm_model: str | None,
    generation: int,
    collections: Sequence[str] | None = None,
) -> str:
    """The cache key of a /query answer. Filters are order-insensitive sets; ``collections``
    is the caller's readable set (None: all, for admins), so callers who may read different
    collections never share an answer."""
    digest = _digest(
        {
            "tenant": tenant,
            "q": normalise_question(question),
            "mode": mode,
            "top_k": top_k,
            "document_ids": sorted(set(document_ids or ())),
            "file_types": sorted(set(file_types or ())),
            "embedder": embedder,
            "llm": llm_model or "extractive",
            "generation": generation,
            "collections": "*" if collections is None else sorted(set(collections)),
        }
    )
    return f"answer:{KEY_VERSION}:{digest}"


def embedding_key(embedder: str, text: str) -> str:
    """The cache key of a query embedding: embedder name + normalised text (tenant-free: an
    embedding reveals nothing a tenant did not send, and sharing it saves provider calls)."""
    return f"emb:{KEY_VERSION}:{_digest({'e': embedder, 'q': normalise_question(text)})}"


def encode_vector(vector: Sequence[float]) -> str:
    """float32 little-endian, base64: ~4x smaller than JSON and exact for float32 models."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def decode_vector(blob: str) -> list[float]:
    """The vector `encode_vector` stored; ValueError for anything else (callers treat it as a miss)."""
    raw = base64.b64decode(blob, validate=True)
    if not raw or len(raw) % 4:  # struct.error is no ValueError: it would escape the callers
        raise ValueError(f"a cached vector of {len(raw)} bytes is not float32 data")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


# ------------------------------------------------------------------------------ implementations


class MemoryCache:
    """A bounded, thread-safe TTL LRU in process memory: the fallback with no Redis configured.

    Per Lambda container only (not shared), so it mostly helps `ragline dev` and repeated
    questions hitting one warm container.
    """

    name = "memory"

    def __init__(self, max_entries: int = 2048, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires_at, value = item
            if expires_at <= self._clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: str, ttl_s: int) -> None:
        with self._lock:
            self._data[key] = (self._clock() + ttl_s, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def incr(self, key: str) -> int:
        with self._lock:
            expires_at, value = self._data.get(key, (float("inf"), "0"))
            new = int(value) + 1
            self._data[key] = (expires_at, str(new))
            return new

    def ping(self) -> str:
        return "ok"

    def __len__(self) -> int:
        return len(self._data)


class CircuitBreaker:
    """Opens after a failure; stays open for a back-off that doubles per consecutive failure.

    While open, callers skip the backend entirely. After the back-off one call is let through
    (half-open); success closes the circuit, failure re-opens it with a longer back-off.
    """

    def __init__(
        self,
        base_s: float = 1.0,
        max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_s = base_s
        self.max_s = max_s
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0
        self._probing = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._failures > 0 and self._clock() < self._open_until

    def allow(self) -> bool:
        """True when a call may go to the backend now (closed, or the one half-open probe)."""
        with self._lock:
            if self._failures == 0:
                return True
            if self._clock() < self._open_until or self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        with self._lock:
            if self._failures:
                logger.info("cache backend reachable again; circuit closed")
            self._failures = 0
            self._probing = False

    def failure(self) -> float:
        """Record a failure; returns the back-off now in force (seconds)."""
        with self._lock:
            self._failures += 1
            self._probing = False
            backoff = min(self.max_s, self.base_s * 2 ** (self._failures - 1))
            self._open_until = self._clock() + backoff
            return backoff


class RedisCache:
    """Redis/Valkey behind a circuit breaker; every operation degrades to a miss / no-op.

    ``prefix`` namespaces all keys (one deployment per prefix; tests use a unique one each).
    """

    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ragline:",
        socket_timeout_s: float = 0.25,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.url = url
        self.prefix = prefix
        self.breaker = breaker or CircuitBreaker()
        self._errors = (redis.ConnectionError, redis.TimeoutError, OSError)
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=socket_timeout_s,
            retry=Retry(NoBackoff(), 0),  # the breaker decides when to try again, not the client
            decode_responses=True,
            health_check_interval=0,
        )

    def _call(self, operation: str, default: Any, fn: Callable[[], Any]) -> Any:
        if not self.breaker.allow():
            return default
        try:
            result = fn()
        except self._errors as exc:
            backoff = self.breaker.failure()
            logger.warning(
                "cache unavailable (%s: %s); serving uncached, next try in %.1f s",
                operation,
                exc.__class__.__name__,
                backoff,
            )
            return default
        except Exception as exc:  # a Redis error reply, e.g. OOM or WRONGTYPE: not an outage
            self.breaker.success()
            logger.warning("cache %s failed: %s", operation, exc)
            return default
        self.breaker.success()
        return result

    def get(self, key: str) -> str | None:
        return self._call("get", None, lambda: self._client.get(self.prefix + key))

    def set(self, key: str, value: str, ttl_s: int) -> None:
        self._call("set", None, lambda: self._client.set(self.prefix + key, value, ex=max(1, ttl_s)))

    def incr(self, key: str) -> int:
        return int(self._call("incr", 0, lambda: self._client.incr(self.prefix + key)))

    def ping(self) -> str:
        """'ok', 'unavailable' (circuit open: not even trying) or 'error: …' for /health."""
        if not self.breaker.allow():
            return "unavailable"
        try:
            self._client.ping()
        except Exception as exc:
            self.breaker.failure()
            return f"error: {exc.__class__.__name__}"
        self.breaker.success()
        return "ok"

    def close(self) -> None:
        self._client.close()


def make_cache(settings: Settings) -> RedisCache | MemoryCache:
    """Redis when settings.redis_url is set, else the in-process fallback."""
    if settings.redis_url:
        return RedisCache(settings.redis_url, prefix=f"{settings.service_name}:{settings.environment}:")
    return MemoryCache()
