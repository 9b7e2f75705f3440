"""A real OpenAI-compatible HTTP server on loopback, for tests of everything that calls one.

Why a server and not a mock: the SDK's own HTTP, retry, timeout, base64 decoding and SSE
parsing then run for real, so tests catch what a mock would hide.

- ``POST /v1/embeddings``: vectors from ``HashEmbedder`` (similar texts -> similar vectors),
  ``dimensions`` honoured (unless ``fixed_dimensions`` is set, like a model without that
  parameter), ``encoding_format`` float or base64 (the SDK asks for base64 by default).
- ``POST /v1/chat/completions``: a deterministic, grounded answer: the first sentence of the
  lowest-numbered source in the prompt (a line starting ``[n]``), followed by its citation
  ``[n]``; without sources: ``NO_SOURCES_ANSWER``. ``max_tokens`` truncates (counting words,
  ``finish_reason: "length"``). With ``stream: true`` it answers in SSE chunks in OpenAI's
  format, ending with ``data: [DONE]``; like OpenAI, the usage chunk (empty ``choices``) is
  sent only when asked for with ``stream_options: {"include_usage": true}``.
- ``GET /v1/models``: the models it pretends to serve.
- Faults, consumed by the next requests in order: ``fail_next(429 | 500 | 401 | ..., times)``
  answers with that status and an OpenAI-style error body (429 with ``Retry-After``, others
  with it when asked);
  ``delay_next(seconds, times)`` sleeps before answering (past a client's timeout).
- Scripted answers: ``reply_next(text, times)`` makes the next chat completions answer
  ``text`` (e.g. a follow-up's rewritten query) instead of the grounded answer.
- Slow streams: ``chunk_delay_s`` sleeps before each streamed chunk; ``stall_stream(after,
  seconds)`` stalls the next stream after ``after`` chunks (a model that stops mid-answer).
  ``streams`` records each stream: chunks sent, chunks planned, whether it was completed or
  the client went away (``aborted``).
- ``requests``: every request received, faulted or not, in order.

Usage::

    with OpenAICompatibleServer() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        server.fail_next(429)
"""

from __future__ import annotations

import base64
import json
import re
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ragline.embeddings.hash_embedder import HashEmbedder

DEFAULT_DIMENSIONS = 384
NO_SOURCES_ANSWER = "The provided sources do not answer this question."

_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "model_not_allowed"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}
_SOURCE_LINE = re.compile(r"^\s*\[(\d+)\]\s*(.*)$")
_SENTENCE_END = re.compile(r"(?<=[.!?。])(?:\s|$)")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any  # parsed JSON, or None


@dataclass
class StreamRecord:
    planned: int
    sent: int = 0
    completed: bool = False
    aborted: bool = False


@dataclass
class _Fault:
    status: int | None  # None: a delay, then the normal answer
    delay_s: float
    retry_after: float | None
    remaining: int


class OpenAICompatibleServer:
    """Start with ``with``; ``base_url`` is what an OpenAI client wants (ends in ``/v1``)."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        fixed_dimensions: int | None = None,
        models: tuple[str, ...] = ("text-embedding-3-small", "gpt-4o-mini"),
    ) -> None:
        """``api_key``: when set, requests without ``Authorization: Bearer <api_key>`` get 401."""
        self.api_key = api_key
        self.fixed_dimensions = fixed_dimensions
        self.models = models
        self.requests: list[RecordedRequest] = []
        self._faults: deque[_Fault] = deque()
        self._replies: deque[str] = deque()
        self._stalls: deque[tuple[int, float]] = deque()
        self.chunk_delay_s = 0.0
        self.streams: list[StreamRecord] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._embedders: dict[int, HashEmbedder] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> OpenAICompatibleServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="openai-compatible-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closing.set()  # wakes handlers sleeping in delay_next
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "use the server inside a `with` block"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    # -- scripting ----------------------------------------------------------------------------

    def fail_next(self, status: int, times: int = 1, *, retry_after: float | None = None) -> None:
        """The next ``times`` requests get ``status``, with ``Retry-After: retry_after`` if given
        (429s always carry one, 1 s by default; the SDK honours it between its retries)."""
        if retry_after is None and status == 429:
            retry_after = 1.0
        with self._lock:
            self._faults.append(_Fault(status, 0.0, retry_after, times))

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` requests are answered normally, but only after ``seconds``."""
        with self._lock:
            self._faults.append(_Fault(None, seconds, None, times))

    def reply_next(self, text: str, times: int = 1) -> None:
        """The next ``times`` chat completions answer ``text`` (streamed word by word too)."""
        with self._lock:
            self._replies.extend([text] * times)

    def stall_stream(self, after_chunks: int, seconds: float) -> None:
        """The next stream sleeps ``seconds`` after sending ``after_chunks`` chunks."""
        with self._lock:
            self._stalls.append((after_chunks, seconds))

    def _next_reply(self) -> str | None:
        with self._lock:
            return self._replies.popleft() if self._replies else None

    def _next_stall(self) -> tuple[int, float] | None:
        with self._lock:
            return self._stalls.popleft() if self._stalls else None

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    def _record(self, request: RecordedRequest) -> _Fault | None:
        with self._lock:
            self.requests.append(request)
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.popleft()
            return fault

    def _embedder(self, dimensions: int) -> HashEmbedder:
        with self._lock:
            if dimensions not in self._embedders:
                self._embedders[dimensions] = HashEmbedder(dimensions)
            return self._embedders[dimensions]


def _handler_class(server: OpenAICompatibleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            self._serve(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            self._serve(body)

        def _serve(self, body: Any) -> None:
            path = self.path.split("?", 1)[0]
            fault = server._record(
                RecordedRequest(self.command, path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            try:
                if fault is not None and fault.delay_s and server._closing.wait(fault.delay_s):
                    return
                if fault is not None and fault.status is not None:
                    headers = (
                        {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                    )
                    return self._error(fault.status, f"injected failure ({fault.status})", headers)
                if (
                    server.api_key is not None
                    and self.headers.get("Authorization") != f"Bearer {server.api_key}"
                ):
                    return self._error(401, "Incorrect API key provided.")
                route = {
                    ("GET", "/v1/models"): self._models,
                    ("POST", "/v1/embeddings"): self._embeddings,
                    ("POST", "/v1/chat/completions"): self._chat,
                }.get((self.command, path))
                if route is None:
                    return self._error(404, f"Unknown request URL: {self.command} {path}")
                if self.command == "POST" and not isinstance(body, dict):
                    return self._error(400, "The request body must be a JSON object.")
                route(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing left to answer

        # -- endpoints ----------------------------------------------------------------------

        def _models(self, _: Any) -> None:
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "ragline-tests"} for m in server.models
            ]
            self._json(200, {"object": "list", "data": data})

        def _embeddings(self, body: dict[str, Any]) -> None:
            model = body.get("model")
            if model not in server.models:
                return self._error(
                    404, f"The model `{model}` does not exist or you do not have access to it."
                )
            texts = body.get("input")
            if isinstance(texts, str):
                texts = [texts]
            if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
                return self._error(400, "'input' must be a non-empty string or a list of non-empty strings.")
            dimensions = server.fixed_dimensions or int(body.get("dimensions") or DEFAULT_DIMENSIONS)
            vectors = server._embedder(dimensions).embed_documents(texts)
            as_base64 = body.get("encoding_format") == "base64"
            data = [
                {"object": "embedding", "index": i, "embedding": _base64(v) if as_base64 else v}
                for i, v in enumerate(vectors)
            ]
            tokens = sum(_count_tokens(t) for t in texts)
            self._json(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": model,
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

        def _chat(self, body: dict[str, Any]) -> None:
            model = body.get("model")
            if model not in server.models:
                return self._error(
                    404, f"The model `{model}` does not exist or you do not have access to it."
                )
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages:
                return self._error(400, "'messages' must be a non-empty list.")
            prompt = "\n".join(_content_text(m.get("content")) for m in messages if isinstance(m, dict))
            scripted = server._next_reply()
            words = (scripted if scripted is not None else grounded_answer(prompt)).split()
            limit = body.get("max_completion_tokens") or body.get("max_tokens")
            finish = "length" if limit is not None and len(words) > int(limit) else "stop"
            words = words[: int(limit)] if limit is not None else words
            usage = {
                "prompt_tokens": _count_tokens(prompt),
                "completion_tokens": len(words),
                "total_tokens": _count_tokens(prompt) + len(words),
            }
            base = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()), "model": model}
            if body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                return self._sse(_stream_chunks(base, words, finish, usage if include_usage else None))
            message = {"role": "assistant", "content": " ".join(words)}
            self._json(
                200,
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                    "usage": usage,
                },
            )

        # -- responses ----------------------------------------------------------------------

        def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
            kind, code = _ERRORS.get(
                status, ("server_error" if status >= 500 else "invalid_request_error", None)
            )
            self._json(
                status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers
            )

        def _sse(self, chunks: Iterator[dict[str, Any]]) -> None:
            planned = list(chunks)
            record = StreamRecord(planned=len(planned))
            stall = server._next_stall()
            with server._lock:
                server.streams.append(record)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")  # HTTP/1.0: the stream ends when we close
            self.end_headers()
            try:
                for index, chunk in enumerate(planned):
                    if stall is not None and index == stall[0] and server._closing.wait(stall[1]):
                        return
                    if server.chunk_delay_s and server._closing.wait(server.chunk_delay_s):
                        return
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    record.sent += 1
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                record.completed = True
            except (BrokenPipeError, ConnectionResetError):
                record.aborted = True  # the client closed the stream: stop generating

    return Handler


def grounded_answer(prompt: str) -> str:
    """The first sentence of the lowest-numbered source in the prompt, cited: ``"... [1]"``."""
    sources: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in prompt.splitlines():
        match = _SOURCE_LINE.match(line)
        if match:
            current = sources.setdefault(int(match.group(1)), [])
            line = match.group(2)
        if current is not None and line.strip():
            current.append(line.strip())
    if not sources:
        return NO_SOURCES_ANSWER
    number = min(sources)
    text = " ".join(sources[number])
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0].strip() if text else ""
    return f"{sentence} [{number}]" if sentence else NO_SOURCES_ANSWER


def _stream_chunks(
    base: dict[str, Any], words: list[str], finish: str, usage: dict[str, int] | None
) -> Iterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        return {**base, "object": "chat.completion.chunk", "choices": [choice]}

    yield chunk({"role": "assistant", "content": ""})
    for i, word in enumerate(words):
        yield chunk({"content": word if i == 0 else " " + word})
    yield chunk({}, finish)
    if usage is not None:
        yield {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage}


def _content_text(content: Any) -> str:
    """Message content as text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _count_tokens(text: str) -> int:
    return len(text.split())


def _base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
