"""The change feed (GET /changes): in the caller's scope only, every change once across pages,
tombstones for what the caller lost, a cursor that is opaque, signed and bound to the caller."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from tests.helpers import assert_problem, clock_held_to
from tracker.models import Assignment, Change, Membership, Notification, User

CHANGES = "/api/v1/changes"


def feed(client, headers, since=None, limit=None) -> dict:
    query = {**({"since": since} if since else {}), **({"limit": limit} if limit else {})}
    response = client.get(CHANGES, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def follow(client, headers, since=None, limit=100) -> tuple[list[dict], str]:
    """Every item from `since` to the end, page by page; and the last cursor."""
    items = []
    while True:
        page = feed(client, headers, since, limit)
        items += page["items"]
        since = page["next_cursor"]
        if not page["has_more"]:
            return items, since


def keyed(items) -> dict[tuple[str, int], dict]:
    return {(item["kind"], item["id"]): item for item in items}


def now_cursor(client, headers) -> str:
    page = feed(client, headers, "now")
    assert page["items"] == [] and page["has_more"] is False
    return page["next_cursor"]


def patch_note(client, headers, assignment_id: int, note: str) -> None:
    etag = client.get(f"/api/v1/assignments/{assignment_id}", headers=headers).headers["ETag"]
    response = client.patch(f"/api/v1/assignments/{assignment_id}", headers={**headers, "If-Match": etag}, json={"note": note})
    assert response.status_code == 200, response.get_json()


def test_from_the_start_an_officer_gets_exactly_their_units_work(client, auth, session, org):
    officer = auth("canbo.noivu")
    items, _ = follow(client, officer, limit=37)
    assignments = {item["id"] for item in items if item["kind"] == "assignment"}
    own = set(session.scalars(select(Assignment.id).where(Assignment.organization_id == org["PNV-KD"])))
    assert own and assignments == own
    assert all(not item["deleted"] and item["data"]["id"] == item["id"] for item in items)
    # Once each: paging never repeats an object that did not change again.
    assert len(items) == len(keyed(items))


def test_an_officer_sees_own_changes_and_never_another_units(client, auth, make_assignment, session, org):
    officer, other, leader = auth("canbo.noivu"), auth("canbo.vhkhtt"), auth("lanhdao.huyen")
    mine, theirs = make_assignment("PNV-KD"), make_assignment("PVHKHTT-KD")
    cursors = {name: now_cursor(client, headers) for name, headers in (("officer", officer), ("other", other), ("leader", leader))}
    patch_note(client, officer, mine, "Đã họp triển khai")
    patch_note(client, other, theirs, "Đang dự thảo")

    seen, _ = follow(client, officer, cursors["officer"])
    assert [(i["kind"], i["id"], i["deleted"]) for i in seen] == [("assignment", mine, False)]
    assert seen[0]["data"]["note"] == "Đã họp triển khai" and seen[0]["data"]["version"] == 2
    seen, _ = follow(client, other, cursors["other"])
    assert [(i["kind"], i["id"]) for i in seen] == [("assignment", theirs)]
    # The district party committee's leader sees the whole district: both, in the order they changed.
    seen, _ = follow(client, leader, cursors["leader"])
    assert [(i["kind"], i["id"]) for i in seen] == [("assignment", mine), ("assignment", theirs)]


def test_an_object_changed_twice_is_one_item_with_its_latest_state(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    mine = make_assignment("PNV-KD")
    since = now_cursor(client, officer)
    patch_note(client, officer, mine, "Lần một")
    patch_note(client, officer, mine, "Lần hai")
    page = feed(client, officer, since)
    assert [(i["id"], i["data"]["note"]) for i in page["items"]] == [(mine, "Lần hai")]
    # Nothing new: no items, and the cursor stays good.
    again = feed(client, officer, page["next_cursor"])
    assert again["items"] == [] and again["has_more"] is False
    assert feed(client, officer, again["next_cursor"])["items"] == []


def test_paging_returns_each_change_exactly_once(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    made = [make_assignment("PNV-KD") for _ in range(7)]
    since = now_cursor(client, officer)
    for n, assignment_id in enumerate(made):
        patch_note(client, officer, assignment_id, f"Ghi chú {n}")
    pages = []
    while True:
        page = feed(client, officer, since, limit=2)
        pages.append([i["id"] for i in page["items"]])
        since = page["next_cursor"]
        if not page["has_more"]:
            break
    assert [i for page in pages for i in page] == made
    assert all(len(page) <= 2 for page in pages) and len(pages) == 4


def test_a_moved_assignment_is_a_tombstone_for_who_lost_it(client, auth, make_assignment, session, org):
    officer, other, leader = auth("canbo.noivu"), auth("canbo.vhkhtt"), auth("lanhdao.huyen")
    moving = make_assignment("PNV-KD")
    cursors = {name: now_cursor(client, headers) for name, headers in (("officer", officer), ("other", other), ("leader", leader))}
    assignment = session.get(Assignment, moving)
    assignment.organization_id = org["PVHKHTT-KD"]
    session.commit()

    lost, _ = follow(client, officer, cursors["officer"])
    assert lost == [{"kind": "assignment", "id": moving, "deleted": True, "data": None}]
    gained, _ = follow(client, other, cursors["other"])
    assert [(i["id"], i["deleted"], i["data"]["organization"]["id"]) for i in gained] == [(moving, False, org["PVHKHTT-KD"])]
    # Who sees both units sees it changed, never deleted.
    kept, _ = follow(client, leader, cursors["leader"])
    assert [(i["id"], i["deleted"]) for i in kept] == [(moving, False)]


def test_another_units_tombstones_never_show(client, auth, make_assignment, session, org):
    officer = auth("canbo.noivu")
    moving = make_assignment("PVHKHTT-KD")
    since = now_cursor(client, officer)
    session.get(Assignment, moving).organization_id = org["PTCKH-KD"]
    session.commit()
    assert follow(client, officer, since)[0] == []


def test_evidence_and_withdrawal_come_as_changes_of_evidence_and_of_its_assignment(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    mine = make_assignment("PNV-KD")
    since = now_cursor(client, officer)
    uploaded = client.post(f"/api/v1/assignments/{mine}/evidence", headers=officer, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"bien ban hop trien khai\n"), "bien-ban.txt")})
    assert uploaded.status_code == 201, uploaded.get_json()
    evidence_id = uploaded.get_json()["id"]
    items, since = follow(client, officer, since)
    assert {(i["kind"], i["id"]) for i in items} == {("evidence", evidence_id), ("assignment", mine)}
    assert keyed(items)[("assignment", mine)]["data"]["evidence_count"] == 1
    withdrawn = client.post(f"/api/v1/evidence/{evidence_id}/withdraw", headers=officer, json={"reason": "Nhầm tệp"})
    assert withdrawn.status_code == 200, withdrawn.get_json()
    items, _ = follow(client, officer, since)
    # Withdrawn evidence is no tombstone: it stays, with its withdrawal.
    shown = keyed(items)[("evidence", evidence_id)]
    assert shown["deleted"] is False and shown["data"]["withdrawn"] is True and shown["data"]["withdrawal_reason"] == "Nhầm tệp"


def test_notifications_are_the_callers_own_and_marking_read_is_a_change(client, auth, session, make_assignment):
    officer, other, admin = auth("canbo.noivu"), auth("canbo.vhkhtt"), auth("admin")
    overdue = make_assignment("PNV-KD", dt.date(2025, 3, 1), status="in_progress")
    cursors = {name: now_cursor(client, headers) for name, headers in (("officer", officer), ("other", other), ("admin", admin))}
    urged = client.post("/api/v1/assignments/urge", headers=auth("lanhdao.huyen"), json={"assignment_ids": [overdue]})
    assert urged.status_code == 200 and urged.get_json()["succeeded"] == 1, urged.get_json()

    officer_id = session.scalar(select(User.id).where(User.username == "canbo.noivu"))
    notice = session.scalar(select(Notification.id).where(Notification.user_id == officer_id, Notification.assignment_id == overdue))
    items, since = follow(client, officer, cursors["officer"])
    assert {(i["kind"], i["id"]) for i in items} == {("assignment", overdue), ("notification", notice)}
    assert keyed(items)[("assignment", overdue)]["data"]["urge_count"] == 1
    assert keyed(items)[("notification", notice)]["data"]["read_at"] is None
    # Nobody else gets the officer's notification, not even an admin (who sees the assignment).
    assert follow(client, other, cursors["other"])[0] == []
    assert [(i["kind"], i["id"]) for i in follow(client, admin, cursors["admin"])[0]] == [("assignment", overdue)]

    marked = client.post("/api/v1/me/notifications/read", headers=officer, json={"all": True})
    assert marked.status_code == 200 and marked.get_json()["marked"] >= 1
    items, _ = follow(client, officer, since)
    assert keyed(items)[("notification", notice)]["data"]["read_at"] is not None


@pytest.mark.parametrize("since", ["xyz", "now2", "a" * 40, "W1swLDAsIngiXQ.bad"])
def test_a_malformed_or_altered_cursor_is_a_400_problem(client, auth, since):
    assert_problem(client.get(CHANGES, headers=auth("canbo.noivu"), query_string={"since": since}), 400, "changes.invalid_cursor")


def test_an_altered_cursor_is_refused(client, auth):
    cursor = now_cursor(client, auth("canbo.noivu"))
    body, signature = cursor.split(".")
    altered = f"{body}.{'B' if signature[0] != 'B' else 'C'}{signature[1:]}"
    assert_problem(client.get(CHANGES, headers=auth("canbo.noivu"), query_string={"since": altered}), 400, "changes.invalid_cursor")


@pytest.mark.parametrize("limit", [0, 501, "x"])
def test_a_bad_limit_is_a_422_problem(client, auth, limit):
    assert_problem(client.get(CHANGES, headers=auth("canbo.noivu"), query_string={"limit": limit}), 422, "request.validation_failed")


def test_a_cursor_is_good_only_for_its_user_and_their_scope(client, auth, session, org):
    cursor = now_cursor(client, auth("canbo.noivu"))
    assert_problem(client.get(CHANGES, headers=auth("canbo.vhkhtt"), query_string={"since": cursor}), 410, "changes.resync_required")
    # The officer joins another unit: what it held before is not in the feed, so a full sync is asked.
    officer_id = session.scalar(select(User.id).where(User.username == "canbo.noivu"))
    session.add(Membership(user_id=officer_id, organization_id=org["PTCKH-KD"], role="officer"))
    session.commit()
    assert_problem(client.get(CHANGES, headers=auth("canbo.noivu"), query_string={"since": cursor}), 410, "changes.resync_required")


def test_a_reorganisation_that_passes_work_on_logs_both_units(client, auth, session, org):
    """The transfer is an UPDATE the ORM does not see: it must reach the feed all the same."""
    admin = auth("admin")
    since = now_cursor(client, admin)
    merged = client.post("/api/v1/organizations/reorganizations", headers=admin, json={
        "kind": "merge", "effective_on": "2025-07-01", "predecessor_ids": [org["PTP-KD"]], "successor_id": org["PNV-KD"]})
    assert merged.status_code == 201, merged.get_json()
    session.expire_all()
    moving = session.scalars(select(Assignment.id).where(Assignment.origin_organization_id == org["PTP-KD"],
                                                         Assignment.organization_id == org["PNV-KD"])).all()
    assert moving
    rows = session.execute(select(Change.entity_id, Change.organization_id, Change.op)
                           .where(Change.kind == "assignment", Change.entity_id.in_(moving))).all()
    assert {(i, org["PTP-KD"], "delete") for i in moving} <= set(rows)
    assert {(i, org["PNV-KD"], "upsert") for i in moving} <= set(rows)
    items, _ = follow(client, admin, since)
    shown = keyed(items)
    assert all(shown[("assignment", i)]["data"]["organization"]["id"] == org["PNV-KD"] for i in moving)


@pytest.mark.parametrize("role", ["admin", "lanhdao.huyen", "lanhdao.ubnd", "canbo.vhkhtt", "giamsat.tgdv"])
def test_the_feed_from_the_start_holds_what_the_lists_show(client, auth, role):
    """Read from the start, the feed is the caller's copy of /assignments: the same scope rule."""
    headers = auth(role)
    items, _ = follow(client, headers, limit=500)
    listed, page = set(), 1
    while True:
        response = client.get("/api/v1/assignments", headers=headers, query_string={"page_size": 200, "page": page})
        assert response.status_code == 200
        listed |= {item["id"] for item in response.get_json()}
        if 'rel="next"' not in response.headers.get("Link", ""):
            break
        page += 1
    assert listed and {i["id"] for i in items if i["kind"] == "assignment"} == listed
    assert all(not i["deleted"] for i in items)


def test_a_deleted_object_is_a_tombstone(client, auth, session):
    """Nothing deletes notifications today but the hook logs any deletion of a feed object."""
    officer = auth("canbo.noivu")
    officer_id = session.scalar(select(User.id).where(User.username == "canbo.noivu"))
    notice = Notification(user_id=officer_id, kind="urged", title="Đôn đốc", body="Đề nghị báo cáo.")
    session.add(notice)
    session.commit()
    since = now_cursor(client, officer)
    session.delete(notice)
    session.commit()
    assert follow(client, officer, since)[0] == [{"kind": "notification", "id": notice.id, "deleted": True, "data": None}]


def test_an_extension_request_is_a_change_of_its_assignment(app, client, auth, make_assignment, monkeypatch):
    monkeypatch.setitem(app.config, "CLOCK", clock_held_to(dt.date(2026, 6, 1)))
    officer = auth("canbo.noivu")
    mine = make_assignment("PNV-KD", dt.date(2026, 12, 31), status="in_progress")
    since = now_cursor(client, officer)
    asked = client.post(f"/api/v1/assignments/{mine}/extensions", headers=officer,
                        json={"new_due_date": "2027-03-31", "reason": "Chờ số liệu của các xã"})
    assert asked.status_code == 201, asked.get_json()
    items, _ = follow(client, officer, since)
    assert [(i["kind"], i["id"]) for i in items] == [("assignment", mine)]
    assert items[0]["data"]["pending_extension"]["new_due_date"] == "2027-03-31"
