"""OpenAILLM against a real OpenAI-compatible HTTP server on loopback (the SDK's HTTP, SSE
parsing and timeouts run for real), and the API's 503 when the provider is down or slow."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from ragline import services as ragline_services
from ragline.llm import LLMProviderError, LLMUnavailableError, OpenAILLM, make_llm
from ragline.settings import Settings

from tests.integration.query_fixtures import ApiClient, build_world
from tests.support.openai_server import OpenAICompatibleServer

MODEL = "gpt-4o-mini"
SYSTEM = "Answer from the sources.\n\nSources:\n[1] Handbook: Leave is 20 days per year. It expires in March.\n\n[2] Refunds: Paid in 5 days."
USER = "Question: How long is annual leave?"


@pytest.fixture
def server():
    with OpenAICompatibleServer() as server:
        yield server


def llm_for(server: OpenAICompatibleServer, **kwargs) -> OpenAILLM:
    options = {"timeout_s": 5.0, "max_retries": 2, "backoff_base_s": 0.01}
    options.update(kwargs)
    return OpenAILLM(MODEL, base_url=server.base_url, api_key="test", **options)


def chat_requests(server: OpenAICompatibleServer):
    return server.requests_to("/v1/chat/completions")


def test_complete_returns_text_usage_and_model(server: OpenAICompatibleServer) -> None:
    completion = llm_for(server).complete(SYSTEM, USER, max_tokens=100)
    assert completion.text == "Handbook: Leave is 20 days per year. [1]"
    assert completion.model == MODEL
    assert completion.prompt_tokens > 0 and completion.completion_tokens > 0
    (request,) = chat_requests(server)
    assert request.body["messages"] == [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
    assert request.body["max_tokens"] == 100


def test_stream_yields_deltas_that_add_up_to_the_answer(server: OpenAICompatibleServer) -> None:
    llm = llm_for(server)
    deltas = list(llm.stream(SYSTEM, USER, max_tokens=100))
    assert len(deltas) > 3  # really incremental
    assert "".join(deltas) == llm.complete(SYSTEM, USER, max_tokens=100).text
    assert chat_requests(server)[0].body["stream"] is True


def test_rate_limit_then_success_is_retried(server: OpenAICompatibleServer) -> None:
    server.fail_next(429, retry_after=0.2)
    started = time.monotonic()
    completion = llm_for(server).complete(SYSTEM, USER, max_tokens=50)
    assert completion.text.endswith("[1]")
    assert len(chat_requests(server)) == 2
    assert time.monotonic() - started >= 0.2  # Retry-After honoured


def test_stream_retries_before_the_first_delta(server: OpenAICompatibleServer) -> None:
    server.fail_next(503)
    assert "".join(llm_for(server).stream(SYSTEM, USER, 50)).endswith("[1]")
    assert len(chat_requests(server)) == 2


def test_persistent_5xx_gives_up_after_bounded_retries(server: OpenAICompatibleServer) -> None:
    server.fail_next(500, times=10)
    with pytest.raises(LLMUnavailableError, match="unavailable.*HTTP 500 after 3 attempts"):
        llm_for(server, max_retries=2).complete(SYSTEM, USER, 50)
    assert len(chat_requests(server)) == 3


def test_timeout_is_unavailable_not_a_hang(server: OpenAICompatibleServer) -> None:
    server.delay_next(3.0, times=5)
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError, match="APITimeoutError"):
        llm_for(server, timeout_s=0.3, max_retries=1).complete(SYSTEM, USER, 50)
    assert time.monotonic() - started < 2.5


def test_total_deadline_caps_retries(server: OpenAICompatibleServer) -> None:
    server.delay_next(3.0, times=10)
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError):
        llm_for(server, timeout_s=0.4, max_retries=10, total_timeout_s=1.0).complete(SYSTEM, USER, 50)
    assert time.monotonic() - started < 2.0
    assert len(chat_requests(server)) <= 4


@pytest.mark.parametrize("status", [401, 400])
def test_permanent_refusals_are_not_retried(server: OpenAICompatibleServer, status: int) -> None:
    server.fail_next(status, times=3)
    with pytest.raises(LLMProviderError, match=f"HTTP {status}"):
        llm_for(server).complete(SYSTEM, USER, 50)
    assert len(chat_requests(server)) == 1


def test_unknown_model_is_a_provider_error(server: OpenAICompatibleServer) -> None:
    llm = OpenAILLM("no-such-model", base_url=server.base_url, api_key="k", max_retries=2)
    with pytest.raises(LLMProviderError, match="no-such-model"):
        llm.complete(SYSTEM, USER, 50)


def test_nothing_listening_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = OpenAILLM(MODEL, base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, backoff_base_s=0.01)
    with pytest.raises(LLMUnavailableError, match="APIConnectionError"):
        llm.complete(SYSTEM, USER, 50)


def test_make_llm_follows_settings(server: OpenAICompatibleServer) -> None:
    assert make_llm(Settings(llm_model=None)) is None
    llm = make_llm(Settings(llm_model=MODEL, openai_base_url=server.base_url, openai_api_key="k", openai_max_retries=1))
    assert isinstance(llm, OpenAILLM) and llm.max_retries == 1
    assert llm.complete(SYSTEM, USER, 20).text


# ------------------------------------------------------------------------ through the API


@pytest.fixture
def api_with_llm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: OpenAICompatibleServer):
    world = build_world(tmp_path)
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAGLINE_LLM_MODEL", MODEL)
    monkeypatch.setenv("RAGLINE_OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("RAGLINE_OPENAI_API_KEY", "test")
    monkeypatch.setenv("RAGLINE_OPENAI_TIMEOUT_S", "0.5")
    monkeypatch.setenv("RAGLINE_OPENAI_MAX_RETRIES", "1")
    monkeypatch.delenv("RAGLINE_REDIS_URL", raising=False)
    ragline_services.reset()
    yield ApiClient("acme"), world
    ragline_services.reset()


def test_api_generated_answer_with_mapped_citations(api_with_llm, server: OpenAICompatibleServer) -> None:
    api, world = api_with_llm
    response = api.post("/query", {"question": "How many days of annual leave per year?", "mode": "sparse"})
    assert response.status == 200, response.body
    body = response.body
    assert body["answer_type"] == "generated" and body["model"] == MODEL
    assert body["answer"].endswith("[1]")
    assert body["citations"][0]["number"] == 1
    assert body["citations"][0]["document_id"] == world.doc("acme", "handbook.md")
    assert body["usage"]["completion_tokens"] > 0
    assert "llm" in body["latency_ms"]
    user = chat_requests(server)[0].body["messages"][1]["content"]  # the sources travel with the question
    assert "[1] Employee handbook: Annual leave is 20 days per year" in user


def test_api_provider_down_is_503_llm_unavailable(api_with_llm, server: OpenAICompatibleServer) -> None:
    api, _ = api_with_llm
    server.fail_next(500, times=5)
    response = api.post("/query", {"question": "annual leave", "mode": "sparse"})
    assert response.status == 503
    assert response.body["error"]["code"] == "llm_unavailable"
    assert "Try again" in response.body["error"]["message"]


def test_api_provider_timeout_is_503_within_bounds(api_with_llm, server: OpenAICompatibleServer) -> None:
    api, _ = api_with_llm
    server.delay_next(5.0, times=5)
    started = time.monotonic()
    response = api.post("/query", {"question": "refund", "mode": "sparse"})
    assert response.status == 503 and response.body["error"]["code"] == "llm_unavailable"
    assert time.monotonic() - started < 4.0


def test_api_provider_refusal_is_502(api_with_llm, server: OpenAICompatibleServer) -> None:
    api, _ = api_with_llm
    server.fail_next(401)
    response = api.post("/query", {"question": "refund", "mode": "sparse"})
    assert response.status == 502 and response.body["error"]["code"] == "llm_error"


def test_api_key_from_secrets_manager(server: OpenAICompatibleServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """On AWS the key arrives as a secret ARN (plain string or JSON), resolved and cached."""
    import boto3
    from moto import mock_aws
    from ragline.secrets import openai_api_key

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("secretsmanager")
        plain = client.create_secret(Name="ragline/openai-plain", SecretString="sk-plain")["ARN"]
        as_json = client.create_secret(Name="ragline/openai-json", SecretString='{"api_key": "sk-json"}')["ARN"]
        assert openai_api_key(Settings(openai_api_key_secret_arn=plain)) == "sk-plain"
        assert openai_api_key(Settings(openai_api_key_secret_arn=as_json)) == "sk-json"
        assert openai_api_key(Settings(openai_api_key="sk-env", openai_api_key_secret_arn=plain)) == "sk-env"
        assert openai_api_key(Settings()) is None

        protected = OpenAICompatibleServer(api_key="sk-json")
        with protected:
            settings = Settings(llm_model=MODEL, openai_base_url=protected.base_url, openai_api_key_secret_arn=as_json)
            llm = make_llm(settings)
            assert llm is not None and llm.complete(SYSTEM, USER, 20).text
            assert protected.requests[0].headers.get("authorization") == "Bearer sk-json"
