"""Every error is problem+json with a stable code; none is a 500 for bad input."""

import json
import logging

import pytest

from tests.helpers import assert_problem
from tracker import create_app


@pytest.fixture
def client(client_as):
    """This module's requests are made as the demo admin."""
    return client_as("admin")


def test_unknown_url(client):
    body = assert_problem(client.get("/api/v1/nothing-here"), 404, "request.not_found")
    assert body["request_id"]


def test_unknown_url_outside_api(client):
    assert_problem(client.get("/wp-admin.php"), 404, "request.not_found")


def test_wrong_method(client):
    response = client.delete("/api/v1/plans")
    assert_problem(response, 405, "request.method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_malformed_json(client):
    response = client.post("/api/v1/plans/import", data="{not json", content_type="application/json")
    assert_problem(response, 422, "plan.malformed_file")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_wrong_content_type(client, content_type):
    response = client.post("/api/v1/plans/import", data="a=b", content_type=content_type)
    assert_problem(response, 415, "request.unsupported_media_type")


def test_body_without_content_type(client):
    response = client.post("/api/v1/plans/import", data=b"\x00\x01")
    assert_problem(response, 415, "request.unsupported_media_type")


def test_query_validation(client):
    body = assert_problem(client.get("/api/v1/organizations?page=0"), 422, "request.validation_failed")
    assert list(body["errors"]) == ["page"]


def test_request_id_is_echoed_when_safe(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id <script>"}).headers["X-Request-ID"]
    assert generated != "bad id <script>" and len(generated) == 32


def test_security_headers(client):
    response = client.get("/api/v1/plans")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_cors_only_for_configured_origins(client, app):
    assert "Access-Control-Allow-Origin" not in client.get("/api/v1/plans", headers={"Origin": "https://evil.example"}).headers


def test_unexpected_exception_is_500_without_internals(database_url, caplog):
    app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    with caplog.at_level(logging.ERROR, logger="tracker.errors"):
        response = app.test_client().get("/boom", headers={"X-Request-ID": "req-500"})
    body = assert_problem(response, 500, "server.internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert body["request_id"] == "req-500"
    assert any("req-500" in record.getMessage() and record.exc_info for record in caplog.records)


def test_cors_for_configured_origin(database_url, monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.gov.vn")
    app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    client = app.test_client()
    response = client.get("/healthz", headers={"Origin": "https://app.example.gov.vn"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.gov.vn"
    assert "X-Pagination" in response.headers["Access-Control-Expose-Headers"]
    preflight = client.options("/api/v1/plans", headers={"Origin": "https://app.example.gov.vn", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 200
    assert "If-Match" in preflight.headers["Access-Control-Allow-Headers"]


HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("GET", f"/api/v1/plans/{HUGE}", None, 404),
        ("GET", f"/api/v1/assignments/{HUGE}/history", None, 404),
        ("GET", f"/api/v1/assignments?organization_id={HUGE}", None, 422),
        ("GET", f"/api/v1/reports/overdue?plan_id={HUGE}", None, 422),
        ("GET", "/api/v1/assignments?owner_id=-5", None, 422),
        ("POST", "/api/v1/assignments", {"action_id": int(HUGE), "organization_id": 1, "role": "lead"}, 422),
        ("POST", "/api/v1/assignments/bulk", {"action_id": 1, "organization_ids": [int(HUGE)], "role": "lead"}, 422),
        ("POST", "/api/v1/plans/1/actions", {"text": "x", "ref": "III.9.9", "group": int(HUGE)}, 422),
    ],
)
def test_out_of_range_numbers_are_client_errors(client, method, url, body, status):
    data = None if body is None else json.dumps(body)  # the stdlib: orjson refuses integers past 64 bits
    response = client.open(url, method=method, data=data, content_type="application/json" if data else None)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


def test_a_page_far_beyond_the_end_is_empty(client):
    response = client.get(f"/api/v1/plans?page={HUGE}")
    assert response.status_code == 200 and response.get_json() == []


def test_control_characters_in_names_are_refused(client):
    body = {"code": "NEW-X", "name": "Phòng\x07Mới", "kind": "department"}
    response = client.post("/api/v1/organizations", json=body)
    assert response.status_code == 422 and "name" in response.get_json()["errors"]


def test_valid_from_after_closing_is_refused(client):
    org = client.post("/api/v1/organizations", json={"code": "TAM-THOI", "name": "Tổ công tác tạm thời", "kind": "department"}).get_json()
    assert client.post(f"/api/v1/organizations/{org['id']}/close", json={"valid_to": "2025-06-30"}).status_code == 200
    response = client.patch(f"/api/v1/organizations/{org['id']}", json={"valid_from": "2025-07-01"})
    assert response.status_code == 422 and "valid_from" in response.get_json()["errors"]


@pytest.mark.parametrize("url", ["/api/v1/assignments?q=a%00b", "/api/v1/reports/overdue?q=%00", "/api/v1/organizations?q=%00", "/api/v1/users?q=%00"])
def test_nul_in_search_is_a_validation_error(client, url):
    body = assert_problem(client.get(url), 422, "request.validation_failed")
    assert "q" in body["errors"]
