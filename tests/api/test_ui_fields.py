"""What each assignment answer tells a screen about the caller: the moves and fields open to them
now (`allowed_transitions`, `editable_fields`, proven against what the API then accepts), why the
work was returned, the pending extension request and how much evidence there is; on lists, at a
cost in statements that does not grow with the page."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.helpers import assert_problem, counting
from tracker.models import Assignment, Organization, User
from tracker.services import clock

API = "/api/v1/assignments"
STATUSES = ["not_started", "in_progress", "submitted", "returned", "completed", "blocked", "cancelled"]
OFFICER, LEADER, VIEWER, ADMIN = "canbo.noivu", "lanhdao.ubnd", "giamsat.tgdv", "admin"  # as seen from PNV-KD's work
OTHER_AGENCY = "canbo.congan"
TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK")


@pytest.fixture
def today(app) -> dt.date:
    with app.app_context():
        return clock.today()


@pytest.fixture
def in_status(make_assignment, today):
    """A fresh assignment of PNV-KD, due in a month, in `status` (with the dates that status implies)."""
    dates = {"submitted": {"submitted_on": dt.date(2025, 3, 1)},
             "completed": {"submitted_on": dt.date(2025, 3, 1), "completed_on": dt.date(2025, 3, 1), "progress": 100}}

    def make(status: str) -> int:
        return make_assignment("PNV-KD", today + dt.timedelta(days=30), status=status, **dates.get(status, {}))

    return make


def read(client, headers, assignment_id) -> dict:
    response = client.get(f"{API}/{assignment_id}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def move(client, headers, assignment_id, to, **extra):
    return client.post(f"{API}/{assignment_id}/transitions", json={"to": to, **extra}, headers=headers)


def upload(client, headers, assignment_id):
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(files.pdf("Báo cáo.pdf")), filename="Báo cáo.pdf")}))
    response = client.post(f"{API}/{assignment_id}/evidence", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                           headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# --- allowed transitions and editable fields, against what the API accepts -------------------


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("username", [OFFICER, LEADER, VIEWER, ADMIN])
def test_allowed_transitions_are_exactly_the_moves_the_api_accepts(client, auth, in_status, username, status):
    headers = auth(username)
    shown = read(client, headers, in_status(status))["allowed_transitions"]
    accepted = []
    target_of = in_status(status)
    for target in STATUSES:
        response = move(client, headers, target_of, target, note="Lý do kiểm thử")
        if response.status_code == 200:
            accepted.append(target)
            target_of = in_status(status)  # the next try starts from the same status again
        else:
            assert response.status_code in (403, 409), response.get_data(as_text=True)
    assert sorted(shown) == sorted(accepted)


def test_allowed_transitions_by_role_read_as_the_rules_say(client, auth, in_status):
    fresh = in_status("not_started")
    assert read(client, auth(OFFICER), fresh)["allowed_transitions"] == ["in_progress", "blocked"]
    assert read(client, auth(LEADER), fresh)["allowed_transitions"] == ["in_progress", "blocked", "cancelled"]
    assert read(client, auth(ADMIN), fresh)["allowed_transitions"] == ["in_progress", "blocked", "cancelled"]
    assert read(client, auth(VIEWER), fresh)["allowed_transitions"] == []
    submitted = in_status("submitted")
    assert read(client, auth(OFFICER), submitted)["allowed_transitions"] == []  # the officer waits for the leader
    assert read(client, auth(LEADER), submitted)["allowed_transitions"] == ["completed", "returned", "cancelled"]


PATCH_VALUES = {"due_date": "2027-01-15", "progress": 55, "note": "Ghi chú kiểm thử"}


@pytest.mark.parametrize("status", ["in_progress", "returned", "completed", "cancelled"])
@pytest.mark.parametrize("username", [OFFICER, LEADER, VIEWER, ADMIN])
def test_editable_fields_are_exactly_the_fields_patch_accepts(client, auth, session, in_status, username, status):
    headers = auth(username)
    target = in_status(status)
    shown = read(client, headers, target)["editable_fields"]
    member = session.scalar(select(User.id).where(User.username == OFFICER))  # an active member of PNV-KD
    accepted = []
    for field, value in {"owner_id": member, **PATCH_VALUES}.items():
        etag = client.get(f"{API}/{target}", headers=headers).headers["ETag"]
        response = client.patch(f"{API}/{target}", json={field: value}, headers={**headers, "If-Match": etag})
        if response.status_code == 200:
            accepted.append(field)
            assert response.get_json()["editable_fields"] == shown  # the answer says the same
        else:
            assert response.status_code in (403, 409), response.get_data(as_text=True)
    assert shown == accepted
    expected = {OFFICER: ["progress", "note"], LEADER: ["owner_id", "due_date", "progress", "note"],
                ADMIN: ["owner_id", "due_date", "progress", "note"], VIEWER: []}[username]
    assert shown == ([] if status in ("completed", "cancelled") else expected)


def test_work_of_a_closed_organisation_offers_nothing(client, auth, session, in_status, today):
    target = in_status("in_progress")
    session.scalar(select(Organization).where(Organization.code == "PNV-KD")).valid_to = today - dt.timedelta(days=1)
    session.commit()
    for username in (ADMIN, LEADER, OFFICER):
        body = read(client, auth(username), target)
        assert (body["allowed_transitions"], body["editable_fields"]) == ([], []), username
    assert_problem(move(client, auth(ADMIN), target, "submitted"), 403, "organization.closed")


def test_another_agency_sees_nothing_of_it(client, auth, in_status):
    target = in_status("returned")
    other = auth(OTHER_AGENCY)
    assert_problem(client.get(f"{API}/{target}", headers=other), 404, "assignment.not_found")
    listed = client.get(API, headers=other, query_string={"page_size": 200}).get_json()
    assert target not in {item["id"] for item in listed}


# --- every assignment answer carries them ------------------------------------------------------


UI_FIELDS = {"allowed_transitions", "editable_fields", "last_return_reason", "pending_extension", "evidence_count"}


def test_list_detail_patch_and_transition_answers_all_carry_the_fields(client, auth, in_status):
    officer = auth(OFFICER)
    target = in_status("not_started")
    detail = read(client, officer, target)
    assert UI_FIELDS <= detail.keys()
    listed = client.get(API, headers=officer, query_string={"page_size": 200, "sort": "-updated_at"}).get_json()
    item = next(i for i in listed if i["id"] == target)
    assert {name: item[name] for name in UI_FIELDS} == {name: detail[name] for name in UI_FIELDS}
    started = move(client, officer, target, "in_progress").get_json()
    assert started["allowed_transitions"] == ["submitted", "blocked"] and started["editable_fields"] == ["progress", "note"]
    patched = client.patch(f"{API}/{target}", json={"progress": 20},
                           headers={**officer, "If-Match": client.get(f"{API}/{target}", headers=officer).headers["ETag"]})
    assert patched.status_code == 200 and UI_FIELDS <= patched.get_json().keys()


# --- last return reason ------------------------------------------------------------------------


def test_the_latest_return_reason_shows_until_the_work_is_submitted_again(client, auth, in_status):
    officer, leader, viewer = auth(OFFICER), auth(LEADER), auth(VIEWER)
    target = in_status("in_progress")
    assert read(client, officer, target)["last_return_reason"] is None  # never returned
    assert move(client, officer, target, "submitted").status_code == 200
    assert read(client, officer, target)["last_return_reason"] is None
    returned = move(client, leader, target, "returned", note="Bổ sung biên bản kiểm tra")
    assert returned.get_json()["last_return_reason"] == "Bổ sung biên bản kiểm tra"  # in the transition's own answer
    for headers in (officer, leader, viewer):
        assert read(client, headers, target)["last_return_reason"] == "Bổ sung biên bản kiểm tra"
    assert move(client, officer, target, "in_progress").status_code == 200
    assert read(client, officer, target)["last_return_reason"] == "Bổ sung biên bản kiểm tra"  # still being fixed
    assert move(client, officer, target, "blocked", note="Chờ số liệu").status_code == 200
    assert read(client, officer, target)["last_return_reason"] == "Bổ sung biên bản kiểm tra"
    assert move(client, officer, target, "in_progress").status_code == 200
    assert move(client, officer, target, "submitted").status_code == 200
    assert read(client, officer, target)["last_return_reason"] is None  # submitted again: the reason is answered
    assert move(client, leader, target, "returned", note="Thiếu chữ ký").status_code == 200
    assert read(client, officer, target)["last_return_reason"] == "Thiếu chữ ký"  # the latest one
    assert move(client, officer, target, "submitted").status_code == 200
    assert move(client, leader, target, "completed").status_code == 200
    assert read(client, officer, target)["last_return_reason"] is None
    history = client.get(f"{API}/{target}/history", headers=officer, query_string={"page_size": 100}).get_json()
    returns = [e["note"] for e in history if (e["new_value"] or {}).get("status") == "returned"]
    assert returns == ["Bổ sung biên bản kiểm tra", "Thiếu chữ ký"]  # history keeps every one


# --- pending extension -------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["grant", "refuse"])
def test_a_pending_extension_shows_until_it_is_decided(client, auth, in_status, decision):
    officer, leader = auth(OFFICER), auth(LEADER)
    target = in_status("in_progress")
    assert read(client, officer, target)["pending_extension"] is None
    due = read(client, officer, target)["due_date"]
    asked = client.post(f"{API}/{target}/extensions", headers=officer,
                        json={"new_due_date": "2031-06-30", "reason": "Chờ kinh phí năm sau"})
    assert asked.status_code == 201
    for headers in (officer, leader, auth(VIEWER)):
        pending = read(client, headers, target)["pending_extension"]
        assert pending["id"] == asked.get_json()["id"]
        assert (pending["new_due_date"], pending["previous_due_date"], pending["reason"]) == ("2031-06-30", due, "Chờ kinh phí năm sau")
        assert pending["requested_by"]["full_name"] == "Phạm Minh Đức" and pending["requested_at"].endswith("Z")
        assert pending["requested_after_due"] is False
    listed = client.get(API, headers=leader, query_string={"page_size": 200, "sort": "-updated_at"}).get_json()
    assert next(i for i in listed if i["id"] == target)["pending_extension"]["id"] == pending["id"]
    decided = client.post(f"{API}/{target}/extensions/{pending['id']}/decision", headers=leader,
                          json={"decision": decision, "note": "Đã xem xét"})
    assert decided.status_code == 200
    after = read(client, officer, target)
    assert after["pending_extension"] is None
    assert after["due_date"] == ("2031-06-30" if decision == "grant" else due)


def test_a_pending_extension_lapses_with_the_work(client, auth, in_status):
    officer, leader = auth(OFFICER), auth(LEADER)
    target = in_status("submitted")
    assert client.post(f"{API}/{target}/extensions", headers=officer,
                       json={"new_due_date": "2031-06-30", "reason": "Chờ kinh phí năm sau"}).status_code == 201
    assert read(client, leader, target)["pending_extension"] is not None
    assert move(client, leader, target, "completed").get_json()["pending_extension"] is None


# --- evidence count ----------------------------------------------------------------------------


def test_evidence_count_follows_uploads_and_withdrawals_and_gates_submission(client, auth, session, in_status):
    officer = auth(OFFICER)
    target = in_status("in_progress")
    session.get(Assignment, target).action.requires_evidence = True
    session.commit()
    body = read(client, officer, target)
    assert body["evidence_count"] == 0 and "submitted" not in body["allowed_transitions"]
    assert_problem(move(client, officer, target, "submitted"), 409, "assignment.evidence_required")  # as the field said
    first = upload(client, officer, target)
    upload(client, officer, target)
    body = read(client, officer, target)
    assert body["evidence_count"] == 2 and "submitted" in body["allowed_transitions"]
    assert read(client, auth(VIEWER), target)["evidence_count"] == 2
    assert client.post(f"/api/v1/evidence/{first['id']}/withdraw", json={"reason": "Tải nhầm tệp"}, headers=officer).status_code == 200
    assert read(client, officer, target)["evidence_count"] == 1  # withdrawn files do not count
    listed = client.get(API, headers=officer, query_string={"page_size": 200, "sort": "-updated_at"}).get_json()
    assert next(i for i in listed if i["id"] == target)["evidence_count"] == 1


# --- the cost of a list ------------------------------------------------------------------------


@pytest.mark.parametrize("username", [ADMIN, "lanhdao.huyen", OFFICER])
def test_a_page_costs_the_same_statements_with_5_or_50_rows(app, client, auth, in_status, username):
    headers = auth(username)
    # Work that gives every loader something to find: evidence, a pending request, a return.
    with_evidence, pending, returned = (in_status("in_progress") for _ in range(3))
    upload(client, auth(OFFICER), with_evidence)
    assert client.post(f"{API}/{pending}/extensions", headers=auth(OFFICER),
                       json={"new_due_date": "2031-06-30", "reason": "Chờ kinh phí năm sau"}).status_code == 201
    assert move(client, auth(OFFICER), returned, "submitted").status_code == 200
    assert move(client, auth(LEADER), returned, "returned", note="Bổ sung số liệu").status_code == 200
    for _ in range(3):  # the officer's own list holds more than 5 rows too
        in_status("not_started")

    observed, pages = {}, {}
    for size in (5, 50):
        with counting(app, ignore=TRANSACTION_CONTROL) as statements:
            response = client.get(API, headers=headers, query_string={"page_size": size, "sort": "-updated_at"})
        assert response.status_code == 200
        pages[size] = {item["id"]: item for item in response.get_json()}
        observed[size] = len(statements)
    assert len(pages[5]) == 5 and len(pages[50]) > 5
    assert observed[5] == observed[50] > 0, observed
    rows = pages[50]
    assert rows[with_evidence]["evidence_count"] == 1
    assert rows[pending]["pending_extension"]["reason"] == "Chờ kinh phí năm sau"
    assert rows[returned]["last_return_reason"] == "Bổ sung số liệu"


# --- one shape ---------------------------------------------------------------------------------

SAME_IN_BOTH = ("id", "role", "cycle", "owner", "organization", "original_due_date", "due_date", "extended", "status", "progress",
                "submitted_on", "completed_on", "classification", "days_overdue", "updated_at")


@pytest.mark.parametrize("section", ["overdue", "attention"])
def test_a_report_row_is_the_assignment_as_assignments_gives_it(client, auth, section):
    leader = auth("lanhdao.huyen")
    if section == "overdue":
        rows = client.get("/api/v1/reports/overdue", headers=leader, query_string={"page_size": 20}).get_json()
    else:
        rows = client.get("/api/v1/reports/attention", headers=leader).get_json()["overdue"]["items"]
    assert rows
    for row in rows:
        item = read(client, leader, row["id"])
        assert {name: row[name] for name in SAME_IN_BOTH} == {name: item[name] for name in SAME_IN_BOTH}
        assert {name: row["action"][name] for name in ("ref", "title", "plan_id")} == \
            {name: item["action"][name] for name in ("ref", "title", "plan_id")}
        assert row["action"]["text"] and row["plan"]["id"] == item["action"]["plan_id"]
        for old in ("assignment_id", "organization_name", "organization_code", "last_updated_at", "owner_name", "action_ref"):
            assert old not in row


def test_summary_and_scorecard_rows_name_a_unit_the_same_way(client, auth):
    admin = auth("admin")
    summary = client.get("/api/v1/reports/summary", headers=admin, query_string={"by": "organization", "as_of": "2026-11-24"}).get_json()
    scorecard = client.get("/api/v1/reports/scorecard", headers=admin, query_string={"year": 2026, "as_of": "2026-11-24"}).get_json()
    in_summary = {row["organization"]["id"]: row["organization"] for row in summary["rows"]}
    in_scorecard = {row["organization"]["id"]: row["organization"] for row in scorecard["rows"]}
    assert in_scorecard and set(in_scorecard) <= set(in_summary)
    for org_id, unit in in_scorecard.items():
        assert unit == in_summary[org_id] and set(unit) == {"id", "code", "name"}
    for row in summary["rows"]:
        assert (row["organization"]["id"], row["organization"]["code"], row["organization"]["name"]) == \
            (row["key"]["organization_id"], row["key"]["organization_code"], row["label"])
    assert "organization" not in summary["totals"]
    for old in ("organization_id", "organization_code", "organization_name"):
        assert all(old not in row for row in scorecard["rows"])
    levels = client.get("/api/v1/reports/summary", headers=admin, query_string={"by": "organization", "level": "children"}).get_json()
    assert all(row["organization"]["id"] == row["key"]["organization_id"] for row in levels["rows"])
