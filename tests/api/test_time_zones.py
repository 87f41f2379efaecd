"""Times with their zone: every date-time in JSON is RFC 3339 UTC with `Z` (a browser reading
`2026-11-26T03:44:00` took it as its own local time, 7 hours off in Hà Nội); dates stay ISO dates;
exports for people show dd/mm/yyyy HH:MM in the plan's time zone (TRACKER_TIMEZONE)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, Response
from openpyxl import load_workbook
from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.http import parse_date
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.conftest import NAIVE_DATE_TIMES, scratch_app
from tests.helpers import naive_date_times
from tracker.errors import problem_response
from tracker.extensions import db
from tracker.models import Assignment, AssignmentEvent, Evidence, Extension
from tracker.models.base import utcnow
from tracker.schemas.common import DateTime

UTC = dt.UTC
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
# 10:41 on 26/11/2026 in Hà Nội, as the database keeps it.
UPDATED = dt.datetime(2026, 11, 26, 3, 41, tzinfo=UTC)
# 20:30 UTC is already the next day in Hà Nội.
LATE_EVENING = dt.datetime(2026, 11, 25, 20, 30, tzinfo=UTC)
AS_OF = "2026-11-27"
LAST_UPDATED = "Cập nhật lần cuối"


def instant(value: str) -> dt.datetime:
    assert value.endswith("Z"), value
    return dt.datetime.fromisoformat(value)


@pytest.fixture
def target(session, org, action_ref) -> int:
    """An open PNV-KD assignment, overdue as of AS_OF (its dates set here, not taken from the plan)."""
    assignment_id = session.scalar(select(Assignment.id).where(
        Assignment.action_id == action_ref("IV.4.2"), Assignment.organization_id == org["PNV-KD"], Assignment.cycle == 2026))
    assignment = session.get(Assignment, assignment_id)
    assignment.status, assignment.due_date, assignment.original_due_date = "in_progress", dt.date(2026, 6, 10), dt.date(2026, 6, 10)
    session.commit()
    return assignment_id


def set_updated_at(session, assignment_id: int, moment: dt.datetime) -> None:
    session.get(Assignment, assignment_id).updated_at = moment  # set explicitly, so onupdate=utcnow does not apply
    session.commit()


def test_updated_at_is_utc_with_z(client, auth, session, target):
    officer = auth("canbo.noivu")
    before = utcnow()
    current = client.get(f"/api/v1/assignments/{target}", headers=officer)
    changed = client.patch(f"/api/v1/assignments/{target}", headers={**officer, "If-Match": current.headers["ETag"]}, json={"progress": 40})
    after = utcnow()
    assert changed.status_code == 200, changed.get_json()
    body = client.get(f"/api/v1/assignments/{target}", headers=officer).get_json()
    assert before <= instant(body["updated_at"]) <= after
    assert instant(body["updated_at"]) == session.get(Assignment, target).updated_at
    assert body["due_date"] == "2026-06-10"  # dates stay dates


def test_updated_at_is_the_instant_of_the_change(client, auth, session, target):
    # The measured defect: at 10:44 in Hà Nội the API said "2026-11-26T03:44:00.171317", read as 03:44 local.
    set_updated_at(session, target, dt.datetime(2026, 11, 26, 10, 44, 0, 171317, tzinfo=HANOI))
    body = client.get(f"/api/v1/assignments/{target}", headers=auth("canbo.noivu")).get_json()
    assert body["updated_at"] == "2026-11-26T03:44:00.171317Z"
    assert instant(body["updated_at"]).astimezone(HANOI).strftime("%d/%m/%Y %H:%M") == "26/11/2026 10:44"


def test_database_hands_back_utc_whatever_its_session_zone(client, auth, session, target):
    """SQLite keeps no zone (naive values are UTC); PostgreSQL answers in its session's zone."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL TIME ZONE 'Asia/Ho_Chi_Minh'"))
    set_updated_at(session, target, UPDATED)
    session.expire_all()
    stored = session.get(Assignment, target).updated_at
    assert stored.utcoffset() == dt.timedelta(0) and stored == UPDATED
    naive = session.scalar(select(Assignment.updated_at).where(Assignment.updated_at == UPDATED.replace(tzinfo=None)))
    assert naive == UPDATED  # a naive value given to the database is taken as UTC
    body = client.get(f"/api/v1/assignments/{target}", headers=auth("canbo.noivu")).get_json()
    assert body["updated_at"] == "2026-11-26T03:41:00Z"


def test_history_occurred_at_has_its_zone(client, auth, session, target):
    officer = auth("canbo.noivu")
    current = client.get(f"/api/v1/assignments/{target}", headers=officer)
    assert client.patch(f"/api/v1/assignments/{target}", headers={**officer, "If-Match": current.headers["ETag"]},
                        json={"note": "Đang tổng hợp"}).status_code == 200
    # Events are append-only: one is written with its moment given, as a late-evening change would be.
    event = AssignmentEvent(assignment_id=target, kind="note_changed", occurred_at=LATE_EVENING, old_value={"note": "Đang tổng hợp"},
                            new_value={"note": "Đã gửi"}, effective_on=dt.date(2026, 11, 26), recorded_on=dt.date(2026, 11, 26))
    session.add(event)
    session.commit()
    event_id = event.id
    events = client.get(f"/api/v1/assignments/{target}/history?page_size=100", headers=officer).get_json()
    assert events and all(e["occurred_at"].endswith("Z") and e["recorded_at"] == e["occurred_at"] for e in events)
    latest = next(e for e in events if e["id"] == event_id)
    assert latest["occurred_at"] == "2026-11-25T20:30:00Z"


def test_evidence_uploaded_at_has_its_zone(client, auth, session, target):
    officer = auth("canbo.noivu")
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(files.pdf()), filename="Báo cáo.pdf")}))
    before = utcnow()
    uploaded = client.post(f"/api/v1/assignments/{target}/evidence", data=body, headers=officer,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert uploaded.status_code == 201, uploaded.get_json()
    record = uploaded.get_json()
    assert before <= instant(record["uploaded_at"]) <= utcnow()
    assert record["withdrawn_at"] is None

    session.get(Evidence, record["id"]).uploaded_at = LATE_EVENING
    session.commit()
    listed = client.get(f"/api/v1/assignments/{target}/evidence", headers=officer).get_json()
    assert [e["uploaded_at"] for e in listed] == ["2026-11-25T20:30:00Z"]
    download = client.get(f"/api/v1/evidence/{record['id']}/content", headers=officer, buffered=True)
    assert parse_date(download.headers["Last-Modified"]) == LATE_EVENING

    withdrawn = client.post(f"/api/v1/evidence/{record['id']}/withdraw", json={"reason": "Nhầm tệp"}, headers=officer)
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert instant(withdrawn.get_json()["withdrawn_at"]) >= before


def test_extension_times_have_their_zone(client, auth, session, target):
    officer, leader = auth("canbo.noivu"), auth("lanhdao.ubnd")
    base = f"/api/v1/assignments/{target}/extensions"
    requested = client.post(base, headers=officer, json={"new_due_date": "2026-12-31", "reason": "Chờ số liệu quý IV"})
    assert requested.status_code == 201, requested.get_json()
    extension = requested.get_json()
    assert extension["requested_at"].endswith("Z") and extension["decided_at"] is None
    assert extension["new_due_date"] == "2026-12-31"

    session.get(Extension, extension["id"]).requested_at = LATE_EVENING
    session.commit()
    assert client.get(base, headers=officer).get_json()[0]["requested_at"] == "2026-11-25T20:30:00Z"
    granted = client.post(f"{base}/{extension['id']}/decision", headers=leader, json={"decision": "grant", "note": "Đồng ý"})
    assert granted.status_code == 200, granted.get_json()
    assert instant(granted.get_json()["decided_at"]) > LATE_EVENING


def overdue_export(client, headers, org_id: int, fmt: str):
    response = client.get(f"/api/v1/reports/overdue?format={fmt}&organization_id={org_id}&as_of={AS_OF}", headers=headers, buffered=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def xlsx_rows(response, tmp_path) -> tuple[list[str], list[tuple], object]:
    path = tmp_path / "overdue.xlsx"
    path.write_bytes(response.data)
    sheet = load_workbook(path).active
    header = [cell.value for cell in sheet[3]]
    return header, list(sheet.iter_rows(min_row=4, values_only=True)), sheet


def csv_rows(response) -> tuple[list[str], list[list[str]]]:
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    return lines[0], lines[1:]  # the header first


def test_overdue_xlsx_shows_local_time(client, auth, session, org, target, tmp_path):
    # The measured defect: 10:41 in Hà Nội was printed "26/11/2026 03:41".
    set_updated_at(session, target, UPDATED)
    header, rows, sheet = xlsx_rows(overdue_export(client, auth("admin"), org["PNV-KD"], "xlsx"), tmp_path)
    column = header.index(LAST_UPDATED)
    index, row = next((i, r) for i, r in enumerate(rows) if r[0] == target)
    assert row[column] == dt.datetime(2026, 11, 26, 10, 41)  # a real date-time, in UTC+7
    assert sheet.cell(row=4 + index, column=column + 1).number_format == "DD/MM/YYYY HH:MM"
    stored = dict(session.execute(select(Assignment.id, Assignment.updated_at).where(Assignment.id.in_([r[0] for r in rows]))).all())
    for other in rows:  # every row, not only the one set here, is 7 hours ahead of UTC
        assert abs(other[column] - stored[other[0]].astimezone(HANOI).replace(tzinfo=None)) < dt.timedelta(seconds=1)


def test_overdue_csv_shows_local_time(client, auth, session, org, target):
    set_updated_at(session, target, LATE_EVENING)
    header, rows = csv_rows(overdue_export(client, auth("admin"), org["PNV-KD"], "csv"))
    row = next(r for r in rows if r and r[0] == str(target))
    assert row[header.index(LAST_UPDATED)] == "26/11/2026 03:30"  # 20:30 UTC on the 25th
    assert row[header.index("Hạn hiện tại")] == "10/06/2026"


@pytest.mark.no_transaction
def test_exports_follow_the_configured_time_zone(database_url, tmp_path):
    app, target, headers = scratch_app(database_url, tmp_path, "tz_utc", username="admin", org_code="PNV-KD", TRACKER_TIMEZONE="UTC")
    try:
        with app.app_context():
            assignment = db.session.get(Assignment, target)
            assignment.status, assignment.due_date, assignment.updated_at = "in_progress", dt.date(2026, 6, 10), UPDATED
            org_id = assignment.organization_id
            db.session.commit()
            db.session.remove()
        client = app.test_client()
        header, rows = csv_rows(overdue_export(client, headers, org_id, "csv"))
        assert next(r for r in rows if r and r[0] == str(target))[header.index(LAST_UPDATED)] == "26/11/2026 03:41"
        header, xrows, _ = xlsx_rows(overdue_export(client, headers, org_id, "xlsx"), tmp_path)
        assert next(r for r in xrows if r[0] == target)[header.index(LAST_UPDATED)] == dt.datetime(2026, 11, 26, 3, 41)
        assert client.get(f"/api/v1/assignments/{target}", headers=headers).get_json()["updated_at"] == "2026-11-26T03:41:00Z"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_date_times_outside_schemas_carry_their_zone(app):
    assert app.json.dumps({"at": dt.datetime(2026, 11, 26, 3, 44)}) == '{"at":"2026-11-26T03:44:00Z"}'
    assert app.json.dumps({"at": UPDATED, "on": dt.date(2026, 11, 26)}) == '{"at":"2026-11-26T03:41:00Z","on":"2026-11-26"}'
    with app.test_request_context():
        problem = problem_response(409, "test.conflict", since=UPDATED)
    assert problem.mimetype == "application/problem+json" and problem.get_json()["since"] == "2026-11-26T03:41:00Z"


@pytest.mark.parametrize(("value", "expected"), [
    (dt.datetime(2026, 11, 26, 3, 44, 0, 171317), "2026-11-26T03:44:00.171317Z"),  # naive: UTC, as SQLite keeps it
    (dt.datetime(2026, 11, 26, 10, 44, tzinfo=HANOI), "2026-11-26T03:44:00Z"),
    (UPDATED, "2026-11-26T03:41:00Z"),
    (None, None),
])
def test_schema_field_writes_utc_with_z(value, expected):
    assert DateTime().serialize("at", {"at": value}) == expected


def test_the_watch_finds_date_times_without_a_zone():
    document = {"a": [{"at": "2026-11-26T03:44:00.171317"}, {"at": "2026-11-26T03:44:00Z"}], "on": "2026-11-26",
                "local": "2026-11-26T10:44:00+07:00", "text": "Họp ngày 2026-11-26T10:00", "short": "2026-11-26T10:44"}
    assert list(naive_date_times(document)) == [("$.a[0].at", "2026-11-26T03:44:00.171317"), ("$.short", "2026-11-26T10:44")]


def test_the_watch_sees_every_app_but_not_streamed_bodies():
    probe = Flask("probe")

    @probe.get("/naive")
    def naive():
        return {"at": "2026-11-26T03:44:00"}

    @probe.get("/streamed")
    def streamed():
        return Response((part for part in ('{"at": ', '"2026-11-26T03:44:00"}')), mimetype="application/json")

    start = len(NAIVE_DATE_TIMES)
    client = probe.test_client()
    assert client.get("/streamed").get_json() == {"at": "2026-11-26T03:44:00"}  # still whole: the watch did not read it
    assert NAIVE_DATE_TIMES[start:] == []
    client.get("/naive?x=1")
    found = NAIVE_DATE_TIMES[start:]
    del NAIVE_DATE_TIMES[start:]  # seen, so that this test itself does not fail on it
    assert found == ["GET /naive?x=1: $.at = '2026-11-26T03:44:00'"]
