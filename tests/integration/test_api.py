"""Every REST route through the Lambda handler, with the API Gateway REST proxy events AWS
sends (claims in requestContext.authorizer.claims), on real stores: SQLite catalog, EdgeIndex
on disk, HashEmbedder, S3 from moto. Ends with schemathesis against the generated OpenAPI
document: whatever it generates, the API never answers 5xx."""

from __future__ import annotations

import re

import boto3
import pytest
import requests
from moto import mock_aws
from ragline import services as ragline_services
from ragline import wiring
from ragline.models import document_id_for

from tests.integration.query_fixtures import ApiClient, WsgiGateway, build_world, free_port

BUCKET = "ragline-documents-test"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return build_world(tmp_path_factory.mktemp("api-world"))


@pytest.fixture
def env(world, monkeypatch: pytest.MonkeyPatch):
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAGLINE_DOCUMENTS_BUCKET", BUCKET)
    for name in ("RAGLINE_REDIS_URL", "RAGLINE_LLM_MODEL", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        ragline_services.reset()
        yield s3
        ragline_services.reset()


@pytest.fixture
def api(env) -> ApiClient:
    return ApiClient("acme")


def assert_error(response, status: int, code: str, field: str | None) -> None:
    assert response.status == status, response.body
    error = response.body["error"]
    assert error["code"] == code and error["field"] == field, error
    assert len(error["message"]) > 10


# ------------------------------------------------------------------------ health, OpenAPI


def test_health_needs_no_sign_in(api: ApiClient) -> None:
    response = api.get("/health", tenant=None)
    assert response.status == 200
    assert response.body == {"status": "ok", "checks": {"catalog": "ok", "index": "ok", "cache": "ok"}}


def test_health_reports_a_dead_cache_as_degraded(api: ApiClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGLINE_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    ragline_services.reset()
    response = api.get("/health", tenant=None)
    assert response.status == 200 and response.body["status"] == "degraded"
    assert response.body["checks"]["cache"].startswith("error")
    # … and questions are still answered, uncached.
    assert api.post("/query", {"question": "refund"}).status == 200


def test_openapi_document_is_valid_and_complete(api: ApiClient) -> None:
    from openapi_spec_validator import validate

    response = api.get("/openapi.json")  # a reader route (ragline.access.routes), like on AWS
    assert response.status == 200
    document = response.body
    validate(document)
    operations = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    from ragline.access.routes import ROUTES

    # Every route but the document itself, exactly the route rules (ragline.access.routes).
    assert operations == {(rule.method, rule.path) for rule in ROUTES} - {("GET", "/openapi.json")}
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "ErrorResponse" in document["components"]["schemas"]
    assert set(document["paths"]["/documents"]["post"]["responses"]) >= {"201", "400", "401", "422"}


# ---------------------------------------------------------------------------- query, search


def test_query_answers_with_citations_and_caches(api: ApiClient, world) -> None:
    first = api.post("/query", {"question": "How many days of annual leave per year?"})
    assert first.status == 200, first.body
    body = first.body
    assert body["answer_type"] == "extractive" and body["cached"] is False and body["model"] is None
    assert "[1]" in body["answer"]
    citation = body["citations"][0]
    assert citation["number"] == 1 and citation["document_id"] == world.doc("acme", "handbook.md")
    assert citation["source"] == "handbook.md" and citation["title"] == "Employee handbook"
    assert set(citation) == {"number", "document_id", "source", "title", "page_start", "page_end", "heading",
                             "snippet", "score", "chunk_index"}
    assert body["latency_ms"]["total"] > 0
    second = api.post("/query", {"question": "how many days of ANNUAL leave per year?"})
    assert second.body["cached"] is True and second.body["answer"] == body["answer"]


def test_query_with_filters(api: ApiClient, world) -> None:
    response = api.post("/query", {"question": "days", "mode": "sparse", "file_types": [".PDF"], "top_k": 3})
    assert response.status == 200
    assert {c["source"] for c in response.body["citations"]} == {"refunds.pdf"}
    response = api.post("/query", {"question": "days", "document_ids": [world.doc("acme", "handbook.md")]})
    assert {c["document_id"] for c in response.body["citations"]} == {world.doc("acme", "handbook.md")}


def test_search_returns_hits_with_pages_and_snippets(api: ApiClient, world) -> None:
    response = api.get("/search", query={"q": "refund unused items", "top_k": 2, "mode": "hybrid"})
    assert response.status == 200
    hits = response.body["hits"]
    assert 1 <= len(hits) <= 2 and response.body["latency_ms"] > 0
    assert hits[0]["document_id"] == world.doc("acme", "refunds.pdf") and hits[0]["page_start"] == 1
    assert "number" not in hits[0]


def test_search_filters_repeat_in_the_query_string(api: ApiClient, world) -> None:
    ids = [world.doc("acme", "handbook.md"), world.doc("acme", "refunds.pdf")]
    response = api.get("/search", query={"q": "days", "mode": "sparse", "document_id": ids, "file_type": ["md"], "top_k": 10})
    assert response.status == 200
    assert {h["document_id"] for h in response.body["hits"]} == {world.doc("acme", "handbook.md")}


def test_dense_without_a_working_embedder_is_503_but_sparse_works(api: ApiClient, monkeypatch) -> None:
    monkeypatch.setenv("RAGLINE_EMBEDDER", "openai")
    monkeypatch.setenv("RAGLINE_OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("RAGLINE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("RAGLINE_OPENAI_MAX_RETRIES", "0")
    ragline_services.reset()
    assert_error(api.post("/query", {"question": "refund", "mode": "hybrid"}), 503, "embedder_unavailable", None)
    assert_error(api.get("/search", query={"q": "refund", "mode": "dense"}), 503, "embedder_unavailable", None)
    assert api.post("/query", {"question": "refund", "mode": "sparse"}).status == 200


# --------------------------------------------------------------------------------- documents


def test_presigned_upload_puts_the_file_under_the_tenant(api: ApiClient, env) -> None:
    response = api.post("/documents", {"file_name": "../../etc/Báo cáo <quý 3>.PDF", "size_bytes": 14})
    assert response.status == 201, response.body
    body = response.body
    assert body["key"] == "acme/Báo cáo quý 3.pdf"
    assert body["document_id"] == document_id_for("acme", body["key"])
    assert body["upload"]["method"] == "PUT" and body["upload"]["headers"] == {"Content-Type": "application/pdf"}
    assert body["expires_in"] == 900
    put = requests.put(body["upload"]["url"], data=b"%PDF-1.4 test", headers=body["upload"]["headers"], timeout=10)
    assert put.status_code == 200
    stored = env.get_object(Bucket=BUCKET, Key=body["key"])
    assert stored["ContentType"] == "application/pdf" and stored["Body"].read() == b"%PDF-1.4 test"


def test_upload_keeps_an_explicit_content_type(api: ApiClient) -> None:
    response = api.post("/documents", {"file_name": "notes.md", "content_type": "text/markdown; charset=utf-8"})
    assert response.status == 201
    assert response.body["upload"]["headers"] == {"Content-Type": "text/markdown; charset=utf-8"}


@pytest.mark.parametrize("file_name", ["virus.exe", "README", "..."])
def test_unusable_file_names_are_rejected(api: ApiClient, file_name: str) -> None:
    assert_error(api.post("/documents", {"file_name": file_name}), 400, "invalid_file_name", "body.file_name")


def test_list_documents_pages_through_this_tenant_only(api: ApiClient, world) -> None:
    first = api.get("/documents", query={"limit": 2})
    assert first.status == 200 and len(first.body["documents"]) == 2 and first.body["next_cursor"]
    rest = api.get("/documents", query={"limit": 2, "cursor": first.body["next_cursor"]})
    ids = {d["id"] for d in first.body["documents"] + rest.body["documents"]}
    assert ids == {world.doc("acme", f) for f in ("handbook.md", "thue.txt", "refunds.pdf")}
    assert rest.body["next_cursor"] is None
    ready = api.get("/documents", query={"status": "ready"})
    assert {d["status"] for d in ready.body["documents"]} == {"ready"}
    assert api.get("/documents", query={"status": "failed"}).body["documents"] == []


def test_get_document(api: ApiClient, world) -> None:
    response = api.get(f"/documents/{world.doc('acme', 'refunds.pdf')}")
    assert response.status == 200
    document = response.body
    assert document["file_name"] == "refunds.pdf" and document["key"] == "acme/refunds.pdf"
    assert document["status"] == "ready" and document["chunk_count"] == 2 and document["page_count"] == 2
    assert document["file_type"] == "pdf" and document["created_at"].endswith(("Z", "+00:00"))


def test_unknown_document_is_404_naming_the_path_field(api: ApiClient) -> None:
    assert_error(api.get("/documents/not-a-document"), 404, "not_found", "path.document_id")
    assert_error(api.delete("/documents/not-a-document"), 404, "not_found", "path.document_id")


def test_delete_removes_the_uploaded_object(api: ApiClient, env, world) -> None:
    env.put_object(Bucket=BUCKET, Key="acme/thue.txt", Body=b"x")
    response = api.delete(f"/documents/{world.doc('acme', 'thue.txt')}")
    assert response.status == 202
    assert response.body == {"document_id": world.doc("acme", "thue.txt"), "status": "deleting"}
    assert env.list_objects_v2(Bucket=BUCKET, Prefix="acme/thue.txt").get("KeyCount", 0) == 0


# ---------------------------------------------------------------------------------- feedback


def test_feedback_on_an_answer(api: ApiClient, world) -> None:
    answer = api.post("/query", {"question": "refund"}).body
    response = api.post("/feedback", {"query_id": answer["query_id"], "rating": "up", "comment": "Rất tốt"})
    assert response.status == 201 and response.body["feedback_id"]
    (record,) = world.catalog.list_feedback("acme", query_id=answer["query_id"])
    assert record.rating == "up" and record.comment == "Rất tốt"


def test_feedback_for_an_unknown_query_is_404(api: ApiClient) -> None:
    assert_error(api.post("/feedback", {"query_id": "nope", "rating": "down"}), 404, "not_found", "body.query_id")


# ------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "method, path, kwargs, field",
    [
        ("POST", "/query", {"body": {}}, "body.question"),
        ("POST", "/query", {"body": {"question": ""}}, "body.question"),
        ("POST", "/query", {"body": {"question": "   "}}, "body.question"),
        ("POST", "/query", {"body": {"question": "x" * 2001}}, "body.question"),
        ("POST", "/query", {"body": {"question": "x", "top_k": 0}}, "body.top_k"),
        ("POST", "/query", {"body": {"question": "x", "top_k": 21}}, "body.top_k"),
        ("POST", "/query", {"body": {"question": "x", "top_k": True}}, "body.top_k"),  # strict integers
        ("POST", "/query", {"body": {"question": "x", "top_k": "5"}}, "body.top_k"),
        ("POST", "/query", {"body": {"question": "x", "top_k": 5.0}}, "body.top_k"),
        ("POST", "/query", {"body": {"question": "x", "mode": "fuzzy"}}, "body.mode"),
        ("POST", "/query", {"body": {"question": "x", "file_types": ["exe"]}}, "body.file_types[0]"),
        ("POST", "/query", {"body": {"question": "x", "document_ids": "abc"}}, "body.document_ids"),
        ("POST", "/query", {"body": {"question": "x", "tenant": "globex"}}, "body.tenant"),
        ("POST", "/query", {"raw_body": "{not json"}, "body"),
        ("POST", "/query", {"body": ["question"]}, "body"),
        ("GET", "/search", {}, "query.q"),
        ("GET", "/search", {"query": {"q": "x", "top_k": "many"}}, "query.top_k"),
        ("GET", "/search", {"query": {"q": "x", "mode": "semantic"}}, "query.mode"),
        ("GET", "/search", {"query": {"q": "x", "file_type": "exe"}}, "query.file_type[0]"),
        ("GET", "/documents", {"query": {"limit": 0}}, "query.limit"),
        ("GET", "/documents", {"query": {"status": "gone"}}, "query.status"),
        ("POST", "/documents", {"body": {}}, "body.file_name"),
        ("POST", "/documents", {"body": {"file_name": "a.pdf", "content_type": "not a type"}}, "body.content_type"),
        ("POST", "/documents", {"body": {"file_name": "a.pdf", "size_bytes": -1}}, "body.size_bytes"),
        ("POST", "/documents", {"body": {"file_name": "a.pdf", "size_bytes": "5"}}, "body.size_bytes"),
        ("POST", "/feedback", {"body": {"query_id": "q", "rating": "meh"}}, "body.rating"),
        ("POST", "/feedback", {"body": {"query_id": "q", "rating": "up", "comment": "x" * 2001}}, "body.comment"),
        ("POST", "/feedback", {"body": {"rating": "up"}}, "body.query_id"),
    ],
)
def test_invalid_input_is_422_naming_the_field(api: ApiClient, method: str, path: str, kwargs: dict, field: str) -> None:
    assert_error(api.call(method, path, **kwargs), 422, "invalid_request", field)


@pytest.mark.parametrize("path", ["/query", "/documents", "/feedback"])
@pytest.mark.parametrize("nesting", ["[" * 1000 + "]" * 1000, '{"question": ' + "[" * 5000 + "]" * 5000 + "}"])
def test_a_body_nested_too_deeply_is_422_not_500(api: ApiClient, path: str, nesting: str) -> None:
    response = api.call("POST", path, raw_body=nesting)
    assert_error(response, 422, "invalid_request", "body")
    assert "nested too deeply" in response.body["error"]["message"]


def test_bad_cursor_is_400(api: ApiClient) -> None:
    assert_error(api.get("/documents", query={"cursor": "garbage"}), 400, "invalid_cursor", "query.cursor")


PROTECTED = [
    ("POST", "/query", {"body": {"question": "refund"}}),
    ("GET", "/search", {"query": {"q": "refund"}}),
    ("POST", "/documents", {"body": {"file_name": "a.pdf"}}),
    ("GET", "/documents", {}),
    ("GET", "/documents/abc", {}),
    ("DELETE", "/documents/abc", {}),
    ("POST", "/feedback", {"body": {"query_id": "q", "rating": "up"}}),
    ("POST", "/query", {"body": {"question": ""}}),  # invalid *and* anonymous: 401 first
]


@pytest.mark.parametrize("method, path, kwargs", PROTECTED)
def test_every_route_but_health_needs_a_tenant(api: ApiClient, method: str, path: str, kwargs: dict) -> None:
    response = api.call(method, path, tenant=None, **kwargs)
    assert_error(response, 401, "unauthorized", None)
    assert "Sign in" in response.body["error"]["message"]


@pytest.mark.parametrize(
    "claims, message",
    [
        ({"sub": "u1", "email": "a@b.c"}, "custom:tenant"),
        ({"sub": "u1", "custom:tenant": ""}, "custom:tenant"),
        ({"sub": "u1", "custom:tenant": "../globex"}, "not a valid tenant"),
    ],
)
def test_tokens_without_a_usable_tenant_are_401(api: ApiClient, claims: dict, message: str) -> None:
    response = api.get("/documents", claims=claims)
    assert_error(response, 401, "unauthorized", None)
    assert message in response.body["error"]["message"]


def test_unknown_route_is_404_in_the_error_shape(api: ApiClient) -> None:
    assert_error(api.get("/nowhere"), 404, "not_found", None)


def test_cors_follows_the_allowed_origins() -> None:
    from ragline.api.app import cors_config

    assert cors_config([]) is None  # locally the gateway serves the web app on the same origin
    config = cors_config(["https://d111.cloudfront.net", "https://app.example.com"])
    assert config is not None
    headers = config.to_dict("https://app.example.com")
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Authorization" in headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in config.to_dict("https://evil.example.com")


# ------------------------------------------------------------------------------ schemathesis

OPERATIONS = [
    ("/query", "POST"), ("/search", "GET"), ("/documents", "POST"), ("/documents", "GET"),
    ("/documents/{document_id}", "GET"), ("/documents/{document_id}", "DELETE"),
    ("/feedback", "POST"), ("/health", "GET"),
]


@pytest.mark.parametrize("path, method", OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_schemathesis_finds_no_server_errors(env, path: str, method: str) -> None:
    """Valid and invalid requests generated from the OpenAPI document (bounded: 40 examples
    per operation, a few seconds in all): never a 5xx, and every answer matches the document
    (declared status codes, content type, response schema)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_wsgi("/openapi.json", WsgiGateway("acme"))
    operation = schema[path][method]
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )

    @settings(max_examples=40, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def run(case) -> None:
        response = case.call()
        case.validate_response(response, checks=checks)
        assert response.status_code < 500, response.text

    run()


def test_wsgi_gateway_round_trip(env) -> None:
    """The adapter the fuzzer uses speaks HTTP semantics correctly (UTF-8 paths, bodies)."""
    from werkzeug.test import Client

    client = Client(WsgiGateway("acme"))
    response = client.post("/query", json={"question": "Thuế VAT là bao nhiêu?"})
    assert response.status_code == 200 and re.search(r"\[1\]", response.get_json()["answer"])
    assert client.get("/documents/ký-tự").status_code == 404
