"""Two tenants, one deployment: no route returns the other tenant's documents, hits or answers,
and the answer cache keeps them apart (same question, different tenants, different keys).

Both tenants hold a handbook answering "How many days of annual leave?" differently (20 vs
25 days), and globex holds a secret only globex may see.
"""

from __future__ import annotations

import sys
import uuid

import boto3
import pytest
from moto import mock_aws
from ragline import services as ragline_services
from ragline.cache import RedisCache
from ragline.query.retrieval import Retriever
from ragline.query.schemas import QueryRequest
from ragline.query.service import QueryService

from tests.integration.query_fixtures import ApiClient, build_world, delete_prefix, redis_server_url

BUCKET = "ragline-isolation-test"
QUESTION = {"question": "How many days of annual leave per year?"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return build_world(tmp_path_factory.mktemp("isolation"))


@pytest.fixture
def redis_prefix():
    url = redis_server_url()
    prefix = f"ragline-isolation:{uuid.uuid4().hex}:"
    yield url, prefix
    delete_prefix(url, prefix)


@pytest.fixture
def clients(world, monkeypatch: pytest.MonkeyPatch, redis_prefix):
    url, prefix = redis_prefix
    for name, value in world.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RAGLINE_DOCUMENTS_BUCKET", BUCKET)
    monkeypatch.setenv("RAGLINE_REDIS_URL", url)
    monkeypatch.setenv("RAGLINE_ENVIRONMENT", prefix.rstrip(":"))  # the cache prefix follows it
    monkeypatch.delenv("RAGLINE_LLM_MODEL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        ragline_services.reset()
        yield ApiClient("acme"), ApiClient("globex")
        ragline_services.reset()
    delete_prefix(url, f"ragline:{prefix}")  # make_cache's prefix: service:environment:


def acme_ids(world) -> set[str]:
    return {world.doc("acme", f) for f in ("handbook.md", "thue.txt", "refunds.pdf")}


def globex_ids(world) -> set[str]:
    return {world.doc("globex", f) for f in ("handbook.md", "secret-plan.txt")}


def test_same_question_different_tenants_gets_each_tenants_own_answer(clients, world) -> None:
    acme, globex = clients
    a1 = acme.post("/query", QUESTION).body
    g1 = globex.post("/query", QUESTION).body
    assert "20 days" in a1["answer"] and "25 days" not in a1["answer"]
    assert "25 days" in g1["answer"] and "20 days" not in g1["answer"]
    assert g1["cached"] is False  # acme's cached answer was not served to globex
    assert {c["document_id"] for c in a1["citations"]} <= acme_ids(world)
    assert {c["document_id"] for c in g1["citations"]} <= globex_ids(world)
    # Each tenant's second ask is a hit on its own entry.
    a2, g2 = acme.post("/query", QUESTION).body, globex.post("/query", QUESTION).body
    assert a2["cached"] and g2["cached"]
    assert a2["answer"] == a1["answer"] and g2["answer"] == g1["answer"]


def test_cache_keys_differ_per_tenant(world, redis_prefix) -> None:
    url, prefix = redis_prefix
    cache = RedisCache(url, prefix=prefix)
    service = QueryService(
        catalog=world.catalog,
        retriever=Retriever(world.index, lambda: world.embedder, cache),
        cache=cache,
        llm=None,
    )
    request = QueryRequest(**QUESTION)
    assert service.cache_key("acme", request) != service.cache_key("globex", request)
    service.ask("acme", request)
    import redis

    stored = {k.decode() for k in redis.Redis.from_url(url).scan_iter(match=prefix + "answer:*")}
    assert stored == {prefix + service.cache_key("acme", request)}


def test_search_never_returns_the_other_tenants_hits(clients, world) -> None:
    acme, globex = clients
    for mode in ("hybrid", "dense", "sparse"):
        hits = acme.get("/search", query={"q": "Project Zebra volcano lair October", "mode": mode, "top_k": 20}).body["hits"]
        assert {h["document_id"] for h in hits} <= acme_ids(world), mode
        assert not any("Zebra" in h["snippet"] for h in hits)
    hits = globex.get("/search", query={"q": "Project Zebra volcano lair", "mode": "sparse"}).body["hits"]
    assert hits[0]["document_id"] == world.doc("globex", "secret-plan.txt")


def test_filtering_on_another_tenants_document_id_finds_nothing(clients, world) -> None:
    acme, _ = clients
    secret = world.doc("globex", "secret-plan.txt")
    assert acme.get("/search", query={"q": "Zebra", "mode": "sparse", "document_id": secret}).body["hits"] == []
    answer = acme.post("/query", {"question": "Project Zebra", "mode": "sparse", "document_ids": [secret]}).body
    assert answer["citations"] == [] and "Zebra" not in answer["answer"]


def test_documents_routes_only_show_the_callers_documents(clients, world) -> None:
    acme, globex = clients
    assert {d["id"] for d in acme.get("/documents").body["documents"]} == acme_ids(world)
    assert {d["id"] for d in globex.get("/documents").body["documents"]} == globex_ids(world)
    secret = world.doc("globex", "secret-plan.txt")
    assert acme.get(f"/documents/{secret}").status == 404
    assert globex.get(f"/documents/{secret}").status == 200


def test_cannot_delete_another_tenants_document(clients, world) -> None:
    acme, _ = clients
    s3 = boto3.client("s3")
    s3.put_object(Bucket=BUCKET, Key="globex/secret-plan.txt", Body=b"zebra")
    assert acme.delete(f"/documents/{world.doc('globex', 'secret-plan.txt')}").status == 404
    assert s3.get_object(Bucket=BUCKET, Key="globex/secret-plan.txt")["Body"].read() == b"zebra"


def test_uploads_land_under_the_callers_tenant_whatever_the_name(clients) -> None:
    acme, _ = clients
    for name in ("globex/evil.pdf", "../globex/evil.pdf", "..\\globex\\evil.pdf", "/globex/evil.pdf"):
        body = acme.post("/documents", {"file_name": name}).body
        assert body["key"] == "acme/evil.pdf", name
        assert "/acme/evil.pdf" in body["upload"]["url"]


def test_feedback_on_another_tenants_answer_is_404(clients) -> None:
    acme, globex = clients
    query_id = acme.post("/query", QUESTION).body["query_id"]
    assert globex.post("/feedback", {"query_id": query_id, "rating": "down"}).status == 404
    assert acme.post("/feedback", {"query_id": query_id, "rating": "up"}).status == 201


def test_the_tenant_comes_from_the_token_never_the_request(clients, world) -> None:
    acme, _ = clients
    # A tenant in the body is rejected outright; headers and query strings are ignored.
    assert acme.post("/query", {**QUESTION, "tenant": "globex"}).status == 422
    response = acme.get("/documents", query={"tenant": "globex"})
    assert {d["id"] for d in response.body["documents"]} == acme_ids(world)


def test_concurrent_requests_of_two_tenants_never_mix(clients, world) -> None:
    """The local gateway calls the handler from many threads at once (Lambda never does):
    each response must still be computed from its own event's tenant."""
    from concurrent.futures import ThreadPoolExecutor

    acme, globex = clients
    expected = {"acme": acme_ids(world), "globex": globex_ids(world)}

    def one(i: int) -> tuple[str, set[str], int]:
        client = acme if i % 2 else globex
        if i % 3:
            response = client.get("/documents")
            ids = {d["id"] for d in response.body["documents"]}
        else:
            response = client.post("/query", {"question": f"annual leave {i % 5}", "mode": "sparse"})
            ids = {c["document_id"] for c in response.body["citations"]}
        return client.tenant, ids, response.status

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: make interleavings likely
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(one, range(120)))
    finally:
        sys.setswitchinterval(interval)
    for tenant, ids, status in results:
        assert status == 200, status
        assert ids <= expected[tenant], tenant
