"""The 2025 reform, as it was measured broken: two commune party committees merge into a new one
under the province on 01/07/2025; the district committee and the district people's committee
close on 30/06/2025. Work follows the change, reports as of a day keep the tree of that day,
access follows the change, and bad reorganisations are refused without changing anything."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tests.conftest import bearer_headers
from tests.helpers import assert_problem, row_counts
from tracker.models import (
    Action, Assignment, AssignmentEvent, AssignmentTransfer, IndicatorUnit, Membership, Organization, OrganizationLink, OrganizationVersion,
    Reorganization, User,
)

REORG = "/api/v1/organizations/reorganizations"
ORGS = "/api/v1/organizations"
REFORM = dt.date(2025, 7, 1)
BEFORE = dt.date(2025, 6, 30)
LATER = dt.date(2026, 7, 1)
OPEN = ("not_started", "in_progress", "submitted", "returned", "blocked")
DECISION = "Nghị quyết sắp xếp đơn vị hành chính cấp xã tỉnh Hưng Yên năm 2025"


def open_count(session, org_id: int) -> int:
    return session.scalar(select(func.count(Assignment.id)).where(Assignment.organization_id == org_id, Assignment.status.in_(OPEN)))


def held(session, org_id: int) -> int:
    return session.scalar(select(func.count(Assignment.id)).where(Assignment.organization_id == org_id, Assignment.status != "cancelled"))


def summary_rows(client, headers, as_of: dt.date) -> dict[int, dict]:
    response = client.get("/api/v1/reports/summary", headers=headers, query_string={"by": "organization", "as_of": as_of.isoformat()})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return {row["key"]["organization_id"]: row for row in body["rows"]} | {"totals": body["totals"]}


@pytest.fixture
def reform(client, auth, org, session):
    """Record the reform through the API; returns what the checks need, with counts taken before."""
    admin = auth("admin")
    before = {code: {"open": open_count(session, org[code]), "held": held(session, org[code])}
              for code in ("DB-LUONGBANG", "DB-TOANTHANG", "HU-KD", "UBND-KD")}
    # A completed assignment of the district people's committee stays with it (the work it did).
    done = session.scalar(select(Assignment).where(Assignment.organization_id == org["UBND-KD"], Assignment.status.in_(OPEN))
                          .order_by(Assignment.id).limit(1))
    done.status, done.completed_on, done.submitted_on, done.progress = "completed", dt.date(2025, 5, 20), dt.date(2025, 5, 20), 100
    done_id = done.id
    session.commit()
    before["UBND-KD"]["open"] -= 1
    summary_before = summary_rows(client, admin, BEFORE)

    merged = client.post(REORG, headers=admin, json={
        "kind": "merge", "effective_on": REFORM.isoformat(), "decision": DECISION,
        "predecessor_ids": [org["DB-LUONGBANG"], org["DB-TOANTHANG"]],
        "new_successor": {"code": "DU-LUONGBANG", "name": "Đảng ủy xã Lương Bằng", "kind": "party_committee", "parent_id": org["TU-HY"]},
        "move_memberships": True,
    })
    assert merged.status_code == 201, merged.get_json()
    successor = merged.get_json()["outcome"]["successor_id"]
    closed = client.post(REORG, headers=admin, json={
        "kind": "merge", "effective_on": REFORM.isoformat(), "decision": DECISION,
        "predecessor_ids": [org["HU-KD"], org["UBND-KD"]], "successor_id": successor,
        "children_parent_id": org["TU-HY"],
    })
    assert closed.status_code == 201, closed.get_json()
    return {"successor": successor, "before": before, "summary_before": summary_before, "completed": done_id,
            "merged": merged.get_json(), "closed": closed.get_json()}


def test_open_work_passes_to_the_successor_and_completed_work_stays(reform, session, org):
    successor, before = reform["successor"], reform["before"]
    for code in ("DB-LUONGBANG", "DB-TOANTHANG", "HU-KD", "UBND-KD"):
        assert open_count(session, org[code]) == 0, code
    outcome_merge, outcome_close = reform["merged"]["outcome"], reform["closed"]["outcome"]
    moved = outcome_merge["transferred_total"] + outcome_close["transferred_total"]
    superseded = outcome_merge["superseded"] + outcome_close["superseded"]
    # Nothing lost: every open duty was passed on, or superseded by the successor's own of that year.
    assert moved + superseded == sum(b["open"] for b in before.values())
    assert open_count(session, successor) == moved
    assert moved > 0 and superseded > 0  # the two committees' yearly reports after 30/06/2025 collapse into one
    # The completed assignment stays with the district people's committee.
    assert session.get(Assignment, reform["completed"]).organization_id == org["UBND-KD"]
    # Each transfer is an event on the assignment and a row the as-of reports read.
    transfers = session.scalar(select(func.count(AssignmentTransfer.id)))
    assert transfers == moved
    events = session.scalar(select(func.count(AssignmentEvent.id)).where(AssignmentEvent.kind == "transferred"))
    assert events == moved
    # Children of the closed units were moved under the province, none left under a closed unit.
    for code in ("VPHU-KD", "PNV-KD", "MTTQ-KD", "DB-NGHIADAN"):
        child = session.get(Organization, org[code])
        assert child.valid_to is None and child.parent_id == org["TU-HY"], code
    closed_parents = session.scalars(select(Organization.code).where(
        Organization.parent_id.in_([org["HU-KD"], org["UBND-KD"]]), Organization.valid_to.is_(None))).all()
    assert closed_parents == []
    # The indicators the committees reported are reported by the successor from now on.
    reporters = set(session.scalars(select(IndicatorUnit.organization_id)))
    assert successor in reporters and not {org["DB-LUONGBANG"], org["DB-TOANTHANG"]} & reporters
    # Closed on the day before, with the lineage to the successor.
    for code in ("DB-LUONGBANG", "DB-TOANTHANG", "HU-KD", "UBND-KD"):
        unit = session.get(Organization, org[code])
        assert (unit.valid_to, unit.successor_id) == (BEFORE, successor), code


def test_no_yearly_duty_before_a_unit_existed_or_after_it_closed(reform, client, auth, session, org, action_ref):
    successor = reform["successor"]
    # The closed committees keep no duty falling due after they closed.
    late = session.scalar(select(func.count(Assignment.id)).where(
        Assignment.organization_id.in_([org["DB-LUONGBANG"], org["DB-TOANTHANG"], org["HU-KD"], org["UBND-KD"]]),
        Assignment.status != "cancelled", Assignment.due_date > BEFORE))
    assert late == 0
    # One 2026 six-month report duty, on the successor: not three.
    report_actions = select(Action.id).where(Action.report_period.is_not(None))
    per_org = dict(session.execute(select(Assignment.organization_id, func.count(Assignment.id)).where(
        Assignment.action_id.in_(report_actions), Assignment.cycle == 2026, Assignment.status != "cancelled",
        Assignment.organization_id.in_([org["DB-LUONGBANG"], org["DB-TOANTHANG"], successor]),
    ).group_by(Assignment.organization_id)).all())
    assert set(per_org) == {successor}
    # Assigning a yearly action to the successor creates no cycle due before 01/07/2025.
    yearly = session.scalar(select(Action.id).where(Action.recurrence_month.is_not(None), Action.ref.not_in(
        select(Action.ref).join(Assignment, Assignment.action_id == Action.id).where(Assignment.organization_id == successor))).limit(1))
    response = client.post("/api/v1/assignments", headers=auth("admin"),
                           json={"action_id": yearly, "organization_id": successor, "role": "coordinating"})
    assert response.status_code == 201, response.get_json()
    dues = [dt.date.fromisoformat(a["due_date"]) for a in response.get_json() if a["due_date"]]
    assert dues and min(dues) >= REFORM


def test_reports_as_of_each_day_partition_the_work(reform, client, auth, session, org):
    admin, successor = auth("admin"), reform["successor"]
    before, after = reform["summary_before"], summary_rows(client, admin, BEFORE)
    # As of 30/06/2025 nothing changed: the same rows and counts, no successor row.
    assert successor not in after
    for code in ("DB-LUONGBANG", "DB-TOANTHANG", "HU-KD", "UBND-KD", "TU-HY"):
        assert after[org[code]]["counts"] == before[org[code]]["counts"], code
        assert after[org[code]]["own"] == before[org[code]]["own"], code
    assert after["totals"]["counts"] == before["totals"]["counts"]
    # As of 01/07/2026: the successor holds the open work; the closed units only what they completed.
    later = summary_rows(client, admin, LATER)
    assert sum(later[successor]["own"].values()) == held(session, successor)
    assert held(session, org["UBND-KD"]) == 1
    assert org["UBND-KD"] not in later or sum(later[org["UBND-KD"]]["own"].values()) == 1
    assert org["DB-LUONGBANG"] not in later and org["HU-KD"] not in later
    # No double count: own counts over all rows add up to the total, on both days.
    for rows in (after, later):
        own_total = sum(sum(row["own"].values()) for key, row in rows.items() if key != "totals")
        assert own_total == sum(rows["totals"]["counts"].values())
    # The province's rolled-up row is its own plus its children's, on both days.
    for day, rows in ((BEFORE, after), (LATER, later)):
        children = [key for key, row in rows.items() if key != "totals" and row["key"].get("parent_id") == org["TU-HY"]]
        rolled = sum(sum(rows[c]["counts"].values()) for c in children) + sum(rows[org["TU-HY"]]["own"].values())
        assert rolled == sum(rows[org["TU-HY"]]["counts"].values()), day


def test_closed_units_are_not_ranked_after_they_closed(reform, client, auth, org):
    body = client.get("/api/v1/reports/scorecard", headers=auth("admin"), query_string={"year": 2026}).get_json()
    ranked = {row["organization"]["id"] for row in body["rows"] if row["rank"] is not None}
    for code in ("DB-LUONGBANG", "DB-TOANTHANG", "HU-KD", "UBND-KD"):
        assert org[code] not in ranked, code


def test_past_reports_do_not_change_after_a_later_rename_and_move(reform, client, auth, org):
    admin, successor = auth("admin"), reform["successor"]
    query = {"organization_id": org["TU-HY"], "period": "2025-H1"}
    periodic_before = client.get("/api/v1/reports/periodic", headers=admin, query_string=query).get_json()
    summary_before = summary_rows(client, admin, BEFORE)
    renamed = client.post(REORG, headers=admin, json={"kind": "rename", "effective_on": "2026-01-01", "organization_id": org["PNV-KD"],
                                                     "name": "Phòng Nội vụ xã (đổi tên)"})
    assert renamed.status_code == 201, renamed.get_json()
    moved = client.post(REORG, headers=admin, json={"kind": "move", "effective_on": "2026-01-01", "organization_id": org["PTCKH-KD"],
                                                   "parent_id": successor})
    assert moved.status_code == 201, moved.get_json()
    periodic_after = client.get("/api/v1/reports/periodic", headers=admin, query_string=query).get_json()
    for key in ("summary", "completed_total", "overdue_total", "in_progress_total", "no_deadline_total"):
        assert periodic_after.get(key) == periodic_before.get(key), key
    assert summary_rows(client, admin, BEFORE) == summary_before
    # As of a day before the rename the old name is shown, after it the new one.
    assert client.get(f"{ORGS}/{org['PNV-KD']}", headers=admin, query_string={"as_of": "2025-12-31"}).get_json()["name"] == "Phòng Nội vụ huyện Kim Động"
    assert client.get(f"{ORGS}/{org['PNV-KD']}", headers=admin).get_json()["name"] == "Phòng Nội vụ xã (đổi tên)"
    assert client.get(f"{ORGS}/{org['PTCKH-KD']}", headers=admin, query_string={"as_of": "2025-12-31"}).get_json()["parent_id"] == org["TU-HY"]
    assert client.get(f"{ORGS}/{org['PTCKH-KD']}", headers=admin, query_string={"as_of": "2024-01-01"}).get_json()["parent_id"] == org["UBND-KD"]


def test_organizations_by_day_and_lineage(reform, client, auth, org):
    admin, successor = auth("admin"), reform["successor"]

    def codes(**query):
        response = client.get(ORGS, headers=admin, query_string={"page_size": 100, **query})
        assert response.status_code == 200, response.get_json()
        return {row["code"] for row in response.get_json()}

    on_the_eve = codes(active_on=BEFORE.isoformat())
    assert {"HU-KD", "UBND-KD", "DB-LUONGBANG"} <= on_the_eve and "DU-LUONGBANG" not in on_the_eve
    after = codes(active_on=REFORM.isoformat())
    assert "DU-LUONGBANG" in after and not {"HU-KD", "UBND-KD", "DB-LUONGBANG"} & after
    assert codes(active="false") == {"HU-KD", "UBND-KD", "DB-LUONGBANG", "DB-TOANTHANG"}
    assert "HU-KD" not in codes(active="true")
    # The tree of the eve: the departments under UBND-KD.
    assert "PNV-KD" in codes(active_on=BEFORE.isoformat(), parent_id=org["UBND-KD"])
    assert "PNV-KD" in codes(active_on=REFORM.isoformat(), parent_id=org["TU-HY"])
    assert_problem(client.get(f"{ORGS}/{successor}", headers=admin, query_string={"as_of": BEFORE.isoformat()}), 404,
                   "organization.not_on_date")
    lineage = client.get(f"{ORGS}/{successor}/lineage", headers=admin).get_json()
    assert {p["code"] for p in lineage["predecessors"]} == {"DB-LUONGBANG", "DB-TOANTHANG", "HU-KD", "UBND-KD"}
    assert lineage["successors"] == []
    back = client.get(f"{ORGS}/{org['DB-LUONGBANG']}/lineage", headers=auth("canbo.noivu")).get_json()
    assert [s["code"] for s in back["successors"]] == ["DU-LUONGBANG"]
    listed = client.get(REORG, headers=admin, query_string={"organization_id": org["HU-KD"]}).get_json()
    assert [r["id"] for r in listed] == [reform["closed"]["id"]]
    one = client.get(f"{REORG}/{reform['closed']['id']}", headers=auth("canbo.noivu")).get_json()
    assert {(link["predecessor_id"], link["successor_id"]) for link in one["links"]} == {
        (org["HU-KD"], successor), (org["UBND-KD"], successor)}


def test_access_follows_the_change(reform, client, auth, session, org):
    successor = reform["successor"]
    leader = User(username="lanhdao.xa", password_hash="x", full_name="Lãnh đạo xã Lương Bằng", search_key="")
    officer = User(username="canbo.ubnd.cu", password_hash="x", full_name="Cán bộ UBND huyện (đã giải thể)", search_key="")
    session.add_all([leader, Membership(user=leader, organization_id=successor, role="leader"),
                     officer, Membership(user=officer, organization_id=org["UBND-KD"], role="officer")])
    session.commit()
    headers = bearer_headers(leader.id)
    # The closed unit's officer reads its work but cannot write: not even evidence on a completed task.
    closed_officer = bearer_headers(officer.id)
    assert client.get(f"/api/v1/assignments/{reform['completed']}", headers=closed_officer).status_code == 200
    assert_problem(client.patch(f"/api/v1/assignments/{reform['completed']}", headers={**closed_officer, "If-Match": "*"},
                                json={"note": "Bổ sung"}), 403, "organization.closed")
    # The successor's leader reads the predecessor's completed work, its history and evidence.
    completed = reform["completed"]
    for path in ("", "/history", "/evidence"):
        response = client.get(f"/api/v1/assignments/{completed}{path}", headers=headers)
        assert response.status_code == 200, (path, response.get_json())
    # ... and cannot change it: closed work is read-only.
    assert_problem(client.post(f"/api/v1/assignments/{completed}/transitions", headers=headers, json={"to": "in_progress"}),
                   403, "organization.closed")
    # The leader of the closed district people's committee (whose membership stayed) reads but cannot write.
    ubnd = auth("lanhdao.ubnd")
    inherited = session.scalar(select(Assignment.id).where(Assignment.organization_id == successor, Assignment.status == "not_started")
                               .order_by(Assignment.id).limit(1))
    counts = row_counts()
    assert_problem(client.post(f"/api/v1/assignments/{inherited}/transitions", headers=ubnd, json={"to": "in_progress"}),
                   403, "organization.closed")
    assert_problem(client.patch(f"{ORGS}/{org['PNV-KD']}", headers=ubnd, json={"short_name": "x"}), 403, "organization.closed")
    assert row_counts() == counts
    assert client.get("/api/v1/assignments", headers=ubnd).status_code == 200
    # The successor's leader works on the inherited open work.
    response = client.post(f"/api/v1/assignments/{inherited}/transitions", headers=headers, json={"to": "cancelled", "note": "Trùng"})
    assert response.status_code == 200, response.get_json()
    # An officer of another unit sees none of the successor's work.
    assert client.get(f"/api/v1/assignments/{inherited}", headers=auth("canbo.noivu")).status_code == 404
    assert client.get(f"{ORGS}/{successor}/lineage", headers=auth("canbo.noivu")).status_code == 200  # the tree is public to members
    # A member of closed units only still manages their own sign-in.
    assert client.post("/api/v1/auth/logout", headers=ubnd).status_code == 204


def test_transfer_keeps_role_due_date_and_version(reform, session, org):
    transfer = session.scalar(select(AssignmentTransfer).order_by(AssignmentTransfer.id).limit(1))
    assignment = session.get(Assignment, transfer.assignment_id)
    assigned = session.scalar(select(AssignmentEvent).where(AssignmentEvent.assignment_id == assignment.id,
                                                            AssignmentEvent.kind == "assigned"))
    assert assignment.version == 1  # the ETag a client holds stays good
    assert assignment.role == assigned.new_value["role"]
    assert assignment.due_date == (dt.date.fromisoformat(assigned.new_value["due_date"]) if assigned.new_value["due_date"] else None)
    assert assignment.origin_organization_id == transfer.from_organization_id
    event = session.scalar(select(AssignmentEvent).where(AssignmentEvent.assignment_id == assignment.id, AssignmentEvent.kind == "transferred"))
    assert event.effective_on == REFORM and event.new_value["organization_id"] == reform["successor"]
    assert DECISION in event.note


# --- bad input: a clear 4xx, nothing changed ---------------------------------------------------


def _refused(client, session, headers, body, status, code):
    counts = row_counts()
    versions = session.scalar(select(func.count(OrganizationVersion.id)))
    response = client.post(REORG, headers=headers, json=body)
    problem = assert_problem(response, status, code)
    assert row_counts() == counts
    assert session.scalar(select(func.count(OrganizationVersion.id))) == versions
    return problem


def test_merge_into_a_closed_unit_is_refused(reform, client, auth, session, org):
    _refused(client, session, auth("admin"), {"kind": "merge", "effective_on": "2026-01-01", "predecessor_ids": [org["PNV-KD"]],
                                              "successor_id": org["HU-KD"]}, 422, "reorganization.successor_closed")
    _refused(client, session, auth("admin"), {"kind": "rename", "effective_on": "2026-01-01", "organization_id": org["HU-KD"],
                                              "name": "Tên mới"}, 409, "reorganization.organization_closed")


def test_a_cycle_in_parents_is_refused(client, auth, session, org):
    _refused(client, session, auth("admin"), {"kind": "move", "effective_on": "2025-07-01", "organization_id": org["UBND-KD"],
                                              "parent_id": org["PNV-KD"]}, 422, "organization.cycle")


def test_an_effective_date_before_the_unit_existed_is_refused(client, auth, session, org):
    admin = auth("admin")
    created = client.post(ORGS, headers=admin, json={"code": "XA-MOI", "name": "Xã mới", "kind": "commune", "valid_from": "2025-07-01"})
    assert created.status_code == 201
    new_id = created.get_json()["id"]
    _refused(client, session, admin, {"kind": "rename", "effective_on": "2025-06-01", "organization_id": new_id, "name": "Tên"},
             422, "reorganization.before_valid_from")
    _refused(client, session, admin, {"kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": [new_id],
                                      "successor_id": org["PNV-KD"]}, 422, "reorganization.before_valid_from")


def test_overlapping_reorganisations_are_refused(reform, client, auth, session, org):
    admin = auth("admin")
    # The successor received work on 01/07/2025: it cannot be changed before that, nor closed that day.
    _refused(client, session, admin, {"kind": "rename", "effective_on": "2025-06-15", "organization_id": reform["successor"],
                                      "name": "Tên cũ"}, 422, "reorganization.before_valid_from")
    _refused(client, session, admin, {"kind": "move", "effective_on": "2025-06-15", "organization_id": org["PNV-KD"],
                                      "parent_id": org["VPHU-KD"]}, 409, "reorganization.overlaps")
    _refused(client, session, admin, {"kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": [reform["successor"]],
                                      "successor_id": org["PNV-KD"]}, 422, "reorganization.before_valid_from")
    _refused(client, session, admin, {"kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": [org["PNV-KD"]],
                                      "successor_id": org["PTCKH-KD"]}, 409, "reorganization.overlaps")


def test_children_of_a_closing_unit_must_be_handled(client, auth, session, org):
    body = _refused(client, session, auth("admin"), {"kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": [org["UBND-KD"]],
                                                     "successor_id": org["HU-KD"]}, 422, "reorganization.children_unhandled")
    assert org["PNV-KD"] in body["children"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"kind": "merge", "effective_on": "2099-01-01", "predecessor_ids": ["PTP-KD"], "successor_id": "PNV-KD"}, 422,
     "reorganization.effective_in_future"),
    ({"kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": ["PTP-KD"], "successor_id": "PTP-KD"}, 422,
     "reorganization.successor_is_predecessor"),
    ({"kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": ["PTP-KD"]}, 422, "reorganization.field_required"),
    ({"kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": [987654], "successor_id": "PNV-KD"}, 422,
     "reorganization.unknown_organization"),
    ({"kind": "split", "effective_on": "2025-07-01", "organization_id": "PTP-KD", "successor_ids": ["PNV-KD"]}, 422,
     "reorganization.split_needs_two"),
    ({"kind": "split", "effective_on": "2025-07-01", "organization_id": "PTP-KD", "successor_ids": ["PNV-KD", "CA-KD"]}, 422,
     "reorganization.unallocated_work"),
    ({"kind": "close", "effective_on": "2025-07-01", "organization_id": "PTP-KD"}, 422, "reorganization.open_work"),
    ({"kind": "rename", "effective_on": "2025-07-01", "organization_id": "PTP-KD"}, 422, "reorganization.name_required"),
    ({"kind": "move", "effective_on": "2025-07-01", "organization_id": "PTP-KD"}, 422, "reorganization.parent_required"),
    ({"kind": "dissolve", "effective_on": "2025-07-01", "organization_id": "PTP-KD"}, 422, "request.validation_failed"),
    ({"kind": "merge", "effective_on": "01/07/2025", "predecessor_ids": ["PTP-KD"], "successor_id": "PNV-KD"}, 422,
     "request.validation_failed"),
    ({"kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": ["PTP-KD"],
      "new_successor": {"code": "PNV-KD", "name": "Trùng mã", "kind": "department"}}, 409, "organization.code_taken"),
])
def test_bad_reorganisations_change_nothing(client, auth, session, org, body, status, code):
    def resolve(value):
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return org.get(value, value) if isinstance(value, str) else value

    payload = {key: resolve(value) if key in ("predecessor_ids", "successor_id", "organization_id", "successor_ids") else value
               for key, value in body.items()}
    _refused(client, session, auth("admin"), payload, status, code)


@pytest.mark.parametrize("username", ["lanhdao.huyen", "lanhdao.ubnd", "canbo.noivu", "giamsat.tgdv"])
def test_only_admins_reorganise(client, auth, session, org, username):
    _refused(client, session, auth(username), {"kind": "rename", "effective_on": "2025-07-01", "organization_id": org["PNV-KD"],
                                               "name": "Phòng Nội vụ mới"}, 403, "auth.admin_only")


def test_split_allocates_each_open_assignment(client, auth, session, org):
    admin = auth("admin")
    work = session.scalars(select(Assignment.id).where(Assignment.organization_id == org["PTP-KD"], Assignment.status.in_(OPEN))
                           .order_by(Assignment.id)).all()
    assert len(work) >= 2
    response = client.post(REORG, headers=admin, json={
        "kind": "split", "effective_on": "2025-07-01", "organization_id": org["PTP-KD"],
        "successor_ids": [org["PNV-KD"], org["CA-KD"]], "default_successor_id": org["PNV-KD"],
        "allocation": [{"assignment_id": work[0], "organization_id": org["CA-KD"]}],
    })
    assert response.status_code == 201, response.get_json()
    assert session.get(Assignment, work[0]).organization_id == org["CA-KD"]
    assert all(session.get(Assignment, a).organization_id == org["PNV-KD"] for a in work[1:]
               if session.get(Assignment, a).status != "cancelled")
    links = session.scalars(select(OrganizationLink.successor_id).where(OrganizationLink.predecessor_id == org["PTP-KD"])).all()
    assert sorted(links) == sorted([org["PNV-KD"], org["CA-KD"]])
    assert session.scalar(select(func.count(Reorganization.id))) == 1


def test_patching_a_name_is_a_dated_rename(client, auth, session, org):
    admin = auth("admin")
    response = client.patch(f"{ORGS}/{org['PNV-KD']}", headers=admin, json={"name": "Phòng Nội vụ (mới)", "effective_on": "2026-01-01"})
    assert response.status_code == 200, response.get_json()
    old = client.get(f"{ORGS}/{org['PNV-KD']}", headers=admin, query_string={"as_of": "2025-12-31"}).get_json()
    assert old["name"] == "Phòng Nội vụ huyện Kim Động"
    versions = session.scalars(select(OrganizationVersion).where(OrganizationVersion.organization_id == org["PNV-KD"])
                               .order_by(OrganizationVersion.id)).all()
    assert [(v.valid_to, v.name) for v in versions] == [(dt.date(2025, 12, 31), "Phòng Nội vụ huyện Kim Động"),
                                                      (None, "Phòng Nội vụ (mới)")]
