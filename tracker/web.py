"""HTTP plumbing shared by every blueprint: the Api and Blueprint classes, JSON via orjson,
request ids, security headers, content-type checks and paging links."""

from __future__ import annotations

import decimal
import hashlib
import http
import logging
import re
import sys
import time
import unicodedata
import uuid
from functools import wraps
from itertools import chain
from typing import Any
from urllib.parse import quote, urlencode

import marshmallow as ma
from marshmallow import validate
import orjson
from flask import Flask, Request, Response, g, request
from flask.signals import appcontext_tearing_down, request_tearing_down
from flask.json.provider import JSONProvider
from werkzeug.http import quote_etag
from werkzeug.routing import IntegerConverter
from flask_smorest import Api, Blueprint as SmorestBlueprint
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from flask_smorest.utils import prepare_response

from tracker.errors import PROBLEM_MEDIA_TYPE, UnsupportedMediaType, ValidationFailed
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


def _extension(field: ma.fields.Field, description: str) -> ma.fields.Field:
    """An extension member of a problem (RFC 9457 section 3.2): sent only with the codes named."""
    field.metadata = {**field.metadata, "description": description, "optional": True}
    return field


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error of this API is shaped: five members always, `errors`
    and `request_id` when there are any, and the extension members some codes carry (documented
    below; a client ignores members it does not know, as RFC 9457 asks)."""

    class Meta:
        unknown = ma.INCLUDE  # documented as additionalProperties: true (extension members)

    type = ma.fields.String(metadata={"description": "URI naming the problem type: `urn:tracker:problem:<code>`"})
    title = ma.fields.String(metadata={"description": "Short summary of the problem type (the HTTP status phrase)"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "Explanation of this occurrence (Vietnamese, then English)"})
    code = ma.fields.String(metadata={"description": "Stable machine-readable code, e.g. `plan.invalid_file`"})
    errors = _extension(ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String())),
                        "Field errors keyed by the field's path, e.g. `groups[2].actions[0].ref` (422 and some 400s)")
    request_id = _extension(ma.fields.String(), "Id of the request, also in the X-Request-ID header")
    etag = _extension(ma.fields.String(), "412/428 of If-Match: the ETag a GET of the object gives now")
    allowed = _extension(ma.fields.List(ma.fields.String()), (
        "What would have been accepted: the statuses reachable from `current` (`assignment.invalid_transition`), "
        "the query parameters the operation declares (`request.unknown_parameter`), the file extensions taken "
        "(`evidence.type_not_allowed`, `evidence.type_mismatch`)"))
    current = _extension(ma.fields.String(), "The current status (`assignment.invalid_transition`, measurement decisions)")
    parameters = _extension(ma.fields.List(ma.fields.String()), "The undeclared query parameters (`request.unknown_parameter`)")
    accepted = _extension(ma.fields.List(ma.fields.String()), "The request media types taken (`request.unsupported_media_type`)")
    detected = _extension(ma.fields.String(), "What the file's content was found to be (`evidence.executable`, `evidence.type_mismatch`...)")
    fields_ = _extension(ma.fields.List(ma.fields.String(), data_key="fields"),
                         "The fields the caller may not change (`assignment.forbidden`)")
    claim = _extension(ma.fields.String(), "The missing token claim (`auth.token_missing_claim`)")
    reason = _extension(ma.fields.String(allow_none=True), "Why the session ended (`auth.session_ended`)")
    retry_after = _extension(ma.fields.Integer(), "Seconds to wait, as in Retry-After (`auth.too_many_attempts`)")
    max_bytes = _extension(ma.fields.Integer(), "The largest upload taken, in bytes (`evidence.too_large`)")
    max_days = _extension(ma.fields.Integer(), "How many days back an officer may date a submission")
    extension_id = _extension(ma.fields.Integer(), "The pending extension request in the way")
    extension_status = _extension(ma.fields.String(), "The status of the extension request")
    organization_id = _extension(ma.fields.Integer(), "The organisation named in the problem")
    successor_id = _extension(ma.fields.Integer(allow_none=True), "The organisation that took over a closed one")
    total = _extension(ma.fields.Integer(), "Items in the list (a page beyond the last)")
    total_pages = _extension(ma.fields.Integer(), "Pages in the list (a page beyond the last)")


class PaginationMetadataSchema(ma.Schema):
    """What `X-Pagination` holds: a JSON object, sent as the header's text."""

    total = ma.fields.Integer(metadata={"description": "Total number of items"})
    total_pages = ma.fields.Integer(metadata={"description": "Total number of pages"})
    first_page = ma.fields.Integer(metadata={"description": "First page number (absent when the list is empty)", "optional": True})
    last_page = ma.fields.Integer(metadata={"description": "Last page number (absent when the list is empty)", "optional": True})
    page = ma.fields.Integer(metadata={"description": "This page's number (absent beyond the last page, and on a page "
                                                      "read by cursor)", "optional": True})
    previous_page = ma.fields.Integer(metadata={"description": "Previous page number, when there is one", "optional": True})
    next_page = ma.fields.Integer(metadata={"description": "Next page number, when there is one (not on a page read by cursor)",
                                            "optional": True})
    next_cursor = ma.fields.String(metadata={"description": "The cursor of the next page, on lists that page by cursor "
                                                            "(also in X-Next-Cursor); absent on the last page", "optional": True})


PAGINATION_HEADER_DOC = {
    "description": (
        "Paging metadata: a JSON object sent as the header's text (parse it with JSON.parse), e.g. "
        "`{\"total\": 341, \"total_pages\": 7, \"first_page\": 1, \"last_page\": 7, \"page\": 1, \"next_page\": 2}`; "
        "its members are described by the PaginationMetadata schema"),
    "schema": {"type": "string", "contentMediaType": "application/json",
               "contentSchema": {"$ref": "#/components/schemas/PaginationMetadata"}},
}


class ConditionalGetDoc(BasePlugin):
    """Documents what `conditional_get` does, on every GET whose 200 answer is JSON: the ETag, the
    If-None-Match parameter and the 304."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        operation = (operations or {}).get("get") or {}
        responses = operation.get("responses", {})
        ok = next((response for status, response in responses.items() if str(status) == "200"), None)  # keys: int or str
        if not isinstance(ok, dict) or not any(_JSON_TYPES.match(media) for media in ok.get("content", {})):
            return
        ok.setdefault("headers", {}).setdefault("ETag", {"schema": {"type": "string"}, "description": (
            "Weak tag `W/\"<digest>\"` of this answer (body and paging headers): send it back in If-None-Match")})
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("in") == "header" and p.get("name", "").lower() == "if-none-match" for p in parameters if isinstance(p, dict)):
            parameters.append({"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
                               "description": "The ETag of an answer you hold: 304 without a body while the answer is unchanged"})
        responses.setdefault("304", {
            "description": "Not Modified: the answer would be byte-identical to the one whose ETag was sent in If-None-Match "
                           "(no body; the ETag, Cache-Control and Vary are sent again)",
            "headers": {"ETag": {"schema": {"type": "string"}}},
        })


EMPTY_PATCH_DOC = "The fields to change, at least one: no body, or `{}`, is a 422 `request.empty_patch`"


class ContractPlugin(MarshmallowPlugin):
    """apispec's marshmallow plugin, which also writes down what the API enforces everywhere.

    - Every error response (4xx, 5xx) declared without a body is `application/problem+json`.
    - A schema seen only in responses lists every member it always sends as `required` (marshmallow
      dumps each field, null included; a field whose metadata says `optional` may be absent). A
      schema read from requests too keeps its input `required` list, plus its read-only members
      (readOnly: required of answers only).
    - A PATCH body has `minProperties: 1` (`Blueprint.arguments` refuses an empty one).
    - A text field validated by a rule that carries `json_schema` (`printable`, `single_line`)
      says so, e.g. as a `pattern`; a `Constant` field has the type and the one value it sends.
    - A schema whose `Meta.json_schema` holds keywords (a rule between members, `if`/`then`) has
      them in its component.
    """

    def init_spec(self, spec):
        super().init_spec(spec)
        self._always_sent: dict[str, list[str]] = {}
        self._declared_required: dict[str, list[str]] = {}
        self._uses: dict[str, set[str]] = {}
        self.converter.add_attribute_function(_documented_rules)

    def schema_helper(self, name, _, schema=None, **kwargs):
        json_schema = super().schema_helper(name, _, schema=schema, **kwargs)
        if json_schema is not None:
            instance = resolve_schema_instance(schema)
            self._always_sent[name] = [field.data_key or field_name for field_name, field in instance.dump_fields.items()
                                       if not field.metadata.get("optional")]
            self._declared_required[name] = list(json_schema.get("required", []))
            json_schema.update(getattr(getattr(instance, "Meta", None), "json_schema", {}))
        return json_schema

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            for status, response in operation.get("responses", {}).items():
                if _is_error(status) and isinstance(response, dict) and "content" not in response and "$ref" not in response:
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": ProblemSchema}}
        super().operation_helper(path=path, operations=operations, **kwargs)
        touched = set()
        for method, operation in (operations or {}).items():
            request_body = operation.get("requestBody") or {}
            for name in self._schemas_in([request_body, operation.get("parameters", [])]):
                self._uses.setdefault(name, set()).add("request")
                touched.add(name)
            for name in self._schemas_in([self._component("responses", r) for r in operation.get("responses", {}).values()]):
                self._uses.setdefault(name, set()).add("response")
                touched.add(name)
            if method == "patch" and "application/json" in request_body.get("content", {}):
                request_body.setdefault("description", EMPTY_PATCH_DOC)
                body = request_body["content"]["application/json"].get("schema", {})
                self._component("schemas", body).setdefault("minProperties", 1)
        for name in touched:
            self._state_required(name)

    def _component(self, section: str, obj):
        """The component a `$ref` (or, before apispec resolves it, a bare component id) names; else `obj`."""
        if isinstance(obj, dict) and "$ref" in obj:
            obj = obj["$ref"].rsplit("/", 1)[-1]
        if not isinstance(obj, str):
            return obj
        components = self.spec.components
        return getattr(components, section).get(obj) or getattr(components, f"{section}_lazy").get(obj) or {}

    def _schemas_in(self, node, found=None) -> set[str]:
        """The names of the schema components `node` refers to, directly or through other components."""
        found = set() if found is None else found
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[-1]
                if name not in found:
                    found.add(name)
                    self._schemas_in(self.spec.components.schemas.get(name), found)
            for key, value in node.items():
                if key == "headers" and isinstance(value, dict):  # response headers: objects, refs or component ids
                    value = [self._component("headers", header) for header in value.values()]
                self._schemas_in(value, found)
        elif isinstance(node, list):
            for value in node:
                self._schemas_in(value, found)
        return found

    def _state_required(self, name: str) -> None:
        component = self.spec.components.schemas.get(name)
        if component is None or name not in self._always_sent:
            return
        uses = self._uses.get(name, set())
        properties = component.get("properties", {})
        declared = self._declared_required[name]
        always = [member for member in self._always_sent[name] if member in properties]
        if "response" not in uses:
            required = declared
        elif "request" not in uses:
            required = [member for member in always if not properties[member].get("writeOnly")]
        else:
            required = declared + [member for member in always if properties[member].get("readOnly") and member not in declared]
        if required:
            component["required"] = sorted(required)
        else:
            component.pop("required", None)


def _is_error(status) -> bool:
    return str(status).isdigit() and int(status) >= 400


def _documented_rules(self, field, ret, **kwargs) -> dict:
    """OpenAPI attributes of what the marshmallow converter cannot see: validators that document
    themselves (`json_schema`), what a Function or Method field returns (`metadata["returns"]`, a
    field), and a Constant's type and value. A Regexp ending in Python's `\\Z` (the end of the
    text: Python's `$` also matches before a final line break) is written with ECMA-262's `$`,
    which means exactly that."""
    found: dict = {}
    for rule in field.validators:
        found.update(getattr(rule, "json_schema", {}))
        if isinstance(rule, validate.Regexp) and rule.regex.pattern.endswith("\\Z") and "pattern" in ret:
            found["pattern"] = ret["pattern"][:-2] + "$"
    returns = field.metadata.get("returns")  # a Function or Method field names the field its value is shaped as
    if returns is not None:
        found.update(self.field2property(returns))
    if isinstance(field, ma.fields.Constant) and "type" not in ret:
        json_type = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(field.constant))
        if json_type:
            found.update({"type": json_type, "enum": [field.constant]})
    return found


class TrackerApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *, extra_plugins=None, **options):
        super()._init_spec(marshmallow_plugin=ContractPlugin(), extra_plugins=[*(extra_plugins or ()), ConditionalGetDoc()],
                           **options)

    def _register_pagination_header(self):
        """`X-Pagination` is JSON text: a string header whose content the PaginationMetadata schema describes."""
        self.spec.components.schema("PaginationMetadata", schema=PaginationMetadataSchema)
        self.spec.components.header("PAGINATION", PAGINATION_HEADER_DOC, lazy=True)

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
    """flask-smorest Blueprint whose paged responses also carry an RFC 8288 Link header, and whose
    PATCH operations refuse a body that changes nothing."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 50, "max_page_size": 200}

    def arguments(self, schema, *, location="json", **kwargs):
        """For a JSON body, two rules on top of webargs:

        - its values have the JSON types the document gives them: marshmallow alone reads `0` as
          false, `"5"` or `2.5` as an integer; here they are a 422 naming the field, as any other;
        - a missing body reads as `{}` (webargs): on a POST, a 422 naming the required fields; on a
          PATCH, where every field is optional, a 422 `request.empty_patch` (documented by
          ContractPlugin as `minProperties: 1`) rather than a 200 that changed nothing."""
        decorate = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return decorate
        instance = resolve_schema_instance(schema)

        def decorator(func):
            @wraps(func)
            def refuse_empty_patch(*args, **view_kwargs):
                if request.method == "PATCH" and args and args[-1] == {}:  # webargs appends the parsed body
                    raise ValidationFailed("Không có gì để thay đổi: gửi ít nhất một trường. "
                                           "Nothing to change: send at least one field.", code="request.empty_patch")
                return func(*args, **view_kwargs)

            parsing = decorate(refuse_empty_patch)

            @wraps(parsing)
            def typed(*args, **view_kwargs):
                body = request.get_json(silent=True) if request.is_json else None
                mistyped = _json_type_errors(instance, body)
                if mistyped:
                    self.ARGUMENTS_PARSER.handle_error(ma.ValidationError({"json": mistyped}), request, instance,
                                                       error_status_code=None, error_headers=None)
                return parsing(*args, **view_kwargs)

            return typed

        return decorator

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


def _json_type_errors(schema: ma.Schema, body: Any) -> dict:
    """The members of a JSON object whose values are of another JSON type than `schema` documents
    for them (booleans, integers, numbers; nested objects and lists followed): {member: [message]},
    keyed as marshmallow keys its own errors. Everything else is marshmallow's to check."""
    if not isinstance(body, dict):
        return {}
    errors = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        found = _value_type_errors(field, body[key]) if key in body else None
        if found:
            errors[key] = found
    return errors


def _value_type_errors(field: ma.fields.Field, value: Any):
    if value is None or isinstance(field, ma.fields.Pluck):
        return None  # null is allow_none's business; a Pluck takes a bare value
    if isinstance(field, ma.fields.Nested):
        if (field.many or field.schema.many) and isinstance(value, list):
            found = {index: errors for index, item in enumerate(value) if (errors := _json_type_errors(field.schema, item))}
        else:
            found = _json_type_errors(field.schema, value)
        return found or None
    if isinstance(field, ma.fields.List):
        if not isinstance(value, list):
            return None
        found = {index: errors for index, item in enumerate(value) if (errors := _value_type_errors(field.inner, item))}
        return found or None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(field, ma.fields.Boolean):
        typed = isinstance(value, bool)
    elif isinstance(field, ma.fields.Integer):  # 2.0 is an integer in JSON Schema; 2.5 and "2" are not
        typed = number and (isinstance(value, int) or value.is_integer())
    elif isinstance(field, ma.fields.Number):
        typed = number
    else:
        return None
    return None if typed else [field.error_messages["invalid"]]


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
        # The docs pages set their own policy first; everything else (files and errors under /docs too) gets this one.
        response.headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        origin = request.headers.get("Origin")
        if origin and origin in cors_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.vary.add("Origin")  # added to the Vary of a conditional GET, not in its place
            response.headers["Access-Control-Expose-Headers"] = "ETag, Link, X-Pagination, X-Next-Cursor, X-Request-ID, Content-Disposition"
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, If-Match, If-None-Match, X-Request-ID"
                response.headers["Access-Control-Max-Age"] = "600"
        elapsed_ms = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed_ms)
        return response

    app.after_request(conditional_get)  # runs before _finish_request, which logs the final status


# Conditional GET for JSON answers (RFC 9110 section 13). What a JSON answer says depends on more
# than stored rows: on the day (an assignment's class as of today), on the caller (their scope) and
# on the language asked for. So its validator is a digest of what is actually sent, taken after the
# view ran: a 304 is never stale, the bytes a client holds are the bytes it would get again. The
# saving is bandwidth (the view still runs), and the tag needs no bookkeeping anywhere else.
_DIGESTED_HEADERS = ("Content-Type", "X-Pagination", "X-Next-Cursor", "Link")  # a page is read with these
_PAGE_HEADERS = ("X-Pagination", "X-Next-Cursor", "Link")
JSON_CACHE_CONTROL = "private, no-cache"  # browsers may keep an answer, but ask again (If-None-Match) each time
VARY_ON = ("Authorization", "Accept-Language")


def representation_digest(response: Response) -> str:
    """A digest of a JSON answer as it is sent: its body and the headers a page is read with."""
    digest = hashlib.blake2b(digest_size=12)
    for name in _DIGESTED_HEADERS:
        digest.update(f"{name}: {response.headers.get(name, '')}\n".encode())
    digest.update(response.get_data())
    return digest.hexdigest()


def representation_etag(version_tag: str, response: Response) -> str:
    """The tag of an answer that shows a versioned object: `<version tag>.<digest of the answer>`."""
    return f"{version_tag}.{representation_digest(response)}"


def versioned_etag(version_tag: str) -> dict[str, str]:
    """The headers of an answer that shows an object with a version (`"<id>.<version>"`, what
    If-Match is compared with). On a GET the tag sent becomes `"<id>.<version>.<digest>"`: the
    version for If-Match, which compares only that part, and a digest of the whole answer for
    If-None-Match, so that a body that changed without a new version (the day moved on, a name
    changed, another caller) is never answered 304. Other answers (PATCH, POST) keep the bare
    version tag: good for If-Match, never equal to a GET's tag."""
    g.etag_version = version_tag
    return {"ETag": quote_etag(version_tag)}


def conditional_get(response: Response) -> Response:
    """After a GET or HEAD answered 200 with JSON: its ETag (the view's own, completed when it named
    a version, else weak from a digest), `Vary: Authorization, Accept-Language`, a private
    Cache-Control, and a 304 without body or paging headers when If-None-Match names the tag."""
    version = g.pop("etag_version", None)
    if (request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough
            or response.is_streamed or not _JSON_TYPES.match(response.mimetype or "")):
        return response
    if version is not None:
        response.set_etag(representation_etag(version, response))
    elif "ETag" not in response.headers:
        response.set_etag(representation_digest(response), weak=True)
    response.vary.update(VARY_ON)
    response.headers.setdefault("Cache-Control", JSON_CACHE_CONTROL)
    tag, _weak = response.get_etag()
    if tag and request.if_none_match.contains_weak(tag):  # If-None-Match compares weakly (RFC 9110 13.1.2)
        response.status_code = 304  # werkzeug sends no body and drops Content-Type and Content-Length
        for name in _PAGE_HEADERS:
            response.headers.pop(name, None)
    return response


# The header every create answers with (201), as the OpenAPI document declares it.
LOCATION_HEADER = {"Location": {"schema": {"type": "string"}, "description": "The created object's URL"}}


def transliterate(text: str) -> str:
    """Vietnamese text in ASCII letters: the marks dropped, Đ/đ (not a D with a mark) as D/d."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`attachment` (or `inline`) with an ASCII fallback name for old clients (Vietnamese
    transliterated: "Đề án.pdf" as "De an.pdf") and the exact UTF-8 name (RFC 6266 / RFC 8187)."""
    ascii_name = re.sub(r'[^A-Za-z0-9._ -]', "_", transliterate(filename)).strip() or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
