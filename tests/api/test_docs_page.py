"""`/`, `/api/v1` and `/docs`: public pages served from the package's own files, under a strict
Content-Security-Policy, and kept out of the OpenAPI document."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tracker.docs import PAGE_POLICY

LINKS = {
    "docs": "/docs",
    "openapi": "/api/v1/openapi.json",
    "healthz": "/api/v1/healthz",
    "readyz": "/api/v1/readyz",
}


class _References(HTMLParser):
    """Every URL a page makes the browser fetch (scripts, styles, icons, images, frames)."""

    def __init__(self):
        super().__init__()
        self.fetched: list[str] = []
        self.links: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in attrs
            if "src" in attrs:
                self.fetched.append(attrs["src"])
        elif tag == "link":
            self.fetched.append(attrs["href"])
        elif tag in {"img", "iframe", "embed", "source", "audio", "video"} and "src" in attrs:
            self.fetched.append(attrs["src"])
        elif tag == "a":
            self.links.append(attrs["href"])
        elif tag == "style":
            self.inline_styles += 1
        if "style" in attrs:
            self.inline_styles += 1
        if any(name.startswith("on") for name in attrs) or attrs.get("href", "").startswith("javascript:"):
            self.inline_scripts += 1

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def _references(html: str) -> _References:
    parser = _References()
    parser.feed(html)
    return parser


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.parametrize("path", ["/docs", "/"])
def test_pages_carry_a_strict_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/docs", "/"])
def test_pages_fetch_only_this_origin_and_run_no_inline_code(client, path):
    references = _references(client.get(path).get_data(as_text=True))
    assert references.fetched
    for url in references.fetched:
        assert url.startswith("/docs/static/"), url
    for url in references.links:
        assert url.startswith("/") and not url.startswith("//"), url
    assert references.inline_scripts == 0
    assert references.inline_styles == 0


def test_the_reference_loads_swagger_ui_on_the_served_document(client):
    html = client.get("/docs").get_data(as_text=True)
    references = _references(html)
    scripts = [url.split("?")[0] for url in references.fetched if url.split("?")[0].endswith(".js")]
    assert scripts == ["/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-init.js"]
    assert 'data-openapi-url="/api/v1/openapi.json"' in html
    assert "cdn" not in html.lower()


def test_every_asset_of_the_pages_is_served_with_its_type_and_a_long_cache(client):
    expected_types = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    urls = set(_references(client.get("/docs").get_data(as_text=True)).fetched)
    urls |= set(_references(client.get("/").get_data(as_text=True)).fetched)
    assert len(urls) >= 5
    for url in urls:
        response = client.get(url, buffered=True)
        assert response.status_code == 200, url
        suffix = re.search(r"\.[a-z]+(?=\?|$)", url).group()
        assert response.mimetype == expected_types[suffix], url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.cache_control.max_age == 365 * 24 * 3600, url
        assert response.cache_control.immutable, url
        assert response.headers["ETag"]
        assert len(response.data) > 100, url


def test_swagger_ui_is_the_packaged_one(client):
    bundle = client.get("/docs/static/swagger-ui-bundle.js", buffered=True)
    assert bundle.status_code == 200
    assert b"SwaggerUIBundle" in bundle.data
    assert len(bundle.data) > 500_000


def test_an_asset_without_its_current_digest_is_revalidated(client):
    for url in ("/docs/static/swagger-ui.css", "/docs/static/swagger-ui.css?v=0123456789abcdef"):
        response = client.get(url, buffered=True)
        assert response.status_code == 200
        assert response.cache_control.no_cache
        assert response.cache_control.max_age is None
        assert not response.cache_control.immutable
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]}, buffered=True)
        assert again.status_code == 304


@pytest.mark.parametrize("path", [
    "/docs/static/nothing.js",
    "/docs/static/oauth2-redirect.html",  # in the Swagger UI package, but not served
    "/docs/static/index.template.html",
    "/docs/static/..%2F__init__.py",
    "/docs/static/../__init__.py",
    "/docs/static/",
])
def test_anything_else_under_static_is_a_problem_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "request.not_found"


def test_the_home_page_says_what_this_is_and_links_everything(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Kế hoạch NQ57" in html
    assert "Tracker for the NQ57 plan" in html
    assert "57-NQ/TW" in html
    links = _references(html).links
    for href in LINKS.values():
        assert href in links, href
    assert "POST /api/v1/auth/login" in html


def test_the_api_index_gives_the_same_links_as_json(client):
    response = client.get("/api/v1")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["name"] == "Tracker API"
    assert body["version"] == "v1"
    assert "Kế hoạch NQ57" in body["description"] and "Tracker for the NQ57 plan" in body["description"]
    assert body["links"] == {**LINKS, "home": "/", "api": "/api/v1", "login": "/api/v1/auth/login"}
    # The JSON keeps the API's own policy (nothing may run from it).
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_every_link_answers_without_a_token(client):
    for href in client.get("/api/v1").get_json()["links"].values():
        if href.endswith("/login"):
            continue  # POST only
        assert client.get(href, buffered=True).status_code == 200, href


def test_the_pages_need_no_token_and_ignore_a_bad_one(client):
    for path in ("/", "/api/v1", "/docs"):
        assert client.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 200, path


def test_pages_only_answer_reads(client):
    for path in ("/", "/api/v1", "/docs"):
        response = client.post(path, json={})
        assert response.status_code == 405, path
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == "request.method_not_allowed"


def test_the_pages_are_not_api_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/", "/api/v1", "/docs", "/docs/static/{name}"):
        assert path not in paths, path
    assert not any(path.startswith("/docs") for path in paths)
