"""Verdicts that must not drift: extensions cannot rewrite a completed verdict, facts recorded late
keep the day they happened (within limits, and counted), periodic reports add up."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.helpers import TODAY, assert_problem, clock_held_to
from tracker.api.reports import OWN_REPORT_LABELS
from tracker.models import Action, Assignment, AssignmentEvent, Extension

@pytest.fixture(autouse=True)
def _today_held(app, monkeypatch):
    """Dates here are computed from TODAY at collection; the app's day is held to it."""
    monkeypatch.setitem(app.config, "CLOCK", clock_held_to(TODAY))



def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def move(client, headers, assignment_id, to, **extra):
    return client.post(f"/api/v1/assignments/{assignment_id}/transitions", json={"to": to, **extra}, headers=headers)


def get(client, headers, assignment_id, **params):
    response = client.get(f"/api/v1/assignments/{assignment_id}", headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- extensions cannot rewrite history ---------------------------------------------------------


def test_extension_granted_after_approval_cannot_rewrite_the_verdict(client, auth, session, make_assignment):
    """Measured: due 10/06, extension asked, then submitted; approved late; then the still-pending
    extension granted turned the verdict into completed_on_time. Now the request lapses."""
    officer, leader = auth("canbo.noivu"), auth("lanhdao.ubnd")
    target = make_assignment(due=day(-20))
    asked = client.post(f"/api/v1/assignments/{target}/extensions", headers=officer,
                        json={"new_due_date": day(30).isoformat(), "reason": "Chờ số liệu thống kê"})
    assert asked.status_code == 201
    extension = asked.get_json()
    assert extension["requested_after_due"] is True and extension["status"] == "pending"
    assert move(client, officer, target, "in_progress").status_code == 200
    assert move(client, officer, target, "submitted").status_code == 200
    approved = move(client, leader, target, "completed")
    assert approved.status_code == 200 and approved.get_json()["classification"] == "completed_late"
    before = get(client, leader, target)

    lapsed = client.get(f"/api/v1/assignments/{target}/extensions", headers=leader).get_json()[0]
    assert lapsed["status"] == "lapsed" and lapsed["decided_at"].endswith("Z")
    kinds = [e["kind"] for e in client.get(f"/api/v1/assignments/{target}/history", headers=leader).get_json()]
    assert kinds[-2:] == ["status_changed", "extension_lapsed"]

    for decision in ({"decision": "grant", "note": "Đồng ý"}, {"decision": "refuse", "note": "Không"}):
        refused = client.post(f"/api/v1/assignments/{target}/extensions/{extension['id']}/decision", headers=leader, json=decision)
        body = assert_problem(refused, 409, "extension.assignment_closed")
        assert body["extension_status"] == "lapsed"
    after = get(client, leader, target)
    assert (after["classification"], after["due_date"], after["version"]) == ("completed_late", before["due_date"], before["version"])
    scorecard = client.get(f"/api/v1/reports/scorecard?year={day(-20).year}", headers=leader).get_json()
    row = next(r for r in scorecard["rows"] if r["organization"]["code"] == "PNV-KD")
    assert row["completed_late"] >= 1


def test_cancelling_lapses_a_pending_request_and_closed_work_takes_no_request(client, auth, make_assignment):
    officer, leader = auth("canbo.noivu"), auth("lanhdao.ubnd")
    target = make_assignment(due=day(10))
    asked = client.post(f"/api/v1/assignments/{target}/extensions", headers=officer,
                        json={"new_due_date": day(40).isoformat(), "reason": "Thiếu kinh phí"}).get_json()
    assert asked["requested_after_due"] is False
    assert move(client, leader, target, "cancelled", note="Không còn phù hợp").status_code == 200
    assert client.get(f"/api/v1/assignments/{target}/extensions", headers=leader).get_json()[0]["status"] == "lapsed"
    assert_problem(client.post(f"/api/v1/assignments/{target}/extensions/{asked['id']}/decision", headers=leader,
                               json={"decision": "grant"}), 409, "extension.assignment_closed")
    assert_problem(client.post(f"/api/v1/assignments/{target}/extensions", headers=officer,
                               json={"new_due_date": day(50).isoformat(), "reason": "Xin thêm thời gian"}), 409, "assignment.closed")


# --- facts recorded late -----------------------------------------------------------------------


def test_a_paper_submission_keeps_the_day_it_happened(client, auth, session, make_assignment):
    """Measured: a report delivered on paper on 05/06 and typed in on 12/06 was recorded as late."""
    officer, leader = auth("canbo.noivu"), auth("lanhdao.ubnd")
    target = make_assignment(due=day(-3))
    assert move(client, officer, target, "in_progress", effective_on=day(-6).isoformat()).status_code == 200
    submitted = move(client, officer, target, "submitted", effective_on=day(-5).isoformat())
    assert submitted.status_code == 200 and submitted.get_json()["submitted_on"] == day(-5).isoformat()
    approved = move(client, leader, target, "completed")
    assert approved.get_json()["classification"] == "completed_on_time"
    assert approved.get_json()["completed_on"] == day(-5).isoformat()
    events = [e for e in client.get(f"/api/v1/assignments/{target}/history", headers=leader).get_json() if e["kind"] == "status_changed"]
    submission = events[1]
    assert (submission["effective_on"], submission["recorded_on"]) == (day(-5).isoformat(), TODAY.isoformat())
    assert submission["recorded_at"].endswith("Z") and submission["actor"]["full_name"]
    assert submission["new_value"]["backdated_days"] == 5
    assert events[2]["effective_on"] == TODAY.isoformat() and "backdated_days" not in events[2]["new_value"]


def test_back_dating_limits(client, auth, session, make_assignment, app):
    officer, leader = auth("canbo.noivu"), auth("lanhdao.ubnd")
    limit = app.config["BACKDATE_MAX_DAYS"]
    target = make_assignment(due=day(-30), assigned_on=day(-60))
    version = session.get(Assignment, target).version
    events = session.scalar(select(func.count()).select_from(AssignmentEvent).where(AssignmentEvent.assignment_id == target))

    def unchanged():
        session.expire_all()
        assert session.get(Assignment, target).version == version
        assert session.scalar(select(func.count()).select_from(AssignmentEvent).where(AssignmentEvent.assignment_id == target)) == events

    body = assert_problem(move(client, officer, target, "in_progress", effective_on=day(-limit - 1).isoformat()), 403, "transition.backdate_limit")
    assert body["max_days"] == limit
    unchanged()
    assert_problem(move(client, officer, target, "in_progress", effective_on=day(1).isoformat()), 422, "transition.effective_in_future")
    assert_problem(move(client, leader, target, "in_progress", effective_on=day(-61).isoformat(), note="Theo sổ"), 422,
                   "transition.effective_before_assigned")
    body = assert_problem(move(client, leader, target, "in_progress", effective_on=day(-40).isoformat()), 422,
                          "transition.backdate_note_required")
    assert "note" in body["errors"]
    assert_problem(move(client, officer, target, "in_progress", effective_on="05/06/2025"), 422, "request.validation_failed")
    unchanged()
    # Within the limit an officer needs no note; a leader goes further with one.
    assert move(client, officer, target, "in_progress", effective_on=day(-limit).isoformat()).status_code == 200
    fresh = make_assignment(due=day(-30), assigned_on=day(-60), status="in_progress")
    assert_problem(move(client, officer, fresh, "submitted", effective_on=day(-limit - 1).isoformat()), 403, "transition.backdate_limit")
    assert_problem(move(client, leader, target, "submitted", effective_on=day(-limit - 2).isoformat(), note="Nhận bản giấy"), 422,
                   "transition.effective_before_previous")
    recorded = move(client, leader, target, "submitted", effective_on=day(-limit).isoformat(), note="Nhận bản giấy ngày đó")
    assert recorded.status_code == 200 and recorded.get_json()["submitted_on"] == day(-limit).isoformat()
    # Another agency's officer cannot record anything on it, back-dated or not.
    assert_problem(move(client, auth("canbo.vhkhtt"), target, "completed", effective_on=day(-1).isoformat()), 404, "assignment.not_found")


def test_bulk_transitions_carry_effective_days(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    first, second = make_assignment(due=day(5)), make_assignment(due=day(5))
    response = client.post("/api/v1/assignments/transitions", headers=officer, json={"items": [
        {"assignment_id": first, "to": "in_progress", "effective_on": day(-2).isoformat()},
        {"assignment_id": second, "to": "in_progress", "effective_on": day(-30).isoformat()},
    ]})
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [200, 403] and results[1]["code"] == "transition.backdate_limit"
    history = client.get(f"/api/v1/assignments/{first}/history", headers=officer).get_json()
    assert history[-1]["effective_on"] == day(-2).isoformat()


def test_historical_data_can_be_entered_by_a_leader(client, auth, make_assignment):
    """Measured: historical data could not be entered at all. Work assigned with the plan in 2025 can
    have its 2025 facts recorded now, by a leader, with a note."""
    leader = auth("lanhdao.ubnd")
    target = make_assignment(due=dt.date(2025, 6, 9), assigned_on=dt.date(2025, 2, 25))
    note = "Nhập lại theo hồ sơ giấy"
    assert move(client, leader, target, "in_progress", effective_on="2025-03-02", note=note).status_code == 200
    assert move(client, leader, target, "submitted", effective_on="2025-06-05", note=note).status_code == 200
    done = move(client, leader, target, "completed", effective_on="2025-06-07", note=note).get_json()
    assert (done["completed_on"], done["classification"]) == ("2025-06-05", "completed_on_time")
    assert get(client, leader, target, as_of="2025-06-04")["classification"] == "in_progress_on_time"


# --- periodic reports that add up -------------------------------------------------------------


def periodic(client, headers, org_id, period, **params):
    response = client.get("/api/v1/reports/periodic", headers=headers, query_string={"organization_id": org_id, "period": period, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assert_adds_up(report):
    counts = report["summary"]["counts"]
    assert report["summary"]["total"] == sum(counts.values())
    assert report["completed_total"] == len(report["completed"]) == counts["completed_on_time"] + counts["completed_late"]
    assert report["overdue_total"] == len(report["overdue"]) == counts["overdue"]
    assert report["in_progress_total"] == len(report["in_progress"]) == counts["in_progress_on_time"]
    assert report["no_deadline_total"] == len(report["no_deadline"]) == counts["no_deadline"]
    ids = [r["id"] for name in ("completed", "overdue", "in_progress", "no_deadline") for r in report[name]]
    assert len(ids) == len(set(ids)) == report["summary"]["total"]


def test_periodic_summary_agrees_with_its_lists_and_counts_work_without_deadline(client, auth, session, tree, make_assignment):
    """Measured: PVHKHTT-KD 2025: summary 3 completed, completed list 4; undated work never counted."""
    admin = auth("admin")
    make_assignment("V-A", due=None)  # thường xuyên
    make_assignment("V-A", due=dt.date(2027, 3, 1), status="completed", submitted_on=dt.date(2025, 8, 1),
                    completed_on=dt.date(2025, 8, 1), progress=100)  # finished early, due after the period
    make_assignment("V-B", due=dt.date(2025, 5, 1))  # overdue
    make_assignment("V-B", due=dt.date(2025, 5, 1), status="completed", submitted_on=dt.date(2025, 5, 3),
                    completed_on=dt.date(2025, 5, 3), progress=100)  # late
    make_assignment("V-B", due=dt.date(2026, 1, 10))  # in progress on time as of 31/12/2025
    make_assignment("V-B", due=dt.date(2025, 3, 1), assigned_on=dt.date(2026, 1, 2))  # not yet given in 2025
    report = periodic(client, admin, tree["root"], "2025")
    assert report["summary"]["counts"] == {"completed_on_time": 1, "completed_late": 1, "in_progress_on_time": 1,
                                           "overdue": 1, "no_deadline": 1}
    assert_adds_up(report)
    assert report["summary"]["completed_in_period"] == 2
    early = next(r for r in report["completed"] if r["due_date"] == "2027-03-01")
    assert early["in_period"] is True and early["classification"] == "completed_on_time"
    late = next(r for r in report["completed"] if r["classification"] == "completed_late")
    assert late["days_late"] == 2 and late["days_overdue"] == 0
    # The Government Office's rates, over tasks already due (completed + overdue = 3).
    summary = report["summary"]
    assert summary["due"] == 3
    assert summary["completion_rate_of_due"] == round(2 / 3, 4) and summary["overdue_rate_of_due"] == round(1 / 3, 4)
    assert "1270/BC-TCTTTg" in report["rate_bases"]["completion_rate_of_due"]
    h1 = periodic(client, admin, tree["root"], "2025-H1")
    assert_adds_up(h1)
    assert h1["summary"]["counts"]["completed_late"] == 1 and h1["summary"]["counts"]["in_progress_on_time"] == 2


def test_periodic_report_as_at_its_due_date(client, auth, session, tree, make_assignment, action_ref):
    admin = auth("admin")
    duty = session.get(Action, action_ref("IV.4.2"))
    session.add(Assignment(action=duty, organization_id=tree["a"], role="lead", cycle=2026, due_date=dt.date(2026, 6, 9),
                           original_due_date=dt.date(2026, 6, 9), status="not_started", progress=0, search_key="",
                           assigned_on=dt.date(2025, 2, 25)))
    session.commit()
    report = periodic(client, admin, tree["a"], "2026-H1", at="due_date")
    assert report["as_of"] == "2026-06-09"
    assert periodic(client, admin, tree["a"], "2026-H1", as_of="2026-03-31")["as_of"] == "2026-03-31"
    assert_problem(client.get("/api/v1/reports/periodic", headers=admin, query_string={
        "organization_id": tree["b"], "period": "2026-H1", "at": "due_date"}), 422, "report.no_report_duty")
    body = assert_problem(client.get("/api/v1/reports/periodic", headers=admin, query_string={
        "organization_id": tree["a"], "period": "2026-H1", "as_of": "2026-07-01"}), 422, "request.validation_failed")
    assert "as_of" in body["errors"]
    assert_problem(client.get("/api/v1/reports/periodic", headers=admin, query_string={
        "organization_id": tree["a"], "period": "2026-H1", "at": "tomorrow"}), 422, "request.validation_failed")


def test_periodic_report_counts_late_requests_and_back_dated_facts(client, auth, session, make_assignment, org):
    officer, leader = auth("canbo.noivu"), auth("lanhdao.ubnd")
    late = make_assignment(due=day(-2))
    client.post(f"/api/v1/assignments/{late}/extensions", headers=officer,
                json={"new_due_date": day(20).isoformat(), "reason": "Đợi ý kiến của cấp trên"})
    backdated = make_assignment(due=day(10))
    assert move(client, officer, backdated, "in_progress", effective_on=day(-3).isoformat()).status_code == 200
    period = f"{TODAY.year}" if TODAY.month > 6 else f"{TODAY.year}-H1"
    report = periodic(client, leader, org["PNV-KD"], period)
    assert report["extension_requests"]["requested_after_due"] >= 1
    facts = report["backdated_facts"]
    assert any(item["assignment_id"] == backdated and item["days_back"] == 3 and item["status"] == "in_progress" for item in facts["items"])
    assert facts["count"] == len(facts["items"])
    xlsx = client.get("/api/v1/reports/periodic", headers=leader,
                      query_string={"organization_id": org["PNV-KD"], "period": period, "format": "xlsx"})
    assert xlsx.status_code == 200
    data = xlsx.data
    xlsx.close()
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(data), read_only=True)
    assert {"Tổng hợp", "Đã hoàn thành", "Quá hạn", "Đang thực hiện", "Thường xuyên", "Gia hạn", "Ghi lùi ngày"} <= set(book.sheetnames)
    headers = [cell for row in book["Tổng hợp"].iter_rows(values_only=True) for cell in row if cell]
    assert "Tỷ lệ hoàn thành / đến hạn" in headers and "Tỷ lệ quá hạn / đến hạn" in headers
    assert any(isinstance(c, str) and c.startswith("Sự việc được ghi lùi ngày trong kỳ") for c in headers)
    own = next(c for c in headers if isinstance(c, str) and c.startswith("Báo cáo của đơn vị cho kỳ này: "))
    assert own.split(": ", 1)[1] in OWN_REPORT_LABELS.values()  # in Vietnamese, not the state's code


def test_officers_see_only_their_own_periodic_report(client, auth, org):
    assert_problem(client.get("/api/v1/reports/periodic", headers=auth("canbo.vhkhtt"),
                              query_string={"organization_id": org["PNV-KD"], "period": "2026"}), 404, "organization.not_found")


def test_extension_decision_on_unknown_extension(client, auth, make_assignment):
    target = make_assignment(due=day(5))
    assert_problem(client.post(f"/api/v1/assignments/{target}/extensions/999999/decision", headers=auth("lanhdao.ubnd"),
                               json={"decision": "grant"}), 404, "extension.not_found")
    assert Extension  # the model the decisions above change


def test_every_section_three_assignment_appears_in_the_district_report(client, auth, session, org):
    """Measured: 29 of the 32 section III assignments (those without a due date) never appeared in
    any periodic summary. Now the district's yearly report lists each live one exactly once."""
    report = periodic(client, auth("lanhdao.huyen"), org["HU-KD"], "2026")
    assert_adds_up(report)
    listed = {row["id"] for name in ("completed", "overdue", "in_progress", "no_deadline") for row in report[name]}
    section_three = set(session.scalars(
        select(Assignment.id).join(Action, Action.id == Assignment.action_id)
        .where(Action.section == "III", Assignment.status != "cancelled", Assignment.cycle.in_([0, 2025, 2026]))))
    assert section_three and section_three <= listed
    assert report["no_deadline_total"] > 0 and report["summary"]["counts"]["no_deadline"] == report["no_deadline_total"]
