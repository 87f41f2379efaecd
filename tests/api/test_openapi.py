import json
import re
import tomllib

import pytest

from tests.conftest import REPO
from tracker.extensions import api

COMMITTED = REPO / "openapi" / "openapi.json"


def test_committed_document_matches_the_code(app):
    with app.app_context():
        generated = json.loads(json.dumps(api.spec.to_dict()))
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert committed == generated, (
        "openapi/openapi.json is out of date: run `flask --app wsgi openapi write openapi/openapi.json`"
    )


def test_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/plans/{plan_id}" in document["paths"]
    errors = document["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(errors) == ["application/problem+json"]


def test_browsable_ui(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.get_data(as_text=True).lower()


PUBLIC = {("post", "/api/v1/auth/login"), ("get", "/api/v1/healthz"), ("get", "/api/v1/readyz"), ("get", "/api/v1/meta/labels"),
          ("get", "/api/v1/evidence/{evidence_id}/signed-content")}  # the signature in the URL is the credential


def test_every_protected_operation_shows_the_bearer_scheme(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters" or (method, path) in PUBLIC:
                continue
            assert operation.get("security") == [{"bearerAuth": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
            problem = operation["responses"]["401"]["content"]
            assert "application/problem+json" in problem, (method, path)


# The central rules of the document (tracker.web.ContractPlugin, TrackerApi, Blueprint): what
# Schemathesis checks against the running API (.ci/contract), held here for every operation at once.


def _document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method, path, operation


def _resolve(document, node: dict) -> dict:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = document["components"][section][name]
    return node


def _schema_names(document, node, found=None) -> set[str]:
    """The schema components `node` refers to, directly or through other components."""
    found = set() if found is None else found
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[-1] not in found:
            name = ref.rsplit("/", 1)[-1]
            found.add(name)
            _schema_names(document, document["components"]["schemas"][name], found)
        elif ref.startswith("#/components/"):
            _schema_names(document, _resolve(document, node), found)
        for value in node.values():
            _schema_names(document, value, found)
    elif isinstance(node, list):
        for value in node:
            _schema_names(document, value, found)
    return found


def test_every_error_response_is_problem_json(client):
    document = _document(client)
    checked = 0
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if status == "default" or int(status) >= 400:
                content = _resolve(document, response).get("content", {})
                assert list(content) == ["application/problem+json"], (method, path, status)
                assert _resolve(document, content["application/problem+json"]["schema"])["properties"]["code"], (method, path)
                checked += 1
    assert checked > 100


def test_every_schema_of_an_answer_lists_the_members_always_sent(client):
    document = _document(client)
    schemas = document["components"]["schemas"]
    answered = set()
    for _method, _path, operation in _operations(document):
        answered |= _schema_names(document, operation["responses"])
    assert {"Assignment", "Problem", "PaginationMetadata", "Organization", "TokenPair"} <= answered
    for name in answered:
        schema = schemas[name]
        if schema.get("type") == "object" and schema.get("properties"):
            assert schema.get("required"), name
            assert set(schema["required"]) <= set(schema["properties"]), name
    # Members sent only sometimes are not required: a problem's extension members, the page numbers.
    assert schemas["Problem"]["required"] == ["code", "detail", "status", "title", "type"]
    assert schemas["PaginationMetadata"]["required"] == ["total", "total_pages"]
    # A schema also read from requests keeps its input rules: its read-only members are required of answers only.
    membership = schemas["Membership"]
    assert {"organization_id", "role", "organization_code", "organization_name"} <= set(membership["required"])
    assert all(membership["properties"][name].get("readOnly") for name in ("organization_code", "organization_name"))


def test_no_property_without_a_type(client):
    document = _document(client)
    untyped = []

    def walk(where: str, schema):
        if not isinstance(schema, dict):
            return
        for name, member in schema.get("properties", {}).items():
            if not any(key in member for key in ("type", "$ref", "allOf", "anyOf", "oneOf", "const", "enum")):
                untyped.append(f"{where}.{name}")
            walk(f"{where}.{name}", member)
        for key in ("items", "additionalProperties", "contentSchema"):
            walk(f"{where}[]", schema.get(key))
        for key in ("allOf", "anyOf", "oneOf"):
            for branch in schema.get(key, []):
                walk(where, branch)

    for name, schema in document["components"]["schemas"].items():
        walk(name, schema)
    for method, path, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            assert "type" in _resolve(document, parameter)["schema"] or "$ref" in parameter["schema"], (method, path, parameter)
    assert untyped == []


def test_pagination_header_is_json_text_described_by_its_schema(client, auth):
    document = _document(client)
    header = document["components"]["headers"]["PAGINATION"]
    assert header["schema"]["type"] == "string"
    assert header["schema"]["contentMediaType"] == "application/json"
    schema = _resolve(document, header["schema"]["contentSchema"])
    assert {"total", "total_pages", "page", "next_page", "next_cursor"} <= set(schema["properties"])
    paged = document["paths"]["/api/v1/assignments"]["get"]["responses"]["200"]["headers"]
    assert paged["X-Pagination"] == {"$ref": "#/components/headers/PAGINATION"}

    response = client.get("/api/v1/assignments?page_size=2&sort=due_date", headers=auth("admin"))
    meta = json.loads(response.headers["X-Pagination"])
    assert set(meta) <= set(schema["properties"])
    assert set(schema["required"]) <= set(meta)
    assert meta["next_cursor"] == response.headers["X-Next-Cursor"]
    assert all(isinstance(meta[name], int) for name in meta if name != "next_cursor")


def test_problem_schema_allows_the_extension_members_it_documents(client, auth):
    document = _document(client)
    problem = document["components"]["schemas"]["Problem"]
    assert problem["additionalProperties"] is True
    assert {"etag", "fields", "allowed", "current", "detected", "parameters", "errors", "request_id"} <= set(problem["properties"])

    answer = client.get("/api/v1/assignments?updated_since=2026-01-01", headers=auth("admin"))
    assert answer.status_code == 400
    body = answer.get_json()
    assert set(body) <= set(problem["properties"]), set(body) - set(problem["properties"])
    assert set(problem["required"]) <= set(body)


def test_text_rules_are_written_as_patterns(client):
    """`printable` and `single_line` (control characters; line breaks) appear as the patterns they enforce."""
    document = _document(client)
    user = document["components"]["schemas"]["User"]["properties"]
    one_line = user["full_name"]["pattern"]
    assert re.fullmatch(one_line, "Nguyễn Thị Huyền") and not re.fullmatch(one_line, "Nguyễn\nHuyền")
    assert not re.fullmatch(one_line, "a\x07b") and not re.fullmatch(one_line, "a\u0085b")
    text = user["password"]["pattern"]
    assert re.fullmatch(text, "dòng 1\ndòng 2\tx") and not re.fullmatch(text, "a\x00b")
    # Python's `\Z` is written as ECMA-262's `$` (the end of the text).
    assert user["username"]["pattern"] == "^[A-Za-z0-9._-]{3,64}$"
    assert user["full_name"]["maxLength"] == 255


def test_documented_text_rules_are_the_ones_enforced(client, auth):
    document = _document(client)
    pattern = document["components"]["schemas"]["User"]["properties"]["full_name"]["pattern"]
    for name in ("Trần Văn An", "Trần\tVăn An", "Trần\x1bVăn"):
        answer = client.post("/api/v1/users", headers=auth("admin"),
                             json={"username": "kiem.thu.mau", "password": "Mat-khau-12345", "full_name": name})
        assert (answer.status_code == 201) == bool(re.fullmatch(pattern, name)), (name, answer.get_json())
        assert answer.status_code in (201, 422)


@pytest.mark.parametrize("body", [None, {}], ids=["no body", "empty object"])
def test_a_patch_that_changes_nothing_is_refused(client, auth, org, body):
    """Every PATCH body is documented with `minProperties: 1`, and an empty one is a 422 that changes nothing."""
    document = _document(client)
    patches = {path: operation for method, path, operation in _operations(document) if method == "patch"}
    assert set(patches) >= {"/api/v1/users/{user_id}", "/api/v1/organizations/{org_id}", "/api/v1/actions/{action_id}",
                            "/api/v1/assignments/{assignment_id}"}
    for path, operation in patches.items():
        body_schema = _resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
        assert body_schema["minProperties"] == 1, path
        assert "request.empty_patch" in operation["requestBody"]["description"], path
    before = client.get(f"/api/v1/organizations/{org['PNV-KD']}", headers=auth("admin")).get_json()
    kwargs = {} if body is None else {"json": body}
    for url in (f"/api/v1/organizations/{org['PNV-KD']}", "/api/v1/users/2", "/api/v1/actions/1"):
        answer = client.patch(url, headers=auth("admin"), **kwargs)
        assert answer.status_code == 422, (url, answer.get_json())
        assert answer.mimetype == "application/problem+json"
        assert answer.get_json()["code"] == "request.empty_patch"
    assert client.get(f"/api/v1/organizations/{org['PNV-KD']}", headers=auth("admin")).get_json() == before


def test_a_patch_with_a_field_still_works(client, auth, org):
    answer = client.patch(f"/api/v1/organizations/{org['PNV-KD']}", headers=auth("admin"), json={"short_name": "Phòng Nội vụ"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["short_name"] == "Phòng Nội vụ"


def test_constants_have_a_type_and_their_value(client):
    token_type = _document(client)["components"]["schemas"]["TokenPair"]["properties"]["token_type"]
    assert token_type["type"] == "string" and token_type["enum"] == ["Bearer"]


def test_schemathesis_config_lists_each_exception_with_its_reason():
    """The CI contract run (.ci/contract) fails on any failure but those its config lists, each with a reason:
    Schemathesis refuses keys it does not know, so the reason is the comment right above each block."""
    text = (REPO / "tests" / "contract" / "schemathesis.toml").read_text(encoding="utf-8")
    config = tomllib.loads(text)
    assert config["seed"] and config["generation"]["max-examples"] >= 1
    assert config["auth"]["openapi"]["bearerAuth"]["bearer"] == "${CONTRACT_TOKEN}"
    assert "enabled" not in config.get("checks", {}), "every check runs"
    lines = text.splitlines()
    blocks = [number for number, line in enumerate(lines) if line.strip() in ("[[operations]]", "[checks.positive_data_acceptance]")]
    assert len(blocks) == len(config["operations"]) + 1
    for number in blocks:
        assert lines[number - 1].startswith("# "), f"no reason above line {number + 1}: {lines[number]}"
    # /auth/logout would end the session of the run's own token.
    assert {"include-path": "/api/v1/auth/logout", "enabled": False} in config["operations"]


def test_schemathesis_config_loads_and_each_exception_names_operations(client, monkeypatch):
    """Schemathesis accepts the file, and no block's filter is a typo that matches nothing."""
    from schemathesis.config import SchemathesisConfig

    path = REPO / "tests" / "contract" / "schemathesis.toml"
    monkeypatch.setenv("CONTRACT_TOKEN", "token")
    assert SchemathesisConfig.from_path(str(path)).seed == tomllib.loads(path.read_text(encoding="utf-8"))["seed"]
    names = [f"{method.upper()} {path}" for method, path, _operation in _operations(_document(client))]

    def selects(block: dict, name: str) -> bool:
        method, path = name.split(" ", 1)
        as_list = lambda value: value if isinstance(value, list) else [value]  # noqa: E731
        return (name in as_list(block.get("include-name", [])) or path in as_list(block.get("include-path", []))
                or bool(block.get("include-name-regex") and re.search(block["include-name-regex"], name))
                or bool(block.get("include-path-regex") and re.search(block["include-path-regex"], path)))

    for block in tomllib.loads(path.read_text(encoding="utf-8"))["operations"]:
        filters = {key: value for key, value in block.items() if key.startswith("include-")}
        assert set(filters) <= {"include-name", "include-path", "include-name-regex", "include-path-regex"}, block
        assert len(filters) == 1, f"separate include filters select either operation: {block}"
        assert any(selects(block, name) for name in names), f"matches no operation: {block}"
        named = block.get("include-name", [])
        assert set(named if isinstance(named, list) else [named]) <= set(names), f"names an operation the document lacks: {block}"


@pytest.mark.parametrize(("url_of", "body", "where"), [
    (lambda org: "/api/v1/organizations", {"code": "KT-JSON", "name": "Kiểm thử", "kind": "department", "parent_id": "3"}, "parent_id"),
    (lambda org: "/api/v1/organizations", {"code": "KT-JSON", "name": "Kiểm thử", "kind": "department", "parent_id": 2.5}, "parent_id"),
    (lambda org: "/api/v1/actions/1", {"requires_evidence": 0}, "requires_evidence"),
    (lambda org: "/api/v1/actions/1", {"requires_evidence": "true"}, "requires_evidence"),
    (lambda org: "/api/v1/actions/1", {"recurrence": {"month": "6", "day": 10, "from_year": 2026, "until_year": 2030}},
     "recurrence.month"),
    (lambda org: "/api/v1/users/2", {"memberships": [{"organization_id": True, "role": "officer"}]}, "memberships[0].organization_id"),
], ids=["integer as text", "fraction for an integer", "0 for a boolean", "text for a boolean", "nested object", "list of objects"])
def test_json_bodies_take_the_documented_json_types(client, auth, org, url_of, body, where):
    """marshmallow alone reads 0 as false and "3" as 3: a JSON body's values must have the types the document gives."""
    url = url_of(org)
    call = client.post if url.endswith("organizations") else client.patch
    answer = call(url, headers=auth("admin"), json=body)
    assert answer.status_code == 422, answer.get_json()
    problem = answer.get_json()
    assert problem["code"] == "request.validation_failed"
    assert list(problem["errors"]) == [where]


def test_an_integral_number_is_an_integer(client, auth, org):
    """JSON Schema counts 3.0 as an integer: so does the API."""
    answer = client.post("/api/v1/organizations", headers=auth("admin"),
                         json={"code": "KT-SO-NGUYEN", "name": "Kiểm thử", "kind": "department", "parent_id": float(org["HU-KD"])})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["parent_id"] == org["HU-KD"]


def test_an_id_with_a_zero_fraction_is_that_id(client, auth, org):
    """`organization_id=3.0`: JSON Schema's integer 3, as a generated client may write it."""
    whole = client.get(f"/api/v1/users?organization_id={org['PNV-KD']}", headers=auth("admin"))
    written = client.get(f"/api/v1/users?organization_id={org['PNV-KD']}.0", headers=auth("admin"))
    assert written.status_code == 200, written.get_json()
    assert written.get_json() == whole.get_json() != []
    assert client.get(f"/api/v1/users?organization_id={org['PNV-KD']}.5", headers=auth("admin")).status_code == 422


def test_rules_between_members_are_documented(client):
    """A note is needed to return, block or cancel, to refuse an extension and to return a measurement:
    the document says so with if/then, so that a generated form (or Schemathesis) knows it."""
    schemas = _document(client)["components"]["schemas"]
    for name, member, values in (("Transition", "to", ["blocked", "cancelled", "returned"]),
                                 ("BulkTransitionItem", "to", ["blocked", "cancelled", "returned"]),
                                 ("ExtensionDecision", "decision", ["refuse"]), ("MeasurementDecision", "decision", ["return"])):
        rule = schemas[name]
        assert rule["if"]["properties"][member]["enum"] == values, name
        assert rule["then"]["required"] == ["note"], name
        pattern = rule["then"]["properties"]["note"]["pattern"]
        assert re.search(pattern, " lý do ") and not re.search(pattern, " \t\u00a0\x1c\n"), name


def test_text_patterns_say_exactly_what_the_validators_take():
    """Character by character, over the first 1024 code points: the pattern matches what the validator accepts."""
    from marshmallow import ValidationError

    from tracker.schemas.common import printable, single_line

    for rule in (printable, single_line):
        pattern = rule.json_schema["pattern"]
        for code in range(1024):
            text = f"a{chr(code)}b"
            try:
                accepted = rule(text)
            except ValidationError:
                accepted = False
            assert bool(re.fullmatch(pattern, text)) == accepted, (rule.__name__, hex(code))
