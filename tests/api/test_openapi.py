import json

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


PUBLIC = {("post", "/api/v1/auth/login"), ("get", "/api/v1/healthz"), ("get", "/api/v1/readyz"), ("get", "/api/v1/meta/labels")}


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
