"""Benchmark at national scale: ~10,600 organisations and up to a million assignments, on PostgreSQL.

    python bench/national.py generate [--assignments 1000000] [--database-url URL]
    python bench/national.py measure  [--database-url URL] [--rounds 20]
    python bench/national.py explain  [--database-url URL]
    python bench/national.py all      [--database-url URL] [--rounds 20] [--sizes 10000,100000,1000000]
    python bench/national.py exports  [--database-url URL]

generate  drops and recreates the database (default postgresql://postgres@127.0.0.1:5432/tracker_national),
          creates the schema with the app's migrations, loads the Kim Động plan and the demo users, then
          adds, in set-based SQL (INSERT ... SELECT ... FROM generate_series, constraints and triggers on):
          34 provinces under TU-HY, each with 10 departments and 100 communes, each commune with two
          bodies (its party committee and its people's committee), every one with its open version in
          organization_version; then the assignments, spread evenly over the organisations and at random
          over the plan's actions, due dates uniform over 2024-2027 (5% none), statuses mixed so that
          about 43% are overdue as of 2026-11-24; then VACUUM (ANALYZE) and CHECKPOINT. Prints each step's time.
measure   starts gunicorn (2 workers, TRACKER_ENV=production), signs in as admin and as the leader of
          one province (created if missing), and for each request prints the p50/p95 of its HTTP time
          over the rounds, the number of SQL statements the app sends for it, the p50 of those statements
          replayed alone with psycopg (captured with before_cursor_execute in an in-process app on the same
          database; HTTP and replay rounds alternate) and the ratio HTTP p50 / SQL p50: how much of the
          time is spent outside the database. Prints the app version measured (migration, digest of the
          sources), and warns when the sources changed during the run.
explain   writes EXPLAIN (ANALYZE, BUFFERS) of each request's statements to bench/explain/<request>.txt
          (run it after `generate`; the files say the size and the app version).
exports   downloads the overdue list as CSV and XLSX from gunicorn started with the README's command
          (gthread workers, the default 30 s worker timeout): each must complete, however long it takes.
all       generate + measure at each size (each step in a process of its own), then one table of every
          request at every size. measure, explain and all take --only <request>,<request>; measure,
          generate and all take --json <file> to keep the figures.

Figures are information, not tests. The app is not changed; the database is the benchmark's own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import io
import json
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, redirect_stderr
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from sqlalchemy import event, make_url, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.exports import memory_kib, reset_peak  # noqa: E402
from tracker.domain.plans import ORG_CODE_PATTERN  # noqa: E402
from tracker.domain.text import fold  # noqa: E402
from tracker.domain.vocabulary import OrganizationKind  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/tracker_national"
EXPLAIN_DIR = ROOT / "bench" / "explain"
AS_OF = dt.date(2026, 11, 24)
FIRST_DAY, LAST_DAY = dt.date(2024, 1, 1), dt.date(2027, 12, 31)
ROOT_CODE = "TU-HY"
PROVINCES, DEPARTMENTS, COMMUNES = 34, 10, 100
PROVINCE_OF_LEADER = 17
LEADER = "lanhdao.tinh17"
PASSWORD = "KimDong@2025"  # the demo users' password (tracker.services.demo.DEMO_PASSWORD)
CYCLE_BASE = 10_000  # cycle = CYCLE_BASE + running number: unique (action, origin organisation, cycle)
CHUNK = 250_000

# kind, code, name, short name, parent's code: PostgreSQL format() templates over %1$s (the province's
# two-digit number) and %2$s (the department's or commune's number).
LEVELS = [
    (OrganizationKind.PROVINCE, "TINH-%1$s", "Tỉnh số %1$s", "Tỉnh %1$s", ROOT_CODE, 1, 1),
    (OrganizationKind.DEPARTMENT, "TINH-%1$s-SO-%2$s", "Sở số %2$s tỉnh số %1$s", "Sở %2$s", "TINH-%1$s", DEPARTMENTS, 2),
    (OrganizationKind.COMMUNE, "TINH-%1$s-XA-%2$s", "Xã số %2$s tỉnh số %1$s", "Xã %2$s", "TINH-%1$s", COMMUNES, 3),
    (OrganizationKind.PARTY_COMMITTEE, "TINH-%1$s-XA-%2$s-DU", "Đảng ủy xã số %2$s tỉnh số %1$s", "Đảng ủy xã %2$s",
     "TINH-%1$s-XA-%2$s", COMMUNES, 3),
    (OrganizationKind.PEOPLES_COMMITTEE, "TINH-%1$s-XA-%2$s-UBND", "Ủy ban nhân dân xã số %2$s tỉnh số %1$s", "UBND xã %2$s",
     "TINH-%1$s-XA-%2$s", COMMUNES, 3),
]

ORG_SQL = """
INSERT INTO organization (code, name, short_name, kind, parent_id, is_demo, search_key, created_at, updated_at)
SELECT format(%(code)s::text, a, b), format(%(name)s::text, a, b), format(%(short)s::text, a, b), %(kind)s,
       parent.id, false, format(%(key)s::text, a, b), now(), now()
FROM (SELECT lpad(p::text, 2, '0') AS a, lpad(q::text, %(width)s::int, '0') AS b
      FROM generate_series(1, %(provinces)s::int) p CROSS JOIN generate_series(1, %(per_province)s::int) q) numbers
JOIN organization parent ON parent.code = format(%(parent)s::text, a, b)
ORDER BY a, b
"""

VERSION_SQL = """
INSERT INTO organization_version (organization_id, valid_from, valid_to, name, short_name, parent_id)
SELECT o.id, o.valid_from, o.valid_to, o.name, o.short_name, o.parent_id
FROM organization o
WHERE NOT EXISTS (SELECT 1 FROM organization_version v WHERE v.organization_id = o.id)
ORDER BY o.id
"""

# Open statuses, weighted by repetition; notes (10% of assignments), folded for search_key.
OPEN_STATUSES = ["not_started"] * 2 + ["in_progress"] * 4 + ["submitted", "returned"] + ["blocked"] * 2
NOTES = [
    "Đã lồng ghép chuyển đổi số vào kế hoạch công tác năm",
    "Chờ kinh phí từ ngân sách tỉnh",
    "Phối hợp với Sở Khoa học và Công nghệ",
    "Đang hoàn thiện dự thảo báo cáo",
]

# Each random() is drawn once per row, in the innermost subquery; OFFSET 0 keeps the planner from
# flattening the layers (which would draw them again where they are used).
ASSIGNMENT_SQL = """
INSERT INTO assignment (action_id, organization_id, origin_organization_id, role, cycle, owner_id, assigned_on,
                        original_due_date, due_date, status, progress, submitted_on, completed_on, note, search_key,
                        version, created_at, updated_at)
SELECT action_id, organization_id, organization_id, role, cycle, NULL, %(first)s::date,
       due_date, due_date, status,
       CASE status WHEN 'completed' THEN 100 WHEN 'not_started' THEN 0 ELSE 5 + floor(r_progress * 90)::int END,
       CASE WHEN status IN ('completed', 'submitted') THEN done_on END,
       CASE WHEN status = 'completed' THEN done_on END,
       note, COALESCE(note_key, ''), 1, now(), now()
FROM (
    SELECT d.*,
           CASE WHEN r_status < (CASE WHEN past THEN 0.33 ELSE 0.10 END) THEN 'completed'
                WHEN r_status < (CASE WHEN past THEN 0.37 ELSE 0.13 END) THEN 'cancelled'
                ELSE (%(open)s::text[])[1 + floor(r_open * %(n_open)s)::int] END AS status,
           CASE WHEN due_date IS NULL THEN %(first)s::date + floor(r_done * (%(as_of)s::date - %(first)s::date))::int
                WHEN past THEN LEAST(%(as_of)s::date, GREATEST(%(first)s::date, due_date + floor(r_done * 50)::int - 30))
                ELSE %(as_of)s::date - floor(r_done * 300)::int END AS done_on
    FROM (
        SELECT r.*,
               CASE WHEN r_null < 0.05 THEN NULL ELSE %(first)s::date + floor(r_due * %(days)s)::int END AS due_date,
               r_null >= 0.05 AND %(first)s::date + floor(r_due * %(days)s)::int < %(as_of)s::date AS past,
               CASE WHEN r_note < 0.10 THEN (%(notes)s::text[])[1 + floor(r_note * 10 * %(n_notes)s)::int] END AS note,
               CASE WHEN r_note < 0.10 THEN (%(note_keys)s::text[])[1 + floor(r_note * 10 * %(n_notes)s)::int] END AS note_key
        FROM (
            SELECT %(cycle_base)s::int + g AS cycle,
                   orgs.ids[1 + mod(g, orgs.n)] AS organization_id,
                   acts.ids[1 + floor(random() * acts.n)::int] AS action_id,
                   CASE WHEN random() < 0.2 THEN 'coordinating' ELSE 'lead' END AS role,
                   random() AS r_null, random() AS r_due, random() AS r_status, random() AS r_open,
                   random() AS r_done, random() AS r_progress, random() AS r_note
            FROM generate_series(%(start)s::int, %(stop)s::int) g
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM organization) orgs
            CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids, count(*)::int AS n FROM action) acts
            OFFSET 0
        ) r
        OFFSET 0
    ) d
    OFFSET 0
) s
ORDER BY cycle
"""

OVERDUE_SQL = """
SELECT count(*) FILTER (WHERE status <> 'cancelled' AND due_date < %(as_of)s
                        AND NOT (status = 'completed' AND completed_on IS NOT NULL AND completed_on <= %(as_of)s)),
       count(*)
FROM assignment
"""

# slug, who asks, path (with {half}: the half-way page of the admin's list, {province}: the leader's province).
# As of today (no as_of): the morning question. The data's completions are all on or before AS_OF.
Q = "page_size=50"
REQUESTS = [
    ("overdue-p1", "admin", f"/api/v1/reports/overdue?{Q}"),
    ("overdue-offset-5000", "admin", f"/api/v1/reports/overdue?{Q}&page=101"),
    ("overdue-cursor-5000", "admin", f"/api/v1/reports/overdue?{Q}&cursor={{overdue_cursor}}"),
    ("assignments-p1", "admin", f"/api/v1/assignments?{Q}"),
    ("assignments-halfway", "admin", f"/api/v1/assignments?{Q}&page={{half}}"),
    ("assignments-cursor-halfway", "admin", f"/api/v1/assignments?{Q}&cursor={{half_cursor}}"),
    ("assignments-province", "admin", f"/api/v1/assignments?{Q}&organization_id={{province}}&include_descendants=true"),
    ("search-chuyen-doi", "admin", f"/api/v1/assignments?{Q}&q=chuyen%20doi"),
    ("summary-tree", "admin", "/api/v1/reports/summary?by=organization"),
    ("summary-province", "admin",
     "/api/v1/reports/summary?by=organization&organization_id={province}&include_descendants=true"),
    ("summary-province-leader", "leader", "/api/v1/reports/summary?by=organization"),
    ("summary-root-children", "admin", "/api/v1/reports/summary?by=organization&parent_id={root}"),
    ("summary-province-children", "admin", "/api/v1/reports/summary?by=organization&parent_id={province}"),
    ("summary-flat-p1", "admin", "/api/v1/reports/summary?by=organization&page=1&page_size=50"),
    ("scorecard-2026", "admin", "/api/v1/reports/scorecard?year=2026"),
    ("scorecard-2026-p1", "admin", "/api/v1/reports/scorecard?year=2026&page=1&page_size=50"),
    ("overdue-p1-leader", "leader", f"/api/v1/reports/overdue?{Q}"),
    ("assignments-p1-leader", "leader", f"/api/v1/assignments?{Q}"),
]


# --- helpers -----------------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    return make_url(url.replace("postgresql://", "postgresql+psycopg://", 1)).render_as_string(hide_password=False)


def conninfo(url: str, database: str | None = None) -> dict:
    parsed = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    info = {"host": parsed.host or "127.0.0.1", "port": parsed.port or 5432, "user": parsed.username,
            "dbname": database or parsed.database}
    if parsed.password:
        info["password"] = parsed.password
    return info


@contextmanager
def step(label: str, timings: dict):
    began = time.perf_counter()
    yield
    timings[label] = time.perf_counter() - began
    print(f"  {label}: {timings[label]:.1f} s", flush=True)


def percentile(values: list[float], share: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def code_version(url: str) -> str:
    """Which app was measured: the schema's migration and a digest of the app's sources (others change them)."""
    import hashlib  # noqa: PLC0415

    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "tracker").rglob("*.py"), *(ROOT / "migrations" / "versions").glob("*.py")]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    with psycopg.connect(**conninfo(url)) as conn:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    return f"migration {revision}, sources {digest.hexdigest()[:12]}"


def app_environment(url: str, folder: Path) -> dict:
    """The settings gunicorn gets, and the in-process app too (TRACKER_ENV=production needs both keys)."""
    return {
        "TRACKER_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": url,
        "EVIDENCE_DIR": str(folder / "evidence"),
        "EVIDENCE_STAGING_DIR": str(folder / "evidence-staging"),
        "JWT_ACCESS_MINUTES": "600",  # a 1M-row run outlasts the default 15 minutes
        "LOG_LEVEL": "WARNING",
    }


def make_app(env: dict):
    os.environ.update(env)
    from tracker import create_app  # noqa: PLC0415 - reads the environment set just above

    return create_app()


# --- generate ----------------------------------------------------------------------------------


def org_parameters(kind, code, name, short, parent, per_province, width) -> dict:
    key = fold(f"{code} {name} {short}")  # the digits the templates take are left as they are by fold
    return {"code": code, "name": name, "short": short, "kind": kind.value, "key": key, "parent": parent,
            "provinces": PROVINCES, "per_province": per_province, "width": width}


def generate(url: str, count: int) -> dict:
    """A fresh national database with `count` generated assignments; the time of each step."""
    from flask_migrate import upgrade  # noqa: PLC0415

    from tracker import create_app  # noqa: PLC0415
    from tracker.cli import bundled_plan  # noqa: PLC0415
    from tracker.extensions import db  # noqa: PLC0415
    from tracker.services import demo, plan_import  # noqa: PLC0415

    timings: dict[str, float] = {}
    database = conninfo(url)["dbname"]
    print(f"generate: {database}, {count:,} assignments")
    began = time.perf_counter()
    with step("drop and create database", timings):
        with psycopg.connect(**conninfo(url, "postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"')
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url), "EVIDENCE_DIR": folder,
                          "EVIDENCE_STAGING_DIR": str(Path(folder) / "staging"), "LOG_LEVEL": "WARNING"})
        with app.app_context():
            with step("migrations (flask_migrate.upgrade)", timings), redirect_stderr(io.StringIO()) as said:
                try:
                    upgrade(directory=str(ROOT / "migrations"))  # alembic logs each revision to stderr
                except Exception:
                    sys.__stderr__.write(said.getvalue())
                    raise
            with step("Kim Động plan and demo users", timings):
                plan_import.import_plan(plan_import.validate_plan_file(plan_import.parse_plan_file(bundled_plan(), "yaml")))
                demo.ensure_demo_users()
                db.session.commit()
            db.session.remove()
            db.engine.dispose()

    with psycopg.connect(**conninfo(url)) as conn:
        with step("organisations (set-based)", timings):
            for level in LEVELS:
                conn.execute(ORG_SQL, org_parameters(*level))
            conn.execute(VERSION_SQL)
            conn.commit()
        orgs, versions = conn.execute(
            "SELECT (SELECT count(*) FROM organization), (SELECT count(*) FROM organization_version)").fetchone()
        check_organizations(conn)
        print(f"    {orgs:,} organisations, {versions:,} versions")
        actions = conn.execute("SELECT count(*) FROM action").fetchone()[0]
        with step(f"assignments (set-based, {count:,} over {actions} actions)", timings):
            parameters = {"first": FIRST_DAY, "as_of": AS_OF, "days": (LAST_DAY - FIRST_DAY).days + 1,
                          "open": OPEN_STATUSES, "n_open": len(OPEN_STATUSES), "notes": NOTES,
                          "note_keys": [fold(n) for n in NOTES], "n_notes": len(NOTES), "cycle_base": CYCLE_BASE}
            for start in range(0, count, CHUNK):
                conn.execute("SELECT setseed(%s)", (0.57 - start / count / 2,))
                conn.execute(ASSIGNMENT_SQL, {**parameters, "start": start, "stop": min(count, start + CHUNK) - 1})
                conn.commit()
    with step("tallies (set-based rebuild)", timings):
        rebuild_tallies(url)
    with psycopg.connect(**conninfo(url), autocommit=True) as conn:
        with step("VACUUM (ANALYZE), CHECKPOINT", timings):
            conn.execute("VACUUM (ANALYZE)")  # statistics, and the visibility map a long-lived table has
            conn.execute("CHECKPOINT")  # the load's writes flushed now, not during the measurements
        overdue, total = conn.execute(OVERDUE_SQL, {"as_of": AS_OF}).fetchone()
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    timings["total"] = time.perf_counter() - began
    print(f"  total {timings['total']:.1f} s; {total:,} assignments, {overdue / total:.1%} overdue as of {AS_OF}; "
          f"database {size}")
    return timings


def rebuild_tallies(url: str) -> None:
    """The maintained tallies (tracker.services.tallies) counted for the rows the set-based SQL added
    past the session hook that keeps them."""
    from tracker import create_app  # noqa: PLC0415
    from tracker.extensions import db  # noqa: PLC0415
    from tracker.services import tallies  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": sqlalchemy_url(url), "EVIDENCE_DIR": folder,
                          "EVIDENCE_STAGING_DIR": str(Path(folder) / "staging"), "LOG_LEVEL": "WARNING"})
        with app.app_context():
            tallies.rebuild()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()


def check_organizations(conn) -> None:
    """The generated organisations follow the app's own rules: code pattern, folded search key, a version."""
    bad = []
    rows = conn.execute("SELECT code, name, short_name, search_key FROM organization WHERE code LIKE 'TINH-%'")
    for code, name, short, key in rows:
        if not ORG_CODE_PATTERN.match(code) or key != fold(" ".join(filter(None, (code, name, short)))):
            bad.append(code)
    missing = conn.execute("SELECT count(*) FROM organization o WHERE NOT EXISTS "
                           "(SELECT 1 FROM organization_version v WHERE v.organization_id = o.id)").fetchone()[0]
    if bad or missing:
        raise SystemExit(f"generated organisations break the rules: {bad[:5]} ({len(bad)}), {missing} without a version")


# --- statements of a request ----------------------------------------------------------------------


class Capture:
    """The statements (and parameters) an in-process app sends, one request at a time."""

    def __init__(self, app):
        from tracker.extensions import db  # noqa: PLC0415

        self.app, self.statements, self.on = app, [], False
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._seen)
        self.client = app.test_client()

    def _seen(self, _conn, _cursor, statement, parameters, _context, executemany):
        if self.on:
            self.statements.append((statement, parameters, executemany))

    def of(self, path: str, token: str) -> list[tuple]:
        headers = {"Authorization": f"Bearer {token}"}
        self.client.get(path, headers=headers)  # the first one warms the app's caches
        self.statements, self.on = [], True
        response = self.client.get(path, headers=headers)
        self.on = False
        assert response.status_code == 200, (path, response.status_code, response.data[:300])
        return self.statements


def replay(conn, statements: list[tuple]) -> float:
    """Seconds to run the statements one after the other, fetching every row, in one transaction
    rolled back at the end (a request's own writes, if any, are not kept)."""
    began = time.perf_counter()
    with conn.cursor() as cursor:
        for statement, parameters, executemany in statements:
            if executemany:
                cursor.executemany(statement, parameters)
            else:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
    elapsed = time.perf_counter() - began
    conn.rollback()
    return elapsed


# --- measure -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn -w 2 on a free port, as production runs it."""

    def __init__(self, env: dict, folder: Path, timeout: int, workers: tuple[str, ...] = ("-w", "2")):
        self.port = free_port()
        self.log = folder / "gunicorn.log"
        command = [str(ROOT / ".venv" / "bin" / "gunicorn"), *workers, "-b", f"127.0.0.1:{self.port}",
                   "--timeout", str(timeout), "wsgi:app"]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn stopped:\n{self.log.read_text()[-3000:]}")
            try:
                if self.call("GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit(f"gunicorn did not answer in 60 s:\n{self.log.read_text()[-3000:]}")

    def call(self, method: str, path: str, token: str | None = None, body: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            conn.close()

    def workers(self) -> list[int]:
        """The gunicorn workers' process ids (the master's children)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text(encoding="ascii").split()]

    def sign_in(self, username: str) -> str:
        status, body, _ = self.call("POST", "/api/v1/auth/login", body={"username": username, "password": PASSWORD})
        if status != 200:
            raise SystemExit(f"sign-in of {username} answered {status}: {body[:300]!r}")
        return json.loads(body)["access_token"]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # gunicorn's own process group (start_new_session)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def ensure_leader(app) -> int:
    """The leader of province TINH-17 (created with the demo users' password if missing); the province's id."""
    from tracker.extensions import db  # noqa: PLC0415
    from tracker.models import Organization, User  # noqa: PLC0415
    from tracker.services.users import create_user  # noqa: PLC0415

    with app.app_context():
        province = db.session.scalar(select(Organization.id).where(Organization.code == f"TINH-{PROVINCE_OF_LEADER:02d}"))
        if province is None:
            raise SystemExit("no province TINH-17: run `python bench/national.py generate` first")
        if db.session.scalar(select(User.id).where(User.username == LEADER)) is None:
            create_user({"username": LEADER, "password": PASSWORD, "full_name": "Lãnh đạo tỉnh số 17",
                         "memberships": [{"organization_id": province, "role": "leader"}]})
            db.session.commit()
        db.session.remove()
    return province


def root_id(url: str) -> int:
    with psycopg.connect(**conninfo(url)) as conn:
        return conn.execute("SELECT id FROM organization WHERE code = %s", (ROOT_CODE,)).fetchone()[0]


def resolve_paths(server_or_app, tokens: dict, province: int, root: int) -> dict[str, str]:
    """Each request's path: the half-way page of the admin's list read from its X-Pagination header,
    and the cursors of the page after it and of the page after page 100 of the overdue list."""

    def pagination(probe: str) -> dict:
        if isinstance(server_or_app, Server):
            status, _, headers = server_or_app.call("GET", probe, tokens["admin"])
        else:
            response = server_or_app.get(probe, headers={"Authorization": f"Bearer {tokens['admin']}"})
            status, headers = response.status_code, dict(response.headers)
        assert status == 200, (probe, status)
        return json.loads(headers.get("X-Pagination") or headers.get("x-pagination"))

    half = max(1, (pagination(f"/api/v1/assignments?{Q}")["total_pages"] + 1) // 2)
    values = {"half": half, "province": province, "root": root,
              "half_cursor": pagination(f"/api/v1/assignments?{Q}&page={half - 1}").get("next_cursor", "") if half > 1 else "",
              "overdue_cursor": ""}
    # The page after page 100 of the overdue list (after its last but one when it is shorter).
    overdue_pages = pagination(f"/api/v1/reports/overdue?{Q}")["total_pages"]
    if overdue_pages > 1:
        values["overdue_cursor"] = pagination(f"/api/v1/reports/overdue?{Q}&page={min(100, overdue_pages - 1)}")["next_cursor"]
    return {slug: path.format(**values) for slug, _, path in REQUESTS}


def measure(url: str, rounds: int, timeout: int = 120) -> dict:
    """Per request: HTTP p50/p95 (ms), statements, SQL replay p50 (ms), ratio, bytes."""
    with psycopg.connect(**conninfo(url)) as conn:
        orgs, total = conn.execute("SELECT (SELECT count(*) FROM organization), (SELECT count(*) FROM assignment)").fetchone()
    code = code_version(url)
    print(f"measure: {conninfo(url)['dbname']}, {orgs:,} organisations, {total:,} assignments, {rounds} rounds; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {code}")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        env = app_environment(url, Path(folder))
        app = make_app(env)
        province = ensure_leader(app)
        server = Server(env, Path(folder), timeout)
        try:
            tokens = {"admin": server.sign_in("admin"), "leader": server.sign_in(LEADER)}
            paths = resolve_paths(server, tokens, province, root_id(url))
            capture = Capture(app)
            print(f"{'request':26} {'as':6} {'HTTP p50':>9} {'p95':>9} {'SQL':>4} {'SQL p50':>9} {'ratio':>6} {'bytes':>10}")
            with psycopg.connect(**conninfo(url)) as replayer:
                for slug, who, _ in REQUESTS:
                    path, token = paths[slug], tokens[who]
                    statements = capture.of(path, token)
                    for _ in range(2):  # warm-up: both workers, and the replaying connection
                        server.call("GET", path, token)
                        replay(replayer, statements)
                    times, sql, size = [], [], 0
                    for _ in range(rounds):  # alternate, so that a busy moment weighs on both alike
                        began = time.perf_counter()
                        status, body, _ = server.call("GET", path, token)
                        times.append((time.perf_counter() - began) * 1000)
                        if status != 200:
                            raise SystemExit(f"{slug}: {path} answered {status}: {body[:300]!r}")
                        size = len(body)
                        sql.append(replay(replayer, statements) * 1000)
                    row = {"who": who, "path": path, "p50": statistics.median(times), "p95": percentile(times, 0.95),
                           "statements": len(statements), "sql_p50": statistics.median(sql), "bytes": size}
                    row["ratio"] = row["p50"] / row["sql_p50"] if row["sql_p50"] else float("nan")
                    results[slug] = row
                    print(f"{slug:26} {who:6} {row['p50']:9.1f} {row['p95']:9.1f} {row['statements']:4d} {row['sql_p50']:9.1f} "
                          f"{row['ratio']:6.2f} {size:10,d}", flush=True)
        finally:
            server.stop()
            dispose(app)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if code_version(url) != code:
        print(f"warning: the app's sources changed during the measurement (now {code_version(url)}); the figures are of {code}")
    return {"organizations": orgs, "assignments": total, "rounds": rounds, "code": code, "requests": results}


# The README's production command: threaded workers, gunicorn's default 30 s worker timeout.
README_WORKERS = ("--workers", "4", "--worker-class", "gthread", "--threads", "4")


def exports(url: str, timeout: int = 30) -> dict:
    """The overdue list as CSV and XLSX through gunicorn started as the README starts it (gthread
    workers, default 30 s timeout): status, seconds, bytes, rows/s. An export that outlasts the
    worker timeout must still complete."""
    with psycopg.connect(**conninfo(url)) as conn:
        total = conn.execute("SELECT count(*) FROM assignment").fetchone()[0]
    print(f"exports: {conninfo(url)['dbname']}, {total:,} assignments; gunicorn {' '.join(README_WORKERS)} --timeout {timeout}; "
          f"load average {os.getloadavg()[0]:.1f}")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        env = app_environment(url, Path(folder))
        server = Server(env, Path(folder), timeout, README_WORKERS)
        try:
            token = server.sign_in("admin")
            status, _, headers = server.call("GET", "/api/v1/reports/overdue?page_size=1", token)
            rows = json.loads(headers.get("X-Pagination") or headers.get("x-pagination"))["total"]
            for fmt in ("csv", "xlsx"):
                workers = server.workers()
                before = {pid: memory_kib(pid)["VmRSS"] for pid in workers if reset_peak(pid)}
                began = time.perf_counter()
                status, body, _ = server.call("GET", f"/api/v1/reports/overdue?format={fmt}", token)
                seconds = time.perf_counter() - began
                # The worker that served it grew most: its peak RSS over its RSS before the request.
                growth = max((memory_kib(pid)["VmHWM"] - rss for pid, rss in before.items()), default=None)
                results[fmt] = {"status": status, "seconds": seconds, "bytes": len(body), "rows": rows,
                                "peak_growth_mib": None if growth is None else growth / 1024}
                print(f"  overdue.{fmt}: {status}, {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s), "
                      f"{len(body) / 2**20:.1f} MiB; worker peak RSS growth "
                      f"{'unknown' if growth is None else f'{growth / 1024:.1f} MiB'}", flush=True)
        finally:
            server.stop()
    return results


def dispose(app) -> None:
    """Close the in-process app's connections (the next `generate` drops the database)."""
    from tracker.extensions import db  # noqa: PLC0415

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- explain -----------------------------------------------------------------------------------


def explain(url: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement of every request, one file per request."""
    from tracker.extensions import db  # noqa: PLC0415
    from tracker.models import User  # noqa: PLC0415
    from tracker.services import sessions  # noqa: PLC0415

    EXPLAIN_DIR.mkdir(parents=True, exist_ok=True)
    with psycopg.connect(**conninfo(url)) as conn:
        total = conn.execute("SELECT count(*) FROM assignment").fetchone()[0]
    code = code_version(url)
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(app_environment(url, Path(folder)))
        province = ensure_leader(app)
        with app.app_context():
            tokens = {}
            for who, username in (("admin", "admin"), ("leader", LEADER)):
                user_id = db.session.scalar(select(User.id).where(User.username == username))
                tokens[who] = sessions.start_session(user_id, "127.0.0.1", "bench/national.py explain").access_token
            db.session.commit()
            db.session.remove()
        capture = Capture(app)
        paths = resolve_paths(capture.client, tokens, province, root_id(url))
        with psycopg.connect(**conninfo(url)) as conn:
            for slug, who, _ in REQUESTS:
                statements = capture.of(paths[slug], tokens[who])
                lines = [f"# {slug}: GET {paths[slug]} as {who}",
                         f"# {total:,} assignments; {len(statements)} statements; {code}", ""]
                with conn.cursor() as cursor:
                    for number, (statement, parameters, executemany) in enumerate(statements, start=1):
                        lines += [f"## statement {number}", statement.strip(), f"-- parameters: {parameters!r}", ""]
                        if executemany:
                            lines += ["(executemany: not explained)", ""]
                            continue
                        if statement.lstrip().upper().startswith("SET "):
                            cursor.execute(statement, parameters)  # a setting for the statements after it
                            lines += ["(a setting: run, not explained)", ""]
                            continue
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                        lines += [row[0] for row in cursor.fetchall()] + [""]
                conn.rollback()
                target = EXPLAIN_DIR / f"{slug}.txt"
                target.write_text("\n".join(lines), encoding="utf-8")
                print(f"  {target.relative_to(ROOT)}: {len(statements)} statements")
        dispose(app)


# --- all ---------------------------------------------------------------------------------------


def print_table(runs: dict[int, dict]) -> None:
    sizes = sorted(runs)
    print()
    for size in sizes:
        print(f"{size:,}: {runs[size]['code']}")
    print(f"{'request':26} {'as':6} {'size':>10} {'HTTP p50':>9} {'p95':>9} {'SQL':>4} {'SQL p50':>9} {'ratio':>6}")
    for slug, who, _ in REQUESTS:
        for size in sizes:
            row = runs[size]["requests"].get(slug)
            if row:
                print(f"{slug:26} {who:6} {size:10,d} {row['p50']:9.1f} {row['p95']:9.1f} {row['statements']:4d} "
                      f"{row['sql_p50']:9.1f} {row['ratio']:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[1])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("generate", "measure", "explain", "all", "exports"):
        command = commands.add_parser(name)
        command.add_argument("--database-url", default=DEFAULT_URL)
        if name == "generate":
            command.add_argument("--assignments", type=int, default=1_000_000)
        if name in ("measure", "explain", "all"):
            command.add_argument("--only", help="comma-separated request names (default: every request)")
        if name in ("measure", "all"):
            command.add_argument("--rounds", type=int, default=20)
        if name in ("measure", "all", "exports"):
            command.add_argument("--worker-timeout", type=int, default=30 if name == "exports" else 120,
                                 help="gunicorn --timeout, seconds")
        if name not in ("explain", "exports"):
            command.add_argument("--json", type=Path, help="also write the figures to this file")
        if name == "all":
            command.add_argument("--sizes", default="10000,100000,1000000")
    args = parser.parse_args()
    if urlsplit(args.database_url).scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise SystemExit("PostgreSQL only: --database-url postgresql://...")
    if args.command != "generate" and getattr(args, "only", None):
        wanted = set(args.only.split(","))
        unknown = wanted - {slug for slug, _, _ in REQUESTS}
        if unknown:
            raise SystemExit(f"unknown requests: {', '.join(sorted(unknown))}; known: {', '.join(s for s, _, _ in REQUESTS)}")
        REQUESTS[:] = [r for r in REQUESTS if r[0] in wanted]
    url = args.database_url.replace("postgres://", "postgresql://", 1).replace("postgresql+psycopg://", "postgresql://", 1)

    if args.command == "generate":
        timings = generate(url, args.assignments)
        if args.json:
            args.json.write_text(json.dumps(timings, indent=2), encoding="utf-8")
    elif args.command == "explain":
        explain(url)
    elif args.command == "exports":
        exports(url, args.worker_timeout)
    elif args.command == "measure":
        result = measure(url, args.rounds, args.worker_timeout)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    else:
        # Each step in a process of its own, so that gunicorn and the in-process capture load the same
        # sources (others may change the app between sizes; each run prints the version it measured).
        runs, generation = {}, {}
        me = [sys.executable, str(Path(__file__).resolve())]
        only = ["--only", args.only] if args.only else []
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "figures.json"
            for size in (int(s) for s in args.sizes.split(",")):
                subprocess.run([*me, "generate", "--database-url", url, "--assignments", str(size), "--json", str(out)],
                               check=True)
                generation[size] = json.loads(out.read_text())
                subprocess.run([*me, "measure", "--database-url", url, "--rounds", str(args.rounds), "--worker-timeout",
                                str(args.worker_timeout), "--json", str(out), *only], check=True)
                runs[size] = json.loads(out.read_text())
        print_table(runs)
        print("\ngeneration, seconds: " + "; ".join(f"{size:,}: {t['total']:.0f}" for size, t in generation.items()))
        if args.json:
            args.json.write_text(json.dumps({"generation": generation, "runs": runs}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
