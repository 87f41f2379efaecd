"""Đôn đốc: a leader urges overdue work; the count, the history, the reports and the scorecard show
it; the unit's officers and the owner are notified in the app and read their notifications."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from sqlalchemy import func, select

from tests.helpers import TODAY, assert_problem, clock_held_to
from tracker.models import AssignmentEvent, Notification, User

URGE = "/api/v1/assignments/urge"
NOTIFICATIONS = "/api/v1/me/notifications"


@pytest.fixture(autouse=True)
def _today_held(app, monkeypatch):
    monkeypatch.setitem(app.config, "CLOCK", clock_held_to(TODAY))


@pytest.fixture
def overdue(make_assignment, session):
    """An overdue assignment of the home affairs office (PNV-KD), owned by an officer of another unit."""
    owner = session.scalar(select(User.id).where(User.username == "canbo.vhkhtt"))
    return make_assignment("PNV-KD", TODAY - dt.timedelta(days=12), status="in_progress", owner_id=owner)


def notifications_of(client, headers, **query):
    response = client.get(NOTIFICATIONS, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json(), int(response.headers["X-Unread-Count"])


def counts(session, assignment_id):
    session.expire_all()
    events = session.scalar(select(func.count()).select_from(AssignmentEvent).where(
        AssignmentEvent.assignment_id == assignment_id, AssignmentEvent.kind == "urged"))
    return events, session.scalar(select(func.count()).select_from(Notification))


def test_a_leader_urges_and_everything_shows_it(client, auth, session, overdue):
    leader, officer, owner = auth("lanhdao.huyen"), auth("canbo.noivu"), auth("canbo.vhkhtt")
    before = client.get(f"/api/v1/assignments/{overdue}", headers=officer)
    etag, version = before.headers["ETag"], before.get_json()["version"]
    for n, message in ((1, "Đề nghị Phòng Nội vụ hoàn thành trước 30/11"), (2, None)):
        response = client.post(URGE, headers=leader, json={"assignment_ids": [overdue], **({"message": message} if message else {})})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert (body["succeeded"], body["failed"]) == (1, 0)
        result = body["results"][0]
        assert (result["status"], result["assignment_id"], result["urge_count"]) == (200, overdue, n)
        assert result["notified"] == 2  # the unit's officer and the owner; not the leader
    # The count and the last urging on the assignment, which keeps its version: the officer's
    # If-Match from before the urgings still works.
    shown = client.get(f"/api/v1/assignments/{overdue}", headers=officer).get_json()
    assert shown["urge_count"] == 2 and shown["last_urged_at"] and shown["version"] == version
    patched = client.patch(f"/api/v1/assignments/{overdue}", headers={**officer, "If-Match": etag}, json={"progress": 40})
    assert patched.status_code == 200, patched.get_json()
    # The history says "Đôn đốc lần 1", "lần 2", with the leader's words or the usual request.
    history = client.get(f"/api/v1/assignments/{overdue}/history", headers=officer).get_json()
    urged = [event for event in history if event["kind"] == "urged"]
    assert [event["new_value"]["label"] for event in urged] == ["Đôn đốc lần 1", "Đôn đốc lần 2"]
    assert urged[0]["note"] == "Đề nghị Phòng Nội vụ hoàn thành trước 30/11"
    assert urged[1]["note"].startswith("Đề nghị đơn vị khẩn trương") and urged[1]["actor"]["full_name"]
    # The overdue list (JSON and CSV) and the scorecard of the due year.
    rows = client.get("/api/v1/reports/overdue", headers=leader, query_string={"page_size": 200}).get_json()
    row = next(r for r in rows if r["id"] == overdue)
    assert row["urge_count"] == 2 and row["last_urged_at"] == shown["last_urged_at"]
    exported = client.get("/api/v1/reports/overdue", headers=leader, query_string={"format": "csv"})
    table = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert next(r for r in table if r["Mã phân công"] == str(overdue))["Số lần đôn đốc"] == "2"
    due_year = (TODAY - dt.timedelta(days=12)).year
    scorecard = client.get("/api/v1/reports/scorecard", headers=leader, query_string={"year": due_year}).get_json()
    unit = next(r for r in scorecard["rows"] if r["organization"]["code"] == "PNV-KD")
    assert unit["urges"] >= 2 and unit["urged_assignments"] >= 1
    # Both notified, newest first, unread; the leader who urged is not.
    for headers in (officer, owner):
        listed, unread = notifications_of(client, headers)
        mine = [item for item in listed if item["assignment_id"] == overdue]
        assert [item["title"].split(":")[0] for item in mine] == ["Đôn đốc lần 2", "Đôn đốc lần 1"]
        assert unread >= 2 and all(item["read_at"] is None and item["kind"] == "urged" for item in mine)
        assert "đã quá hạn 12 ngày" in mine[0]["body"] and mine[0]["actor"]["full_name"]
    assert notifications_of(client, leader)[0] == []


def test_who_may_urge(client, auth, session, org, overdue, make_assignment):
    other_party = make_assignment("BTGDV-KD", TODAY - dt.timedelta(days=3), status="in_progress")
    not_overdue = make_assignment("PNV-KD", TODAY + dt.timedelta(days=3), status="in_progress")
    before = counts(session, overdue)
    # An officer of the unit and a viewer may not urge; a leader outside the subtree does not see the work.
    for username, status, code in (("canbo.noivu", 403, "urge.forbidden"), ("giamsat.tgdv", 403, "urge.forbidden")):
        result = client.post(URGE, headers=auth(username), json={"assignment_ids": [overdue]}).get_json()["results"][0]
        assert (result["status"], result["code"]) == (status, code) and result["detail"]
    outside = client.post(URGE, headers=auth("lanhdao.ubnd"), json={"assignment_ids": [other_party]}).get_json()["results"][0]
    assert (outside["status"], outside["code"]) == (404, "assignment.not_found")
    assert counts(session, overdue) == before and counts(session, other_party)[0] == 0
    # One request, a result each: urged, not overdue (nothing to urge), unknown.
    body = client.post(URGE, headers=auth("lanhdao.ubnd"), json={"assignment_ids": [overdue, not_overdue, 999999],
                                                                 "message": "Khẩn trương hoàn thành"}).get_json()
    assert [r["status"] for r in body["results"]] == [200, 409, 404]
    assert body["results"][1]["code"] == "urge.not_overdue" and body["results"][1]["classification"] == "in_progress_on_time"
    assert (body["succeeded"], body["failed"]) == (1, 2)
    assert counts(session, not_overdue)[0] == 0


@pytest.mark.parametrize("body, field", [
    ({"assignment_ids": []}, "assignment_ids"),
    ({}, "assignment_ids"),
    ({"assignment_ids": list(range(1, 202))}, "assignment_ids"),
    ({"assignment_ids": [0]}, "assignment_ids"),
    ({"assignment_ids": [1], "message": "Khẩn \x07 trương"}, "message"),
    ({"assignment_ids": [1], "message": "x" * 2001}, "message"),
    ({"assignment_ids": [1], "extra": True}, "extra"),
])
def test_bad_urgings_change_nothing(client, auth, session, overdue, body, field):
    before = counts(session, overdue)
    problem = assert_problem(client.post(URGE, headers=auth("lanhdao.huyen"), json=body), 422, "request.validation_failed")
    assert any(key.startswith(field) for key in problem["errors"])
    assert counts(session, overdue) == before


def test_notifications_are_read_by_their_user_alone(client, auth, session, overdue):
    leader, officer, owner = auth("lanhdao.huyen"), auth("canbo.noivu"), auth("canbo.vhkhtt")
    for _ in range(3):
        assert client.post(URGE, headers=leader, json={"assignment_ids": [overdue]}).status_code == 200
    listed, unread = notifications_of(client, officer)
    assert unread == 3 and [n["id"] for n in listed] == sorted((n["id"] for n in listed), reverse=True)
    # Another user's notification: 404 naming it, and nothing is marked for anyone.
    theirs = notifications_of(client, owner)[0][0]["id"]
    problem = assert_problem(client.post(f"{NOTIFICATIONS}/read", headers=officer, json={"ids": [listed[0]["id"], theirs]}),
                             404, "notification.not_found")
    assert problem["ids"] == [theirs]
    assert notifications_of(client, officer)[1] == 3 and notifications_of(client, owner)[1] == 3
    # Bad bodies change nothing.
    for body in ({}, {"ids": []}, {"ids": [1], "all": True}, {"ids": ["x"]}, {"all": "yes"}):
        assert_problem(client.post(f"{NOTIFICATIONS}/read", headers=officer, json=body), 422, "request.validation_failed")
    assert notifications_of(client, officer)[1] == 3
    # Some, then all; the read ones carry when.
    marked = client.post(f"{NOTIFICATIONS}/read", headers=officer, json={"ids": [listed[0]["id"]]}).get_json()
    assert marked == {"marked": 1, "unread": 2}
    assert [n["id"] for n in notifications_of(client, officer, unread="true")[0]] == [n["id"] for n in listed[1:]]
    assert notifications_of(client, officer, unread="false")[0][0]["read_at"]
    assert client.post(f"{NOTIFICATIONS}/read", headers=officer, json={"all": True}).get_json() == {"marked": 2, "unread": 0}
    assert client.post(f"{NOTIFICATIONS}/read", headers=officer, json={"all": True}).get_json() == {"marked": 0, "unread": 0}
    assert notifications_of(client, owner)[1] == 3  # the owner's stay unread
    # Paged like every list, with the unread count on every page.
    page = client.get(NOTIFICATIONS, headers=owner, query_string={"page_size": 2})
    assert len(page.get_json()) == 2 and json.loads(page.headers["X-Pagination"])["total"] == 3
    assert page.headers["X-Unread-Count"] == "3"
    assert_problem(client.get(NOTIFICATIONS, headers=owner, query_string={"unread": "maybe"}), 422, "request.validation_failed")
    assert_problem(client.get(NOTIFICATIONS, headers=owner, query_string={"since": "x"}), 400, "request.unknown_parameter")
    assert client.get(NOTIFICATIONS).status_code == 401


def kinds_for(client, headers, assignment_id):
    listed, _ = notifications_of(client, headers)
    return [(n["kind"], n["title"].split(":")[0]) for n in reversed(listed) if n["assignment_id"] == assignment_id]


def test_moves_of_the_work_reach_the_people_who_act_next(client, auth, make_assignment):
    """A submission tells the leaders over the unit; a return and an approval tell the unit's
    officers; an extension request tells the leaders, its decision the unit; nobody is told of
    what they did, and an officer of another unit hears nothing."""
    work = make_assignment("PNV-KD", TODAY + dt.timedelta(days=20), status="in_progress")
    officer, leader, district, other = auth("canbo.noivu"), auth("lanhdao.ubnd"), auth("lanhdao.huyen"), auth("canbo.vhkhtt")

    def move(headers, to, note=None):
        response = client.post(f"/api/v1/assignments/{work}/transitions", headers=headers,
                               json={"to": to, **({"note": note} if note else {})})
        assert response.status_code == 200, response.get_json()

    move(officer, "submitted")
    move(leader, "returned", "Bổ sung số liệu quý III")
    move(officer, "submitted")
    move(district, "completed")
    assert kinds_for(client, leader, work) == [("submitted", "Chờ duyệt"), ("submitted", "Chờ duyệt")]
    assert kinds_for(client, district, work) == [("submitted", "Chờ duyệt")] * 2  # it approved: not told of that
    assert kinds_for(client, officer, work) == [("returned", "Bị trả lại"), ("approved", "Đã duyệt hoàn thành")]
    returned = next(n for n in notifications_of(client, officer)[0] if n["kind"] == "returned")
    assert "Bổ sung số liệu quý III" in returned["body"] and returned["actor"]["full_name"]
    assert kinds_for(client, other, work) == []

    later = make_assignment("PNV-KD", TODAY + dt.timedelta(days=5), status="in_progress")
    asked = client.post(f"/api/v1/assignments/{later}/extensions", headers=officer,
                        json={"new_due_date": (TODAY + dt.timedelta(days=40)).isoformat(), "reason": "Chờ số liệu của tỉnh"})
    assert asked.status_code == 201, asked.get_json()
    assert kinds_for(client, leader, later) == [("extension_requested", "Đề nghị gia hạn")]
    assert "Chờ số liệu của tỉnh" in notifications_of(client, leader)[0][0]["body"]
    decided = client.post(f"/api/v1/assignments/{later}/extensions/{asked.get_json()['id']}/decision", headers=leader,
                          json={"decision": "refuse", "note": "Không đủ căn cứ"})
    assert decided.status_code == 200, decided.get_json()
    assert kinds_for(client, officer, later) == [("extension_decided", "Gia hạn bị từ chối")]
    assert kinds_for(client, leader, later) == [("extension_requested", "Đề nghị gia hạn")]  # not told of its own decision
    assert kinds_for(client, other, later) == []
