"""When the database is away: 503 problem+json with Retry-After, never 500 and never HTML, also
for errors raised outside the request handler; a change whose commit succeeded is answered as
saved even if the database goes away right after. (Restarts and crashes of a real PostgreSQL
under load are in tests/test_database_faults.py and bench/load.py.)"""

from __future__ import annotations

import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import event, exc, select
from werkzeug.test import Client

from tests.conftest import app_config, scratch_app
from tests.helpers import assert_problem
from tracker import create_app
from tracker.errors import ProblemGuard
from tracker.extensions import db
from tracker.models import Assignment

pytestmark = pytest.mark.no_transaction

# Nothing listens on the discard port: connections are refused at once, as when the server is down.
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/tracker_test_unreachable"


@pytest.fixture
def unreachable(tmp_path):
    app = create_app(app_config(UNREACHABLE, tmp_path))
    with app.app_context():
        token = create_access_token(identity="1", additional_claims={"sid": 1})  # a session the database would be asked for
    yield app, {"Authorization": f"Bearer {token}"}
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/assignments", None),
    ("GET", "/api/v1/reports/overdue?format=csv", None),
    ("PATCH", "/api/v1/assignments/1", {"progress": 10}),
    ("POST", "/api/v1/assignments/1/transitions", {"to": "in_progress"}),
    ("POST", "/api/v1/auth/login", {"username": "admin", "password": "x"}),
    ("GET", "/api/v1/readyz", None),
])
@pytest.mark.parametrize("idempotency_key", [None, "retry-1"])
def test_an_unreachable_database_answers_503(unreachable, method, path, body, idempotency_key):
    app, headers = unreachable
    extra = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    response = app.test_client().open(path, method=method, json=body, headers={**headers, "If-Match": "*", **extra})
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["code"] in ("service.unavailable", "server.not_ready")


def test_the_health_probe_needs_no_database(unreachable):
    app, _ = unreachable
    assert app.test_client().get("/api/v1/healthz").status_code == 200


def test_a_failing_teardown_does_not_change_the_answer(unreachable):
    app, _ = unreachable

    @app.teardown_request
    def _fail(_exc):
        raise exc.OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))

    response = app.test_client().get("/api/v1/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_an_error_escaping_flask_is_problem_json():
    def broken(environ, start_response):
        raise exc.OperationalError("SELECT 1", {}, Exception("terminating connection due to administrator command"))

    response = Client(ProblemGuard(broken)).get("/api/v1/assignments")
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5" and response.get_json()["code"] == "service.unavailable"

    def crashing(environ, start_response):
        raise RuntimeError("bug")

    response = Client(ProblemGuard(crashing)).get("/")
    assert response.status_code == 500 and response.get_json()["code"] == "server.internal_error"


def test_a_committed_change_is_answered_as_saved_when_the_database_goes_right_after(database_url, tmp_path):
    app, target, headers = scratch_app(database_url, tmp_path, "outage", username="canbo.noivu", org_code="PNV-KD")
    gone = {"now": False}
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "checkout")
        def _refuse(*_args):
            if gone["now"]:
                raise exc.OperationalError("connect", {}, Exception("connection refused"))

        @event.listens_for(db.session, "after_commit")
        def _go_away(_session):
            gone["now"] = True

    client = app.test_client()
    etag = client.get(f"/api/v1/assignments/{target}", headers=headers).headers["ETag"]
    gone["now"] = False
    saved = client.patch(f"/api/v1/assignments/{target}", headers={**headers, "If-Match": etag}, json={"progress": 35, "note": "Đã xong phần lớn"})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["progress"] == 35 and saved.headers["ETag"] != etag
    # The database is away now: the next request gets 503 problem+json, not a 500.
    assert_problem(client.get(f"/api/v1/assignments/{target}", headers=headers), 503, "service.unavailable")
    gone["now"] = False
    event.remove(db.session, "after_commit", _go_away)
    with app.app_context():
        assert db.session.scalar(select(Assignment.progress).where(Assignment.id == target)) == 35
        db.session.remove()
        event.remove(engine, "checkout", _refuse)
        engine.dispose()
