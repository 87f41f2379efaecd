"""Unknown query parameters are refused: 400 `request.unknown_parameter`, naming them.

An operation knows the query parameters its OpenAPI document declares (flask-smorest builds them
from `@blp.arguments(..., location="query")`, `@blp.paginate` and `@blp.doc`), so that the check
and the document cannot drift apart: a parameter a view reads is accepted once it is documented.
What each operation declares is read from the document once per application.

Routes outside the document (the docs UI, the OpenAPI file, probes at the root) are left alone,
and so is OPTIONS: a CORS preflight carries the query of the request it asks about, which is
checked when it comes. The 400 is added to every documented operation by a spec plugin, so that
no view has to declare it.
"""

from __future__ import annotations

from apispec import BasePlugin
from flask import Flask, current_app, request
from flask_smorest.spec.plugins import FlaskPlugin

from tracker.errors import PROBLEM_MEDIA_TYPE, UnknownParameter
from tracker.extensions import api

_DECLARED = "tracker.declared_query_parameters"
UNKNOWN_PARAMETER_DOC = "An undeclared query parameter (`request.unknown_parameter`, naming it in `parameters`)"


def declared_parameters(app: Flask) -> dict[tuple[str, str], frozenset[str]]:
    """(URL rule, method) -> the query parameters the OpenAPI document declares for that operation."""
    table = app.extensions.get(_DECLARED)
    if table is None:
        document = api.spec.to_dict()
        paths = document.get("paths", {})
        shared = document.get("components", {}).get("parameters", {})

        def names(parameters: list[dict]) -> set[str]:
            found = set()
            for parameter in parameters:
                if "$ref" in parameter:
                    parameter = shared.get(parameter["$ref"].rsplit("/", 1)[-1], {})
                if parameter.get("in") == "query":
                    found.add(parameter["name"])
            return found

        table = {}
        for rule in app.url_map.iter_rules():
            item = paths.get(FlaskPlugin.flaskpath2openapi(rule.rule))
            if item is None:
                continue
            for method in rule.methods or ():
                operation = item.get(method.lower())
                if isinstance(operation, dict):
                    table[(rule.rule, method)] = frozenset(names(item.get("parameters", [])) | names(operation.get("parameters", [])))
        app.extensions[_DECLARED] = table
    return table


def _refuse_unknown_parameters() -> None:
    if not request.args or request.url_rule is None or request.method == "OPTIONS":
        return
    method = "GET" if request.method == "HEAD" else request.method
    declared = declared_parameters(current_app).get((request.url_rule.rule, method))
    if declared is None:  # not an operation of the API
        return
    unknown = sorted(set(request.args) - declared)
    if unknown:
        raise UnknownParameter(unknown, sorted(declared))


class UnknownParameterDoc(BasePlugin):
    """Documents the 400 on every operation: appended to the operation's own 400, if it has one."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            key = next((k for k in responses if str(k) == "400"), "400")
            response = responses.get(key)
            if isinstance(response, dict) and response.get("description"):
                if "request.unknown_parameter" not in response["description"]:
                    response["description"] = f"{response['description'].rstrip('.')}; or {UNKNOWN_PARAMETER_DOC[0].lower()}{UNKNOWN_PARAMETER_DOC[1:]}"
                response.setdefault("content", {PROBLEM_MEDIA_TYPE: {"schema": api.ERROR_SCHEMA}})
            else:
                responses[key] = {"description": UNKNOWN_PARAMETER_DOC, "content": {PROBLEM_MEDIA_TYPE: {"schema": api.ERROR_SCHEMA}}}


def init_app(app: Flask) -> None:
    """After `api.init_app` (a new spec) and before the blueprints are registered (their operations)."""
    plugin = UnknownParameterDoc()
    plugin.init_spec(api.spec)
    api.spec.plugins.insert(0, plugin)  # before the marshmallow plugin, which turns the schema into a $ref
    app.before_request(_refuse_unknown_parameters)
