import pytest

from tests.helpers import assert_problem
from tracker import create_app


def test_healthz(client):
    for path in ("/healthz", "/api/v1/healthz"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.get_json() == {"status": "ok"}


def test_readyz(client):
    for path in ("/readyz", "/api/v1/readyz"):
        assert client.get(path).get_json() == {"status": "ready"}


@pytest.mark.no_transaction
def test_readyz_without_database_is_503(tmp_path):
    # A real PostgreSQL client pointed at a port where nothing listens.
    app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"})
    response = app.test_client().get("/readyz")
    assert_problem(response, 503, "server.not_ready")
    assert response.headers["Retry-After"] == "5"
    assert app.test_client().get("/healthz").status_code == 200
