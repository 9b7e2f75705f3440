"""OpenAIEmbedder over real HTTP against the OpenAI-compatible server on loopback: batching,
dimensions, and how provider failures become retryable or permanent errors."""

from __future__ import annotations

import math
import time

import openai
import pytest

from ragline.embeddings.hash_embedder import HashEmbedder
from ragline.embeddings.openai_embedder import OpenAIEmbedder
from ragline.errors import ProviderError, TransientError
from tests.support.openai_server import NO_SOURCES_ANSWER, OpenAICompatibleServer, grounded_answer

MODEL = "text-embedding-3-small"
KEY = "sk-ragline-test"


@pytest.fixture
def server():
    with OpenAICompatibleServer(api_key=KEY) as server:
        yield server


def make(server: OpenAICompatibleServer, **overrides) -> OpenAIEmbedder:
    options = dict(
        model=MODEL,
        dimensions=64,
        api_key=KEY,
        base_url=server.base_url,
        timeout_s=5.0,
        max_retries=0,
        batch_size=4,
    )
    options.update(overrides)
    return OpenAIEmbedder(**options)


def test_batches_requests_and_keeps_input_order(server):
    texts = [f"document number {i} about topic {i % 3}" for i in range(10)]
    vectors = make(server).embed_documents(texts)
    calls = server.requests_to("/v1/embeddings")
    assert [len(c.body["input"]) for c in calls] == [4, 4, 2]
    assert all(c.body["model"] == MODEL and c.body["dimensions"] == 64 for c in calls)
    assert calls[0].headers["authorization"] == f"Bearer {KEY}"
    # The server computes HashEmbedder vectors: order and values survive the HTTP round trip
    # (base64 float32, the SDK's default encoding).
    expected = HashEmbedder(64).embed_documents(texts)
    assert len(vectors) == 10
    for got, want in zip(vectors, expected, strict=True):
        assert all(math.isclose(g, w, abs_tol=1e-6) for g, w in zip(got, want, strict=True))


def test_query_is_one_request_with_the_configured_dimensions(server):
    vector = make(server, dimensions=32).embed_query("hello")
    assert len(vector) == 32
    assert len(server.requests_to("/v1/embeddings")) == 1


def test_wrong_vector_size_from_the_provider_is_a_provider_error(server):
    with OpenAICompatibleServer(api_key=KEY, fixed_dimensions=48) as fixed:
        with pytest.raises(
            ProviderError, match="48-dimensional.*expected 64.*RAGLINE_EMBEDDING_DIMENSIONS=48"
        ):
            make(fixed).embed_query("hello")


def test_rate_limit_is_transient(server):
    server.fail_next(429)
    with pytest.raises(TransientError, match=r"rate-limited the request \(429\)") as error:
        make(server).embed_query("hello")
    assert server.base_url in str(error.value)
    assert make(server).embed_query("hello")  # the fault was consumed; the next call works


def test_sdk_retries_stay_inside_the_invocation_only_as_configured(server):
    server.fail_next(500, times=2, retry_after=0.01)
    server.fail_next(429, times=1, retry_after=0.01)
    vector = make(server, max_retries=3).embed_query("hello")
    assert len(vector) == 64
    assert len(server.requests_to("/v1/embeddings")) == 4


def test_server_error_after_retries_is_transient(server):
    server.fail_next(500, times=2, retry_after=0.01)
    with pytest.raises(TransientError, match=r"failed \(500\)"):
        make(server, max_retries=1).embed_query("hello")
    assert len(server.requests) == 2


def test_bad_api_key_is_a_provider_error_that_says_what_to_set(server):
    with pytest.raises(ProviderError, match=r"rejected the API key \(401\): set RAGLINE_OPENAI_API_KEY"):
        make(server, api_key="sk-wrong", max_retries=2).embed_query("hello")
    assert len(server.requests) == 1  # permanent: never retried


def test_injected_401_is_a_provider_error(server):
    server.fail_next(401)
    with pytest.raises(ProviderError, match=r"\(401\)"):
        make(server).embed_query("hello")


def test_unknown_model_is_a_provider_error(server):
    with pytest.raises(ProviderError, match=r"does not know model no-such-model \(404\)"):
        make(server, model="no-such-model").embed_query("hello")


def test_timeout_is_transient(server):
    server.delay_next(2.0)
    started = time.monotonic()
    with pytest.raises(TransientError, match=r"did not answer within 0.3s"):
        make(server, timeout_s=0.3).embed_query("hello")
    assert time.monotonic() - started < 1.5


def test_unreachable_endpoint_is_transient():
    with OpenAICompatibleServer() as gone:
        base_url = gone.base_url  # a port that was just closed
    embedder = OpenAIEmbedder(
        model=MODEL, dimensions=8, api_key=KEY, base_url=base_url, timeout_s=1, max_retries=0
    )
    with pytest.raises(TransientError, match="unreachable"):
        embedder.embed_query("hello")


class TestServerChatCompletions:
    """The chat side of the loopback server, which answer tests build on."""

    PROMPT = (
        "Answer from the sources and cite them.\n\n"
        "[1] Ragline indexes documents per tenant. It uses Qdrant.\n"
        "[2] Answers cite their sources.\n\n"
        "Question: what does Ragline index?"
    )

    def client(self, server: OpenAICompatibleServer) -> openai.OpenAI:
        return openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)

    def test_grounded_answer_cites_the_first_source(self, server):
        response = self.client(server).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": self.PROMPT}]
        )
        assert response.choices[0].message.content == "Ragline indexes documents per tenant. [1]"
        assert response.choices[0].finish_reason == "stop"
        assert response.usage.completion_tokens == 6 and response.usage.prompt_tokens > 20

    def test_streaming_in_chunks_with_a_final_usage_chunk(self, server):
        stream = self.client(server).chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": self.PROMPT}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "Ragline indexes documents per tenant. [1]"
        assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 6
        assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 6
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"

    def test_max_tokens_truncates(self, server):
        response = self.client(server).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": self.PROMPT}], max_tokens=2
        )
        assert response.choices[0].message.content == "Ragline indexes"
        assert response.choices[0].finish_reason == "length"

    def test_faults_apply_to_chat_too(self, server):
        server.fail_next(429, retry_after=0.01)
        with pytest.raises(openai.RateLimitError) as error:
            self.client(server).chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
            )
        assert error.value.response.headers["Retry-After"] == "0.01"

    def test_answer_without_sources(self):
        assert grounded_answer("What is the capital of France?") == NO_SOURCES_ANSWER
        assert (
            grounded_answer("[3] Tiêu đề\nHà Nội là thủ đô! Thêm nữa.\n[4] x")
            == "Tiêu đề Hà Nội là thủ đô! [3]"
        )
