"""What the browser tests share: Debian's Chromium driven by Playwright (failing, not skipping, when
CI=true and it is missing), a live server of an app on a database of its own, and one browser
context per test whose requests stay on that server's origin."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server

from tracker.extensions import db

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 30_000


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser test (.ci/run installs Chromium)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional: skipped or failed above
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@contextmanager
def serving(app):
    """The app on a free loopback port, in a thread, until the block ends; yields its origin."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
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
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@contextmanager
def visiting(browser, origin: str, **context_options):
    """A new browser context on `origin` (e.g. `viewport=`, `locale=`), its first page watched."""
    context = browser.new_context(base_url=origin, service_workers="block", **context_options)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    seen = Visit(page, origin)

    def only_this_origin(route):
        url = route.request.url
        if url.startswith(origin + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            seen.foreign.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", only_this_origin)
    page.on("request", lambda request: seen.requests.append(request))
    page.on("console", lambda message: message.type == "error" and seen.console_errors.append(message.text))
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    try:
        yield seen
    finally:
        context.close()
