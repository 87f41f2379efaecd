"""The pages for people: `/` says what this service is, `/docs` is the API reference (Swagger UI)
and `/api/v1` gives the same links as JSON. None of them needs a token, and none is an API
operation: they stay out of the OpenAPI document.

Swagger UI's files come from the `flask-swagger-ui` package (its `dist` folder only: its own page
starts Swagger UI from an inline script), so the reference works with no internet and under a
Content-Security-Policy that lets the page load nothing but this origin's files.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files
from pathlib import Path

from flask import Blueprint, Response, current_app, make_response, render_template, request, send_from_directory, url_for
from werkzeug.exceptions import NotFound

bp = Blueprint("docs", __name__, template_folder="templates")

# No inline script or style, no eval, nothing from elsewhere; Swagger UI's icons are data: images
# and it fetches the OpenAPI document and "Try it out" requests from this origin.
PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

# Asset URLs carry a digest of the file (`?v=`): a URL with the current digest never changes
# content, so browsers may keep it for a year; any other URL is revalidated each time.
ASSET_MAX_AGE = 365 * 24 * 3600
_SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "favicon-16x16.png")
_OWN_FILES = ("swagger-init.js", "pages.css")
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}  # text/* gets charset=utf-8


@cache
def _asset_folders() -> dict[str, Path]:
    swagger_ui = Path(str(files("flask_swagger_ui") / "dist"))
    own = Path(__file__).with_name("static")
    return {**dict.fromkeys(_SWAGGER_UI_FILES, swagger_ui), **dict.fromkeys(_OWN_FILES, own)}


@cache
def _digest(path: Path, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _fingerprint(name: str) -> str:
    path = _asset_folders()[name] / name
    stat = path.stat()  # a file changed in place (an editable install) gets a new digest
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def asset_url(name: str) -> str:
    return url_for("docs.asset", name=name, v=_fingerprint(name))


def links() -> dict[str, str]:
    """Where a newcomer goes next: the same list on `/` and in `/api/v1`."""
    return {
        "home": url_for("docs.home"),
        "api": url_for("docs.api_index"),
        "docs": url_for("docs.reference"),
        "openapi": url_for("api-docs.openapi_json"),
        "healthz": url_for("health.healthz"),
        "readyz": url_for("health.readyz"),
        "login": url_for("auth.login"),
    }


def _page(html: str) -> Response:
    response = make_response(html)
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.cache_control.no_cache = True
    return response


@bp.get("/")
def home():
    return _page(render_template("docs/home.html", links=links(), asset_url=asset_url))


@bp.get("/api/v1")
def api_index():
    return {
        "name": current_app.config["API_TITLE"],
        "version": current_app.config["API_VERSION"],
        "description": (
            "Theo dõi thực hiện Kế hoạch NQ57 (Nghị quyết 57-NQ/TW): nhiệm vụ, phân công, thời hạn, minh chứng, báo cáo. "
            "Tracker for the NQ57 plan (Resolution 57-NQ/TW): actions, assignments, deadlines, evidence, reports."
        ),
        "links": links(),
    }


@bp.get("/docs")
def reference():
    return _page(render_template(
        "docs/reference.html", openapi_url=url_for("api-docs.openapi_json"), links=links(), asset_url=asset_url,
    ))


@bp.get("/docs/static/<name>")
def asset(name: str):
    folder = _asset_folders().get(name)
    if folder is None:
        raise NotFound()
    current = request.args.get("v") == _fingerprint(name)
    response = send_from_directory(folder, name, mimetype=_MEDIA_TYPES[Path(name).suffix],
                                   max_age=ASSET_MAX_AGE if current else None)
    if current:
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
