"""Benchmark: listing and reports over many assignments, on SQLite or PostgreSQL.

    python bench/reports.py [--assignments 100000] [--database-url postgresql://postgres@127.0.0.1/tracker_bench]

Builds a database of its own (the named PostgreSQL database is dropped and recreated; without a
URL a SQLite file in a temporary folder), loads the Kim Động plan and demo users, adds the
requested number of assignments spread over every class, then times each request through the
real app stack (in-process test client) a few times and prints median and worst times, the
number of SQL statements per request, and the response size. Figures are information, not tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from sqlalchemy import event, insert, make_url, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker import create_app  # noqa: E402
from tracker.cli import bundled_plan  # noqa: E402
from tracker.extensions import db  # noqa: E402
from tracker.models import Action, Assignment, Organization, User  # noqa: E402
from tracker.models.base import utcnow  # noqa: E402
from tracker.services import demo, plan_import, sessions  # noqa: E402
from tracker.services import tallies  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 24)
TALLIED = "2027-12-31"  # after the last completion the data has (AS_OF + 320 days)
REQUESTS = [
    ("list, page 1 (50)", "/api/v1/assignments?as_of=2026-11-24"),
    ("list, page 1 (200)", "/api/v1/assignments?as_of=2026-11-24&page_size=200"),
    ("list, last page (200)", "/api/v1/assignments?as_of=2026-11-24&page_size=200&page={last}"),
    ("list, search q=chuyen doi so", "/api/v1/assignments?q=chuyen%20doi%20so&page_size=200"),
    ("overdue, page 1 (200)", "/api/v1/reports/overdue?as_of=2026-11-24&page_size=200"),
    ("summary by organization", "/api/v1/reports/summary?by=organization&as_of=2026-11-24"),
    ("summary by group", "/api/v1/reports/summary?by=group&as_of=2026-11-24"),
    ("scorecard 2026", "/api/v1/reports/scorecard?year=2026&as_of=2026-11-24"),
    ("attention", "/api/v1/reports/attention?as_of=2026-11-24"),
    ("overdue export csv", "/api/v1/reports/overdue?as_of=2026-11-24&format=csv"),
    ("overdue export xlsx", "/api/v1/reports/overdue?as_of=2026-11-24&format=xlsx"),
    # As of a day after every completion (and not before today), the totals come from the tallies:
    # the national bench's requests (bench/national.py), for the goals' "SQLite within 3x at 100k".
    ("list, page 1 (50), tallied", f"/api/v1/assignments?as_of={TALLIED}"),
    ("list, district subtree (50), tallied", f"/api/v1/assignments?as_of={TALLIED}&organization_id={{district}}&include_descendants=true"),
    ("search q=chuyen doi (50), tallied", f"/api/v1/assignments?as_of={TALLIED}&q=chuyen%20doi"),
    ("overdue, page 1 (50), tallied", f"/api/v1/reports/overdue?as_of={TALLIED}"),
    ("summary, district's children, tallied", f"/api/v1/reports/summary?by=organization&as_of={TALLIED}&parent_id={{district}}"),
    ("scorecard 2026 page 1 (50), tallied", f"/api/v1/reports/scorecard?year=2026&as_of={TALLIED}&page=1&page_size=50"),
    ("list, page 1 (50), district leader, tallied", f"/api/v1/assignments?as_of={TALLIED}", "lanhdao.huyen"),
    ("overdue, page 1 (50), district leader, tallied", f"/api/v1/reports/overdue?as_of={TALLIED}", "lanhdao.huyen"),
]


def fresh(url: str | None, folder: Path) -> str:
    if not url:
        return f"sqlite:///{folder / 'bench.sqlite3'}"
    parsed = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with psycopg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')
    return parsed.render_as_string(hide_password=False)


def build(app, count: int) -> None:
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        plan_import.import_plan(plan_import.validate_plan_file(plan_import.parse_plan_file(bundled_plan(), "yaml")))
        demo.ensure_demo_users()
        db.session.commit()
        actions = list(db.session.scalars(select(Action.id)))
        orgs = list(db.session.scalars(select(Organization.id)))
        rng, now = random.Random(57), utcnow()
        statuses = ["not_started", "in_progress", "submitted", "returned", "completed", "blocked", "cancelled"]
        for start in range(0, count, 10_000):
            rows = []
            for i in range(start, min(count, start + 10_000)):
                status = rng.choice(statuses)
                due = None if i % 11 == 0 else AS_OF + dt.timedelta(days=rng.randint(-400, 300))
                done = (due or AS_OF) + dt.timedelta(days=rng.randint(-20, 20)) if status == "completed" else None
                rows.append({"action_id": actions[i % len(actions)], "organization_id": orgs[i % len(orgs)],
                             "origin_organization_id": orgs[i % len(orgs)], "role": "lead",
                             "cycle": 10_000 + i, "due_date": due, "original_due_date": due, "status": status,
                             "progress": 100 if done else rng.randint(0, 90), "submitted_on": done, "completed_on": done,
                             "version": 1, "search_key": "", "created_at": now, "updated_at": now})
            db.session.execute(insert(Assignment), rows)
            db.session.commit()
        tallies.rebuild()  # bulk SQL bypasses the session hook that keeps them
        db.session.commit()
        db.session.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = fresh(args.database_url, Path(folder))
        app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "EVIDENCE_DIR": folder, "LOG_LEVEL": "WARNING"})
        started = time.perf_counter()
        build(app, args.assignments)
        print(f"database: {make_url(url).get_backend_name()}, {args.assignments:,} extra assignments built in {time.perf_counter() - started:.1f} s")
        with app.app_context():
            headers = {}
            for username in ("admin", "lanhdao.huyen"):
                user_id = db.session.scalar(select(User.id).where(User.username == username))
                headers[username] = {"Authorization": f"Bearer {sessions.start_session(user_id, '127.0.0.1', 'bench').access_token}"}
            db.session.commit()
            total = db.session.query(Assignment).count()
            district = db.session.scalar(select(Organization.id).where(Organization.code == "HU-KD"))
            engine = db.engine
        statements = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))
        client = app.test_client()
        print(f"{'request':48} {'median ms':>10} {'worst ms':>10} {'SQL':>5} {'bytes':>12}")
        for label, path, *who in REQUESTS:
            path = path.format(last=(total + 199) // 200, district=district)
            times, size, count = [], 0, 0
            for _ in range(args.repeat):
                statements.clear()
                began = time.perf_counter()
                response = client.get(path, headers=headers[who[0] if who else "admin"], buffered=True)
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                size, count = len(response.data), len(statements)
            print(f"{label:48} {statistics.median(times):10.1f} {max(times):10.1f} {count:5d} {size:12,d}")


if __name__ == "__main__":
    main()
