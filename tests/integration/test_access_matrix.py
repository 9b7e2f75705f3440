"""Route x role x collection, through the local gateway (HTTP, dev sign-in tokens carrying
``cognito:groups``, the same API handler as on AWS).

The tenant holds three collections: ``default`` (open to everyone), ``hr`` (granted to the
``hr`` group) and ``legal`` (granted to nobody: admins only). ``legal`` holds many documents
that match the test question best, so a search that filtered after retrieving would come back
short or empty for a reader; restricting inside the index filter gives a full top-k.
"""

from __future__ import annotations

import boto3
import pytest
import requests
from moto import mock_aws
from ragline import services as ragline_services
from ragline.access.collection import collection_of
from ragline_local.devauth import DevAuth
from ragline_local.gateway import Gateway

from tests.integration.query_fixtures import build_world, free_port

BUCKET = "ragline-access-test"
TENANT = "acme"
QUESTION = "annual leave carry over rules"
TOP_K = 10


def _leave(i: int) -> str:
    """A passage about the question in every document, worded apart per document (a number in
    every five words): passages repeated verbatim across documents are boilerplate, which
    extractive answers never quote (ragline.query.second_stage)."""
    return f"Annual leave rules {i}: staff {i} carry over {i} unused days {i} until March {i}."


def _corpus() -> dict:
    files = {f"public-{i:02d}.md": ("markdown", f"Public note {i}", [(None, f"Note {i}. Office hours and parking. {_leave(i)[:40]}")])
             for i in range(14)}
    files |= {f"hr/salary-{i:02d}.md": ("markdown", f"HR {i}", [(None, f"HR band {i}: {_leave(100 + i)}")]) for i in range(20)}
    files |= {f"legal/contract-{i:02d}.md": ("markdown", f"Contract {i}", [(None, f"{_leave(200 + i)} {_leave(300 + i)} clause {i}")])
              for i in range(40)}
    return {TENANT: files, "globex": {"globex-leave.md": ("markdown", "Globex", [(None, _leave(999))])}}


USERS = {  # name -> groups in the token
    "reader": [],
    "hr_reader": ["hr"],
    "editor": ["editor"],
    "admin": ["admin"],
}
VISIBLE = {
    "reader": {"default"},
    "hr_reader": {"default", "hr"},
    "editor": {"default"},
    "admin": {"default", "hr", "legal"},
}


class Session:
    def __init__(self, base: str, token: str | None) -> None:
        self.base, self.headers = base, ({"Authorization": f"Bearer {token}"} if token else {})

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.base + path, headers=self.headers, timeout=60, **kwargs)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    world = build_world(tmp_path_factory.mktemp("access"), corpus=_corpus())
    with pytest.MonkeyPatch.context() as patch:
        for name, value in world.env().items():
            patch.setenv(name, value)
        patch.setenv("RAGLINE_DOCUMENTS_BUCKET", BUCKET)
        patch.delenv("RAGLINE_REDIS_URL", raising=False)
        patch.delenv("RAGLINE_LLM_MODEL", raising=False)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with mock_aws():
            boto3.client("s3").create_bucket(Bucket=BUCKET)
            ragline_services.reset()
            auth = DevAuth()
            gateway = Gateway(port=free_port(), auth=auth).start()
            sessions = {name: Session(gateway.api_url, auth.issue_token(name, TENANT, groups))
                        for name, groups in USERS.items()}
            sessions["anonymous"] = Session(gateway.api_url, None)
            granted = sessions["admin"].call("PUT", "/admin/collections/hr/groups/hr")
            assert granted.status_code == 200, granted.text
            try:
                yield world, sessions
            finally:
                gateway.stop()
                ragline_services.reset()


def doc(world, name: str) -> str:
    return world.doc(TENANT, name)


def allowed_ids(world, user: str) -> set[str]:
    return {document_id for (tenant, name), document_id in world.document_ids.items()
            if tenant == TENANT and collection_of(f"{TENANT}/{name}") in VISIBLE[user]}


def test_route_by_role_matrix(stack) -> None:
    world, sessions = stack
    public, hr, legal = doc(world, "public-00.md"), doc(world, "hr/salary-00.md"), doc(world, "legal/contract-00.md")
    everyone = {"reader", "hr_reader", "editor", "admin"}
    editors, admins = {"editor", "admin"}, {"admin"}
    cells = [  # (method, path, body, {user: status} for users allowed, status for the others)
        ("GET", "/health", None, everyone, 200, 200),
        ("GET", "/openapi.json", None, everyone, 200, 403),
        ("POST", "/query", {"question": QUESTION, "mode": "sparse"}, everyone, 200, 403),
        ("GET", f"/search?q={QUESTION}&mode=sparse", None, everyone, 200, 403),
        ("GET", "/documents", None, everyone, 200, 403),
        ("GET", f"/documents/{public}", None, everyone, 200, 404),
        ("GET", f"/documents/{hr}", None, {"hr_reader", "admin"}, 200, 404),
        ("GET", f"/documents/{legal}", None, admins, 200, 404),
        ("POST", "/documents", {"file_name": "new.md"}, editors, 201, 403),
        ("POST", "/documents", {"file_name": "new.md", "collection": "legal"}, admins, 201, 403),
        ("DELETE", f"/documents/{public}", None, editors, 202, 403),
        ("DELETE", f"/documents/{legal}", None, admins, 202, "editor:404,*:403"),
        ("GET", "/collections", None, everyone, 200, 403),
        ("GET", "/admin/collections", None, admins, 200, 403),
        ("PUT", "/admin/collections/hr/groups/hr", None, admins, 200, 403),
        ("DELETE", "/admin/collections/nothing/groups/nobody", None, admins, 200, 403),
        ("GET", "/admin/audit", None, admins, 200, 403),
        ("GET", "/insights", None, admins, 200, 403),
    ]
    failures = []
    for method, path, body, allowed, ok, other in cells:
        for user in everyone:
            if user in allowed:
                expected = ok
            elif isinstance(other, str):
                rules = dict(part.split(":") for part in other.split(","))
                expected = int(rules.get(user, rules["*"]))
            else:
                expected = other
            response = sessions[user].call(method, path, json=body)
            if response.status_code != expected:
                failures.append(f"{user} {method} {path}: {response.status_code} != {expected} {response.text[:200]}")
            elif expected == 403:
                error = response.json()["error"]
                assert error["code"] == "forbidden" and "group" in error["message"], error
        anonymous = sessions["anonymous"].call(method, path, json=body)
        want = 200 if path == "/health" else 401
        if anonymous.status_code != want:
            failures.append(f"anonymous {method} {path}: {anonymous.status_code} != {want}")
    assert failures == []


def test_a_refused_request_learns_nothing_about_input_rules(stack) -> None:
    _, sessions = stack
    response = sessions["reader"].call("POST", "/documents", json={"file_name": ""})
    assert response.status_code == 403
    response = sessions["reader"].call("GET", "/insights?from=not-a-date")
    assert response.status_code == 403


@pytest.mark.parametrize("mode", ["sparse", "dense", "hybrid"])
def test_search_returns_a_full_top_k_from_the_callers_collections_only(stack, mode) -> None:
    world, sessions = stack
    for user in USERS:
        response = sessions[user].call("GET", "/search", params={"q": QUESTION, "mode": mode, "top_k": TOP_K})
        assert response.status_code == 200, response.text
        hits = response.json()["hits"]
        assert len(hits) == TOP_K, (user, mode, len(hits))  # a post-filter would leave fewer
        assert {h["document_id"] for h in hits} <= allowed_ids(world, user), (user, mode)
    if mode == "sparse":  # (the hash embedder's dense ranking is arbitrary: no claim about it)
        admin = sessions["admin"].call("GET", "/search", params={"q": QUESTION, "mode": mode, "top_k": TOP_K}).json()
        # Unfiltered, legal fills the whole top-k: a post-filter would have left readers nothing.
        assert all(h["source"].startswith("legal/") for h in admin["hits"]), "admins see every collection"


def test_queries_cite_only_the_callers_collections_and_cache_per_collection_set(stack) -> None:
    world, sessions = stack
    question = {"question": "What are the annual leave carry over rules?", "mode": "sparse", "top_k": TOP_K}
    first = {}
    for user in ("admin", "reader", "hr_reader", "editor"):
        body = sessions[user].call("POST", "/query", json=question).json()
        cited = {c["document_id"] for c in body["citations"]}
        assert cited and cited <= allowed_ids(world, user), user
        first[user] = body
    assert first["admin"]["cached"] is False
    assert first["reader"]["cached"] is False  # not the admin's answer over legal documents
    assert first["hr_reader"]["cached"] is False
    assert first["editor"]["cached"] is True  # same collection set as the reader: same entry
    again = sessions["reader"].call("POST", "/query", json=question).json()
    assert again["cached"] is True and again["answer"] == first["reader"]["answer"]


def test_listings_hold_exactly_the_callers_collections(stack) -> None:
    world, sessions = stack
    for user in USERS:
        seen, cursor = set(), None
        while True:
            params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
            page = sessions[user].call("GET", "/documents", params=params).json()
            seen |= {d["id"] for d in page["documents"]}
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == allowed_ids(world, user), user
        mine = sessions[user].call("GET", "/collections").json()
        assert {c["name"] for c in mine["collections"]} == VISIBLE[user], user
    counts = {c["name"]: (c["document_count"], c["groups"])
              for c in sessions["admin"].call("GET", "/admin/collections").json()["collections"]}
    assert counts == {"default": (14, []), "hr": (20, ["hr"]), "legal": (40, [])}


def test_uploads_deletes_grants_and_refusals_are_audited(stack) -> None:
    _, sessions = stack
    assert sessions["editor"].call("POST", "/documents", json={"file_name": "audited.md"}).status_code == 201
    assert sessions["reader"].call("GET", "/insights").status_code == 403
    assert sessions["admin"].call("PUT", "/admin/collections/legal/groups/lawyers").status_code == 200
    assert sessions["admin"].call("DELETE", "/admin/collections/legal/groups/lawyers").status_code == 200
    events = sessions["admin"].call("GET", "/admin/audit", params={"limit": 500}).json()["events"]
    seen = {(e["actor"], e["action"], e["target"]) for e in events}
    assert ("editor@local", "upload", f"{TENANT}/audited.md") in seen
    assert ("reader@local", "refused", "GET /insights") in seen
    assert ("admin@local", "grant", "legal -> lawyers") in seen
    assert ("admin@local", "revoke", "legal -> lawyers") in seen
    refused = next(e for e in events if e["action"] == "refused" and e["actor"] == "reader@local")
    assert refused["actor_role"] == "reader" and "admin" in refused["detail"]


def test_insights_range_errors_name_the_field(stack) -> None:
    _, sessions = stack
    response = sessions["admin"].call("GET", "/insights", params={"from": "2026-11-05", "to": "2026-11-01"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "query.from", response.text
    assert sessions["admin"].call("GET", "/insights", params={"from": "yesterday"}).status_code == 422
    body = sessions["admin"].call("GET", "/insights").json()
    assert len(body["queries_per_day"]) == 30  # the default range: the last 30 days
