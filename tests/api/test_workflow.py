"""The assignment workflow through the API: assign, report, submit, return, approve, extend,
with history, ETags and the rules of PRODUCT.md's status table."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select, text
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.helpers import assert_problem
from tracker.models import Action, Assignment, AssignmentEvent
from tracker.services import clock


def upload_evidence(client, headers, assignment_id, name="Báo cáo.pdf"):
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(files.pdf(name)), filename=name)}))
    return client.post(f"/api/v1/assignments/{assignment_id}/evidence", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}", headers=headers)


def today_of(app):
    with app.app_context():
        return clock.today()


def move(client, headers, assignment_id, to, **extra):
    return client.post(f"/api/v1/assignments/{assignment_id}/transitions", json={"to": to, **extra}, headers=headers)


def new_action(client, auth, plan_id, parent_id, text_="Xây dựng cơ sở dữ liệu số hóa hồ sơ", due="2026-12-31"):
    response = client.post(f"/api/v1/plans/{plan_id}/actions", headers=auth("lanhdao.huyen"),
                           json={"parent_id": parent_id, "text": text_, "title": "Số hóa hồ sơ", "due_date": due,
                                 "expected_output": "Cơ sở dữ liệu"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_scenario_from_assignment_to_approval(client, auth, session, org, action_ref):
    leader, officer = auth("lanhdao.huyen"), auth("canbo.vhkhtt")
    parent = session.get(Action, action_ref("III.3.4"))
    plan_id, parent_id = parent.plan_id, parent.id
    action = new_action(client, auth, plan_id, parent_id)
    assert action["ref"] == "III.3.4.1" and action["parent_id"] == parent_id

    # A leader assigns the action to two agencies.
    bulk = client.post("/api/v1/assignments/bulk", headers=leader, json={
        "action_id": action["id"], "role": "lead", "organization_ids": [org["PVHKHTT-KD"], org["PNV-KD"]]})
    assert bulk.status_code == 200 and bulk.get_json()["succeeded"] == 2
    target = bulk.get_json()["results"][0]["assignment_ids"][0]

    # The officer starts it and reports progress.
    assert move(client, officer, target, "in_progress", progress=10).status_code == 200
    current = client.get(f"/api/v1/assignments/{target}", headers=officer)
    patched = client.patch(f"/api/v1/assignments/{target}", headers={**officer, "If-Match": current.headers["ETag"]},
                           json={"progress": 60, "note": "Đã số hóa 60% hồ sơ"})
    assert patched.status_code == 200 and patched.get_json()["progress"] == 60

    # Submission is refused without evidence, then accepted with it.
    assert_problem(move(client, officer, target, "submitted"), 409, "assignment.evidence_required")
    assert upload_evidence(client, officer, target).status_code == 201
    submitted = move(client, officer, target, "submitted", note="Đề nghị nghiệm thu")
    assert submitted.status_code == 200 and submitted.get_json()["submitted_on"]

    # The leader returns it with a note; the officer resubmits; the leader approves.
    assert_problem(move(client, leader, target, "returned"), 422, "assignment.note_required")
    assert move(client, leader, target, "returned", note="Bổ sung biên bản kiểm tra").status_code == 200
    assert move(client, officer, target, "submitted", note="Đã bổ sung").status_code == 200
    approved = move(client, leader, target, "completed", note="Đồng ý")
    assert approved.status_code == 200
    body = approved.get_json()
    assert body["status"] == "completed" and body["progress"] == 100
    assert body["completed_on"] == body["submitted_on"]

    # History: every step, with actors.
    events = client.get(f"/api/v1/assignments/{target}/history?page_size=100", headers=leader).get_json()
    steps = [(e["kind"], (e["new_value"] or {}).get("status"), e["actor"]["full_name"] if e["actor"] else None) for e in events]
    assert steps == [
        ("assigned", None, "Nguyễn Chi Hội"),
        ("status_changed", "in_progress", "Lê Thị Hoa"),
        ("progress_reported", None, "Lê Thị Hoa"),
        ("note_changed", None, "Lê Thị Hoa"),
        ("evidence_added", None, "Lê Thị Hoa"),
        ("status_changed", "submitted", "Lê Thị Hoa"),
        ("status_changed", "returned", "Nguyễn Chi Hội"),
        ("status_changed", "submitted", "Lê Thị Hoa"),
        ("status_changed", "completed", "Nguyễn Chi Hội"),
    ]
    assert events[6]["note"] == "Bổ sung biên bản kiểm tra"

    # Classification as of dates before and after the due date (31/12/2026), and before completion.
    completed_on = body["completed_on"]
    def classify(as_of):
        return client.get(f"/api/v1/assignments/{target}?as_of={as_of}", headers=leader).get_json()["classification"]

    assert classify(completed_on) == "completed_on_time"
    assert classify("2027-02-01") == "completed_on_time"
    assert classify("2026-01-01") == "in_progress_on_time"  # before it was completed
    other = bulk.get_json()["results"][1]["assignment_ids"][0]
    other_body = client.get(f"/api/v1/assignments/{other}?as_of=2027-01-01", headers=leader).get_json()
    assert other_body["classification"] == "overdue" and other_body["days_overdue"] == 1
    assert client.get(f"/api/v1/assignments/{other}?as_of=2026-12-31", headers=leader).get_json()["classification"] == "in_progress_on_time"


def test_completed_late_when_submitted_after_the_due_date(client, auth, session, org, action_ref):
    # IV.2 (UBND's detailed plan) was due 31/03/2025: submitted today, it completes late.
    target = session.scalar(select(Assignment.id).where(Assignment.action_id == action_ref("IV.2")))
    officer = auth("lanhdao.ubnd")
    session.get(Action, action_ref("IV.2")).requires_evidence = False
    session.commit()
    for to in ("in_progress", "submitted", "completed"):
        assert move(client, officer, target, to).status_code == 200
    body = client.get(f"/api/v1/assignments/{target}", headers=officer).get_json()
    assert body["classification"] == "completed_late"


def test_etag_required_and_checked(client, auth, session, org):
    target = session.scalar(select(Assignment.id).where(Assignment.organization_id == org["PNV-KD"]).limit(1))
    officer = auth("canbo.noivu")
    url = f"/api/v1/assignments/{target}"
    etag = client.get(url, headers=officer).headers["ETag"]
    assert_problem(client.patch(url, headers=officer, json={"progress": 5}), 428, "assignment.precondition_required")
    assert client.patch(url, headers={**officer, "If-Match": etag}, json={"progress": 5}).status_code == 200
    stale = client.patch(url, headers={**officer, "If-Match": etag}, json={"progress": 6})
    body = assert_problem(stale, 412, "assignment.stale")
    assert client.get(url, headers=officer).get_json()["progress"] == 5
    assert f'"{body["etag"]}"' == client.get(url, headers=officer).headers["ETag"]


def test_patch_fields_by_role(client, auth, session, org):
    target = session.scalar(select(Assignment.id).where(Assignment.organization_id == org["PNV-KD"]).limit(1))
    url = f"/api/v1/assignments/{target}"
    officer, leader = auth("canbo.noivu"), auth("lanhdao.ubnd")
    etag = client.get(url, headers=officer).headers["ETag"]
    body = assert_problem(client.patch(url, headers={**officer, "If-Match": etag}, json={"due_date": "2030-01-01"}), 403, "assignment.forbidden")
    assert body["fields"] == ["due_date"]
    owner = auth.user_ids["canbo.noivu"]
    response = client.patch(url, headers={**leader, "If-Match": etag}, json={"owner_id": owner, "due_date": "2026-12-15"})
    assert response.status_code == 200
    assert response.get_json()["owner"]["full_name"] == "Phạm Minh Đức"
    assert response.get_json()["extended"] is True
    etag = response.headers["ETag"]
    not_member = assert_problem(client.patch(url, headers={**leader, "If-Match": etag}, json={"owner_id": auth.user_ids["canbo.vhkhtt"]}),
                                422, "assignment.owner_not_member")
    assert "owner_id" in not_member["errors"]


def test_extension_request_and_grant(client, auth, session, org, action_ref):
    target = session.scalar(select(Assignment.id).where(
        Assignment.action_id == action_ref("IV.4.2"), Assignment.organization_id == org["PNV-KD"], Assignment.cycle == 2026))
    officer, leader = auth("canbo.noivu"), auth("lanhdao.ubnd")
    base = f"/api/v1/assignments/{target}/extensions"
    assert_problem(client.post(base, headers=officer, json={"new_due_date": "2026-06-01", "reason": "Chưa đủ số liệu"}), 422, "extension.not_later")
    requested = client.post(base, headers=officer, json={"new_due_date": "2026-06-30", "reason": "Chờ số liệu quý II"})
    assert requested.status_code == 201
    extension = requested.get_json()
    assert extension["status"] == "pending" and extension["previous_due_date"] == "2026-06-09"
    assert_problem(client.post(base, headers=officer, json={"new_due_date": "2026-07-30", "reason": "Thêm lần nữa"}), 409, "extension.already_pending")
    decision = f"{base}/{extension['id']}/decision"
    assert_problem(client.post(decision, headers=officer, json={"decision": "grant"}), 403, "extension.forbidden")
    granted = client.post(decision, headers=leader, json={"decision": "grant", "note": "Đồng ý"})
    assert granted.status_code == 200 and granted.get_json()["status"] == "granted"
    assert_problem(client.post(decision, headers=leader, json={"decision": "refuse", "note": "x"}), 409, "extension.already_decided")
    body = client.get(f"/api/v1/assignments/{target}?as_of=2026-06-20", headers=officer).get_json()
    assert (body["original_due_date"], body["due_date"], body["extended"]) == ("2026-06-09", "2026-06-30", True)
    assert body["classification"] == "in_progress_on_time"
    kinds = [e["kind"] for e in client.get(f"/api/v1/assignments/{target}/history", headers=leader).get_json()]
    assert kinds[-2:] == ["extension_requested", "extension_granted"]
    assert client.get(base, headers=auth("giamsat.tgdv")).get_json()[0]["decided_by"]["full_name"] == "Trần Văn Bình"


def test_extension_refused_needs_a_reason(client, auth, session, org, action_ref):
    target = session.scalar(select(Assignment.id).where(
        Assignment.action_id == action_ref("IV.4.3"), Assignment.organization_id == org["PNV-KD"], Assignment.cycle == 2026))
    base = f"/api/v1/assignments/{target}/extensions"
    extension = client.post(base, headers=auth("canbo.noivu"), json={"new_due_date": "2026-12-20", "reason": "Lý do chính đáng"}).get_json()
    decision = f"{base}/{extension['id']}/decision"
    assert_problem(client.post(decision, headers=auth("lanhdao.ubnd"), json={"decision": "refuse"}), 422, "extension.note_required")
    refused = client.post(decision, headers=auth("lanhdao.ubnd"), json={"decision": "refuse", "note": "Không có căn cứ"})
    assert refused.get_json()["status"] == "refused"
    assert client.get(f"/api/v1/assignments/{target}", headers=auth("canbo.noivu")).get_json()["due_date"] == "2026-11-30"


def test_bulk_transitions_report_each_item(client, auth, session, org):
    ids = session.scalars(select(Assignment.id).where(Assignment.organization_id == org["PNV-KD"], Assignment.status == "not_started")
                          .order_by(Assignment.id).limit(3)).all()
    other = session.scalar(select(Assignment.id).where(Assignment.organization_id == org["PVHKHTT-KD"]).limit(1))
    response = client.post("/api/v1/assignments/transitions", headers=auth("canbo.noivu"), json={"items": [
        {"assignment_id": ids[0], "to": "in_progress"},
        {"assignment_id": ids[1], "to": "completed"},
        {"assignment_id": other, "to": "in_progress"},
        {"assignment_id": ids[2], "to": "in_progress", "progress": 20},
    ]})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["succeeded"], body["failed"]) == (2, 2)
    results = body["results"]
    assert [r["status"] for r in results] == [200, 409, 404, 200]
    assert results[1]["code"] == "assignment.invalid_transition" and results[1]["allowed"] == ["in_progress", "blocked"]
    assert results[2]["code"] == "assignment.not_found"
    statuses = dict(session.execute(select(Assignment.id, Assignment.status).where(Assignment.id.in_(ids))).all())
    assert statuses == {ids[0]: "in_progress", ids[1]: "not_started", ids[2]: "in_progress"}


def test_recurring_assignments_are_generated_once(app, client, auth, session, action_ref, org):
    action_id = action_ref("IV.4.2")
    before = session.scalar(select(func.count(Assignment.id)).where(Assignment.action_id == action_id))
    patched = client.patch(f"/api/v1/actions/{action_id}", headers=auth("admin"),
                           json={"recurrence": {"month": 6, "day": 10, "from_year": 2025, "until_year": 2032}})
    assert patched.status_code == 200, patched.get_json()
    # Extending the years keeps "trước ngày 10/6": the bound was not sent, so it stays "before".
    assert patched.get_json()["recurrence"]["bound"] == "before"
    orgs = session.scalar(select(func.count(func.distinct(Assignment.organization_id))).where(Assignment.action_id == action_id))
    response = client.post(f"/api/v1/actions/{action_id}/generate-assignments", headers=auth("admin"))
    assert response.status_code == 201, response.get_json()
    first = response.get_json()
    assert first["created"] == len(first["assignments"]) == 2 * orgs
    # Each created assignment names its URL, and that URL answers with it.
    for item in first["assignments"]:
        assert item["location"] == f"/api/v1/assignments/{item['id']}"
        assert item["cycle"] in (2031, 2032) and item["action"]["id"] == action_id
    shown = client.get(first["assignments"][0]["location"], headers=auth("admin"))
    assert shown.status_code == 200 and shown.get_json()["id"] == first["assignments"][0]["id"]
    response = client.post(f"/api/v1/actions/{action_id}/generate-assignments", headers=auth("admin"))
    assert response.status_code == 200
    assert response.get_json() == {"created": 0, "assignments": []}
    assert session.scalar(select(func.count(Assignment.id)).where(Assignment.action_id == action_id)) == before + 2 * orgs
    dates = session.scalars(select(Assignment.due_date).where(Assignment.action_id == action_id, Assignment.cycle == 2032)).all()
    assert {d.isoformat() for d in dates} == {"2032-06-09"}
    assigned_on = session.scalars(select(Assignment.assigned_on).where(Assignment.action_id == action_id, Assignment.cycle == 2032)).all()
    assert set(assigned_on) == {today_of(app)}  # generated today, not with the plan


def test_assigning_a_yearly_action_creates_every_year(client, auth, session, action_ref, org):
    response = client.post("/api/v1/assignments", headers=auth("lanhdao.huyen"), json={
        "action_id": action_ref("IV.4.3"), "organization_id": org["BTGDV-KD"], "role": "lead"})
    assert response.status_code == 201
    assert [a["cycle"] for a in response.get_json()] == [2025, 2026, 2027, 2028, 2029, 2030]
    again = client.post("/api/v1/assignments", headers=auth("lanhdao.huyen"), json={
        "action_id": action_ref("IV.4.3"), "organization_id": org["BTGDV-KD"], "role": "lead"})
    assert_problem(again, 409, "assignment.exists")


def test_assign_rules(client, auth, action_ref, org):
    payload = {"action_id": action_ref("III.6.1"), "organization_id": org["BTGDV-KD"], "role": "coordinating"}
    assert_problem(client.post("/api/v1/assignments", headers=auth("lanhdao.ubnd"), json=payload), 403, "assignment.forbidden")
    assert_problem(client.post("/api/v1/assignments", headers=auth("canbo.noivu"), json=payload), 403, "assignment.forbidden")
    body = assert_problem(client.post("/api/v1/assignments", headers=auth("lanhdao.huyen"), json={**payload, "role": "boss"}), 422,
                          "request.validation_failed")
    assert "role" in body["errors"]
    assert client.post("/api/v1/assignments", headers=auth("lanhdao.huyen"), json=payload).status_code == 201
    assert_problem(client.post("/api/v1/assignments", headers=auth("lanhdao.huyen"), json=payload), 409, "assignment.exists")


def test_history_cannot_be_changed_even_by_sql(session, org):
    event_id = session.scalar(select(AssignmentEvent.id).limit(1))
    for statement in (f"UPDATE assignment_event SET note = 'sửa' WHERE id = {event_id}",
                      f"DELETE FROM assignment_event WHERE id = {event_id}"):
        nested = session.begin_nested()
        with pytest.raises(Exception, match="append-only"):
            session.execute(text(statement))
        nested.rollback()
    assert session.get(AssignmentEvent, event_id) is not None


def test_labels(client):
    labels = client.get("/api/v1/meta/labels").get_json()
    assert labels["classifications"]["overdue"] == {"vi": "Chưa hoàn thành, quá hạn", "en": "Overdue"}
    assert labels["statuses"]["returned"]["vi"].startswith("Trả lại")
    assert labels["roles"]["lead"]["vi"] == "Chủ trì"
