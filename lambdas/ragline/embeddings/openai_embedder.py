"""Dense embeddings from OpenAI or any OpenAI-compatible endpoint (vLLM, llama.cpp, Azure...).

Retries: the SDK retries a few times (``openai_max_retries``, kept small) for blips inside one
invocation; everything still failing is raised as ``TransientError`` so the state machine's
Retry does the real backoff with jitter. A Lambda must never sleep through a throttling
window it is billed for. Permanent refusals (bad key, unknown model, bad request) raise
``ProviderError`` with what to change, which fails the document with that reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import openai

from ragline.errors import ProviderError, RaglineError, TransientError

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIEmbedder:
    def __init__(
        self,
        *,
        model: str,
        dimensions: int,
        api_key: str | None,
        base_url: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        batch_size: int = 64,
    ) -> None:
        self.model = model
        self.dimensions = dimensions
        self.name = f"openai-{model}-{dimensions}"
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        self.endpoint = base_url or DEFAULT_BASE_URL
        if not api_key and base_url is None:
            raise ProviderError(
                f"no API key for the OpenAI endpoint at {self.endpoint} (embedding model {model}): "
                "set RAGLINE_OPENAI_API_KEY (or RAGLINE_OPENAI_API_KEY_SECRET_ARN), "
                "or RAGLINE_EMBEDDER=local / hash to embed without a provider"
            )
        self._client = openai.OpenAI(
            # Self-hosted compatible servers often need no key, but the SDK insists on one.
            api_key=api_key or "not-needed",
            base_url=self.endpoint,
            timeout=timeout_s,
            max_retries=max_retries,
        )

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed_batch(list(texts[start : start + self.batch_size])))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._embed_batch([text])[0]

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        try:
            response = self._client.embeddings.create(
                model=self.model, input=batch, dimensions=self.dimensions
            )
        except openai.OpenAIError as exc:
            raise openai_error(
                exc, endpoint=self.endpoint, model=self.model, timeout_s=self.timeout_s
            ) from exc
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(batch):
            raise TransientError(
                f"OpenAI-compatible endpoint at {self.endpoint} returned {len(data)} embeddings "
                f"for {len(batch)} inputs (model {self.model})"
            )
        for item in data:
            size = len(item.embedding)
            if size != self.dimensions:
                raise ProviderError(
                    f"OpenAI-compatible endpoint at {self.endpoint} returned {size}-dimensional "
                    f"vectors from model {self.model}, expected {self.dimensions}: set "
                    f"RAGLINE_EMBEDDING_DIMENSIONS={size} or use a model that supports "
                    "the `dimensions` parameter"
                )
        return [list(item.embedding) for item in data]


def openai_error(exc: openai.OpenAIError, *, endpoint: str, model: str, timeout_s: float) -> RaglineError:
    """The Ragline error for an OpenAI SDK exception: transient (retry) or provider (fail)."""
    where = f"OpenAI-compatible endpoint at {endpoint}"
    if isinstance(exc, openai.APITimeoutError):
        return TransientError(f"{where} did not answer within {timeout_s:g}s (model {model}); will retry")
    if isinstance(exc, openai.APIConnectionError):
        return TransientError(f"{where} is unreachable (model {model}): {exc}; will retry")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        reason = _provider_message(exc)
        if status == 429 and exc.code == "insufficient_quota":
            return ProviderError(f"{where} refused model {model}: quota exhausted (429): {reason}")
        if status in (408, 409, 429) or status >= 500:
            what = "rate-limited the request" if status == 429 else "failed"
            return TransientError(f"{where} {what} ({status}) for model {model}: {reason}; will retry")
        if status == 401:
            return ProviderError(
                f"{where} rejected the API key (401): set RAGLINE_OPENAI_API_KEY "
                "(or RAGLINE_OPENAI_API_KEY_SECRET_ARN) to a valid key for this endpoint"
            )
        if status == 403:
            return ProviderError(f"{where} denied access to model {model} (403): {reason}")
        if status == 404:
            return ProviderError(
                f"{where} does not know model {model} (404): check RAGLINE_EMBEDDING_MODEL / "
                f"RAGLINE_LLM_MODEL and RAGLINE_OPENAI_BASE_URL ({reason})"
            )
        return ProviderError(f"{where} rejected the request for model {model} ({status}): {reason}")
    return ProviderError(f"{where} sent a response Ragline cannot use (model {model}): {exc}")


def _provider_message(exc: openai.APIStatusError) -> str:
    """The provider's own explanation (the SDK unwraps ``{"error": {...}}`` into ``body``)."""
    if isinstance(exc.body, dict) and exc.body.get("message"):
        return str(exc.body["message"])
    return exc.message
