"""Shared set-up for the query, cache, API and tenant-isolation tests.

- `World`: a real SQLite (or PostgreSQL) catalog, an EdgeIndex on disk and the HashEmbedder,
  filled with a small bilingual corpus for two tenants through the same ports ingestion uses
  (dense + BM25 sparse vectors, catalog rows marked ready).
- `redis_server_url()`: the shared Redis at 127.0.0.1:6379; skipped when unreachable, but a
  failure under ``CI=true``.
- `RedisProcess`: a Redis of our own on a free port, to stop for real mid-test.
- `ApiClient`: calls the API handler with API Gateway REST proxy events (the local gateway's
  event builder), claims in ``requestContext.authorizer.claims``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ragline.access.collection import collection_of
from ragline.embeddings.hash_embedder import HashEmbedder
from ragline.index.edge_index import EdgeIndex
from ragline.models import IndexPoint, document_id_for, point_id_for
from ragline.sparse import sparse_document_vector

REDIS_URL = os.environ.get("RAGLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DIMENSIONS = 64

# tenant -> file name -> (file type, title, [(page, text)])
CORPUS: dict[str, dict[str, tuple[str, str, list[tuple[int | None, str]]]]] = {
    "acme": {
        "handbook.md": (
            "markdown",
            "Employee handbook",
            [
                (None, "Annual leave is 20 days per year for every employee. Unused days expire in March."),
                (None, "Sick leave requires a doctor's note after three consecutive days."),
            ],
        ),
        "thue.txt": (
            "text",
            "Quy định thuế",
            [
                (None, "Thuế giá trị gia tăng (VAT) là 10% cho hầu hết hàng hóa và dịch vụ. "
                 "Một số mặt hàng thiết yếu chịu thuế suất 5%."),
                (None, "Hóa đơn điện tử phải được lập ngay khi giao hàng."),
            ],
        ),
        "refunds.pdf": (
            "pdf",
            "Refund policy",
            [
                (1, "Customers may return unused items within 30 days for a full refund."),
                (2, "Refunds are paid to the original payment method within 5 business days."),
            ],
        ),
    },
    "globex": {
        "handbook.md": (
            "markdown",
            "Globex staff guide",
            [
                (None, "Annual leave is 25 days per year at Globex. Leave must be approved by a manager."),
            ],
        ),
        "secret-plan.txt": (
            "text",
            "Project Zebra",
            [(None, "Project Zebra launches the volcano lair in October.")],
        ),
    },
}


@dataclass
class World:
    """Real stores in a temporary folder, filled with `CORPUS`."""

    root: Path
    catalog_url: str
    catalog: Any
    index: EdgeIndex
    embedder: HashEmbedder
    document_ids: dict[tuple[str, str], str] = field(default_factory=dict)  # (tenant, file) -> id

    def env(self) -> dict[str, str]:
        """RAGLINE_* settings that make `get_services()` use these very stores."""
        return {
            "RAGLINE_CATALOG_URL": self.catalog_url,
            "RAGLINE_QDRANT_ENGINE": "edge",
            "RAGLINE_QDRANT_PATH": str(self.root / "qdrant"),
            "RAGLINE_COLLECTION": "chunks",
            "RAGLINE_EMBEDDER": "hash",
            "RAGLINE_EMBEDDING_DIMENSIONS": str(DIMENSIONS),
        }

    def doc(self, tenant: str, file_name: str) -> str:
        return self.document_ids[(tenant, file_name)]


def build_world(root: Path, catalog_url: str | None = None, corpus=CORPUS) -> World:
    """Index ``corpus`` the way embed_and_index + finalize leave it."""
    from ragline.catalog import SqlCatalog, engine_for, ensure_migrated

    catalog_url = catalog_url or f"sqlite:///{(root / 'catalog.db').resolve()}"
    engine = engine_for(catalog_url)
    ensure_migrated(engine)
    catalog = SqlCatalog(engine)
    embedder = HashEmbedder(DIMENSIONS)
    index = EdgeIndex(str(root / "qdrant"), "chunks")
    index.ensure_collection(DIMENSIONS)
    world = World(root, catalog_url, catalog, index, embedder)
    for tenant, files in corpus.items():
        for file_name, (file_type, title, chunks) in files.items():
            key = f"{tenant}/{file_name}"
            content = json.dumps(chunks, ensure_ascii=False)
            version = hashlib.sha256(content.encode()).hexdigest()
            document_id = document_id_for(tenant, key)
            world.document_ids[(tenant, file_name)] = document_id
            catalog.register(tenant, key, file_name, version, size_bytes=len(content))
            pages = [p for p, _ in chunks if p is not None]
            catalog.set_file_info(document_id, file_type, max(pages) if pages else None)
            points = [
                IndexPoint(
                    id=point_id_for(document_id, i),
                    tenant=tenant,
                    document_id=document_id,
                    version=version,
                    chunk_index=i,
                    text=text,
                    source=file_name,
                    file_type=file_type,
                    collection=collection_of(key),
                    title=title,
                    page_start=page,
                    page_end=page,
                    dense=embedder.embed_query(text),
                    sparse=sparse_document_vector(text),
                )
                for i, (page, text) in enumerate(chunks)
            ]
            index.upsert(points)
            catalog.mark_ready(document_id, len(points))
            catalog.bump_generation(tenant)
    return world


# ----------------------------------------------------------------------------------- Redis


def redis_reachable(url: str = REDIS_URL) -> str | None:
    """None when Redis answers PING, else why not."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means "unavailable"
        return f"Redis at {url} is unreachable: {exc}"
    return None


def redis_server_url() -> str:
    """The shared Redis server; skip locally / fail under CI=true when it is down."""
    from tests.support.databases import unavailable  # late: pytest registers it as a plugin

    reason = redis_reachable()
    if reason:
        unavailable(reason)
    return REDIS_URL


def delete_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisProcess:
    """A redis-server of our own (no persistence) on a free port: stop it for real mid-test
    without touching the shared server."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisProcess":
        binary = shutil.which("redis-server")
        if binary is None:
            from tests.support.databases import unavailable

            unavailable("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while redis_reachable(self.url) is not None:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def __enter__(self) -> "RedisProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -------------------------------------------------------------------------------------- API


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]


class ApiClient:
    """Drives `handlers.api.handler` with the proxy events API Gateway REST sends."""

    def __init__(self, tenant: str | None = "acme", groups: tuple[str, ...] = ("editor",)) -> None:
        """``groups``: the caller's ``cognito:groups`` (editor by default: these tests upload and
        delete; tests/integration/test_access_matrix.py covers every role)."""
        from handlers.api import handler
        from ragline_local.seams import InProcessContext

        self._handler = handler
        self._context = InProcessContext("ragline-api", "arn:aws:lambda:local:000000000000:function:ragline-api", 1024, 29)
        self.tenant = tenant
        self.groups = groups

    def event(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | str | None = None,
        body: Any = None,
        raw_body: str | None = None,
        tenant: str | None | bool = True,
        claims: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        from ragline_local.gateway import api_gateway_event

        if claims is None:
            who = self.tenant if tenant is True else tenant
            claims = {"sub": "user-1", "email": "u@example.com", "custom:tenant": who} if who else None
            if claims and self.groups:
                claims["cognito:groups"] = list(self.groups)
        query_string = query if isinstance(query, str) else urlencode(query or {}, doseq=True)
        data = raw_body.encode() if raw_body is not None else (json.dumps(body).encode() if body is not None else b"")
        headers = {"Content-Type": "application/json", "Host": "api.local"}
        return api_gateway_event(method, path, query_string, headers, data, claims)

    def call(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        response = self._handler(self.event(method, path, **kwargs), self._context)
        raw = response.get("body") or ""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        return ApiResponse(int(response["statusCode"]), body, dict(response.get("headers") or {}))

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("POST", path, body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.call("DELETE", path, **kwargs)


class WsgiGateway:
    """A WSGI app that turns each HTTP request into an API Gateway REST proxy event for the
    handler, with fixed token claims: lets HTTP tools (schemathesis, werkzeug's client) drive
    the Lambda handler in-process, the way the local gateway and API Gateway do."""

    def __init__(self, tenant: str = "acme") -> None:
        self.client = ApiClient(tenant)

    def __call__(self, environ: dict[str, Any], start_response) -> list[bytes]:
        from ragline_local.gateway import api_gateway_event

        # WSGI hands paths over as latin-1 text of the raw bytes; API Gateway decodes UTF-8.
        path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", errors="replace")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        claims = {"sub": "fuzzer", "custom:tenant": self.client.tenant, "cognito:groups": list(self.client.groups)}
        event = api_gateway_event(environ["REQUEST_METHOD"], path, environ.get("QUERY_STRING", ""), headers, body, claims)
        response = self.client._handler(event, self.client._context)
        payload = (response.get("body") or "").encode()
        out = [(k, str(v)) for k, v in (response.get("headers") or {}).items()]
        for name, values in (response.get("multiValueHeaders") or {}).items():
            out.extend((name, str(v)) for v in values)
        status = int(response["statusCode"])
        from http import HTTPStatus

        start_response(f"{status} {HTTPStatus(status).phrase}", out)
        return [payload]
