"""Domain errors and the one RFC 9457 problem+json renderer.

Every error leaves the API as `application/problem+json` with `type`, `title`, `status`,
`detail` and a stable machine-readable `code`; field errors go under `errors`, keyed by
the field's path (`groups[2].actions[0].ref`). Messages are written "Vietnamese. English."; the
answer carries the part the client's Accept-Language asks for (tracker.i18n, Vietnamese by
default), with `Content-Language`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import orjson
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from tracker import i18n

log = logging.getLogger("tracker.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class AppError(Exception):
    """An error the API reports to its client. Subclasses fix status and code."""

    status: int = 400
    code: str = "request.bad_request"
    title: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail or code or self.code)
        self.detail = detail
        if code:
            self.code = code
        if status:
            self.status = status
        self.errors = dict(errors) if errors else None
        self.headers = dict(headers) if headers else {}
        self.extra = extra


class BadRequest(AppError):
    status = 400
    code = "request.bad_request"


class UnknownParameter(BadRequest):
    """Query parameters the operation does not declare (a typo, or a filter that does not exist):
    refused rather than ignored, so that a client never reads an unfiltered list as a filtered one."""

    code = "request.unknown_parameter"

    def __init__(self, names: list[str], known: list[str]):
        listed = ", ".join(f"`{name}`" for name in names)
        super().__init__(
            f"Tham số truy vấn không được hỗ trợ: {listed}. Unknown query parameter{'s' if len(names) > 1 else ''}: {listed}.",
            parameters=names, allowed=known,
        )


class Forbidden(AppError):
    """Signed in and in scope, but not allowed to do this; the code says what was refused."""

    status = 403
    code = "auth.forbidden"


class PreconditionFailed(AppError):
    status = 412
    code = "request.precondition_failed"


class PreconditionRequired(AppError):
    status = 428
    code = "request.precondition_required"


class NotFound(AppError):
    status = 404
    code = "resource.not_found"


class Conflict(AppError):
    status = 409
    code = "resource.conflict"


class UnsupportedMediaType(AppError):
    status = 415
    code = "request.unsupported_media_type"


class ValidationFailed(AppError):
    status = 422
    code = "request.validation_failed"


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error dict into {"a.b[2].c": [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix or "_schema"
            elif isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for sub_path, sub_messages in flatten_errors(value, path).items():
                flat.setdefault(sub_path, []).extend(sub_messages)
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(item, str) for item in messages):
            flat[prefix or "_schema"] = list(messages)
        else:
            for item in messages:
                for sub_path, sub_messages in flatten_errors(item, prefix).items():
                    flat.setdefault(sub_path, []).extend(sub_messages)
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def _strip_locations(messages: Mapping) -> Mapping:
    """webargs keys errors by location (json, query, ...): clients want the field alone."""
    merged: dict = {}
    for location, value in messages.items():
        if location in {"json", "query", "form", "files", "headers", "cookies", "path", "view_args"} and isinstance(value, Mapping):
            merged.update(value)
        else:
            merged[location] = value
    return merged


FIELDS_INVALID = "Dữ liệu không hợp lệ, xem `errors`. Some fields are invalid; see `errors`."


def request_language() -> str:
    """`vi` or `en`, as the request's Accept-Language asks (Vietnamese outside a request)."""
    return i18n.negotiate(request.headers.get("Accept-Language")) if has_request_context() else i18n.DEFAULT


def status_title(status: int, language: str) -> str:
    phrase = HTTPStatus(status).phrase
    return phrase if language == i18n.EN else i18n.STATUS_TITLES_VI.get(status, phrase)


def _status_detail(status: int, language: str) -> str:
    if language == i18n.EN:
        return HTTPStatus(status).description or HTTPStatus(status).phrase
    return status_title(status, language) + "."


def localized_errors(errors: Mapping[str, list[str]], language: str) -> dict[str, list[str]]:
    return {field: [i18n.localize(m, language) if isinstance(m, str) else m for m in messages]
            for field, messages in errors.items()}


def problem_response(
    status: int,
    code: str,
    *,
    title: str | None = None,
    detail: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
):
    language = request_language()
    if not detail and errors:
        detail = FIELDS_INVALID
    body: dict[str, Any] = {
        "type": f"urn:tracker:problem:{code}",
        "title": i18n.localize(title, language) if title else status_title(status, language),
        "status": status,
        "detail": i18n.localize(detail, language) if detail else _status_detail(status, language),
        "code": code,
    }
    if errors:
        body["errors"] = localized_errors(errors, language)
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = PROBLEM_MEDIA_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Content-Language"] = language
    response.vary.add("Accept-Language")
    return response


_HTTP_CODES = {
    400: "request.bad_request",
    401: "auth.unauthorized",
    403: "auth.forbidden",
    404: "request.not_found",
    405: "request.method_not_allowed",
    406: "request.not_acceptable",
    409: "resource.conflict",
    412: "request.precondition_failed",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    422: "request.validation_failed",
    428: "request.precondition_required",
    429: "request.rate_limited",
    500: "server.internal_error",
    503: "server.unavailable",
}


def handle_http_exception(error: HTTPException):
    status = error.code or 500
    if status >= 500:
        log.error("HTTP %s on %s %s", status, request.method, request.path)
        return problem_response(status, _HTTP_CODES.get(status, "server.error"))
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    headers = dict(data.get("headers") or {})
    if hasattr(error, "get_headers"):
        for name, value in error.get_headers():
            if name.lower() in {"allow", "retry-after", "www-authenticate"}:
                headers.setdefault(name, value)
    code = _HTTP_CODES.get(status, f"request.http_{status}")
    # werkzeug's stock description (English) gives way to the status's text in the language asked for
    detail = data.get("message") or (None if error.description == type(error).description else error.description)
    errors = None
    if messages:
        if isinstance(messages, Mapping) and messages.get("json") == ["Invalid JSON body."]:
            code = "request.malformed_json"
            detail = "Nội dung không phải JSON hợp lệ. The request body is not valid JSON."
        else:
            errors = flatten_errors(_strip_locations(messages) if isinstance(messages, Mapping) else messages)
            if status == 422:
                detail = FIELDS_INVALID
    if status == 404 and not data:
        detail = f"Không tìm thấy `{request.path}`. No resource at this URL."
    if status == 405:
        detail = f"Phương thức {request.method} không được hỗ trợ tại `{request.path}`. Method not allowed here."
    return problem_response(status, code, detail=detail, errors=errors, headers=headers)


def handle_app_error(error: AppError):
    return problem_response(
        error.status,
        error.code,
        title=error.title,
        detail=error.detail,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


def handle_stale(error: StaleDataError):
    """Two writers raced on the same version: the loser is told to reload, as with If-Match."""
    log.info("stale update on %s %s: %s", request.method, request.path, error)
    return problem_response(
        412, "assignment.stale",
        detail="Dữ liệu đã được người khác thay đổi; hãy tải lại. It changed while you were saving; reload it.",
    )


def handle_data_error(error: DataError):
    """A value the database cannot store (e.g. a NUL byte on PostgreSQL) is the client's error."""
    log.warning("database refused a value on %s %s: %s", request.method, request.path, type(error.orig).__name__)
    return problem_response(
        422, "request.invalid_value",
        detail="Giá trị gửi lên không lưu được (ví dụ ký tự NUL). A value sent cannot be stored (e.g. a NUL character).",
    )


UNAVAILABLE_RETRY_AFTER = "5"
UNAVAILABLE_DETAIL = ("Cơ sở dữ liệu tạm thời không truy cập được; vui lòng thử lại sau ít giây. "
                      "The database is unavailable for a moment; retry in a few seconds.")


def _quiet_rollback() -> None:
    try:
        from tracker.extensions import db  # noqa: PLC0415 - errors is imported by extensions' users, not the reverse

        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool discards it
        log.debug("rollback after a lost connection failed", exc_info=True)


def handle_database_unavailable(error: Exception):
    """The database cannot be reached (restart, crash, network, pool exhausted): 503, never 500;
    the pool pings connections before use, so the API recovers by itself when it is back."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path, type(error).__name__)
    _quiet_rollback()
    return problem_response(503, "service.unavailable", detail=UNAVAILABLE_DETAIL,
                            headers={"Retry-After": UNAVAILABLE_RETRY_AFTER})


def is_database_unavailable(error: BaseException) -> bool:
    """Errors that mean 'the database is not there right now', as opposed to a bad statement."""
    return isinstance(error, (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def handle_unexpected(error: Exception):
    if is_database_unavailable(error):
        return handle_database_unavailable(error)
    log.exception(
        "unhandled %s on %s %s (request %s)",
        type(error).__name__, request.method, request.path, g.get("request_id"),
    )
    return problem_response(
        500,
        "server.internal_error",
        detail="Lỗi hệ thống, vui lòng thử lại hoặc báo quản trị viên kèm request_id. "
        "An unexpected error occurred; quote the request_id when reporting it.",
    )


def init_app(app: Flask) -> None:
    # Registered after flask-smorest's own HTTPException handler, so these win.
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(DataError, handle_data_error)
    for unavailable in (OperationalError, InterfaceError, DisconnectionError, PoolTimeout):
        app.register_error_handler(unavailable, handle_database_unavailable)
    app.wsgi_app = ProblemGuard(app.wsgi_app)
    app.register_error_handler(Exception, handle_unexpected)


class ProblemGuard:
    """The outermost WSGI layer: an error raised outside the request handler (in teardown, say)
    still gets a problem+json answer, never the server's HTML page; 503 when it is the database."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started = []

        def tracking_start_response(status, headers, exc_info=None):
            started.append(status)
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, tracking_start_response)
        except Exception as error:  # noqa: BLE001 - last line of defence, logged
            log.exception("error outside the request handler on %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            unavailable = is_database_unavailable(error)
            status, code = (503, "service.unavailable") if unavailable else (500, "server.internal_error")
            language = i18n.negotiate(environ.get("HTTP_ACCEPT_LANGUAGE"))
            detail = UNAVAILABLE_DETAIL if unavailable else "Lỗi hệ thống. An unexpected error occurred."
            body = orjson.dumps({
                "type": f"urn:tracker:problem:{code}", "title": status_title(status, language), "status": status,
                "detail": i18n.localize(detail, language), "code": code,
            })
            headers = [("Content-Type", PROBLEM_MEDIA_TYPE), ("Content-Length", str(len(body))),
                       ("Content-Language", language), ("Vary", "Accept-Language")]
            if unavailable:
                headers.append(("Retry-After", UNAVAILABLE_RETRY_AFTER))
            # Nothing of the body was sent yet: a server replaces headers it was given earlier when
            # told why (exc_info, PEP 3333), and re-raises the error itself if it had sent them.
            start_response(f"{status} {HTTPStatus(status).phrase}", headers, sys.exc_info() if started else None)
            return [body]
