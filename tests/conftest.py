"""Fixtures: one real database per run (a SQLite file, or PostgreSQL when TEST_DATABASE_URL is
set), built by the migrations, loaded once with the Kim Động plan, and each test inside a
transaction that is rolled back."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from flask import request_finished
from flask_migrate import upgrade
from sqlalchemy import make_url, select
from sqlalchemy.orm import scoped_session, sessionmaker

from tests.helpers import date_times_without_zone
from tracker import create_app
from tracker.cli import bundled_plan
from tracker.config import normalise_database_url
from tracker.extensions import db
from tracker.models import Action, Assignment, Organization, Plan, User
from tracker.services import demo, plan_import, sessions

REPO = Path(__file__).resolve().parents[1]
MIGRATIONS = str(REPO / "migrations")

# Date-times without a zone seen in JSON responses, as "METHOD /path: $.json.path = value".
NAIVE_DATE_TIMES: list[str] = []


@request_finished.connect
def _watch_date_times(sender, response, **extra):
    """Every response of every app the tests make (the session app, scratch apps, apps built in a
    test) is read for date-times a browser would take as its own local time."""
    NAIVE_DATE_TIMES.extend(date_times_without_zone(response))


@pytest.fixture(autouse=True)
def _date_times_carry_their_zone():
    """Fail the test whose requests were answered with a date-time lacking `Z` or an offset."""
    start = len(NAIVE_DATE_TIMES)
    yield
    found = NAIVE_DATE_TIMES[start:]
    del NAIVE_DATE_TIMES[start:]
    if found:
        pytest.fail("date-times without a zone in JSON responses (RFC 3339 needs Z or ±HH:MM):\n" + "\n".join(found), pytrace=False)


def pg_admin_connect(url: str) -> psycopg.Connection:
    """Connect to the server's maintenance database, to create or drop test databases."""
    u = make_url(url)
    return psycopg.connect(
        host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
        password=u.password, dbname="postgres", autocommit=True, connect_timeout=5,
    )


def fresh_database(url: str, tmp_dir: Path, name: str) -> str:
    """An empty database for this run: a new SQLite file, or a recreated PostgreSQL database."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_dir / (name + '.sqlite3')}"
    u = make_url(url)
    database = f"{u.database}_{name}" if name != "main" else u.database
    with pg_admin_connect(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    return u.set(database=database).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        return fresh_database("sqlite://", tmp_path_factory.mktemp("db"), "main")
    url = normalise_database_url(raw)
    if not make_url(url).database or "test" not in make_url(url).database:
        pytest.exit(f"TEST_DATABASE_URL must name a database whose name contains 'test' (it is recreated): {raw}", 2)
    try:
        return fresh_database(url, tmp_path_factory.getbasetemp(), "main")
    except psycopg.OperationalError as exc:
        pytest.exit(f"PostgreSQL at {make_url(url).render_as_string()} is unreachable: {exc}", 2)


def app_config(database_url: str, storage_root: Path, **overrides) -> dict:
    """The configuration of an app under test: the run's database, evidence under `storage_root`."""
    return {
        "TRACKER_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "EVIDENCE_DIR": str(storage_root / "evidence"),
        "EVIDENCE_STAGING_DIR": str(storage_root / "evidence" / "staging"),
        **overrides,
    }


def load_baseline(app) -> None:
    """The Kim Động plan and the demo users, committed."""
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        plan_import.import_plan(plan_import.validate_plan_file(plan_import.parse_plan_file(bundled_plan(), "yaml")))
        demo.ensure_demo_users()
        db.session.commit()
        db.session.remove()


def signed_in(user_id: int, *, client_address: str = "127.0.0.1") -> sessions.TokenPair:
    """Tokens of a new session for a user, committed (in an app context; sign-in has its own tests)."""
    pair = sessions.start_session(user_id, client_address, "pytest")
    db.session.commit()
    return pair


def bearer_headers(user_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {signed_in(user_id).access_token}"}


def scratch_app(database_url: str, tmp_path: Path, name: str, *, username: str, org_code: str, **overrides):
    """An app on a database of its own (baseline loaded), for tests that commit for real; with the
    first assignment of `org_code` and bearer headers for `username`."""
    app = create_app(app_config(fresh_database(database_url, tmp_path, name), tmp_path, **overrides))
    load_baseline(app)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        target = db.session.scalar(
            select(Assignment.id).join(Organization, Organization.id == Assignment.organization_id)
            .where(Organization.code == org_code).order_by(Assignment.id).limit(1)
        )
        headers = bearer_headers(user_id)
        db.session.remove()
    return app, target, headers


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(app_config(database_url, tmp_path_factory.mktemp("storage")))
    load_baseline(app)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _transaction(request):
    """Run each test in a transaction rolled back at its end; the app's commits become savepoints.

    No app context stays pushed during the test, so that each test-client request gets its own,
    as in production (its own `g`, and its session removed at the end). Tests under
    tests/domain/ are pure and get no database; `no_transaction` tests manage their own.
    """
    if "domain" in request.node.path.parts or "no_transaction" in request.keywords:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    original = db.session
    db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
    try:
        yield
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replaces pytest-flask's fixture of this name, which keeps one request context (and so one
    app context) pushed for the whole test: requests must not share `g` or a session."""
    yield


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    """The database session, for tests that look at rows directly (inside the test's transaction)."""
    return db.session


def pytest_configure(config):
    config.addinivalue_line("markers", "no_transaction: the test manages its own database state")


def pytest_report_header(config):
    url = os.environ.get("TEST_DATABASE_URL")
    return f"database: {make_url(normalise_database_url(url)).render_as_string() if url else 'SQLite file (set TEST_DATABASE_URL for PostgreSQL)'}"


class Auth:
    """Bearer headers for the demo users: a real session each, opened once per run (sign-in has its
    own tests). A test that ends one (a logout, a deactivation) ends it inside its own transaction."""

    def __init__(self, app):
        with app.app_context():
            self.user_ids = {name: uid for name, uid in db.session.execute(select(User.username, User.id))}
            # Access tokens that outlive the run: a whole suite on a busy 2-core machine can take longer
            # than the configured 15 minutes (token lifetimes have their own tests).
            configured = app.config["JWT_ACCESS_TOKEN_EXPIRES"]
            app.config["JWT_ACCESS_TOKEN_EXPIRES"] = timedelta(hours=12)
            try:
                pairs = {name: signed_in(uid) for name, uid in self.user_ids.items()}
            finally:
                app.config["JWT_ACCESS_TOKEN_EXPIRES"] = configured
            self.session_ids = {name: pair.session_id for name, pair in pairs.items()}
            self._access = {name: pair.access_token for name, pair in pairs.items()}
            self._refresh = {name: pair.refresh_token for name, pair in pairs.items()}
            db.session.remove()

    def headers(self, username: str, *, refresh: bool = False) -> dict[str, str]:
        token = (self._refresh if refresh else self._access)[username]
        return {"Authorization": f"Bearer {token}"}

    def __call__(self, username: str) -> dict[str, str]:
        return self.headers(username)


@pytest.fixture(scope="session")
def auth(app) -> Auth:
    return Auth(app)


@pytest.fixture
def org(session) -> dict[str, int]:
    """Organisation ids by code."""
    return dict(session.execute(select(Organization.code, Organization.id)).all())


@pytest.fixture
def action_ref(session):
    """The id of a Kim Động plan action by its ref (III.3.2, IV.4.2 …)."""

    def find(ref: str) -> int:
        return session.scalar(select(Action.id).join(Plan).where(Plan.code == "KH-NQ57/HU", Action.ref == ref))

    return find


@pytest.fixture
def client_as(app, auth):
    """A test client that signs every request as `username`."""

    def make(username: str):
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = auth(username)["Authorization"]
        return client

    return make
