"""The web app end to end, in headless Chromium, against the local runtime (`ragline dev`).

One journey, the way a person who never touches a terminal uses Ragline: sign in through the
development sign-in (the same OAuth code + PKCE path as Cognito), upload a PDF, watch it reach
Ready, search it, ask a question about it, open a citation, rate the answer (and find the rating
in the catalog), delete the document. Every page is saved under test-results/screenshots/.

Chromium comes from Debian's packages (`apt-get install -y chromium`); Playwright only drives it
(`executable_path`), since browser downloads are impossible here.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
PDF = REPO_ROOT.parent / "shared" / "corpora" / "ntsb" / "20080111X00040.pdf"
SCREENSHOTS = REPO_ROOT / "test-results" / "screenshots"
CHROMIUM = os.environ.get("RAGLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

QUESTION = "What was the probable cause of the accident in Madill, Oklahoma?"
COMMENT = "Cited the NTSB report's probable cause."


@pytest.fixture(scope="module")
def chromium_context(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (.ci/run does this)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data dir every run
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=DESKTOP,
            locale="en-US",
            timezone_id="UTC",
        )
        context.set_default_timeout(20_000)
        context.set_default_navigation_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def screenshots():
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


def _shot(page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def _phone_shot(page, directory: Path, name: str) -> None:
    """Screenshot at a phone's width, checking nothing sticks out sideways."""
    page.set_viewport_size(PHONE)
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name}: the page is {overflow}px wider than a {PHONE['width']}px screen"
        _shot(page, directory, name)
    finally:
        page.set_viewport_size(DESKTOP)


def _wait_until(predicate, timeout_s: float, what: str, interval_s: float = 0.25):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


def test_upload_ask_cite_rate_delete(local_stack, chromium_context, screenshots):
    from playwright.sync_api import expect

    assert PDF.exists(), f"sample PDF missing: {PDF}"
    web_url = local_stack.web_url.rstrip("/") + "/"
    # A tenant of its own: the sign-in form lets the user pick one, and this journey's upload and
    # delete then cannot disturb documents other tests ingest for local_stack.tenant.
    tenant = f"{local_stack.tenant}-web-{uuid.uuid4().hex[:6]}"
    catalog = local_stack.catalog

    page = chromium_context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    # --- sign in: app -> dev sign-in form -> /signin/callback/ -> back in the app ---------------
    page.goto(web_url)
    expect(page.get_by_test_id("signin-screen")).to_be_visible()
    _shot(page, screenshots, "01-sign-in")

    page.get_by_test_id("signin-button").click()
    page.wait_for_url(re.compile(r"/dev-auth/authorize\?"))
    page.get_by_label("User name").fill("e2e-reader")
    page.get_by_label("Tenant").fill(tenant)
    _shot(page, screenshots, "02-dev-sign-in")
    page.locator("form").first.locator("button[type=submit], input[type=submit]").first.click()

    expect(page.get_by_test_id("app-nav")).to_be_visible()
    assert page.url.startswith(web_url) and "/signin/callback" not in page.url
    expect(page.get_by_test_id("user-tenant")).to_have_text(tenant)
    expect(page.get_by_label("Question")).to_be_visible()
    _shot(page, screenshots, "03-ask-empty")

    # --- upload the PDF and watch it index ---------------------------------------------------
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Documents").click()
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
    expect(page.get_by_test_id("documents-loading")).to_have_count(0)

    page.get_by_test_id("file-input").set_input_files(str(PDF))
    upload = page.locator(f'[data-testid="upload-item"][data-file-name="{PDF.name}"]')
    expect(upload).to_have_attribute("data-status", "done", timeout=60_000)
    document_id = upload.get_attribute("data-document-id")
    assert document_id, "the upload item should carry the document id returned by POST /documents"
    row = page.locator(f'[data-testid="document-row"][data-document-id="{document_id}"]')
    expect(row).to_be_visible(timeout=30_000)
    _shot(page, screenshots, "04-documents-uploaded")

    expect(row).to_have_attribute("data-status", "ready", timeout=300_000)
    expect(row.get_by_test_id("document-status")).to_have_text("Ready")
    expect(row.get_by_test_id("document-detail")).to_contain_text("chunk")
    _shot(page, screenshots, "05-documents-ready")

    _phone_shot(page, screenshots, "05b-documents-phone")

    # --- search ------------------------------------------------------------------------------
    nav.get_by_role("link", name="Search").click()
    page.get_by_test_id("search-input").fill("crosswind landing roll directional control")
    page.get_by_test_id("search-button").click()
    results = page.get_by_test_id("search-result")
    expect(results.first).to_be_visible(timeout=60_000)
    ours = page.locator(f'[data-testid="search-result"][data-document-id="{document_id}"]')
    expect(ours.first).to_be_visible()
    expect(ours.first).to_contain_text("Page")
    _shot(page, screenshots, "06-search")
    _phone_shot(page, screenshots, "06b-search-phone")

    # --- ask, read the cited answer, open a citation -----------------------------------------
    nav.get_by_role("link", name="Ask").click()
    page.get_by_label("Question").fill(QUESTION)
    page.get_by_test_id("ask-button").click()
    answer = page.get_by_test_id("answer")
    expect(answer).to_be_visible(timeout=120_000)
    query_id = answer.get_attribute("data-query-id")
    assert query_id
    expect(page.get_by_test_id("answer-text")).not_to_be_empty()
    expect(page.get_by_test_id("citation-marker").first).to_be_visible()
    expect(page.get_by_test_id("latency")).to_have_text(re.compile(r"\d+(\.\d+)? (ms|s)"))

    cited = page.locator(f'[data-testid="citation-source"][data-source$="{PDF.name}"]')
    expect(cited.first).to_be_visible()
    number = cited.first.get_attribute("data-citation")
    marker = page.locator(f'[data-testid="citation-marker"][data-citation="{number}"]')
    (marker.first if marker.count() else cited.first).click()
    panel = page.get_by_test_id("citation-panel")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("data-citation", number)
    expect(panel).to_contain_text(PDF.name)  # as the title, or under "File" when the PDF has a title
    expect(panel.get_by_test_id("citation-pages")).to_have_text(re.compile(r"^Pages? \d+"))
    expect(panel.get_by_test_id("citation-snippet")).not_to_be_empty()
    _shot(page, screenshots, "07-answer-citation")

    logged = catalog.get_query(tenant, query_id)
    assert logged.question == QUESTION

    # --- rate it, and find the rating in the catalog ----------------------------------------
    page.get_by_role("button", name="Helpful", exact=True).click()
    page.get_by_label("Comment (optional)").fill(COMMENT)
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_test_id("feedback-status")).to_contain_text("Thanks")
    stored = _wait_until(lambda: catalog.list_feedback(tenant, query_id=query_id), 10, "the feedback row")
    assert [(f.rating, f.comment) for f in stored] == [("up", COMMENT)]
    _shot(page, screenshots, "08-feedback-sent")

    _phone_shot(page, screenshots, "08b-answer-phone")

    # --- delete the document and see it go --------------------------------------------------
    nav.get_by_role("link", name="Documents").click()
    row = page.locator(f'[data-testid="document-row"][data-document-id="{document_id}"]')
    expect(row).to_have_attribute("data-status", "ready")
    row.get_by_test_id("delete-document").click()
    expect(row.get_by_test_id("confirm-delete")).to_be_visible()
    _shot(page, screenshots, "09-confirm-delete")
    row.get_by_test_id("confirm-delete").click()
    expect(row).to_have_count(0, timeout=120_000)
    _shot(page, screenshots, "10-deleted")

    assert not page_errors, f"uncaught errors in the page: {page_errors}"
