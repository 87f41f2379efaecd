"""Listing assignments through the API: every filter, classification as of a date, sorting,
paging, bad input, accent-insensitive search, scope, and a statement count per page that does
not grow with the page size. Totals are checked against independent counts in SQL."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager

import pytest
from sqlalchemy import and_, event, func, insert, not_, or_, select

from tests.helpers import assert_problem, descendants
from tracker.domain.text import fold
from tracker.models import Action, Assignment, Organization, Plan, TaskGroup
from tracker.services import tallies

API = "/api/v1/assignments"
KIM_DONG_PLAN = "KH-NQ57/HU"
SIX_MONTH_REPORT = "IV.4.2"  # "trước ngày 10/6": due 09/06 each year, for the 20 reporting units
YEARLY_REPORT = "IV.4.3"  # "trước ngày 01/12": due 30/11 each year, for the same units
REPORTING_UNITS = 20
# UBND-KD reports on the same days (IV.2.1, IV.2.2): the 20 units and UBND.
REPORTERS = REPORTING_UNITS + 1

# --- helpers -------------------------------------------------------------------------------


def listing(client, headers, **params):
    """One page: its items and its X-Pagination metadata."""
    response = client.get(API, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json(), json.loads(response.headers["X-Pagination"])


def every_page(client, headers, **params):
    """All items over all pages of 200, and the total the first page announced."""
    items, page = [], 1
    while True:
        batch, meta = listing(client, headers, page=page, page_size=200, **params)
        if page == 1:
            total = meta["total"]
        items.extend(batch)
        if "next_page" not in meta:
            return items, total
        page = meta["next_page"]


def count(session, *conditions) -> int:
    """An independent count of assignments (joined to their action and organisation)."""
    stmt = (select(func.count(Assignment.id)).select_from(Assignment)
            .join(Action, Action.id == Assignment.action_id)
            .join(Organization, Organization.id == Assignment.organization_id))
    for condition in conditions:
        stmt = stmt.where(condition)
    return session.scalar(stmt)


def ids_where(session, *conditions) -> set[int]:
    stmt = (select(Assignment.id).join(Action, Action.id == Assignment.action_id)
            .join(Organization, Organization.id == Assignment.organization_id))
    for condition in conditions:
        stmt = stmt.where(condition)
    return set(session.scalars(stmt))


def subtree(session, root_id: int) -> set[int]:
    """The organisation and its descendants, computed in Python from the parent links."""
    return descendants(dict(session.execute(select(Organization.id, Organization.parent_id)).all()), root_id)


def not_completed_by(as_of: dt.date):
    """Live and not completed by `as_of` (an assignment completed later counts as open then)."""
    return and_(Assignment.status != "cancelled",
                not_(and_(Assignment.status == "completed", Assignment.completed_on.is_not(None),
                          Assignment.completed_on <= as_of)))


@contextmanager
def counting_statements(session):
    """Every statement sent on the test's connection (the one every request's session uses)."""
    connection = session.get_bind()
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def queries(statements: list[str]) -> list[str]:
    """The statements without the test's transaction housekeeping (SAVEPOINT, RELEASE, ROLLBACK TO)."""
    return [s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def admin(auth):
    return auth("admin")


@pytest.fixture
def plan_id(session):
    return session.scalar(select(Plan.id).where(Plan.code == KIM_DONG_PLAN))


# --- filters -------------------------------------------------------------------------------


def test_unfiltered_admin_listing_matches_the_table(client, admin, session):
    items, total = every_page(client, admin)
    assert total == count(session) == len(items)
    assert 250 <= total <= 350
    assert {i["id"] for i in items} == ids_where(session)


def test_organization_alone_and_with_descendants(client, admin, session, org):
    ubnd = org["UBND-KD"]
    alone, meta = listing(client, admin, organization_id=ubnd, page_size=200)
    assert alone and {i["organization"]["id"] for i in alone} == {ubnd}
    assert meta["total"] == len(alone) == count(session, Assignment.organization_id == ubnd)

    tree = subtree(session, ubnd)
    assert {org["PNV-KD"], org["PVHKHTT-KD"], org["CA-KD"]} <= tree and org["BTGDV-KD"] not in tree
    items, total = every_page(client, admin, organization_id=ubnd, include_descendants="true")
    assert {i["organization"]["id"] for i in items} <= tree
    assert {org["UBND-KD"], org["PNV-KD"], org["PVHKHTT-KD"]} <= {i["organization"]["id"] for i in items}
    assert total == len(items) == count(session, Assignment.organization_id.in_(tree)) > meta["total"]

    # include_descendants=false is the same as leaving it out.
    _, explicit = listing(client, admin, organization_id=ubnd, include_descendants="false")
    assert explicit["total"] == meta["total"]


def test_plan_filter(client, admin, session, org, plan_id):
    # An action in the province's plan, assigned to one agency: only plan_id finds it.
    province_plan = session.scalar(select(Plan).where(Plan.code == "386-KH/TU"))
    other = Action(plan=province_plan, ref="III.9", section="III", position=1, text="Nhiệm vụ của kế hoạch Tỉnh ủy",
                   requires_evidence=False, search_key=fold("III.9 Nhiệm vụ của kế hoạch Tỉnh ủy"))
    session.add(other)
    session.flush()
    extra = Assignment(action_id=other.id, organization_id=org["PNV-KD"], role="lead", cycle=0, status="not_started",
                       progress=0, search_key="")
    session.add(extra)
    session.commit()
    extra_id, province_plan_id = extra.id, province_plan.id

    items, total = every_page(client, admin, plan_id=plan_id)
    assert extra_id not in {i["id"] for i in items}
    assert all(i["action"]["plan_id"] == plan_id for i in items)
    assert total == len(items) == count(session, Action.plan_id == plan_id)

    items, meta = listing(client, admin, plan_id=province_plan_id)
    assert [i["id"] for i in items] == [extra_id] and meta["total"] == 1
    assert listing(client, admin, plan_id=999_999) == ([], {"total": 0, "total_pages": 0})


def test_group_filter(client, admin, session):
    items, total = every_page(client, admin, group=5)
    assert items and all(i["action"]["ref"].startswith("III.5.") for i in items)
    group_ids = select(TaskGroup.id).where(TaskGroup.number == 5)
    assert total == len(items) == count(session, Action.group_id.in_(group_ids))
    assert {i["action"]["ref"] for i in items} == {"III.5.1", "III.5.1.1", "III.5.2", "III.5.3", "III.5.4"}


def test_action_filter_includes_split_actions(client, auth, admin, session, org, action_ref, plan_id):
    parent_id = action_ref("III.3.4")
    created = client.post(f"/api/v1/plans/{plan_id}/actions", headers=auth("lanhdao.huyen"),
                          json={"parent_id": parent_id, "text": "Số hóa hồ sơ lưu trữ", "due_date": "2026-12-31"})
    assert created.status_code == 201, created.get_json()
    child = created.get_json()
    assigned = client.post(API, headers=auth("lanhdao.huyen"),
                           json={"action_id": child["id"], "organization_id": org["PNV-KD"], "role": "lead"})
    assert assigned.status_code == 201, assigned.get_json()
    child_assignment = assigned.get_json()[0]["id"]

    items, meta = listing(client, admin, action_id=parent_id, page_size=200)
    assert {i["action"]["id"] for i in items} == {parent_id, child["id"]}
    assert child_assignment in {i["id"] for i in items}
    assert meta["total"] == len(items) == count(session, or_(Assignment.action_id == parent_id, Action.parent_id == parent_id))

    # The split action alone: only its own assignment.
    items, meta = listing(client, admin, action_id=child["id"])
    assert [i["id"] for i in items] == [child_assignment] and meta["total"] == 1


def test_role_filter(client, admin, session):
    items, total = every_page(client, admin, role="coordinating")
    assert items and all(i["role"] == "coordinating" for i in items)
    assert total == len(items) == count(session, Assignment.role == "coordinating")
    _, lead = listing(client, admin, role="lead")
    assert lead["total"] == count(session, Assignment.role == "lead") == count(session) - total


def test_status_filter(client, admin, session, org):
    targets = list(session.scalars(select(Assignment).where(Assignment.organization_id == org["PNV-KD"])
                                   .order_by(Assignment.id).limit(3)))
    for a in targets:
        a.status = "in_progress"
    session.commit()
    target_ids = {a.id for a in targets}

    items, meta = listing(client, admin, status="in_progress")
    assert {i["id"] for i in items} == target_ids
    assert all(i["status"] == "in_progress" for i in items)
    assert meta["total"] == count(session, Assignment.status == "in_progress") == 3

    items, total = every_page(client, admin, status="not_started")
    assert all(i["status"] == "not_started" for i in items)
    assert total == len(items) == count(session, Assignment.status == "not_started") == count(session) - 3
    assert listing(client, admin, status="blocked")[0] == []


def test_owner_filter(client, admin, auth, session, org):
    owner = auth.user_ids["canbo.noivu"]
    targets = list(session.scalars(select(Assignment).where(Assignment.organization_id == org["PNV-KD"])
                                   .order_by(Assignment.id).limit(2)))
    for a in targets:
        a.owner_id = owner
    session.commit()
    target_ids = {a.id for a in targets}

    items, meta = listing(client, admin, owner_id=owner)
    assert {i["id"] for i in items} == target_ids
    assert all(i["owner"]["id"] == owner and i["owner"]["full_name"] == "Phạm Minh Đức" for i in items)
    assert meta["total"] == count(session, Assignment.owner_id == owner) == 2
    assert listing(client, admin, owner_id=auth.user_ids["canbo.vhkhtt"])[0] == []


def test_due_date_range_is_inclusive(client, admin, session, action_ref):
    start, end = dt.date(2026, 6, 9), dt.date(2026, 11, 30)
    items, total = every_page(client, admin, due_from=start.isoformat(), due_to=end.isoformat())
    dates = [dt.date.fromisoformat(i["due_date"]) for i in items]
    assert all(start <= d <= end for d in dates)
    assert total == len(items) == count(session, Assignment.due_date >= start, Assignment.due_date <= end)
    # Both ends are included: the six-month reports of 2026 and the yearly reports of 2026.
    assert dates.count(start) == REPORTERS and dates.count(end) == REPORTERS
    assert {i["action"]["ref"] for i in items if i["due_date"] == start.isoformat()} == {SIX_MONTH_REPORT, "IV.2.1"}
    assert {i["action"]["ref"] for i in items if i["due_date"] == end.isoformat()} == {YEARLY_REPORT, "IV.2.2"}

    # A one-day range.
    items, meta = listing(client, admin, due_from="2026-06-09", due_to="2026-06-09")
    assert meta["total"] == REPORTERS and all(i["due_date"] == "2026-06-09" for i in items)
    # Open-ended ranges: from 09/06/2030, the six-month and yearly reports of 2030, the Ban Tuyên
    # giáo và Dân vận's two compiled reports (30/06, 31/12) and the 31/12 duties III.1.1 (two units)
    # and IV.1 (HĐND).
    _, after = listing(client, admin, due_from="2030-06-09")
    assert after["total"] == count(session, Assignment.due_date >= dt.date(2030, 6, 9)) == 2 * REPORTERS + 2 + 2 + 1
    _, before = listing(client, admin, due_to="2025-03-31")
    assert before["total"] == count(session, Assignment.due_date <= dt.date(2025, 3, 31)) >= 1


def test_classification_overdue_as_of(client, admin, session, action_ref):
    as_of = dt.date(2026, 11, 24)
    six_month = list(session.scalars(select(Assignment).where(Assignment.action_id == action_ref(SIX_MONTH_REPORT),
                                                               Assignment.cycle == 2026).order_by(Assignment.id)))
    on_time, cancelled, completed_after = six_month[:3]
    on_time.status, on_time.completed_on, on_time.submitted_on = "completed", dt.date(2026, 6, 1), dt.date(2026, 6, 1)
    cancelled.status = "cancelled"
    # Completed after as_of: as of 24/11/2026 it was still open, and overdue.
    completed_after.status, completed_after.completed_on = "completed", dt.date(2026, 11, 30)
    session.commit()
    on_time_id, cancelled_id, completed_after_id = on_time.id, cancelled.id, completed_after.id

    items, total = every_page(client, admin, classification="overdue", as_of=as_of.isoformat())
    assert items
    for item in items:
        assert dt.date.fromisoformat(item["due_date"]) < as_of
        assert item["classification"] == "overdue" and item["as_of"] == as_of.isoformat()
        assert item["days_overdue"] == (as_of - dt.date.fromisoformat(item["due_date"])).days > 0
        assert item["status"] != "cancelled"
        assert item["status"] != "completed" or dt.date.fromisoformat(item["completed_on"]) > as_of
    returned = {i["id"] for i in items}
    assert on_time_id not in returned and cancelled_id not in returned and completed_after_id in returned
    expected = count(session, Assignment.due_date.is_not(None), Assignment.due_date < as_of, not_completed_by(as_of))
    assert total == len(items) == expected


def test_classification_no_deadline(client, admin, session):
    as_of = dt.date(2026, 11, 24)
    items, total = every_page(client, admin, classification="no_deadline", as_of=as_of.isoformat())
    assert items and all(i["due_date"] is None and i["classification"] == "no_deadline" for i in items)
    assert total == len(items) == count(session, Assignment.due_date.is_(None), not_completed_by(as_of))
    # Other classes as of the same date do not overlap it.
    _, on_time = listing(client, admin, classification="in_progress_on_time", as_of=as_of.isoformat())
    _, overdue = listing(client, admin, classification="overdue", as_of=as_of.isoformat())
    assert total + on_time["total"] + overdue["total"] == count(session, not_completed_by(as_of))


# --- classification and due_soon on every item --------------------------------------------


def test_six_month_reports_due_soon_then_overdue(client, admin, action_ref):
    """Measured: "trước ngày 10/6" was stored as due 10/06, so a report still missing on 10/06 was on
    time. 09/06 is the last permitted day; on 10/06 the report is overdue."""
    params = {"action_id": action_ref(SIX_MONTH_REPORT), "due_from": "2026-06-01", "due_to": "2026-06-30"}

    items, meta = listing(client, admin, as_of="2026-06-05", **params)
    assert meta["total"] == len(items) == REPORTING_UNITS
    for item in items:
        assert item["cycle"] == 2026 and item["due_date"] == "2026-06-09" and item["due_text"] == "trước ngày 10/6"
        assert item["classification"] == "in_progress_on_time"
        assert item["due_soon"] is True and item["days_overdue"] == 0
        assert item["as_of"] == "2026-06-05"

    # On the last permitted day itself: still on time and due soon.
    items, _ = listing(client, admin, as_of="2026-06-09", **params)
    assert all(i["classification"] == "in_progress_on_time" and i["due_soon"] is True for i in items)

    items, _ = listing(client, admin, as_of="2026-06-10", **params)
    assert len(items) == REPORTING_UNITS
    for item in items:
        assert item["classification"] == "overdue"
        assert item["due_soon"] is False and item["days_overdue"] == 1


def test_due_soon_only_within_seven_days(client, admin, action_ref):
    yearly = {"action_id": action_ref(YEARLY_REPORT), "due_from": "2026-11-30", "due_to": "2026-11-30"}
    # Before 01/12/2026, so due 30/11/2026: not due soon on 05/06/2026, due soon from 23/11/2026 (7 days before).
    far, _ = listing(client, admin, as_of="2026-06-05", **yearly)
    assert far and all(i["classification"] == "in_progress_on_time" and i["due_soon"] is False for i in far)
    near, _ = listing(client, admin, as_of="2026-11-23", **yearly)
    assert near and all(i["due_soon"] is True for i in near)
    early, _ = listing(client, admin, as_of="2026-11-22", **yearly)
    assert early and all(i["due_soon"] is False for i in early)
    # On 01/12 the yearly report is late.
    late, _ = listing(client, admin, as_of="2026-12-01", **yearly)
    assert len(late) == REPORTING_UNITS and all(i["classification"] == "overdue" and i["days_overdue"] == 1 for i in late)
    # Assignments without a due date are never due soon.
    none, _ = listing(client, admin, as_of="2026-11-24", classification="no_deadline", page_size=200)
    assert none and all(i["due_soon"] is False and i["days_overdue"] == 0 for i in none)


# --- sorting -------------------------------------------------------------------------------


def test_sort_by_due_date_nulls_last(client, admin, session):
    items, total = every_page(client, admin, sort="due_date")
    assert total == len(items) == count(session)
    dated = [i for i in items if i["due_date"] is not None]
    undated = [i for i in items if i["due_date"] is None]
    assert dated and undated
    assert items == dated + undated  # nulls last
    keys = [(i["due_date"], i["id"]) for i in dated]
    assert keys == sorted(keys)
    assert [i["id"] for i in undated] == sorted(i["id"] for i in undated)

    # The default sort is due_date.
    default, _ = every_page(client, admin)
    assert [i["id"] for i in default] == [i["id"] for i in items]


def test_sort_by_due_date_descending_keeps_nulls_last(client, admin):
    items, _ = every_page(client, admin, sort="-due_date")
    dated = [i for i in items if i["due_date"] is not None]
    undated = [i for i in items if i["due_date"] is None]
    assert dated and undated
    assert items == dated + undated  # nulls last here too (ORDER BY due_date IS NULL first)
    keys = [(i["due_date"], i["id"]) for i in dated]
    assert keys == sorted(keys, reverse=True)
    assert [i["id"] for i in undated] == sorted((i["id"] for i in undated), reverse=True)
    assert dated[0]["due_date"] == "2030-12-31"  # III.1.1, IV.1, IV.3.1.2: by 31/12 each year


def test_sort_by_organization_code(client, admin, session):
    # The database's own order of codes (its collation), compared by rank.
    rank = {code: n for n, code in enumerate(session.scalars(select(Organization.code).order_by(Organization.code)))}
    items, total = every_page(client, admin, sort="organization")
    assert total == len(items)
    ranks = [rank[i["organization"]["code"]] for i in items]
    assert ranks == sorted(ranks)
    assert len({i["organization"]["code"] for i in items}) > 10


def test_sort_by_id_and_updated_at(client, admin):
    items, _ = every_page(client, admin, sort="id")
    assert [i["id"] for i in items] == sorted(i["id"] for i in items)
    recent, _ = every_page(client, admin, sort="-updated_at")
    keys = [(i["updated_at"], i["id"]) for i in recent]
    assert keys == sorted(keys, reverse=True)


# --- paging --------------------------------------------------------------------------------


def test_page_size_above_maximum_is_refused(client, admin):
    body = assert_problem(client.get(API, query_string={"page_size": 201}, headers=admin), 422, "request.validation_failed")
    assert "page_size" in body["errors"]
    assert client.get(API, query_string={"page_size": 200}, headers=admin).status_code == 200
    body = assert_problem(client.get(API, query_string={"page": 0}, headers=admin), 422, "request.validation_failed")
    assert "page" in body["errors"]


def test_pagination_headers_and_links(client, admin, session):
    total = count(session, Assignment.role == "lead")
    first = client.get(API, query_string={"role": "lead", "page_size": 50}, headers=admin)
    assert first.status_code == 200
    meta = json.loads(first.headers["X-Pagination"])
    pages = (total + 49) // 50
    assert meta["total"] == total and meta["total_pages"] == pages and meta["page"] == 1
    assert meta["next_page"] == 2 and "previous_page" not in meta
    assert len(first.get_json()) == 50
    link = first.headers["Link"]
    assert 'rel="next"' in link and 'rel="last"' in link and 'rel="prev"' not in link
    next_url = next(part.split(";")[0].strip(" <>") for part in link.split(",") if 'rel="next"' in part)
    assert "role=lead" in next_url and "page=2" in next_url and "page_size=50" in next_url

    # Following the link gives the second page, filtered the same way.
    second = client.get(next_url, headers=admin)
    assert second.status_code == 200
    assert json.loads(second.headers["X-Pagination"])["page"] == 2
    assert all(i["role"] == "lead" for i in second.get_json())
    assert not {i["id"] for i in first.get_json()} & {i["id"] for i in second.get_json()}

    last = client.get(API, query_string={"role": "lead", "page_size": 50, "page": pages}, headers=admin)
    assert len(last.get_json()) == total - 50 * (pages - 1)
    assert 'rel="next"' not in last.headers["Link"] and 'rel="prev"' in last.headers["Link"]
    assert "next_page" not in json.loads(last.headers["X-Pagination"])

    # One page only: no next link.
    single = client.get(API, query_string={"group": 2}, headers=admin)
    assert 'rel="next"' not in single.headers.get("Link", "")


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("status", "done"),
    ("classification", "late"),
    ("sort", "colour"),
    ("due_from", "31/12/2026"),
    ("due_to", "2026-02-30"),
    ("as_of", "yesterday"),
    ("group", "0"),
    ("group", "abc"),
    ("role", "owner"),
    ("organization_id", "KD"),
    ("include_descendants", "maybe"),
])
def test_bad_input_names_the_field(client, admin, field, value):
    body = assert_problem(client.get(API, query_string={field: value}, headers=admin), 422, "request.validation_failed")
    assert list(body["errors"]) == [field]
    assert body["errors"][field]


def test_listing_needs_sign_in(client):
    response = client.get(API)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


# --- search --------------------------------------------------------------------------------


def searchable(session) -> dict[int, tuple[str, str, str]]:
    """For every assignment: the folded action text (ref, title, text), organisation (code,
    name, short name) and note, computed here rather than read from search_key."""
    rows = session.execute(
        select(Assignment.id, Action.ref, Action.title, Action.text, Organization.code, Organization.name,
               Organization.short_name, Assignment.note)
        .join(Action, Action.id == Assignment.action_id).join(Organization, Organization.id == Assignment.organization_id)
    ).all()
    return {
        row.id: (fold(" ".join(filter(None, (row.ref, row.title, row.text)))),
                 fold(" ".join(filter(None, (row.code, row.name, row.short_name)))),
                 fold(row.note))
        for row in rows
    }


def expected_matches(session, query: str) -> set[int]:
    needle = fold(query)
    return {id_ for id_, parts in searchable(session).items() if any(needle in part for part in parts)}


def search(client, headers, session, query: str, **params) -> list[dict]:
    """Search; every item must really match and the result must be exactly what matches."""
    items, total = every_page(client, headers, q=query, **params)
    parts = searchable(session)
    needle = fold(query)
    for item in items:
        assert any(needle in part for part in parts[item["id"]]), (query, item["id"], parts[item["id"]])
    assert total == len(items) == len({i["id"] for i in items})
    return items


def test_search_ignores_accents_and_case_in_action_text(client, admin, session):
    items = search(client, admin, session, "chuyen doi so")
    assert {i["id"] for i in items} == expected_matches(session, "chuyển đổi số")
    texts = dict(session.execute(select(Action.id, Action.text)).all())
    assert any("chuyển đổi số" in texts[i["action"]["id"]] for i in items)
    assert len(items) < count(session)  # IV.4.x reports do not mention it

    upper = search(client, admin, session, "DOI MOI")
    assert upper and {i["id"] for i in upper} == expected_matches(session, "đổi mới")
    assert all("đổi mới" in texts[i["action"]["id"]].lower() or "doi moi" in fold(i["organization"]["name"]) for i in upper)


def test_search_finds_organisation_names_with_or_without_accents(client, admin, session, org):
    pnv = ids_where(session, Assignment.organization_id == org["PNV-KD"])
    accented = search(client, admin, session, "nội vụ")
    plain = search(client, admin, session, "noi vu")
    assert {i["id"] for i in accented} == {i["id"] for i in plain} == expected_matches(session, "noi vu")
    assert pnv and pnv <= {i["id"] for i in plain}
    assert search(client, admin, session, "NỘI VỤ") == accented


def test_search_finds_the_assignment_note(client, admin, session, org):
    target = session.scalar(select(Assignment).where(Assignment.organization_id == org["PTP-KD"]).order_by(Assignment.id).limit(1))
    target.note = "Đang chờ kinh phí"
    target.search_key = fold(target.note)
    session.commit()
    target_id = target.id
    items = search(client, admin, session, "kinh phi")
    assert target_id in {i["id"] for i in items}
    assert {i["id"] for i in items} == expected_matches(session, "kinh phí")
    assert next(i for i in items if i["id"] == target_id)["note"] == "Đang chờ kinh phí"


@pytest.mark.parametrize("query", ["%", "_", "\\", "chuyen%so", "c_uyen"])
def test_search_wildcards_are_literal(client, admin, session, query):
    items = search(client, admin, session, query)
    assert {i["id"] for i in items} == expected_matches(session, query)
    assert len(items) < count(session)
    if query in ("_", "\\", "chuyen%so", "c_uyen"):
        assert items == []


def test_search_without_match_is_empty(client, admin, session):
    assert listing(client, admin, q="khong co nhiem vu nao nhu the nay") == ([], {"total": 0, "total_pages": 0})
    # Combined with a filter: the search narrows the filtered list.
    items = search(client, admin, session, "AN NINH", group=5)
    group_five = ids_where(session, Action.group_id.in_(select(TaskGroup.id).where(TaskGroup.number == 5)))
    assert items and {i["id"] for i in items} == expected_matches(session, "an ninh") & group_five
    assert {i["action"]["ref"] for i in items} == {"III.5.3"}


# --- scope ---------------------------------------------------------------------------------


def test_officer_filtering_another_agency_gets_nothing(client, auth, session, org):
    officer = auth("canbo.vhkhtt")
    assert listing(client, officer, organization_id=org["PNV-KD"]) == ([], {"total": 0, "total_pages": 0})
    assert listing(client, officer, organization_id=org["BTGDV-KD"], include_descendants="true")[0] == []
    # Over the whole UBND subtree, the officer still sees only their own agency.
    items, total = every_page(client, officer, organization_id=org["UBND-KD"], include_descendants="true")
    assert items and {i["organization"]["code"] for i in items} == {"PVHKHTT-KD"}
    assert total == count(session, Assignment.organization_id == org["PVHKHTT-KD"])
    own, own_total = every_page(client, officer)
    assert {i["id"] for i in own} == {i["id"] for i in items} and own_total == total


def test_ubnd_leader_never_sees_the_party_board(client, auth, session, org):
    leader = auth("lanhdao.ubnd")
    tree = subtree(session, org["UBND-KD"])
    items, total = every_page(client, leader)
    assert "BTGDV-KD" not in {i["organization"]["code"] for i in items}
    assert {i["organization"]["id"] for i in items} <= tree
    assert total == len(items) == count(session, Assignment.organization_id.in_(tree))
    assert listing(client, leader, organization_id=org["BTGDV-KD"]) == ([], {"total": 0, "total_pages": 0})
    assert listing(client, leader, organization_id=org["PNV-KD"])[1]["total"] == count(session, Assignment.organization_id == org["PNV-KD"])
    # Filters and sorts stay inside the scope.
    for params in ({"group": 1}, {"sort": "organization"}, {"role": "coordinating"}, {"classification": "no_deadline"}):
        found, _ = every_page(client, leader, **params)
        assert all(i["organization"]["id"] in tree for i in found), params
    # The district viewer sees the party board's work.
    viewer, _ = listing(client, auth("giamsat.tgdv"), organization_id=org["BTGDV-KD"])
    assert viewer and all(i["organization"]["code"] == "BTGDV-KD" for i in viewer)


@pytest.mark.parametrize(("username", "root"), [("lanhdao.huyen", "UBND-KD"), ("lanhdao.ubnd", "HU-KD"),
                                                ("giamsat.tgdv", "UBND-KD")])
def test_leaders_and_viewers_can_filter_a_subtree(client, auth, session, org, username, root):
    """Leaders and viewers see a subtree; include_descendants within it must work as for an admin."""
    scope_root = {"lanhdao.huyen": "HU-KD", "lanhdao.ubnd": "UBND-KD", "giamsat.tgdv": "HU-KD"}[username]
    visible = subtree(session, org[root]) & subtree(session, org[scope_root])
    items, total = every_page(client, auth(username), organization_id=org[root], include_descendants="true")
    assert {i["organization"]["id"] for i in items} <= visible
    assert total == len(items) == count(session, Assignment.organization_id.in_(visible)) > 0
    assert "BTGDV-KD" not in {i["organization"]["code"] for i in items}


# --- statements per page -------------------------------------------------------------------


def add_assignments(session, n: int) -> None:
    """`n` extra assignments in one bulk INSERT: varied actions, organisations and due dates."""
    actions = list(session.scalars(select(Action.id).order_by(Action.id)))
    orgs = list(session.scalars(select(Organization.id).order_by(Organization.id)))
    now = dt.datetime.now(dt.UTC)
    start = dt.date(2025, 1, 1)
    rows = []
    for i in range(n):
        due = None if i % 7 == 0 else start + dt.timedelta(days=i % 1500)
        rows.append({
            "action_id": actions[i % len(actions)], "organization_id": orgs[i % len(orgs)],
            "origin_organization_id": orgs[i % len(orgs)],
            "role": "lead" if i % 3 else "coordinating", "cycle": 3000 + i, "due_date": due, "original_due_date": due,
            "status": "not_started", "progress": 0, "version": 1, "search_key": "", "created_at": now, "updated_at": now,
        })
    session.execute(insert(Assignment), rows)
    tallies.rebuild()  # bulk SQL bypasses the session hook that keeps them
    session.commit()


def test_statement_count_does_not_grow_with_page_size(client, admin, session):
    add_assignments(session, 10_000)
    total = count(session)
    assert total >= 10_250

    observed: dict[tuple[int, str], int] = {}
    for page_size in (10, 50, 200):
        pages = -(-total // page_size)
        for label, page in (("first", 1), ("middle", pages // 2), ("last", pages)):
            session.close()  # so that the request opens its own (savepoint) transaction, as every request does
            with counting_statements(session) as statements:
                response = client.get(API, query_string={"page": page, "page_size": page_size}, headers=admin)
            assert response.status_code == 200
            expected_items = page_size if page < pages else total - page_size * (pages - 1)
            assert len(response.get_json()) == expected_items
            assert json.loads(response.headers["X-Pagination"])["total"] == total
            observed[(page_size, label)] = (len(statements), len(queries(statements)))

    everything = {all_ for all_, _ in observed.values()}
    sql = {q for _, q in observed.values()}
    assert min(sql) > 0, observed  # the listener does see the requests' statements
    assert len(everything) == 1 and len(sql) == 1, observed
    # 3 of them load what each row tells the caller (evidence counts, pending extensions, latest returns).
    assert sql.pop() <= 11, observed


def test_one_count_per_listing_request(client, admin, session):
    """SQLPage promises one total and one bounded SELECT per page: the admin's unfiltered total
    comes from the maintained tallies, a filtered one from one COUNT."""
    for query, tallied in (({}, True), ({"status": "not_started"}, False)):
        session.close()
        with counting_statements(session) as statements:
            response = client.get(API, query_string={"page": 2, "page_size": 50, **query}, headers=admin)
        assert response.status_code == 200
        counts = [s for s in queries(statements) if "count(*)" in s.lower()]
        sums = [s for s in queries(statements) if "from assignment_tally" in s.lower()]
        assert (len(sums), len(counts)) == ((1, 0) if tallied else (0, 1)), (counts, sums)


def test_walking_every_page_gives_each_assignment_once(client, admin, session):
    add_assignments(session, 10_000)
    total = count(session)
    items, announced = every_page(client, admin)
    ids = [i["id"] for i in items]
    assert announced == total == len(ids) == len(set(ids))
    assert set(ids) == ids_where(session)
