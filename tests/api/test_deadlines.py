"""Deadlines as written: `due_date` is the last permitted day ("trước ngày 10/6" is 09/06), the
plan's wording is served beside it, the "hằng năm" / "định kỳ" duties recur every year, every
reporting organisation has its own periodic report duty, and each assignment says when it was given."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.helpers import assert_problem, row_counts
from tracker.models import Action, Assignment, Plan
from tracker.services import clock

API = "/api/v1/assignments"
YEARS = [2025, 2026, 2027, 2028, 2029, 2030]


@pytest.fixture
def admin(auth):
    return auth("admin")


def today_of(app) -> dt.date:
    with app.app_context():
        return clock.today()


def own_assignment(session, action_ref, org_id: int, cycle: int) -> Assignment:
    return session.scalar(select(Assignment).where(
        Assignment.action_id == action_ref, Assignment.organization_id == org_id, Assignment.cycle == cycle))


def report_filed(session, assignment_id: int, day: dt.date) -> None:
    """The report was submitted on `day` and that submission approved."""
    assignment = session.get(Assignment, assignment_id)
    assignment.status, assignment.progress = "completed", 100
    assignment.submitted_on = assignment.completed_on = day
    session.commit()


def periodic(client, headers, org_id: int, period: str, **params) -> dict:
    response = client.get("/api/v1/reports/periodic", headers=headers,
                          query_string={"organization_id": org_id, "period": period, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def listing(client, headers, **params) -> list[dict]:
    response = client.get(API, headers=headers, query_string={"page_size": 200, **params})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- "trước ngày 10/6", "trước ngày 01/12": the written day is already late -------------------


def test_six_month_report_filed_on_10_june_is_late(client, admin, session, org, action_ref):
    """Measured: a six-month report filed on 10/06 was "on time"; "trước ngày 10/6" means by 09/06."""
    target = own_assignment(session, action_ref("IV.4.2"), org["PNV-KD"], 2026)
    assert target.due_date == dt.date(2026, 6, 9)
    target_id = target.id
    report_filed(session, target_id, dt.date(2026, 6, 10))
    own = periodic(client, admin, org["PNV-KD"], "2026-H1")["own_report"]
    assert (own["action_ref"], own["due_date"], own["state"]) == ("IV.4.2", "2026-06-09", "late")
    body = client.get(f"{API}/{target_id}", headers=admin).get_json()
    assert (body["classification"], body["due_text"]) == ("completed_late", "trước ngày 10/6")

    report_filed(session, target_id, dt.date(2026, 6, 9))
    assert periodic(client, admin, org["PNV-KD"], "2026-H1")["own_report"]["state"] == "on_time"


def test_annual_report_filed_on_1_december_is_late(client, admin, session, org, action_ref):
    target = own_assignment(session, action_ref("IV.4.3"), org["PNV-KD"], 2026)
    assert target.due_date == dt.date(2026, 11, 30)
    target_id = target.id
    report_filed(session, target_id, dt.date(2026, 12, 1))
    own = periodic(client, admin, org["PNV-KD"], "2026", as_of="2026-12-31")["own_report"]
    assert (own["action_ref"], own["due_date"], own["state"]) == ("IV.4.3", "2026-11-30", "late")
    report_filed(session, target_id, dt.date(2026, 11, 30))
    assert periodic(client, admin, org["PNV-KD"], "2026", as_of="2026-12-31")["own_report"]["state"] == "on_time"


def test_unfiled_report_is_overdue_on_the_written_day(client, admin, org, action_ref):
    items = listing(client, admin, action_id=action_ref("IV.4.2"), due_from="2026-06-01", due_to="2026-06-30", as_of="2026-06-10")
    assert len(items) == 20 and all(i["classification"] == "overdue" and i["days_overdue"] == 1 for i in items)


# --- III.5.1: only its dated target has the date ------------------------------------------


def test_undated_targets_of_iii_5_1_are_not_overdue_in_july_2025(client, admin, action_ref):
    """Measured: the 30/6/2025 of one target was given to the whole bullet, so its five undated
    targets were overdue from 01/07/2025. Only III.5.1.1 (the dated target) is."""
    items = listing(client, admin, action_id=action_ref("III.5.1"), as_of="2025-07-01")  # the bullet and its split
    by_ref: dict[str, list[dict]] = {}
    for item in items:
        by_ref.setdefault(item["action"]["ref"], []).append(item)
    assert sorted(by_ref) == ["III.5.1", "III.5.1.1"]
    assert len(by_ref["III.5.1"]) == len(by_ref["III.5.1.1"]) == 3  # VPUB-KD leads, PNV-KD and PVHKHTT-KD coordinate
    assert all(i["due_date"] is None and i["classification"] == "no_deadline" for i in by_ref["III.5.1"])
    assert all(i["due_date"] == "2025-06-30" and i["due_text"] == "Đến 30/6/2025" for i in by_ref["III.5.1.1"])
    assert all(i["classification"] == "overdue" and i["days_overdue"] == 1 for i in by_ref["III.5.1.1"])
    on_the_day = listing(client, admin, action_id=action_ref("III.5.1.1"), as_of="2025-06-30")
    assert len(on_the_day) == 3 and all(i["classification"] == "in_progress_on_time" for i in on_the_day)


# --- "hằng năm" / "định kỳ" duties recur ------------------------------------------------------


@pytest.mark.parametrize(("ref", "codes", "month_day"), [
    ("III.1.1", {"BTGDV-KD", "PNV-KD"}, (12, 31)),  # "hằng năm": by 31/12
    ("IV.1", {"HDND-KD"}, (12, 31)),                # HĐND's yearly resolutions: by 31/12
    ("IV.2.1", {"UBND-KD"}, (6, 9)),                # UBND's six-month report, before 10/6
    ("IV.2.2", {"UBND-KD"}, (11, 30)),              # UBND's annual report, before 01/12
    ("IV.3.1.1", {"BTGDV-KD"}, (6, 30)),            # the compiled six-month report: by 30/6
    ("IV.3.1.2", {"BTGDV-KD"}, (12, 31)),           # the compiled annual report: by 31/12
])
def test_periodic_duties_have_a_cycle_each_year(client, admin, action_ref, ref, codes, month_day):
    items = [i for i in listing(client, admin, action_id=action_ref(ref)) if i["action"]["ref"] == ref]
    cycles = {(i["organization"]["code"], i["cycle"]): i["due_date"] for i in items}
    assert cycles == {(code, year): dt.date(year, *month_day).isoformat() for code in codes for year in YEARS}
    assert all(i["assigned_on"] == "2025-02-25" and i["due_text"] for i in items)


def test_iv_2_keeps_its_one_off_plan(client, admin, action_ref):
    items = [i for i in listing(client, admin, action_id=action_ref("IV.2")) if i["action"]["ref"] == "IV.2"]
    assert [(i["cycle"], i["due_date"], i["due_text"]) for i in items] == [(0, "2025-03-31", "hoàn thành trong tháng 3/2025")]


@pytest.mark.parametrize(("code", "six_month", "annual"), [
    ("UBND-KD", ("IV.2.1", "2026-06-09"), ("IV.2.2", "2026-11-30")),
    ("BTGDV-KD", ("IV.3.1.1", "2026-06-30"), ("IV.3.1.2", "2026-12-31")),
])
def test_ubnd_and_the_board_have_their_own_periodic_report(client, admin, org, code, six_month, annual):
    """Measured: UBND (IV.2) and Ban Tuyên giáo và Dân vận (IV.3.1) report "định kỳ", yet their
    periodic report said `not_required`."""
    h1 = periodic(client, admin, org[code], "2026-H1")["own_report"]
    assert (h1["required"], h1["action_ref"], h1["due_date"]) == (True, *six_month)
    year = periodic(client, admin, org[code], "2026")["own_report"]
    assert (year["required"], year["action_ref"], year["due_date"]) == (True, *annual)
    assert periodic(client, admin, org[code], "2026-H1", at="due_date")["as_of"] == six_month[1]


# --- assigned_on -----------------------------------------------------------------------------


def test_imported_work_was_assigned_on_the_plan_issue_date(client, admin, session, org, action_ref):
    target = own_assignment(session, action_ref("IV.4.2"), org["PNV-KD"], 2030)
    body = client.get(f"{API}/{target.id}", headers=admin).get_json()
    assert (body["assigned_on"], body["due_date"], body["due_text"]) == ("2025-02-25", "2030-06-09", "trước ngày 10/6")
    assert session.scalar(select(Assignment.id).join(Action).join(Plan).where(
        Plan.code == "KH-NQ57/HU", Assignment.assigned_on.is_distinct_from(dt.date(2025, 2, 25))).limit(1)) is None


def test_assign_sets_assigned_on_to_today_or_to_a_past_day(app, client, auth, org, action_ref):
    leader = auth("lanhdao.huyen")
    today = today_of(app)
    created = client.post(API, headers=leader, json={"action_id": action_ref("III.6.1"), "organization_id": org["PNV-KD"], "role": "coordinating"})
    assert created.status_code == 201, created.get_json()
    assert [a["assigned_on"] for a in created.get_json()] == [today.isoformat()]
    history = client.post(API, headers=leader, json={"action_id": action_ref("III.6.2"), "organization_id": org["PNV-KD"],
                                                     "role": "coordinating", "assigned_on": "2025-04-01"})
    assert history.status_code == 201, history.get_json()
    assert [a["assigned_on"] for a in history.get_json()] == ["2025-04-01"]
    events = client.get(f"{API}/{history.get_json()[0]['id']}/history", headers=leader).get_json()
    assert (events[0]["kind"], events[0]["effective_on"], events[0]["recorded_on"]) == ("assigned", "2025-04-01", today.isoformat())


def test_assigned_on_in_the_future_is_refused_and_creates_nothing(app, client, auth, session, org, action_ref):
    leader = auth("lanhdao.huyen")
    tomorrow = (today_of(app) + dt.timedelta(days=1)).isoformat()
    before = row_counts()
    body = assert_problem(client.post(API, headers=leader, json={
        "action_id": action_ref("III.6.1"), "organization_id": org["PNV-KD"], "role": "coordinating", "assigned_on": tomorrow}),
        422, "assignment.invalid_assigned_on")
    assert "assigned_on" in body["errors"]
    bulk = assert_problem(client.post(f"{API}/bulk", headers=leader, json={
        "action_id": action_ref("IV.4.3"), "organization_ids": [org["BTGDV-KD"], org["UBND-KD"]], "role": "lead",
        "assigned_on": tomorrow}), 422, "assignment.invalid_assigned_on")
    assert "assigned_on" in bulk["errors"]
    assert row_counts() == before


def test_bulk_assign_and_generated_cycles_carry_assigned_on(app, client, auth, session, org, action_ref):
    leader = auth("lanhdao.huyen")
    response = client.post(f"{API}/bulk", headers=leader, json={
        "action_id": action_ref("IV.4.3"), "organization_ids": [org["BTGDV-KD"], org["HDND-KD"]], "role": "lead",
        "assigned_on": "2025-03-15"})
    assert response.status_code == 200 and response.get_json()["succeeded"] == 2, response.get_json()
    ids = [i for r in response.get_json()["results"] for i in r["assignment_ids"]]
    assert len(ids) == 12
    assert set(session.scalars(select(Assignment.assigned_on).where(Assignment.id.in_(ids)))) == {dt.date(2025, 3, 15)}
    assert {d.isoformat()[5:] for d in session.scalars(select(Assignment.due_date).where(Assignment.id.in_(ids)))} == {"11-30"}


# --- the action API: wording, bound, report duty -----------------------------------------------


def test_action_api_takes_and_serves_the_wording_the_bound_and_the_report_duty(client, auth, org, action_ref):
    leader = auth("lanhdao.huyen")
    undated = client.get(f"/api/v1/actions/{action_ref('IV.4.1')}", headers=leader).get_json()
    assert (undated["due_date"], undated["due_text"], undated["recurrence"], undated["report_period"]) == (None, None, None, None)
    created = client.post(f"/api/v1/plans/{_plan_id(client, leader)}/actions", headers=leader, json={
        "parent_id": action_ref("IV.3.3"), "text": "Báo cáo quý trước ngày 01/3.", "due_text": "trước ngày 01/3",
        "recurrence": {"month": 3, "day": 1, "bound": "before", "from_year": 2027, "until_year": 2028},
        "report_period": "annual"})
    assert created.status_code == 201, created.get_json()
    action = created.get_json()
    assert action["due_text"] == "trước ngày 01/3" and action["report_period"] == "annual"
    assert action["recurrence"] == {"month": 3, "day": 1, "bound": "before", "from_year": 2027, "until_year": 2028}
    assigned = client.post(API, headers=leader, json={"action_id": action["id"], "organization_id": org["VPHU-KD"], "role": "lead"})
    assert [(a["cycle"], a["due_date"], a["due_text"]) for a in assigned.get_json()] == [
        (2027, "2027-02-28", "trước ngày 01/3"), (2028, "2028-02-29", "trước ngày 01/3")]

    url = f"/api/v1/actions/{action['id']}"
    body = assert_problem(client.patch(url, headers=leader, json={"recurrence": None}), 422, "request.validation_failed")
    assert "report_period" in body["errors"]  # a report duty needs a recurrence
    body = assert_problem(client.patch(url, headers=leader, json={"report_period": "quarterly"}), 422, "request.validation_failed")
    assert "report_period" in body["errors"]
    body = assert_problem(client.patch(url, headers=leader, json={
        "recurrence": {"month": 3, "day": 1, "bound": "after", "from_year": 2027, "until_year": 2028}}), 422, "request.validation_failed")
    assert "recurrence.bound" in body["errors"]
    assert client.get(url, headers=leader).get_json() == action  # nothing changed
    # A one-off action: the last permitted day, and its wording.
    edited = client.patch(url, headers=leader, json={"recurrence": None, "report_period": None, "due_date": "2027-05-31",
                                                     "due_text": "hoàn thành trong tháng 5/2027"})
    assert edited.status_code == 200, edited.get_json()
    assert (edited.get_json()["due_date"], edited.get_json()["recurrence"], edited.get_json()["due_text"]) == (
        "2027-05-31", None, "hoàn thành trong tháng 5/2027")


def _plan_id(client, headers) -> int:
    return next(p["id"] for p in client.get("/api/v1/plans", headers=headers).get_json() if p["code"] == "KH-NQ57/HU")
