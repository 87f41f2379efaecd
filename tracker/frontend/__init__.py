"""The leaders' dashboard (issue 17): a browser front end at `/app/`, served by this application
from files of this package, that talks to nothing but the documented `/api/v1`.

It has no build step: plain HTML, CSS and JavaScript modules under `static/`. Every path under
`/app/` but the assets answers with the same shell page, and the page routes on the URL's hash
(`#/overdue`). Like `/docs` it is out of the OpenAPI document, needs no token to load (it signs in
through the API) and runs under a Content-Security-Policy that lets it load nothing from elsewhere.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, make_response, render_template, request, send_from_directory, url_for
from werkzeug.exceptions import NotFound

bp = Blueprint("frontend", __name__, url_prefix="/app", template_folder="templates")

STATIC = Path(__file__).with_name("static")

# No inline script or style, no eval, nothing from elsewhere. Images: evidence previews come from
# the API's signed links (same origin); exports are saved through blob: URLs.
PAGE_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

ASSET_MAX_AGE = 365 * 24 * 3600
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml"}


@cache
def _digest(path: Path, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _asset_path(name: str) -> Path:
    path = (STATIC / name).resolve()
    if not path.is_relative_to(STATIC.resolve()) or not path.is_file() or path.suffix not in _MEDIA_TYPES:
        raise NotFound()
    return path


def _fingerprint(name: str) -> str:
    path = _asset_path(name)
    stat = path.stat()  # a file changed in place (an editable install) gets a new digest
    return _digest(path, stat.st_mtime_ns, stat.st_size)


def asset_url(name: str) -> str:
    return url_for("frontend.asset", name=name, v=_fingerprint(name))


@bp.get("/")
@bp.get("/<path:_route>")
def shell(_route: str = "") -> Response:
    response = make_response(render_template(
        "frontend/shell.html", asset_url=asset_url, api_root="/api/v1", docs_url=url_for("docs.reference"),
    ))
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.cache_control.no_cache = True
    return response


@bp.get("/static/<path:name>")
def asset(name: str) -> Response:
    path = _asset_path(name)
    # Modules import each other by plain URL: those are revalidated each time; a URL with the
    # current digest (the shell's entries) never changes content and may be kept for a year.
    current = request.args.get("v") == _fingerprint(name)
    response = send_from_directory(STATIC, name, mimetype=_MEDIA_TYPES[path.suffix], max_age=ASSET_MAX_AGE if current else None)
    if current:
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
