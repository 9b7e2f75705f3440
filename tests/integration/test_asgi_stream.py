"""The streaming function's web app as it runs on AWS: uvicorn serving `ragline.api.asgi`, called
the way the Lambda Web Adapter forwards an API Gateway request (the request context with the
authorizer's claims in ``x-amzn-request-context``), on real stores (SQLite, EdgeIndex)."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from ragline import services as ragline_services
from ragline_local.client import iter_sse
from ragline_local.runtime import free_port
from tests.integration.query_fixtures import build_world
from tests.support.openai_server import OpenAICompatibleServer


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return build_world(tmp_path_factory.mktemp("asgi-world"))


@pytest.fixture
def server(world, monkeypatch: pytest.MonkeyPatch):
    import uvicorn

    from ragline.api.asgi import app

    for name, value in world.env().items():
        monkeypatch.setenv(name, value)
    for name in ("RAGLINE_REDIS_URL", "RAGLINE_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAGLINE_CORS_ALLOWED_ORIGINS", '["https://app.example"]')
    ragline_services.reset()
    port = free_port()
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200  # the readiness check
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)
    ragline_services.reset()


def _context(tenant: str = "acme") -> str:
    return json.dumps({"requestId": "r-1", "stage": "v1", "resourcePath": "/query",
                       "authorizer": {"claims": {"sub": "u-1", "custom:tenant": tenant}}})


def test_sse_requests_stream_events(server) -> None:
    response = requests.post(server + "/query", json={"question": "How many days of annual leave?", "mode": "sparse"},
                             headers={"Accept": "text/event-stream", "x-amzn-request-context": _context(),
                                      "Origin": "https://app.example"},
                             stream=True, timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    events = list(iter_sse(response.iter_lines(decode_unicode=True)))
    assert [e.event for e in events][0] == "start" and [e.event for e in events][-2:] == ["citations", "done"]
    assert "20 days" in events[-1].data["answer"]


def test_json_requests_get_the_powertools_answer(server) -> None:
    response = requests.post(server + "/query", json={"question": "annual leave", "mode": "sparse"},
                             headers={"x-amzn-request-context": _context()}, timeout=30)
    assert response.status_code == 200 and response.json()["answer_type"] == "extractive"
    invalid = requests.post(server + "/query", json={"question": ""}, headers={"x-amzn-request-context": _context()},
                            timeout=30)
    assert invalid.status_code == 422 and invalid.json()["error"]["field"] == "body.question"


def test_without_claims_the_stream_is_refused(server) -> None:
    response = requests.post(server + "/query", json={"question": "leave"}, headers={"Accept": "text/event-stream"},
                             timeout=30)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_a_disconnect_closes_the_model_stream(server, monkeypatch: pytest.MonkeyPatch) -> None:
    with OpenAICompatibleServer() as model:
        monkeypatch.setenv("RAGLINE_OPENAI_BASE_URL", model.base_url)
        monkeypatch.setenv("RAGLINE_OPENAI_API_KEY", "k")
        monkeypatch.setenv("RAGLINE_LLM_MODEL", "gpt-4o-mini")
        ragline_services.reset()
        model.chunk_delay_s = 0.2
        response = requests.post(server + "/query", json={"question": "Sick leave doctor's note", "mode": "sparse"},
                                 headers={"Accept": "text/event-stream", "x-amzn-request-context": _context()},
                                 stream=True, timeout=30)
        lines = response.iter_lines(decode_unicode=True)
        for event in iter_sse(lines):
            if event.event == "token":
                break
        response.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (model.streams and model.streams[-1].aborted):
            time.sleep(0.1)
        assert model.streams[-1].aborted and model.streams[-1].sent < model.streams[-1].planned
