"""HTTP plumbing shared by every blueprint: the Api and Blueprint classes, JSON via orjson,
request ids, security headers, content-type checks and paging links."""

from __future__ import annotations

import decimal
import http
import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
import orjson
from flask import Flask, g, request
from flask.json.provider import JSONProvider
from flask_smorest import Api, Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response

from tracker.errors import PROBLEM_MEDIA_TYPE, UnsupportedMediaType

log = logging.getLogger("tracker.request")


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
    """Fast JSON that keeps Vietnamese text as UTF-8, not \\u escapes."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        option = orjson.OPT_NON_STR_KEYS
        if kwargs.get("indent") or kwargs.get("sort_keys"):
            option |= orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
        return orjson.dumps(obj, default=_orjson_default, option=option).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON_TYPES = re.compile(r"^application/(?:[a-z0-9.+-]*\+)?json$")


def accepts(*media_types: str):
    """Declare which request body media types a view takes besides JSON (checked before the view)."""

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
    extra = ()
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        extra = getattr(getattr(view_class, request.method.lower(), None), "_tracker_accepts", ())
    else:
        extra = getattr(view, "_tracker_accepts", ())
    mimetype = request.mimetype
    if _JSON_TYPES.match(mimetype) or mimetype in extra:
        return
    allowed = ", ".join(("application/json", *extra))
    raise UnsupportedMediaType(
        f"Kiểu nội dung {mimetype or '(không có)'} không được hỗ trợ; dùng {allowed}. "
        f"Unsupported Content-Type; send {allowed}.",
        accepted=list(("application/json", *extra)),
    )


def init_app(app: Flask) -> None:
    app.json = OrjsonProvider(app)
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
            response.headers["Access-Control-Expose-Headers"] = "ETag, Link, X-Pagination, X-Request-ID, Content-Disposition"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, If-Match, If-None-Match, X-Request-ID"
                response.headers["Access-Control-Max-Age"] = "600"
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed_ms)
        return response
