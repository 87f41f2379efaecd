"""`/app/`: the dashboard's shell and files, served by the application itself under a strict
Content-Security-Policy, out of the OpenAPI document; and its scripts call only operations the
OpenAPI document names (the dashboard proves the documented API is enough)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracker.frontend import PAGE_POLICY

STATIC = Path(__file__).resolve().parents[2] / "tracker" / "frontend" / "static"
SCRIPTS = sorted(STATIC.rglob("*.js"))


def fetch(client, path):
    """A response read whole and closed (files are streamed: an open one would warn)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("path", ["/app/", "/app/overdue", "/app/assignments/12/history"])
def test_every_app_path_answers_the_shell_under_the_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == PAGE_POLICY
    assert "script-src 'self'" in PAGE_POLICY and "unsafe" not in PAGE_POLICY
    html = response.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.search(r'<script type="module" src="/app/static/app\.js\?v=[0-9a-f]{16}"></script>', html)
    assert re.search(r'<link rel="stylesheet" href="/app/static/app\.css\?v=[0-9a-f]{16}">', html)
    assert "<script>" not in html and "style=" not in html and "<style" not in html
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere


def test_assets_are_served_with_their_types_and_cached_only_by_digest(client):
    shell = client.get("/app/").get_data(as_text=True)
    versioned = re.search(r'src="(/app/static/app\.js\?v=[0-9a-f]+)"', shell).group(1)
    response = fetch(client, versioned)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.cache_control.max_age == 365 * 24 * 3600 and response.cache_control.immutable
    plain = fetch(client, "/app/static/views/overview.js")
    assert plain.status_code == 200 and plain.cache_control.no_cache
    assert fetch(client, "/app/static/app.css").mimetype == "text/css"


@pytest.mark.parametrize("path", ["/app/static/missing.js", "/app/static/../__init__.py", "/app/static/%2e%2e/__init__.py",
                                  "/app/static/views/../../templates/frontend/shell.html"])
def test_nothing_but_the_static_files_is_served(client, path):
    assert fetch(client, path).status_code == 404


def test_every_module_a_script_imports_is_served(client):
    for script in SCRIPTS:
        for target in re.findall(r'^import .* from "(\.{1,2}/[^"]+)";$', script.read_text(encoding="utf-8"), re.M):
            relative = (script.parent / target).resolve().relative_to(STATIC.resolve())
            assert fetch(client, f"/app/static/{relative.as_posix()}").status_code == 200, (script.name, target)


def test_the_app_is_not_an_api_operation(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert not [path for path in paths if path.startswith("/app")]


_CALL = re.compile(r'api\.(get|post|request|download)\(\s*[`"](/[^`"]*)[`"]')
_METHOD = re.compile(r'method:\s*"([A-Z]+)"')


def test_the_scripts_call_only_documented_operations(client):
    """Every API path the scripts name matches an operation of the OpenAPI document."""
    document = client.get("/api/v1/openapi.json").get_json()
    templates = [re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path.removeprefix("/api/v1"))) + "$")
                 for path in document["paths"]]
    called = set()
    for script in SCRIPTS:
        source = script.read_text(encoding="utf-8")
        for _kind, path in _CALL.findall(source):
            concrete = re.sub(r"\$\{[^}]+\}", "1", path)
            called.add(path)
            if path == "/openapi.json":  # the document itself, read for the export formats it offers
                continue
            assert any(template.match(concrete) for template in templates), f"{script.name}: {path} is not documented"
    # the raw fetches of api.js (sign-in, refresh, logout) are documented operations too
    api_js = (STATIC / "api.js").read_text(encoding="utf-8")
    for path in re.findall(r"\$\{ROOT\}(/[a-z/]+)", api_js):
        assert f"/api/v1{path}" in document["paths"], path
        called.add(path)
    assert {"/auth/login", "/auth/refresh", "/auth/logout", "/reports/attention", "/assignments/urge"} <= called
