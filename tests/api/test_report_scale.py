"""Reports over 100,000 assignments: the overdue exports stream (a separate server process's
memory stays flat, measured from /proc), every report runs a fixed number of statements whatever
the data size, and the summary's totals agree with independent counts in SQL.

One scratch database per module: the baseline (Kim Động plan, demo users) and 100,000 more
assignments of every class, spread over the district's organisations and the plan's actions.
Timings are printed for information only; nothing asserts on time."""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import insert, make_url, select, text

from tests.conftest import REPO, app_config, fresh_database, load_baseline, pg_admin_connect, signed_in
from tests.helpers import counting, descendants, memory_kib, reset_peak
from tracker import create_app
from tracker.extensions import db
from tracker.models import Action, Assignment, Organization, Plan, User
from tracker.services import tallies

pytestmark = pytest.mark.no_transaction

MiB = 1024 * 1024
EXTRA = 100_000
BATCH = 10_000
AS_OF = dt.date(2026, 11, 24)
KIM_DONG_PLAN = "KH-NQ57/HU"
DISTRICT = "HU-KD"
REPORTS = "/api/v1/reports"
CLASSES = ("completed_on_time", "completed_late", "in_progress_on_time", "overdue", "no_deadline")
CSV_HEADING_LINES = 1  # the column headings only: title and as_of are in the file name
XLSX_FIRST_DATA_ROW = 4  # title, "Tính đến ngày", column headings come first in the workbook
MAX_STATEMENTS = 14  # per report request, beyond those that authenticate it and SQLite's BEGIN (the periodic report with its indicators)

# An independent statement of the rule in tracker/domain/classification.py: not cancelled, not
# completed by the date (completed later counts as open then), and due before it.
OVERDUE_WHERE = (
    "status <> 'cancelled'"
    " AND NOT (status = 'completed' AND completed_on IS NOT NULL AND completed_on <= :as_of)"
    " AND due_date IS NOT NULL AND due_date < :as_of"
)


@dataclass
class Scratch:
    url: str
    storage: Path
    app: Flask
    tokens: dict[str, str]
    district_id: int


# --- data ----------------------------------------------------------------------------------


def _row(i: int, actions: list[int], orgs: list[int], owners: list[int | None], now: dt.datetime) -> dict:
    """Assignment number `i`: due dates over 2025–2027, statuses and completion dates varied so
    that every class occurs as of AS_OF, including completed after AS_OF (open then)."""
    start = dt.date(2025, 1, 1)
    due = None if i % 17 == 0 else start + dt.timedelta(days=(i * 7919) % 1095)
    anchor = due or start + dt.timedelta(days=(i * 31) % 700)
    kind = i % 20
    submitted_on = completed_on = None
    if kind == 0:
        status = "cancelled"
    elif kind <= 6:  # on time, late, or completed only after AS_OF
        status = "completed"
        completed_on = anchor + dt.timedelta(days=(i % 61) - 30)
        submitted_on = completed_on - dt.timedelta(days=2)
    elif kind == 7:
        status, submitted_on = "submitted", anchor - dt.timedelta(days=1)
    elif kind == 8:
        status = "returned"
    elif kind == 9:
        status = "blocked"
    else:
        status = "in_progress" if kind % 2 else "not_started"
    original = due if i % 9 or due is None else due - dt.timedelta(days=45)  # one in nine extended
    return {
        "action_id": actions[i % len(actions)], "organization_id": orgs[(i // len(actions)) % len(orgs)],
        "origin_organization_id": orgs[(i // len(actions)) % len(orgs)],
        "role": "lead" if i % 3 else "coordinating", "cycle": 10_000 + i, "owner_id": owners[i % len(owners)],
        "due_date": due, "original_due_date": original, "status": status,
        "progress": 100 if status == "completed" else (i % 10) * 10 if status != "not_started" else 0,
        "submitted_on": submitted_on, "completed_on": completed_on,
        "version": 1, "search_key": "", "created_at": now, "updated_at": now,
    }


def add_assignments(n: int) -> None:
    """`n` assignments beyond the baseline, in batches, spread over the district's subtree and the plan's actions."""
    actions = list(db.session.scalars(select(Action.id).join(Plan).where(Plan.code == KIM_DONG_PLAN).order_by(Action.id)))
    parents = dict(db.session.execute(select(Organization.id, Organization.parent_id)).all())
    district = db.session.scalar(select(Organization.id).where(Organization.code == DISTRICT))
    orgs = sorted(descendants(parents, district))
    owners = [None, None, *db.session.scalars(select(User.id).order_by(User.id))]
    db.session.remove()
    now = dt.datetime(2026, 6, 1, 8, 30, tzinfo=dt.UTC)
    with db.engine.begin() as conn:
        for first in range(0, n, BATCH):
            conn.execute(insert(Assignment), [_row(i, actions, orgs, owners, now) for i in range(first, min(n, first + BATCH))])
    tallies.rebuild()  # bulk SQL bypasses the session hook that keeps them
    db.session.commit()


@pytest.fixture(scope="module")
def scratch(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report_scale")
    url = fresh_database(database_url, tmp, "report_scale")
    app = create_app(app_config(url, tmp))
    started = time.perf_counter()
    load_baseline(app)
    baseline = time.perf_counter()
    with app.app_context():
        add_assignments(EXTRA)
        users = dict(db.session.execute(select(User.username, User.id)).all())
        tokens = {name: signed_in(uid).access_token for name, uid in users.items()}
        district_id = db.session.scalar(select(Organization.id).where(Organization.code == DISTRICT))
        db.session.remove()
    print(f"\nscratch database: baseline {baseline - started:.1f} s, {EXTRA:,} assignments {time.perf_counter() - baseline:.1f} s")
    yield Scratch(url, tmp, app, tokens, district_id)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if not url.startswith("sqlite"):
        with pg_admin_connect(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def sql(app: Flask, statement: str, **params):
    """Rows of an independent SQL statement, on a connection closed at once (SQLite's lock is released)."""
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(text(statement), params).all()


def overdue_ids(app: Flask) -> set[int]:
    return {row[0] for row in sql(app, f"SELECT id FROM assignment WHERE {OVERDUE_WHERE}", as_of=AS_OF)}


def test_the_data_has_every_class(scratch):
    """The fixture's data is what the other tests assume: 100,000 more rows, every class, statuses varied."""
    (count,), = sql(scratch.app, "SELECT count(*) FROM assignment")
    assert EXTRA < count < EXTRA + 1000
    statuses = dict(sql(scratch.app, "SELECT status, count(*) FROM assignment WHERE cycle >= 10000 GROUP BY status"))
    assert set(statuses) == {"cancelled", "completed", "submitted", "returned", "blocked", "in_progress", "not_started"}
    (later,), = sql(scratch.app, "SELECT count(*) FROM assignment WHERE status = 'completed' AND completed_on > :d "
                                 "AND due_date < :d", d=AS_OF)
    assert later > 0  # completed after AS_OF, due before: overdue as of AS_OF
    assert 20_000 < len(overdue_ids(scratch.app)) < 80_000


# --- 1. export memory ------------------------------------------------------------------------


def download(port: int, path: str, token: str, target: Path) -> tuple[int, dict[str, str], int]:
    """GET `path` and write the body to `target` 1 MiB at a time (this process never holds it whole)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        size = 0
        with open(target, "wb") as out:
            while chunk := response.read(MiB):
                out.write(chunk)
                size += len(chunk)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, size
    finally:
        connection.close()


@contextmanager
def server_process(url: str, storage: Path):
    """tests/memory_server.py on a loopback port, on the scratch database."""
    server = subprocess.Popen([sys.executable, "-m", "tests.memory_server", url, str(storage)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.strip().isdigit(), f"the server did not start (exit code {server.poll()})"
        yield server, int(line)
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs /proc to read a process's memory")
def test_overdue_exports_of_100k_keep_server_memory_flat(scratch, tmp_path):
    token = scratch.tokens["admin"]
    overdue = f"{REPORTS}/overdue?"
    measured = {}
    with server_process(scratch.url, scratch.storage) as (server, port):
        for fmt in ("csv", "xlsx"):  # load every code path once, on a few rows
            status, _, _ = download(port, overdue + urlencode({"format": fmt, "as_of": "2025-01-10"}), token, tmp_path / f"warm.{fmt}")
            assert status == 200
        for fmt in ("csv", "xlsx"):
            reset_peak(server.pid)
            before = memory_kib(server.pid)["VmRSS"]
            started = time.perf_counter()
            status, headers, size = download(port, overdue + urlencode({"format": fmt, "as_of": AS_OF.isoformat()}), token,
                                             tmp_path / f"overdue.{fmt}")
            elapsed = time.perf_counter() - started
            peak = memory_kib(server.pid)["VmHWM"]
            assert status == 200, (tmp_path / f"overdue.{fmt}").read_bytes()[:2000]
            measured[fmt] = (peak - before) / 1024
            print(f"\noverdue.{fmt}: {size / MiB:.1f} MiB in {elapsed:.1f} s; server RSS before {before / 1024:.0f} MiB, "
                  f"peak {peak / 1024:.0f} MiB, growth {measured[fmt]:.1f} MiB")
            assert f"nhiem-vu-qua-han_{AS_OF.isoformat()}.{fmt}" in headers["content-disposition"]

    assert measured["csv"] < 100, measured
    assert measured["xlsx"] < 100, measured
    expected = overdue_ids(scratch.app)

    # CSV: the BOM, the header row, then one record per overdue assignment, most overdue first.
    path = tmp_path / "overdue.csv"
    with open(path, "rb") as raw:
        assert raw.read(3) == b"\xef\xbb\xbf"
    ids, dues = [], []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        records = csv.reader(handle)
        heading = next(records)  # the header is the first row; as_of is in the file name
        assert heading[0] == "Mã phân công" and heading[12] == "Hạn hiện tại"
        previous = dt.date.min
        for record in records:
            ids.append(int(record[0]))
            due = dt.datetime.strptime(record[12], "%d/%m/%Y").date()
            assert previous <= due < AS_OF and int(record[13]) == (AS_OF - due).days, record
            previous = due
            dues.append(due)
    with open(path, "rb") as raw:
        physical_lines = sum(1 for _ in raw)
    assert len(ids) == len(expected) and set(ids) == expected
    assert physical_lines == CSV_HEADING_LINES + len(expected)  # no field spans lines: one line per row

    # XLSX: opens with openpyxl, the same rows.
    workbook = load_workbook(tmp_path / "overdue.xlsx", read_only=True)
    try:
        sheet = workbook.worksheets[0]
        assert sheet.cell(row=XLSX_FIRST_DATA_ROW - 1, column=1).value == "Mã phân công"
        xlsx_ids = [row[0] for row in sheet.iter_rows(min_row=XLSX_FIRST_DATA_ROW, max_col=1, values_only=True)]
    finally:
        workbook.close()
    assert len(xlsx_ids) == len(expected) and set(xlsx_ids) == expected
    assert xlsx_ids == ids  # the same order as the CSV


# --- 2. bounded SQL --------------------------------------------------------------------------


def report_requests(client, headers, district_id: int) -> list[tuple[str, str, dict]]:
    """(label, path, query) of each report; the overdue list's last page is found from its first."""
    first = {"as_of": AS_OF.isoformat(), "page": 1, "page_size": 200}
    response = client.get(f"{REPORTS}/overdue", query_string=first, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    pages = json.loads(response.headers["X-Pagination"])["total_pages"]
    return [
        ("overdue, page 1", "overdue", first),
        (f"overdue, last page ({pages})", "overdue", {**first, "page": pages}),
        *((f"summary by={by}", "summary", {"by": by, "as_of": AS_OF.isoformat()}) for by in ("organization", "group", "plan", "owner")),
        ("scorecard 2026", "scorecard", {"year": 2026, "as_of": AS_OF.isoformat()}),
        ("attention", "attention", {"as_of": AS_OF.isoformat()}),
        (f"periodic {DISTRICT} 2026-H1", "periodic", {"organization_id": district_id, "period": "2026-H1"}),
    ]


def measure(app: Flask, token: str, district_id: int) -> dict[str, tuple[int, float, object]]:
    """Per report: statements sent, seconds taken, and the JSON answered; and under "sign-in" the
    statements of a request that is authenticated, then refused before the report runs."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    with counting(app) as statements:
        refused = client.get(f"{REPORTS}/summary", query_string={"by": "nothing"}, headers=headers)
    assert refused.status_code == 422, refused.get_data(as_text=True)
    observed = {"sign-in": (len(statements), 0.0, None)}
    for label, path, query in report_requests(client, headers, district_id):
        with counting(app) as statements:
            started = time.perf_counter()
            response = client.get(f"{REPORTS}/{path}", query_string=query, headers=headers)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, (label, response.get_data(as_text=True))
        observed[label.split(" (")[0]] = (len(statements), elapsed, response.get_json())
    return observed


def test_every_report_runs_a_fixed_number_of_statements(scratch, app, database_url, tmp_path):
    big = measure(scratch.app, scratch.tokens["admin"], scratch.district_id)

    # The same reports on the baseline only (~300 assignments), loaded by the session's `app`.
    small_app = create_app(app_config(database_url, tmp_path))
    try:
        with small_app.app_context():
            admin = db.session.scalar(select(User.id).where(User.username == "admin"))
            district = db.session.scalar(select(Organization.id).where(Organization.code == DISTRICT))
            token = signed_in(admin).access_token
            db.session.remove()
        small = measure(small_app, token, district)
    finally:
        with small_app.app_context():
            db.engine.dispose()

    print(f"\n{'report':<28}{'statements (100k)':>18}{'(baseline)':>12}{'seconds (100k)':>16}")
    for label, (count, seconds, _) in big.items():
        print(f"{label:<28}{count:>18}{small[label][0]:>12}{seconds:>16.3f}")

    counts = {label: count for label, (count, _, _) in big.items()}
    sign_in = counts.pop("sign-in")
    assert 0 < sign_in <= 5, sign_in  # the user, their memberships and organisations, the revocation list
    assert all(sign_in < count <= sign_in + MAX_STATEMENTS for count in counts.values()), (sign_in, counts)
    assert counts["overdue, page 1"] == counts["overdue, last page"], counts
    assert {"sign-in": sign_in, **counts} == {label: count for label, (count, _, _) in small.items()}

    # The pages hold what they should: 200 rows, then the remainder, of the independently counted total.
    total = len(overdue_ids(scratch.app))
    assert len(big["overdue, page 1"][2]) == 200
    assert len(big["overdue, last page"][2]) == total - 200 * ((total - 1) // 200)


# --- 3. summary totals -----------------------------------------------------------------------


def classify(status: str, due: dt.date | None, completed_on: dt.date | None) -> str | None:
    """The classes as of AS_OF, written again here (see tracker/domain/classification.py)."""
    if status == "cancelled":
        return None
    if status == "completed" and completed_on is not None and completed_on <= AS_OF:
        return "completed_on_time" if due is None or completed_on <= due else "completed_late"
    if due is None:
        return "no_deadline"
    return "in_progress_on_time" if due >= AS_OF else "overdue"


def test_summary_totals_over_100k_match_independent_counts(scratch):
    client = scratch.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {scratch.tokens['admin']}"
    response = client.get(f"{REPORTS}/summary", query_string={"by": "organization", "as_of": AS_OF.isoformat()})
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    totals = report["totals"]

    (live,), = sql(scratch.app, "SELECT count(*) FROM assignment WHERE status <> 'cancelled'")
    assert totals["total"] == live > EXTRA * 0.9
    assert sum(totals["counts"].values()) == totals["total"]

    def as_date(value):
        return value if value is None or isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])

    expected, due_soon = Counter(), 0
    for status, due, done in sql(scratch.app, "SELECT status, due_date, completed_on FROM assignment"):
        klass = classify(status, as_date(due), as_date(done))
        expected[klass] += 1
        due_soon += klass == "in_progress_on_time" and (as_date(due) - AS_OF).days <= 7
    assert totals["counts"] == {c: expected[c] for c in CLASSES}
    assert totals["due_soon"] == due_soon > 0
    assert all(totals["counts"][c] > 0 for c in CLASSES), totals["counts"]
    assert totals["counts"]["overdue"] == len(overdue_ids(scratch.app))

    district = next(row for row in report["rows"] if row["key"]["organization_code"] == DISTRICT)
    assert district["total"] == totals["total"]
    assert district["counts"] == totals["counts"]
    assert district["due_soon"] == totals["due_soon"]
    for row in report["rows"]:
        assert sum(row["counts"].values()) == row["total"], row


def test_every_summary_key_partitions_the_same_totals(scratch):
    """by=group, plan and owner: each assignment in exactly one row, so the rows add up to the totals."""
    client = scratch.app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {scratch.tokens['admin']}"
    reports = {}
    for by in ("organization", "group", "plan", "owner"):
        response = client.get(f"{REPORTS}/summary", query_string={"by": by, "as_of": AS_OF.isoformat()})
        assert response.status_code == 200, response.get_data(as_text=True)
        reports[by] = response.get_json()
    expected = reports["organization"]["totals"]
    for by in ("group", "plan", "owner"):
        totals, rows = reports[by]["totals"], reports[by]["rows"]
        assert totals["counts"] == expected["counts"] and totals["total"] == expected["total"], by
        assert {c: sum(row["counts"][c] for row in rows) for c in CLASSES} == totals["counts"], by
        assert sum(row["due_soon"] for row in rows) == totals["due_soon"], by
    assert len(reports["owner"]["rows"]) > 2  # owners were spread, and some have none
