"""The API reference as a person opens it: Debian's headless Chromium, driven by Playwright, on a
live server of the app, with every request that is not to the server's own loopback origin
aborted. The page must work with no internet and break none of its Content-Security-Policy."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.browser.conftest import serving, visiting
from tests.conftest import scratch_app

# The live server has a database of its own: tests here commit nothing, but the server's thread
# must not share the connection of the session-wide test transaction.
pytestmark = pytest.mark.no_transaction


@dataclass
class LiveServer:
    origin: str
    token: str


@pytest.fixture(scope="module")
def live_server(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    app, _target, headers = scratch_app(database_url, tmp, "browser", username="lanhdao.huyen", org_code="PNV-KD",
                                        LOG_LEVEL="WARNING")
    with serving(app) as origin:
        yield LiveServer(origin, headers["Authorization"].removeprefix("Bearer "))


@pytest.fixture
def visit(chromium, live_server):
    with visiting(chromium, live_server.origin) as seen:
        yield seen


def test_the_reference_lists_the_operations_offline(visit):
    page = visit.page
    page.goto("/docs")
    page.locator(".opblock").first.wait_for()

    assert "Tracker API" in page.locator(".information-container .title").inner_text()
    assert page.locator(".opblock").count() > 50
    assert page.locator('.opblock-get .opblock-summary-path[data-path="/api/v1/assignments"]').count() == 1
    assert page.locator('.opblock-post .opblock-summary-path[data-path="/api/v1/auth/login"]').count() == 1
    fetched = {request.url.removeprefix(visit.origin).split("?")[0] for request in visit.requests}
    assert {"/docs", "/api/v1/openapi.json", "/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-init.js"} <= fetched
    visit.assert_clean()


def test_authorize_sends_the_bearer_token(visit, live_server):
    page = visit.page
    page.goto("/docs")
    page.locator(".auth-wrapper .authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("input[type=text]").fill(live_server.token)
    dialog.locator("button.authorize").click()
    dialog.locator("button.btn-done").click()

    operation = page.locator(".opblock-get", has=page.locator('.opblock-summary-path[data-path="/api/v1/auth/me"]'))
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    with page.expect_request(lambda r: r.url == f"{visit.origin}/api/v1/auth/me") as sent:
        operation.locator(".execute").click()
    assert sent.value.headers["authorization"] == f"Bearer {live_server.token}"
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    assert status.inner_text().strip() == "200"
    assert "lanhdao.huyen" in operation.locator(".live-responses-table tbody .response-col_description").first.inner_text()
    visit.assert_clean()


def test_the_home_page_leads_to_the_reference(visit):
    page = visit.page
    page.goto("/")
    assert page.locator("h1").inner_text() == "Theo dõi thực hiện Kế hoạch NQ57"
    assert page.locator("html").get_attribute("lang") == "vi"
    for href in ("/api/v1/openapi.json", "/api/v1/healthz", "/api/v1/readyz"):
        assert page.locator(f'a[href="{href}"]').count() == 1, href

    page.locator("#docs-link").click()
    page.wait_for_url(f"{visit.origin}/docs")
    page.locator('.opblock-summary-path[data-path="/api/v1/assignments"]').first.wait_for()
    visit.assert_clean()
