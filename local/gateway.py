"""The local front door: one HTTP server for the REST API, the web app and the dev sign-in.

- `/api/...`: turned into the API Gateway REST proxy event AWS sends, with the caller's token
  claims where the Cognito authorizer puts them, and handed to the same API handler.
  Requests for server-sent events on the streaming routes (`wiring.STREAMING_ROUTES` with
  `Accept: text/event-stream`) go to `ragline.api.sse` instead, as on AWS they go to the
  streaming function, and their events are written as they are produced (chunked).

Requests are served concurrently (a thread each). Streams never wait for one another or for
the JSON routes; the JSON routes still take turns in the API handler (its lock, see
handlers/api.py), as invocations do in one Lambda container.
- `/config.json`: the web app's runtime configuration (on AWS written at deploy time).
- `/dev-auth/...`: the development sign-in (devauth.py).
- anything else: the statically exported web app (frontend/out).
"""

from __future__ import annotations

import json
import mimetypes
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ragline.access.routes import is_public
from ragline.api.sse import StreamedResponse, stream_answer, streaming_route, wants_event_stream
from ragline.wiring import FUNCTIONS, REPO_ROOT
from ragline_local.devauth import AuthError, DevAuth, sign_in_page
from ragline_local.seams import InProcessContext, resolve_handler

API_PREFIX = "/api"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
WEB_ROOT = REPO_ROOT / "frontend" / "out"


def api_gateway_event(method: str, path: str, query: str, headers: dict[str, str], body: bytes,
                      claims: dict | None) -> dict[str, Any]:
    """The REST API proxy event for one request, shaped as API Gateway sends it."""
    multi_query = parse_qs(query, keep_blank_values=True)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": headers.get("X-Forwarded-For", "127.0.0.1")},
            "authorizer": {"claims": claims} if claims else None,
        },
        "body": body.decode("utf-8", errors="replace") if body else None,
        "isBase64Encoded": False,
    }


class Gateway:
    def __init__(self, host: str = "127.0.0.1", port: int = 8787, web_root: Path = WEB_ROOT,
                 auth: DevAuth | None = None) -> None:
        self.auth = auth or DevAuth()
        self.web_root = web_root
        spec = FUNCTIONS["api"]
        self._api_handler = resolve_handler(spec.handler)
        self._api_spec = spec
        handler = type("Handler", (_RequestHandler,), {"gateway": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    def start(self) -> "Gateway":
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def web_config(self) -> dict[str, Any]:
        return {
            "apiUrl": self.api_url,
            "auth": {
                "mode": "local",
                "authorizeUrl": f"{self.base_url}/dev-auth/authorize",
                "tokenUrl": f"{self.base_url}/dev-auth/token",
                "logoutUrl": None,
                "clientId": self.auth.client_id,
                "scopes": ["openid", "email", "profile"],
            },
        }

    def call_api(self, event: dict[str, Any]) -> dict[str, Any]:
        spec = self._api_spec
        context = InProcessContext(f"ragline-{spec.name}", f"arn:aws:lambda:local:000000000000:function:ragline-{spec.name}",
                                   spec.memory_mb, spec.timeout_s)
        return self._api_handler(event, context)


class _RequestHandler(BaseHTTPRequestHandler):
    gateway: Gateway
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle + delayed ACK
    # stall every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # keep `ragline dev` output readable
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_OPTIONS(self) -> None:
        self._send(204, b"", "text/plain")

    def do_HEAD(self) -> None:
        # GET's status and headers without the body (http.server answers 501 otherwise).
        self._head_only = True
        self._dispatch("GET")

    # --- routing ---------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            return
        try:
            if url.path == API_PREFIX or url.path.startswith(API_PREFIX + "/"):
                self._api(method, url.path[len(API_PREFIX):] or "/", url.query, body)
            elif url.path == "/config.json":
                self._send_json(200, self.gateway.web_config())
            elif url.path == "/dev-auth/authorize":
                self._authorize(method, url.query, body)
            elif url.path == "/dev-auth/token" and method == "POST":
                self._token(body)
            elif method == "GET":
                self._static(url.path)
            else:
                self._send_json(404, {"error": {"code": "not_found", "message": f"No route for {method} {url.path}", "field": None}})
        except Exception as error:  # the gateway itself must never leave a request hanging
            self._send_json(502, {"error": {"code": "gateway_error", "message": str(error), "field": None}})

    def _api(self, method: str, path: str, query: str, body: bytes) -> None:
        headers = {k: v for k, v in self.headers.items()}
        claims = None
        if not is_public(method, path):  # the route rules (ragline.access.routes), as API Gateway
            claims = self._claims(headers.get("Authorization") or headers.get("authorization") or "")
            if claims is None:
                # What API Gateway's Cognito authorizer answers.
                self._send_json(401, {"message": "Unauthorized"})
                return
        event = api_gateway_event(method, path, query, headers, body, claims)
        if wants_event_stream(headers) and streaming_route(method, path):
            self._stream(stream_answer(event))
            return
        response = self.gateway.call_api(event)
        payload = response.get("body") or ""
        data = payload.encode() if isinstance(payload, str) else payload
        if response.get("isBase64Encoded"):
            import base64

            data = base64.b64decode(data)
        out_headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            out_headers[name] = ", ".join(values)
        self._send(int(response.get("statusCode", 200)), data, out_headers.pop("Content-Type", "application/json"), out_headers)

    def _stream(self, response: StreamedResponse) -> None:
        """Write the body chunk by chunk as it is produced (HTTP/1.1 chunked encoding). A
        client that went away makes a write fail: the body is closed, which stops the answer
        (and the model's stream) upstream."""
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in response.body:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True
        finally:
            close = getattr(response.body, "close", None)
            if close:
                close()

    def _claims(self, authorization: str) -> dict | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return self.gateway.auth.verify(token)
        except AuthError:
            return None

    def _authorize(self, method: str, query: str, body: bytes) -> None:
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        if method == "GET":
            try:  # a broken request (client_id, PKCE, redirect_uri) fails before the form is filled in
                self.gateway.auth.check_request(params)
            except AuthError as error:
                self._send(400, sign_in_page(query, str(error)).encode(), "text/html; charset=utf-8")
                return
            self._send(200, sign_in_page(query).encode(), "text/html; charset=utf-8")
            return
        form = _form(body)
        try:
            location = self.gateway.auth.authorize(params, form.get("user", ""), form.get("tenant", ""),
                                                   _form_list(body, "groups"))
        except AuthError as error:
            self._send(400, sign_in_page(query, str(error)).encode(), "text/html; charset=utf-8")
            return
        self._send(302, b"", "text/plain", {"Location": location})

    def _token(self, body: bytes) -> None:
        form = _form(body)
        try:
            self._send_json(200, self.gateway.auth.exchange(form))
        except AuthError as error:
            self._send_json(400, {"error": "invalid_grant", "error_description": str(error)})

    def _static(self, path: str) -> None:
        root = self.gateway.web_root
        if not root.exists():
            message = "The web app is not built: run `make web` (npm run build in frontend/)."
            self._send(503, message.encode(), "text/plain; charset=utf-8")
            return
        relative = path.lstrip("/")
        candidates = [relative, f"{relative}.html", f"{relative}/index.html".lstrip("/")]
        for candidate in candidates:
            file = (root / candidate).resolve()
            if file.is_file() and root.resolve() in file.parents:
                content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                self._send(200, file.read_bytes(), content_type)
                return
        not_found = root / "404.html"
        self._send(404, not_found.read_bytes() if not_found.exists() else b"Not found", "text/html; charset=utf-8")

    # --- plumbing --------------------------------------------------------------------------
    def _read_body(self) -> bytes | None:
        """The request body; None when it was refused (the response is already sent)."""
        raw = self.headers.get("Content-Length") or "0"
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            # A bad length leaves the stream unreadable: answer and close the connection.
            self.close_connection = True
            self._send_json(400, {"message": f"Invalid Content-Length header {raw!r}"})
            return None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(413, {"message": f"Request Too Long: the limit is {MAX_BODY_BYTES // (1024 * 1024)} MiB; "
                                             "upload documents through POST /api/documents instead"})
            return None
        return self.rfile.read(length) if length else b""

    def _send_json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
        for name, value in (headers or {}).items():
            if name.lower() not in {"content-length", "access-control-allow-origin"}:
                self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not getattr(self, "_head_only", False):
            self.wfile.write(data)
        self._head_only = False


def _form_list(body: bytes, name: str) -> list[str]:
    """Every value of a repeated form field (checkboxes)."""
    return parse_qs(body.decode("utf-8", errors="replace")).get(name, [])


def _form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (undecodable bytes replaced, not a 502)."""
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", errors="replace")).items()}

