"""The API reference as a person opens it: Debian's headless Chromium, driven by Playwright, on a
live server of the app, with every request that is not to the server's own loopback origin
aborted. The page must work with no internet and break none of its Content-Security-Policy."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server

from tests.conftest import scratch_app
from tracker.extensions import db

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 30_000

# The live server has a database of its own: tests here commit nothing, but the server's thread
# must not share the connection of the session-wide test transaction.
pytestmark = pytest.mark.no_transaction


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser test (.ci/run installs Chromium)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium():
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional: skipped or failed above
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@dataclass
class LiveServer:
    origin: str
    token: str


@pytest.fixture(scope="module")
def live_server(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    app, _target, headers = scratch_app(database_url, tmp, "browser", username="lanhdao.huyen", org_code="PNV-KD",
                                        LOG_LEVEL="WARNING")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", headers["Authorization"].removeprefix("Bearer "))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        with app.app_context():
            db.engine.dispose()


@dataclass
class Visit:
    """One browser context whose requests stay on the live server's origin: what it asked for
    elsewhere (aborted), CSP violations, console errors and uncaught script errors."""

    page: object
    origin: str
    requests: list = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def assert_clean(self) -> None:
        assert self.foreign == [], f"requests that left the origin (aborted): {self.foreign}"
        assert self.violations() == [], "Content-Security-Policy violations"
        assert self.console_errors == [], "console errors (CSP reports, failed loads, script errors)"
        assert self.page_errors == [], "uncaught script errors"


# Runs before the page's own scripts, in every document of the context.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def visit(chromium, live_server):
    context = chromium.new_context(base_url=live_server.origin, service_workers="block")
    context.add_init_script(_WATCH_CSP)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    seen = Visit(page, live_server.origin)

    def only_this_origin(route):
        url = route.request.url
        if url.startswith(live_server.origin + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            seen.foreign.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", only_this_origin)
    page.on("request", lambda request: seen.requests.append(request))
    page.on("console", lambda message: message.type == "error" and seen.console_errors.append(message.text))
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    yield seen
    context.close()


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
