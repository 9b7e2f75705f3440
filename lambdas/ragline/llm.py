"""Answers from an OpenAI-compatible chat completions endpoint (OpenAI, vLLM, llama.cpp …).

Why our own retry loop instead of the SDK's: the API Lambda sits behind API Gateway's 29 s
integration limit, so what matters is a bound on the *total* time, not on each attempt. The
loop retries what is worth retrying (429, 408/409, 5xx, timeouts, connection errors) with
exponential back-off and jitter (honouring a short Retry-After), never starts an attempt it
cannot finish inside ``total_timeout_s``, and then raises `LLMUnavailableError`, which the
API turns into a 503 ``llm_unavailable``. Permanent refusals (bad key, unknown model) raise
`LLMProviderError` at once.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Generator

import httpx

from ragline.errors import ProviderError, TransientError
from ragline.settings import Settings

logger = logging.getLogger(__name__)

# Below API Gateway's 29 s integration timeout, leaving time for retrieval and the response.
DEFAULT_TOTAL_TIMEOUT_S = 24.0
MAX_RETRY_AFTER_S = 8.0
_RETRYABLE_STATUS = frozenset({408, 409, 429})


class LLMUnavailableError(TransientError):
    """The answer model is down, overloaded or too slow, even after bounded retries."""


class LLMProviderError(ProviderError):
    """The provider refused the request for a permanent reason (key, model, bad request)."""


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str
    finish_reason: str | None = None


def _retry_after_s(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("retry-after") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}" if status else exc.__class__.__name__


class OpenAILLM:
    """Chat completions with a grounded system prompt; `complete()` for JSON answers,
    `stream()` for server-sent events and the CLI."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S,
        backoff_base_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import openai

        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max(0, max_retries)
        self.total_timeout_s = total_timeout_s
        self.backoff_base_s = backoff_base_s
        self._sleep = sleep
        self._openai = openai
        # Local OpenAI-compatible servers need no key, but the SDK insists on one.
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=0,  # retries are ours, bounded by total_timeout_s
        )

    # -------------------------------------------------------------------------------- public

    def complete(self, system: str, user: str, max_tokens: int) -> Completion:
        response = self._with_retries(self._request(system, user, max_tokens))
        choice = response.choices[0] if response.choices else None
        usage = response.usage
        return Completion(
            text=(choice.message.content if choice and choice.message else None) or "",
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            model=response.model or self.model,
            finish_reason=choice.finish_reason if choice else None,
        )

    def stream(self, system: str, user: str, max_tokens: int) -> Generator[str, None, Completion | None]:
        """Yield text deltas as they arrive; the generator's return value is the usage, when
        the provider reports it (OpenAI's ``stream_options.include_usage``), else None.

        Retries happen only before the first delta: once text has been shown to a user, a
        failure surfaces as `LLMUnavailableError`. Closing the generator (a client that went
        away) closes the HTTP stream, so the provider stops generating."""
        deadline = time.monotonic() + self.total_timeout_s
        stream = self._with_retries(
            self._request(system, user, max_tokens, stream=True, stream_options={"include_usage": True}),
            deadline=deadline,
        )
        parts: list[str] = []
        usage = None
        try:
            for chunk in stream:
                if time.monotonic() > deadline:
                    raise LLMUnavailableError(
                        f"The answer model {self.model} took longer than {self.total_timeout_s:.0f} s"
                    )
                usage = getattr(chunk, "usage", None) or usage
                for choice in chunk.choices or ():
                    delta = getattr(choice.delta, "content", None) if choice.delta else None
                    if delta:
                        parts.append(delta)
                        yield delta
            if usage is None:
                return None
            return Completion(
                text="".join(parts),
                prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                model=self.model,
            )
        except (self._openai.OpenAIError, httpx.HTTPError) as exc:
            # (Mid-stream, the SDK lets httpx's own errors through: a read timeout is one.)
            raise LLMUnavailableError(
                f"The answer model {self.model} stopped mid-answer ({_describe(exc)}); try again."
            ) from exc
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()

    # ------------------------------------------------------------------------------ internals

    def _request(self, system: str, user: str, max_tokens: int, **options: Any) -> Callable[[float], Any]:
        """One chat completions call, given the per-attempt timeout (see `_with_retries`)."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return lambda timeout: self._client.chat.completions.create(
            model=self.model,
            messages=messages,
            max_tokens=max_tokens,
            temperature=0.1,
            timeout=timeout,
            **options,
        )

    def _is_retryable(self, exc: Exception) -> bool:
        openai = self._openai
        if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
            return True
        if isinstance(exc, openai.APIStatusError):
            return exc.status_code in _RETRYABLE_STATUS or exc.status_code >= 500
        return False

    def _backoff_s(self, attempt: int, exc: Exception) -> float:
        retry_after = _retry_after_s(exc)
        if retry_after is not None and 0 <= retry_after <= MAX_RETRY_AFTER_S:
            return retry_after
        base = self.backoff_base_s * 2**attempt
        return base * (0.5 + random.random() / 2)  # "equal jitter"

    def _with_retries(self, call: Callable[[float], Any], deadline: float | None = None) -> Any:
        deadline = deadline or time.monotonic() + self.total_timeout_s
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            try:
                return call(max(0.05, min(self.timeout_s, remaining)))
            except self._openai.OpenAIError as exc:
                if not self._is_retryable(exc):
                    raise LLMProviderError(
                        f"The answer model {self.model} refused the request ({_describe(exc)}: "
                        f"{getattr(exc, 'message', exc)}). Check RAGLINE_LLM_MODEL and the API key."
                    ) from exc
                wait = self._backoff_s(attempt, exc)
                remaining = deadline - time.monotonic()
                if attempt >= self.max_retries or wait >= remaining - 0.05:
                    raise LLMUnavailableError(
                        f"The answer model {self.model} is unavailable ({_describe(exc)} after "
                        f"{attempt + 1} attempt{'s' if attempt else ''}). Try again in a moment."
                    ) from exc
                logger.warning(
                    "LLM call failed (%s), retry %d/%d in %.2f s",
                    _describe(exc),
                    attempt + 1,
                    self.max_retries,
                    wait,
                )
                self._sleep(wait)
                attempt += 1


def make_llm(settings: Settings) -> OpenAILLM | None:
    """The configured answer model, or None (answers are then extractive)."""
    if not settings.llm_model:
        return None
    from ragline.secrets import openai_api_key

    return OpenAILLM(
        settings.llm_model,
        base_url=settings.openai_base_url,
        api_key=openai_api_key(settings),
        timeout_s=min(settings.openai_timeout_s, DEFAULT_TOTAL_TIMEOUT_S),
        max_retries=settings.openai_max_retries,
    )
