"""HTTP plumbing shared by every blueprint: the Api and Blueprint classes, JSON via orjson,
request ids, security headers, content-type checks and paging links."""

from __future__ import annotations

import decimal
import http
import logging
import re
import sys
import time
import unicodedata
import uuid
from itertools import chain
from typing import Any
from urllib.parse import quote, urlencode

import marshmallow as ma
import orjson
from flask import Flask, Request, Response, g, request
from flask.signals import appcontext_tearing_down, request_tearing_down
from flask.json.provider import JSONProvider
from werkzeug.routing import IntegerConverter
from flask_smorest import Api, Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response

from tracker.errors import PROBLEM_MEDIA_TYPE, UnsupportedMediaType
from tracker.storage import StagedUpload, current_storage

log = logging.getLogger("tracker.request")
_SENTINEL = object()


class TrackerFlask(Flask):
    """Flask whose teardown callbacks can never turn an answer into an error: the answer was built
    (and any change committed) before they run. Each one runs, and a failure is logged."""

    def _run_teardown(self, funcs, exc) -> None:
        for func in funcs:
            try:
                self.ensure_sync(func)(exc)
            except Exception:  # noqa: BLE001 - logged; the answer stands
                log.warning("teardown %s failed", getattr(func, "__qualname__", func), exc_info=True)

    def do_teardown_request(self, exc=_SENTINEL) -> None:
        if exc is _SENTINEL:
            exc = sys.exc_info()[1]
        for name in chain(request.blueprints, (None,)):
            self._run_teardown(reversed(self.teardown_request_funcs.get(name, ())), exc)
        request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def do_teardown_appcontext(self, exc=_SENTINEL) -> None:
        if exc is _SENTINEL:
            exc = sys.exc_info()[1]
        self._run_teardown(reversed(self.teardown_appcontext_funcs), exc)
        appcontext_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)


class BoundedIntConverter(IntegerConverter):
    """`<int:id>` in URLs, up to the largest id a database column holds: anything larger is a 404."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class TrackerRequest(Request):
    """Uploaded files stream straight into a hashing staging file on disk, never into memory."""

    staged_uploads: list[StagedUpload]

    def make_form_data_parser(self):
        # A truncated or malformed multipart body must be an error, not an empty form.
        parser = super().make_form_data_parser()
        parser.silent = False
        return parser

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        if self.__dict__.get("staged_uploads"):
            # An upload is one file (the view refuses more): later file parts are parsed, not kept.
            return _DiscardedPart()
        staged = StagedUpload(current_storage().staging_dir())
        self.__dict__.setdefault("staged_uploads", []).append(staged)
        return staged


class _DiscardedPart:
    """Where a second file part goes: nowhere (no disk, no open file per part)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def read(self, size: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        pass


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error of this API is shaped."""

    type = ma.fields.String(metadata={"description": "URI naming the problem type"})
    title = ma.fields.String(metadata={"description": "Short summary of the problem type"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "Explanation of this occurrence (Vietnamese, then English)"})
    code = ma.fields.String(metadata={"description": "Stable machine-readable code, e.g. `plan.invalid_file`"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Field errors keyed by the field's path, e.g. `groups[2].actions[0].ref`"},
    )
    request_id = ma.fields.String(metadata={"description": "Id of the request, also in the X-Request-ID header"})


class TrackerApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self):
        """Document every error response as application/problem+json."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _register_error_handlers(self):
        # tracker.errors.init_app registers the problem+json handlers for the whole app.
        pass


class Blueprint(SmorestBlueprint):
    """flask-smorest Blueprint whose paged responses also carry an RFC 8288 Link header."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 50, "max_page_size": 200}

    def _set_pagination_metadata(self, page_params, result, headers):
        if isinstance(result, Response):  # an export (CSV, XLSX) holds every row: it is not a page
            return result, headers
        result, headers = super()._set_pagination_metadata(page_params, result, headers)
        meta = self._make_pagination_metadata(page_params.page, page_params.page_size, page_params.item_count)
        links = []
        for rel, key in (("first", "first_page"), ("prev", "previous_page"), ("next", "next_page"), ("last", "last_page")):
            if key in meta:
                args = request.args.to_dict(flat=False)
                args["page"] = [str(meta[key])]
                args["page_size"] = [str(page_params.page_size)]
                links.append(f'<{request.base_url}?{urlencode(args, doseq=True)}>; rel="{rel}"')
        if links:
            headers["Link"] = ", ".join(links)
        return result, headers


def _orjson_default(value: Any):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


class OrjsonProvider(JSONProvider):
    """Fast JSON that keeps Vietnamese text as UTF-8, not \\u escapes; a datetime no schema
    formatted still leaves with its zone, as UTC with `Z` (naive ones are UTC)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        option = orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z
        if kwargs.get("indent") or kwargs.get("sort_keys"):
            option |= orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
        return orjson.dumps(obj, default=_orjson_default, option=option).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON_TYPES = re.compile(r"^application/(?:[a-z0-9.+-]*\+)?json$")


def accepts(*media_types: str):
    """Declare the request body media types a view takes (JSON when not declared).

    Checked before the view runs, so a wrong type is a 415 whatever the body holds.
    """

    def decorator(func):
        func._tracker_accepts = media_types
        return func

    return decorator


def _check_content_type(app: Flask) -> None:
    if request.method not in _BODY_METHODS or request.url_rule is None:
        return
    has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
    if not has_body:
        return
    view = app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    handler = getattr(view_class, request.method.lower(), None) if view_class is not None else view
    accepted = getattr(handler, "_tracker_accepts", None)
    mimetype = request.mimetype
    if accepted is None:
        if _JSON_TYPES.match(mimetype):
            return
        accepted = ("application/json",)
    elif mimetype in accepted:
        return
    allowed = ", ".join(accepted)
    raise UnsupportedMediaType(
        f"Kiểu nội dung {mimetype or '(không có)'} không được hỗ trợ; dùng {allowed}. "
        f"Unsupported Content-Type; send {allowed}.",
        accepted=list(accepted),
    )


def init_app(app: Flask) -> None:
    app.request_class = TrackerRequest
    app.url_map.converters["int"] = BoundedIntConverter
    app.json = OrjsonProvider(app)

    @app.teardown_request
    def _remove_staged_uploads(_exc):
        # Closing a staging file deletes it: whatever was stored was linked or copied already.
        for staged in request.__dict__.pop("staged_uploads", []):
            staged.close()
    cors_origins = set(app.config.get("TRACKER_CORS_ORIGINS") or ())

    @app.before_request
    def _start_request():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()
        _check_content_type(app)

    @app.after_request
    def _finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.path.startswith("/docs"):
            response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        origin = request.headers.get("Origin")
        if origin and origin in cors_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Expose-Headers"] = "ETag, Link, X-Pagination, X-Next-Cursor, X-Request-ID, Content-Disposition"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, If-Match, If-None-Match, X-Request-ID"
                response.headers["Access-Control-Max-Age"] = "600"
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed_ms)
        return response


def transliterate(text: str) -> str:
    """Vietnamese text in ASCII letters: the marks dropped, Đ/đ (not a D with a mark) as D/d."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = re.sub(r'[^A-Za-z0-9._ -]', "_", transliterate(filename)).strip() or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
