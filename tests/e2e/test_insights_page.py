"""The Insights page in headless Chromium, against the local gateway over a seeded catalog
(the one tests/integration/test_insights.py checks figure by figure): the page shows the API's
figures, its CSV export matches GET /insights, a reader sees neither the page nor its link.
Screenshots go to test-results/screenshots-insights/.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import boto3
import pytest
import requests
from moto import mock_aws
from ragline import services as ragline_services
from ragline_local.devauth import DevAuth
from ragline_local.gateway import WEB_ROOT, Gateway

from tests.e2e.test_web_app import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _phone_shot
from tests.integration.query_fixtures import build_world, free_port
from tests.integration.test_insights import seed

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-results" / "screenshots-insights"
RANGE = {"from": "2026-11-01", "to": "2026-11-03"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    if not (WEB_ROOT / "index.html").exists():
        pytest.skip("the web app is not built: cd frontend && npm run build")
    world = build_world(tmp_path_factory.mktemp("insights-web"), corpus={})
    catalog, tenant, *_ = seed(world.catalog_url)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in world.env().items():
            patch.setenv(name, value)
        patch.delenv("RAGLINE_REDIS_URL", raising=False)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(name, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        with mock_aws():
            boto3.client("s3").create_bucket(Bucket="ragline-documents")
            ragline_services.reset()
            auth = DevAuth()
            gateway = Gateway(port=free_port(), auth=auth).start()
            try:
                yield gateway, auth, tenant
            finally:
                gateway.stop()
                ragline_services.reset()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _sign_in(browser, gateway, tenant: str, groups: list[str]):
    context = browser.new_context(viewport=DESKTOP, locale="en-US", timezone_id="UTC", accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(gateway.base_url + "/")
    page.get_by_test_id("signin-button").click()
    page.fill("#user", "ada")
    page.fill("#tenant", tenant)
    for group in ("reader", "editor", "admin"):
        page.set_checked(f"#group-{group}", group in groups)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("app-nav").wait_for()
    return context, page


def expected_rows(data: dict) -> list[list[str]]:
    """The export's rows from the API's JSON, written independently of lib/insightsCsv.ts."""
    text = lambda v: "" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
    rows = [["range", "", "from", data["from"]], ["range", "", "to", data["to"]]]
    rows += [["summary", "", k, text(data[k])] for k in ("queries", "cache_hits", "cache_hit_rate")]
    for day in data["queries_per_day"]:
        rows += [["queries_per_day", day["day"], k, text(day[k])] for k in ("queries", "cache_hits")]
    for stage in data["latency"]:
        rows += [["latency", stage["stage"], k, text(stage[k])] for k in ("samples", "p50_ms", "p95_ms")]
    rows += [["feedback", "", k, text(data["feedback"][k])] for k in ("up", "down")]
    rows += [["feedback_comment", c["question"], c["rating"], c["comment"]] for c in data["feedback"]["comments"]]
    for q in data["unanswered"]:
        rows += [["unanswered", q["question"], "reason", q["reason"]], ["unanswered", q["question"], "times", text(q["times"])]]
    rows += [["most_cited", d["file_name"], "citations", text(d["citations"])] for d in data["most_cited"]]
    rows.append(["never_cited", "", "documents", text(data["never_cited_count"])])
    rows += [["never_cited", d["file_name"], "document_id", d["document_id"]] for d in data["never_cited"]]
    rows += [["ingestion_failures", f["reason"], f["step"] or "", text(f["documents"])] for f in data["ingestion_failures"]]
    rows += [["tokens", "", k, text(data["tokens"][k])]
             for k in ("embedding_tokens", "llm_prompt_tokens", "llm_completion_tokens", "estimated_cost_usd")]
    return rows


def test_insights_page_shows_the_api_figures_and_exports_them(site, browser):
    gateway, auth, tenant = site
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    token = auth.issue_token("ada", tenant, ["admin"])
    api = requests.get(gateway.api_url + "/insights", params=RANGE, headers={"Authorization": f"Bearer {token}"},
                       timeout=30)
    assert api.status_code == 200, api.text
    data = api.json()
    assert data["queries"] == 5

    context, page = _sign_in(browser, gateway, tenant, ["admin"])
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.get_by_role("link", name="Insights").click()
    page.get_by_test_id("insights-from").fill(RANGE["from"])
    page.get_by_test_id("insights-to").fill(RANGE["to"])
    page.get_by_test_id("insights-apply").click()
    page.wait_for_function("document.querySelector('[data-testid=tile-queries]')?.textContent === '5'")
    assert page.get_by_test_id("tile-hit-rate").inner_text() == "20.0%"
    assert page.get_by_test_id("tile-feedback").inner_text() == "1 / 2"
    assert page.locator("[data-testid=chart-queries-per-day] svg .recharts-bar-rectangle").count() >= 3
    assert "zebra?" in page.get_by_test_id("table-unanswered").inner_text()
    assert "a.md" in page.get_by_test_id("table-most-cited").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "insights.png"), full_page=True)
    _phone_shot(page, SCREENSHOTS, "insights-phone")  # nothing sticks out sideways

    with page.expect_download() as download_info:
        page.get_by_test_id("insights-export").click()
    exported = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["section", "item", "metric", "value"]
    assert rows[1:] == expected_rows(data)
    assert errors == []
    context.close()


def test_a_reader_has_no_insights_link_and_the_page_refuses(site, browser):
    gateway, _, tenant = site
    context, page = _sign_in(browser, gateway, tenant, [])
    assert page.get_by_test_id("app-nav").get_by_text("Insights").count() == 0
    page.goto(gateway.base_url + "/insights/")
    page.get_by_test_id("admin-only").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "insights-reader.png"), full_page=True)
    context.close()
