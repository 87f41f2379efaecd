"""Reports as of a day use the tree of that day: a rename or move recorded later leaves a past
report byte for byte as it was; after a merger, predecessor and successor rows partition the
work (no double count) and a parent's rolled-up row is its own work plus its children's on any
day; units closed before a year are not ranked for it; and scope follows the unit that held the
work. Everything through the HTTP API, the reorganisations included."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import case, func, select, update

from tests.conftest import bearer_headers
from tests.helpers import assert_problem
from tracker.models import Action, Assignment, Membership, Organization, Plan, TaskGroup, User
from tracker.services import tallies

REPORTS = "/api/v1/reports"
REORG = "/api/v1/organizations/reorganizations"
BEFORE = dt.date(2025, 6, 30)  # the last day of the old tree
MERGER = dt.date(2025, 7, 1)
CHANGE = dt.date(2026, 1, 1)  # the rename and the move
LATER = dt.date(2026, 7, 1)
CLASSES = ("completed_on_time", "completed_late", "in_progress_on_time", "overdue", "no_deadline")


@pytest.fixture
def units(session):
    """Under HU-KD: ROOT with A, B and D; P2 (where D moves); OTHER with an officer; an officer in B."""
    hu = session.scalar(select(Organization).where(Organization.code == "HU-KD"))
    root = Organization(code="AT-ROOT", name="Ban thử nghiệm", kind="department", parent=hu, search_key="at-root")
    a = Organization(code="AT-A", name="Phòng thử A", kind="department", parent=root, search_key="at-a")
    b = Organization(code="AT-B", name="Phòng thử B", kind="department", parent=root, search_key="at-b")
    d = Organization(code="AT-D", name="Phòng thử D", kind="department", parent=root, search_key="at-d")
    p2 = Organization(code="AT-P2", name="Ban thử nghiệm hai", kind="department", parent=hu, search_key="at-p2")
    other = Organization(code="AT-OTHER", name="Phòng khác", kind="department", parent=hu, search_key="at-other")
    outsider = User(username="test.at.other", password_hash="x", full_name="Cán bộ đơn vị khác", search_key="")
    officer_b = User(username="test.at.b", password_hash="x", full_name="Cán bộ phòng B", search_key="")
    session.add_all([root, a, b, d, p2, other, outsider, officer_b,
                     Membership(user=outsider, organization=other, role="officer"),
                     Membership(user=officer_b, organization=b, role="officer")])
    session.commit()
    return {"root": root.id, "a": a.id, "b": b.id, "d": d.id, "p2": p2.id, "other": other.id,
            "outsider": outsider.id, "officer_b": officer_b.id}


def done(on: dt.date) -> dict:
    return {"status": "completed", "completed_on": on, "submitted_on": on, "progress": 100}


@pytest.fixture
def work(units, make_assignment):
    """Assignments of 2025 (and a few due in 2026), with their classes as of 30/06/2025."""
    d = dt.date
    return {
        "a_done": make_assignment("AT-A", d(2025, 5, 31), **done(d(2025, 5, 20))),      # on time
        "a_late": make_assignment("AT-A", d(2025, 4, 30)),                               # overdue, open
        "a_open": make_assignment("AT-A", d(2025, 12, 31), status="in_progress"),        # in progress, open
        "a_2026": make_assignment("AT-A", d(2026, 1, 31), **done(d(2025, 6, 1))),        # done early, due in 2026
        "b_late": make_assignment("AT-B", d(2025, 3, 31), **done(d(2025, 4, 15))),       # completed late
        "b_open": make_assignment("AT-B", d(2026, 3, 31)),                               # in progress, open
        "b_2026": make_assignment("AT-B", d(2026, 2, 28), **done(d(2025, 5, 10))),       # done early, due in 2026
        "d_late": make_assignment("AT-D", d(2025, 6, 15), status="in_progress"),         # overdue
        "d_none": make_assignment("AT-D", None),                                         # no deadline
        "root_late": make_assignment("AT-ROOT", d(2025, 6, 1)),                          # overdue
    }


# --- helpers -----------------------------------------------------------------------------------


def get(client, headers, path: str, **query):
    response = client.get(f"{REPORTS}/{path}", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def summary(client, headers, as_of: dt.date | None = None, **query) -> dict:
    if as_of is not None:
        query["as_of"] = as_of.isoformat()
    return get(client, headers, "summary", by="organization", **query)


def of_root(client, headers, units, as_of: dt.date | None = None) -> dict:
    return summary(client, headers, as_of, organization_id=units["root"], include_descendants="true")


def rows_by_code(body: dict) -> dict[str, dict]:
    return {row["key"]["organization_code"]: row for row in body["rows"]}


def overdue(client, headers, units, as_of: dt.date) -> list[dict]:
    return get(client, headers, "overdue", organization_id=units["root"], include_descendants="true", as_of=as_of.isoformat(),
               page_size=100)


def periodic(client, headers, organization_id: int, period: str) -> dict:
    return get(client, headers, "periodic", organization_id=organization_id, period=period)


def reorganize(client, auth, **data) -> dict:
    response = client.post(REORG, headers=auth("admin"), json=data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assert_adds_up(body: dict) -> None:
    """Each assignment in exactly one row's own counts, and every row its own plus its children's."""
    rows = {row["key"]["organization_id"]: row for row in body["rows"]}
    assert {c: sum(row["own"][c] for row in rows.values()) for c in CLASSES} == body["totals"]["counts"]
    for org_id, row in rows.items():
        children = [r for r in rows.values() if r["key"]["parent_id"] == org_id]
        assert {c: row["own"][c] + sum(child["counts"][c] for child in children) for c in CLASSES} == row["counts"], row["label"]


def without_updates(value):
    """A report without `updated_at`, the moment each assignment last changed (as of now, not as of the report's day)."""
    if isinstance(value, dict):
        return {key: without_updates(item) for key, item in value.items() if key != "updated_at"}
    if isinstance(value, list):
        return [without_updates(item) for item in value]
    return value


def own(row: dict) -> dict[str, int]:
    return {c: n for c, n in row["own"].items() if n}


# --- (a) a later rename and move ---------------------------------------------------------------


def test_a_later_rename_and_move_leave_past_reports_unchanged(client, auth, units, work):
    admin = auth("admin")
    past = {
        "summary": of_root(client, admin, units, BEFORE),
        "everything": summary(client, admin, BEFORE),
        "overdue": overdue(client, admin, units, BEFORE),
        "periodic": periodic(client, admin, units["root"], "2025-H1"),
        "periodic_p2": periodic(client, admin, units["p2"], "2025-H1"),
    }
    rows = rows_by_code(past["summary"])
    assert set(rows) == {"AT-ROOT", "AT-A", "AT-B", "AT-D"}
    assert rows["AT-D"]["key"]["parent_id"] == units["root"] and rows["AT-A"]["label"] == "Phòng thử A"
    assert rows["AT-ROOT"]["total"] == 10 and past["periodic"]["summary"]["total"] == 10
    assert past["periodic_p2"]["summary"]["total"] == 0
    assert_adds_up(past["summary"])
    assert_adds_up(past["everything"])

    reorganize(client, auth, kind="rename", effective_on=CHANGE.isoformat(), organization_id=units["a"], name="Phòng A (tên mới)")
    reorganize(client, auth, kind="move", effective_on=CHANGE.isoformat(), organization_id=units["d"], parent_id=units["p2"])

    # As of 30/06/2025: every byte as before.
    assert of_root(client, admin, units, BEFORE) == past["summary"]
    assert summary(client, admin, BEFORE) == past["everything"]
    assert overdue(client, admin, units, BEFORE) == past["overdue"]
    assert periodic(client, admin, units["root"], "2025-H1") == past["periodic"]
    assert periodic(client, admin, units["p2"], "2025-H1") == past["periodic_p2"]
    names = {(r["organization"]["code"], r["organization"]["name"], r["parent_organization"]["name"]) for r in past["overdue"]}
    assert names == {("AT-A", "Phòng thử A", "Ban thử nghiệm"), ("AT-D", "Phòng thử D", "Ban thử nghiệm"),
                     ("AT-ROOT", "Ban thử nghiệm", "Huyện ủy Kim Động")}

    # As of today: the new name, D under P2 (and so out of ROOT's subtree), the same work.
    now = of_root(client, admin, units)
    rows = rows_by_code(now)
    assert set(rows) == {"AT-ROOT", "AT-A", "AT-B"}
    assert rows["AT-A"]["label"] == "Phòng A (tên mới)"
    assert rows["AT-ROOT"]["total"] == 8
    assert_adds_up(now)
    everything = summary(client, admin)
    assert_adds_up(everything)
    all_rows = rows_by_code(everything)
    assert all_rows["AT-D"]["key"]["parent_id"] == units["p2"]
    assert all_rows["AT-P2"]["total"] == all_rows["AT-D"]["total"] == 2
    assert everything["totals"]["total"] == past["everything"]["totals"]["total"]
    today_overdue = get(client, admin, "overdue", organization_id=units["p2"], include_descendants="true", page_size=100)
    assert {(r["organization"]["code"], r["parent_organization"]["name"]) for r in today_overdue} == {("AT-D", "Ban thử nghiệm hai")}
    renamed = get(client, admin, "overdue", organization_id=units["a"], page_size=100)
    assert {r["organization"]["name"] for r in renamed} == {"Phòng A (tên mới)"}
    year = periodic(client, admin, units["p2"], "2026")
    assert year["summary"]["total"] == 2
    assert {r["parent_organization"]["name"] for r in year["overdue"] + year["no_deadline"]} == {"Ban thử nghiệm hai"}
    year_root = periodic(client, admin, units["root"], "2026")
    assert year_root["summary"]["total"] == 8
    assert {r["organization"]["name"] for r in year_root["completed"] if r["organization"]["code"] == "AT-A"} == {"Phòng A (tên mới)"}


def test_the_organisation_in_a_periodic_report_is_named_as_on_its_day(client, auth, units, work):
    admin = auth("admin")
    reorganize(client, auth, kind="rename", effective_on=CHANGE.isoformat(), organization_id=units["root"], name="Ban đổi tên")
    reorganize(client, auth, kind="move", effective_on=CHANGE.isoformat(), organization_id=units["root"], parent_id=units["p2"])
    then = periodic(client, admin, units["root"], "2025")["organization"]
    assert (then["name"], then["parent"]["code"], then["parent"]["name"]) == ("Ban thử nghiệm", "HU-KD", "Huyện ủy Kim Động")
    now = periodic(client, admin, units["root"], "2026")["organization"]
    assert (now["name"], now["parent"]["code"], now["parent"]["name"]) == ("Ban đổi tên", "AT-P2", "Ban thử nghiệm hai")


# --- (b) a merger ------------------------------------------------------------------------------


@pytest.fixture
def merged(client, auth, session, units, work):
    """A and B merge into a new S under ROOT on 01/07/2025; returns the reports taken before, and S."""
    admin = auth("admin")
    before = {
        "summary": of_root(client, admin, units, BEFORE),
        "everything": summary(client, admin, BEFORE),
        "overdue": overdue(client, admin, units, BEFORE),
        "periodic": periodic(client, admin, units["root"], "2025-H1"),
        "scorecard": get(client, admin, "scorecard", year=2025, as_of=BEFORE.isoformat()),
    }
    open_work = session.scalar(select(func.count(Assignment.id)).where(
        Assignment.organization_id.in_([units["a"], units["b"]]), Assignment.status.not_in(("completed", "cancelled"))))
    outcome = reorganize(client, auth, kind="merge", effective_on=MERGER.isoformat(), predecessor_ids=[units["a"], units["b"]],
                         new_successor={"code": "AT-S", "name": "Phòng hợp nhất S", "kind": "department", "parent_id": units["root"]})
    assert outcome["outcome"]["transferred_total"] == open_work >= 3  # the open work of A and B; the completed stays
    return {"before": before, "s": outcome["outcome"]["successor_id"]}


def test_a_merger_leaves_the_report_of_the_day_before_unchanged(client, auth, units, merged):
    admin, before = auth("admin"), merged["before"]
    assert of_root(client, admin, units, BEFORE) == before["summary"]
    assert summary(client, admin, BEFORE) == before["everything"]
    # The rows as they were, but for when each assignment was last updated (a fact of now: the transfer).
    assert without_updates(overdue(client, admin, units, BEFORE)) == without_updates(before["overdue"])
    assert without_updates(periodic(client, admin, units["root"], "2025-H1")) == without_updates(before["periodic"])
    assert get(client, admin, "scorecard", year=2025, as_of=BEFORE.isoformat()) == before["scorecard"]
    rows = rows_by_code(before["summary"])
    assert "AT-S" not in rows
    assert own(rows["AT-A"]) == {"completed_on_time": 2, "overdue": 1, "in_progress_on_time": 1}
    assert own(rows["AT-B"]) == {"completed_on_time": 1, "completed_late": 1, "in_progress_on_time": 1}
    assert {r["organization"]["code"] for r in before["overdue"]} == {"AT-A", "AT-D", "AT-ROOT"}


def test_after_a_merger_predecessors_and_successor_partition_the_work(client, auth, units, merged):
    admin = auth("admin")
    later = of_root(client, admin, units, LATER)
    rows = rows_by_code(later)
    assert set(rows) == {"AT-ROOT", "AT-A", "AT-B", "AT-D", "AT-S"}
    assert own(rows["AT-S"]) == {"overdue": 3}  # the open work of A and B
    assert own(rows["AT-A"]) == {"completed_on_time": 2}  # only what they completed
    assert own(rows["AT-B"]) == {"completed_on_time": 1, "completed_late": 1}
    assert {rows[c]["key"]["parent_id"] for c in ("AT-A", "AT-B", "AT-S", "AT-D")} == {units["root"]}
    assert rows["AT-S"]["label"] == "Phòng hợp nhất S"
    # The same ten assignments on both days, each counted once; parents roll up their children.
    before = merged["before"]["summary"]
    assert later["totals"]["total"] == before["totals"]["total"] == rows["AT-ROOT"]["total"] == 10
    for body in (before, later, summary(client, admin, BEFORE), summary(client, admin, LATER)):
        assert_adds_up(body)
    assert summary(client, admin, LATER)["totals"]["total"] == merged["before"]["everything"]["totals"]["total"]
    # The overdue list of the later day shows the open work at S.
    listed = overdue(client, admin, units, LATER)
    assert sorted(r["organization"]["code"] for r in listed) == ["AT-D", "AT-ROOT", "AT-S", "AT-S", "AT-S"]
    assert {r["parent_organization"]["name"] for r in listed if r["organization"]["code"] == "AT-S"} == {"Ban thử nghiệm"}
    # S's own periodic report counts what it held; ROOT's counts all of it, once.
    year = periodic(client, admin, merged["s"], "2025")
    assert year["organization"]["name"] == "Phòng hợp nhất S" and year["summary"]["total"] == 3
    root_year = periodic(client, admin, units["root"], "2025")
    assert root_year["summary"]["total"] == 10
    assert sum(root_year[f"{name}_total"] for name in ("completed", "overdue", "in_progress", "no_deadline")) == 10


def test_closed_units_are_not_ranked_for_a_year_after_they_closed(client, auth, units, merged, work):
    admin = auth("admin")
    year = get(client, admin, "scorecard", year=2026)
    rows = {row["organization"]["code"]: row for row in year["rows"] if row["organization"]["code"].startswith("AT-")}
    assert set(rows) == {"AT-A", "AT-B", "AT-S"}
    for code in ("AT-A", "AT-B"):
        assert (rows[code]["rank"], rows[code]["closed"], rows[code]["assigned"]) == (None, True, 1), code
    assert rows["AT-S"]["closed"] is False and rows["AT-S"]["rank"] >= 1
    ranks = [row["rank"] for row in year["rows"] if row["rank"] is not None]
    assert ranks == sorted(ranks) and ranks[0] == 1
    assert all(row["rank"] is None for row in year["rows"][len(ranks):])  # the unranked come last
    # For 2025, the year A and B closed in, they are ranked.
    past = {row["organization"]["code"]: row for row in get(client, admin, "scorecard", year=2025)["rows"]}
    assert past["AT-A"]["closed"] is False and past["AT-A"]["rank"] is not None
    assert past["AT-S"]["assigned"] == 2  # A's open work due in 2025, held by S at the year's end
    for format in ("csv", "xlsx"):
        assert client.get(f"{REPORTS}/scorecard", headers=admin, query_string={"year": 2026, "format": format},
                          buffered=True).status_code == 200


@pytest.fixture
def duties(session, units):
    """A's own six-month and annual report duties for 2025, open when A closes (both pass to S)."""
    plan = session.scalar(select(Plan).where(Plan.code == "KH-NQ57/HU"))
    group = session.scalar(select(TaskGroup).where(TaskGroup.plan_id == plan.id, TaskGroup.number == 2))
    made = {}
    for n, (period, due) in enumerate((("six_month", dt.date(2025, 6, 9)), ("annual", dt.date(2025, 11, 30))), start=1):
        action = Action(plan=plan, group=group, ref=f"IV.9.{n}", section="IV", position=2000 + n, text=f"Báo cáo thử {period}",
                        report_period=period, requires_evidence=False, search_key="")
        duty = Assignment(action=action, organization_id=units["a"], role="lead", cycle=2025, due_date=due, original_due_date=due,
                          status="not_started", progress=0, search_key="", assigned_on=dt.date(2025, 1, 10))
        session.add_all([action, duty])
        session.flush()
        made[period] = duty.id
    session.commit()
    return made


def test_a_report_at_its_due_date_is_that_of_the_unit_that_held_the_duty_then(client, auth, units, duties, merged):
    admin = auth("admin")

    def at_due_date(org_id: int, period: str):
        return client.get(f"{REPORTS}/periodic", headers=admin, query_string={"organization_id": org_id, "period": period,
                                                                                "at": "due_date"})

    # A's six-month duty fell due on 09/06/2025, while A held it: A's report is taken then.
    half = at_due_date(units["a"], "2025-H1").get_json()
    assert half["as_of"] == "2025-06-09" and half["organization"]["name"] == "Phòng thử A"
    assert (half["own_report"]["assignment_id"], half["own_report"]["state"]) == (duties["six_month"], "pending")
    # S did not exist then; the annual duty passed to it before falling due, so the year's is S's.
    assert_problem(at_due_date(merged["s"], "2025-H1"), 422, "report.no_report_duty")
    year = at_due_date(merged["s"], "2025").get_json()
    assert year["as_of"] == "2025-11-30" and year["own_report"]["assignment_id"] == duties["annual"]
    assert_problem(at_due_date(units["a"], "2025"), 422, "report.no_report_duty")
    # Outside the caller's scope: 404, whether there is a duty or not.
    outsider = bearer_headers(units["outsider"])
    for org_id, period in ((units["a"], "2025-H1"), (merged["s"], "2025-H1")):
        assert_problem(client.get(f"{REPORTS}/periodic", headers=outsider, query_string={
            "organization_id": org_id, "period": period, "at": "due_date"}), 404, "organization.not_found")


# --- (d) scope ---------------------------------------------------------------------------------


def test_an_officer_of_another_unit_sees_none_of_it(client, auth, units, merged):
    headers = bearer_headers(units["outsider"])
    for as_of in (BEFORE, LATER, None):
        body = summary(client, headers, as_of)
        assert {row["key"]["organization_code"] for row in body["rows"]} <= {"AT-OTHER"}
        assert body["totals"]["total"] == 0
        query = {"as_of": as_of.isoformat()} if as_of else {}
        assert get(client, headers, "overdue", **query) == []
    assert get(client, headers, "scorecard", year=2025)["rows"] == []
    for org_id in (units["root"], units["a"], merged["s"]):
        assert_problem(client.get(f"{REPORTS}/periodic", headers=headers, query_string={"organization_id": org_id, "period": "2025"}),
                       404, "organization.not_found")


def test_scope_follows_the_unit_that_held_the_work(client, auth, units, work, merged):
    headers = bearer_headers(units["officer_b"])  # stayed a member of B, closed on 30/06/2025
    then = summary(client, headers, BEFORE)
    assert {row["key"]["organization_code"] for row in then["rows"]} == {"AT-B"}
    assert then["totals"]["total"] == 3
    later = summary(client, headers, LATER)
    assert {row["key"]["organization_code"] for row in later["rows"]} == {"AT-B"}
    assert later["totals"]["total"] == 2  # B's open work is S's now; B kept what it completed
    assert get(client, headers, "overdue", as_of=LATER.isoformat()) == []


def test_a_scorecard_page_before_a_transfer_counts_the_work_for_the_unit_that_held_it(client, auth, session, units, merged):
    """As of the day before the merger, with no completion after that day, the yearly tallies could
    answer but for the transfer dated after it: they hold the work under its unit now (S). The page
    is counted instead, and equals the whole scorecard of that day, page by page."""
    later = (Assignment.completed_on > BEFORE)
    session.execute(update(Assignment).where(later).values(
        completed_on=BEFORE, submitted_on=case((Assignment.submitted_on > BEFORE, BEFORE), else_=Assignment.submitted_on)))
    tallies.rebuild()  # bulk SQL bypasses the session hook that keeps them
    session.commit()
    admin = auth("admin")
    whole = get(client, admin, "scorecard", year=2025, as_of=BEFORE.isoformat())["rows"]
    assert {"AT-A", "AT-B"} <= {row["organization"]["code"] for row in whole}
    paged, page = [], 1
    while rows := get(client, admin, "scorecard", year=2025, as_of=BEFORE.isoformat(), page=page, page_size=3)["rows"]:
        paged += rows
        page += 1
    assert paged == whole
