"""Every create answers 201 with the created object and its `Location` (a GET there gives it);
an assignment also its `ETag`; an operation that creates several gives each one's location; a
bulk result says 201 for what it created and always why an item failed; a retried create
replays all of it; bad input creates nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests import evidence_files as files
from tests.helpers import assert_problem, row_counts
from tracker.models import Action, Assignment, Indicator, IndicatorUnit, Plan

API = "/api/v1"
ASSIGNMENTS = f"{API}/assignments"


@pytest.fixture
def plan_id(session) -> int:
    return session.scalar(select(Plan.id).where(Plan.code == "KH-NQ57/HU"))


@pytest.fixture
def new_action(client, auth, plan_id):
    """An action of the plan made through the API (one-off, or yearly with `recurrence`)."""
    refs = iter(range(1, 100))

    def make(**fields) -> int:
        body = {"ref": f"III.2.{80 + next(refs)}", "group": 2, "text": "Việc kiểm thử tạo mới", **fields}
        response = client.post(f"{API}/plans/{plan_id}/actions", headers=auth("lanhdao.huyen"), json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.headers["Location"] == f"{API}/actions/{response.get_json()['id']}"
        return response.get_json()["id"]

    return make


def assignments_of(session, action_id: int) -> int:
    return session.scalar(select(func.count(Assignment.id)).where(Assignment.action_id == action_id))


def follow(client, headers, response) -> dict:
    """GET the created object's Location: it must be the object the create answered with."""
    fetched = client.get(response.headers["Location"], headers=headers)
    assert fetched.status_code == 200, fetched.get_data(as_text=True)
    return fetched.get_json()


# --- assignments -------------------------------------------------------------------------------


def test_assigning_a_one_off_action_gives_location_and_etag(client, auth, org, new_action):
    leader = auth("lanhdao.huyen")
    action_id = new_action(due_date="2026-12-31")
    response = client.post(ASSIGNMENTS, headers=leader, json={"action_id": action_id, "organization_id": org["PNV-KD"], "role": "lead"})
    assert response.status_code == 201, response.get_data(as_text=True)
    [created] = response.get_json()
    assert response.headers["Location"] == created["location"] == f"{ASSIGNMENTS}/{created['id']}"
    assert response.headers["ETag"] == f'"{created["id"]}.{created["version"]}"'
    assert created["allowed_transitions"] == ["in_progress", "blocked", "cancelled"] and created["evidence_count"] == 0
    fetched = client.get(response.headers["Location"], headers=leader)
    assert fetched.status_code == 200 and fetched.get_json()["id"] == created["id"]
    # The create's ETag is the version a GET's ETag starts with, and good for If-Match as it is.
    assert fetched.headers["ETag"].strip('"').startswith(response.headers["ETag"].strip('"'))
    patched = client.patch(response.headers["Location"], headers={**leader, "If-Match": response.headers["ETag"]},
                           json={"due_date": "2027-01-31"})
    assert patched.status_code == 200, patched.get_data(as_text=True)


def test_assigning_a_yearly_action_locates_each_year(client, auth, org, new_action):
    leader = auth("lanhdao.huyen")
    action_id = new_action(recurrence={"month": 6, "day": 10, "from_year": 2025, "until_year": 2027})
    response = client.post(ASSIGNMENTS, headers=leader, json={"action_id": action_id, "organization_id": org["PNV-KD"], "role": "lead"})
    assert response.status_code == 201
    created = response.get_json()
    assert [item["cycle"] for item in created] == [2025, 2026, 2027]
    assert "Location" not in response.headers and "ETag" not in response.headers  # several: each item has its own
    for item in created:
        assert item["location"] == f"{ASSIGNMENTS}/{item['id']}"
        assert client.get(item["location"], headers=leader).get_json()["cycle"] == item["cycle"]


def test_a_retried_create_replays_location_and_etag(client, auth, org, session, new_action):
    leader = {**auth("lanhdao.huyen"), "Idempotency-Key": "tao-phan-cong-1"}
    action_id = new_action(due_date="2026-12-31")
    body = {"action_id": action_id, "organization_id": org["PNV-KD"], "role": "lead"}
    first = client.post(ASSIGNMENTS, headers=leader, json=body)
    again = client.post(ASSIGNMENTS, headers=leader, json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotency-Replayed"] == "true"
    assert (again.headers["Location"], again.headers["ETag"]) == (first.headers["Location"], first.headers["ETag"])
    assert again.get_json() == first.get_json() and assignments_of(session, action_id) == 1


def test_a_refused_create_creates_nothing_and_locates_nothing(client, auth, org, session, new_action):
    action_id = new_action(due_date="2026-12-31")
    before = row_counts()
    unknown = client.post(ASSIGNMENTS, headers=auth("lanhdao.huyen"),
                          json={"action_id": action_id, "organization_id": 999999, "role": "lead"})
    body = assert_problem(unknown, 422, "request.validation_failed")
    assert "organization_id" in body["errors"] and "Location" not in unknown.headers
    outside = client.post(ASSIGNMENTS, headers=auth("lanhdao.ubnd"),
                          json={"action_id": action_id, "organization_id": org["BTGDV-KD"], "role": "lead"})
    assert_problem(outside, 403, "assignment.forbidden")
    assert_problem(client.post(ASSIGNMENTS, headers=auth("lanhdao.huyen"), json={"action_id": action_id, "role": "lead"}),
                   422, "request.validation_failed")
    assert row_counts() == before


# --- bulk assign -------------------------------------------------------------------------------


def test_bulk_results_say_201_with_locations_and_always_why_an_item_failed(client, auth, org, session, new_action):
    leader = auth("lanhdao.ubnd")
    action_id = new_action(due_date="2026-12-31")
    response = client.post(f"{ASSIGNMENTS}/bulk", headers=leader, json={
        "action_id": action_id, "role": "coordinating",
        "organization_ids": [org["PNV-KD"], 999999, org["PNV-KD"], org["BTGDV-KD"], org["CA-KD"]]})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["succeeded"], body["failed"]) == (2, 3)
    results = body["results"]
    assert [r["status"] for r in results] == [201, 422, 409, 403, 201]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    for created in (results[0], results[4]):
        assert created["locations"] == [f"{ASSIGNMENTS}/{i}" for i in created["assignment_ids"]] and len(created["locations"]) == 1
        assert client.get(created["locations"][0], headers=leader).get_json()["organization"]["id"] == created["organization_id"]
    unknown = results[1]
    assert unknown["organization_id"] == 999999 and unknown["code"] == "request.validation_failed"
    assert unknown["detail"] and "organization_id" in unknown["detail"]  # names the field, with its message
    assert list(unknown["errors"]) == ["organization_id"] and unknown["errors"]["organization_id"][0] in unknown["detail"]
    assert (results[2]["code"], results[3]["code"]) == ("assignment.exists", "assignment.forbidden")
    for failed in results[1:4]:
        assert isinstance(failed["detail"], str) and failed["detail"] and "locations" not in failed
    assert assignments_of(session, action_id) == 2


def test_a_bulk_where_everything_fails_or_the_request_is_bad_changes_nothing(client, auth, org, new_action):
    leader = auth("lanhdao.ubnd")
    action_id = new_action(due_date="2026-12-31")
    before = row_counts()
    response = client.post(f"{ASSIGNMENTS}/bulk", headers=leader,
                           json={"action_id": action_id, "role": "lead", "organization_ids": [999998, org["BTGDV-KD"]]})
    assert response.status_code == 200
    assert response.get_json()["succeeded"] == 0 and all(r["detail"] for r in response.get_json()["results"])
    assert_problem(client.post(f"{ASSIGNMENTS}/bulk", headers=leader,
                               json={"action_id": action_id, "role": "lead", "organization_ids": []}), 422, "request.validation_failed")
    assert_problem(client.post(f"{ASSIGNMENTS}/bulk", headers=leader,
                               json={"action_id": action_id, "role": "chief", "organization_ids": [org["PNV-KD"]]}),
                   422, "request.validation_failed")
    # An action that does not exist is a bad field of the body, for one organisation or many (the
    # whole request refused), as an unknown organisation is: never a 404 of the URL.
    for url, body in ((ASSIGNMENTS, {"action_id": 999997, "role": "lead", "organization_id": org["PNV-KD"]}),
                      (f"{ASSIGNMENTS}/bulk", {"action_id": 999997, "role": "lead", "organization_ids": [org["PNV-KD"]]})):
        problem = assert_problem(client.post(url, headers=leader, json=body), 422, "request.validation_failed")
        assert list(problem["errors"]) == ["action_id"]
    unknown_org = assert_problem(client.post(ASSIGNMENTS, headers=leader, json={
        "action_id": action_id, "role": "lead", "organization_id": 999998}), 422, "request.validation_failed")
    assert list(unknown_org["errors"]) == ["organization_id"]
    assert row_counts() == before


def test_bulk_transitions_say_200_for_moves_and_why_others_failed(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    first, second = make_assignment(), make_assignment()
    response = client.post(f"{ASSIGNMENTS}/transitions", headers=officer, json={"items": [
        {"assignment_id": first, "to": "in_progress"}, {"assignment_id": second, "to": "completed"},
        {"assignment_id": 999999, "to": "in_progress"}]})
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [200, 409, 404]
    assert results[1]["allowed"] == ["in_progress", "blocked"] and all(r["detail"] for r in results[1:])


# --- extensions --------------------------------------------------------------------------------


def test_an_extension_request_is_located(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    target, other = make_assignment(), make_assignment()
    response = client.post(f"{ASSIGNMENTS}/{target}/extensions", headers=officer,
                           json={"new_due_date": "2031-06-30", "reason": "Chờ kinh phí năm sau"})
    assert response.status_code == 201
    created = response.get_json()
    assert response.headers["Location"] == f"{ASSIGNMENTS}/{target}/extensions/{created['id']}"
    assert follow(client, auth("lanhdao.ubnd"), response) == created
    assert_problem(client.get(response.headers["Location"], headers=auth("canbo.congan")), 404, "assignment.not_found")
    assert_problem(client.get(f"{ASSIGNMENTS}/{other}/extensions/{created['id']}", headers=officer), 404, "extension.not_found")
    assert_problem(client.get(f"{ASSIGNMENTS}/{target}/extensions/999999", headers=officer), 404, "extension.not_found")


# --- the other creates -------------------------------------------------------------------------


def test_organisations_reorganisations_and_users_are_located(client, auth, org):
    admin = auth("admin")
    unit = client.post(f"{API}/organizations", headers=admin, json={"code": "NEW-UNIT", "name": "Đơn vị mới", "kind": "department"})
    assert unit.status_code == 201 and unit.headers["Location"] == f"{API}/organizations/{unit.get_json()['id']}"
    assert follow(client, admin, unit)["code"] == "NEW-UNIT"
    merger = client.post(f"{API}/organizations/reorganizations", headers=admin, json={
        "kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": [org["PTP-KD"]], "successor_id": org["PNV-KD"]})
    assert merger.status_code == 201, merger.get_data(as_text=True)
    assert merger.headers["Location"] == f"{API}/organizations/reorganizations/{merger.get_json()['id']}"
    assert follow(client, auth("canbo.noivu"), merger)["kind"] == "merge"
    user = client.post(f"{API}/users", headers=admin, json={"username": "moi.tao", "password": "mat-khau-du-dai", "full_name": "Người mới"})
    assert user.status_code == 201 and user.headers["Location"] == f"{API}/users/{user.get_json()['id']}"
    assert follow(client, admin, user)["username"] == "moi.tao"


def test_measurements_and_their_evidence_are_located(client, auth, session, plan_id, org):
    indicator = Indicator(plan_id=plan_id, code="T-CREATES", name="Chỉ tiêu kiểm thử", unit="%", kind="numeric", direction="at_least",
                          source_ref="II.1", rollup="none")
    indicator.units.append(IndicatorUnit(organization_id=org["PVHKHTT-KD"]))
    session.add(indicator)
    session.commit()
    indicator_id = indicator.id
    officer = auth("canbo.vhkhtt")
    measurement = client.post(f"{API}/indicators/{indicator_id}/measurements", headers=officer,
                              json={"measured_on": "2025-06-30", "value": 40, "source": "Báo cáo thống kê"})
    assert measurement.status_code == 201, measurement.get_data(as_text=True)
    created = measurement.get_json()
    assert measurement.headers["Location"] == f"{API}/indicators/{indicator_id}/measurements/{created['id']}"
    assert follow(client, auth("lanhdao.ubnd"), measurement)["id"] == created["id"]
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(files.pdf("Số liệu.pdf")), filename="Số liệu.pdf")}))
    uploaded = client.post(f"{measurement.headers['Location']}/evidence", headers=officer, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
    assert uploaded.headers["Location"] == f"{API}/measurement-evidence/{uploaded.get_json()['id']}/content"
    content = client.get(uploaded.headers["Location"], headers=officer, buffered=True)
    assert content.status_code == 200 and content.data.startswith(b"%PDF")


def test_an_action_split_is_located(client, auth, session, plan_id):
    parent = session.scalar(select(Action.id).where(Action.plan_id == plan_id, Action.ref == "III.3.4"))
    response = client.post(f"{API}/plans/{plan_id}/actions", headers=auth("lanhdao.huyen"),
                           json={"parent_id": parent, "text": "Số hóa hồ sơ lưu trữ", "due_date": "2026-12-31"})
    assert response.status_code == 201
    assert follow(client, auth("canbo.noivu"), response)["ref"] == response.get_json()["ref"]


def test_assignment_evidence_is_located(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment()
    boundary, body = encode_multipart(MultiDict({"file": FileStorage(io.BytesIO(files.pdf("Biên bản")), filename="Biên bản.pdf")}))
    uploaded = client.post(f"{ASSIGNMENTS}/{target}/evidence", headers=officer, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
    assert uploaded.headers["Location"] == f"{API}/evidence/{uploaded.get_json()['id']}"
    assert follow(client, officer, uploaded) == uploaded.get_json()
    assert_problem(client.get(uploaded.headers["Location"], headers=auth("canbo.congan")), 404, "evidence.not_found")
