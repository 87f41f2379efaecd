"""The Kim Động demo through the 1 July 2025 reform (`flask tracker demo-reform`, `seed-demo
--reform`): the district bodies close on 30 June 2025, the communes' party bodies merge into the
new communes, the district's open work passes to the new communes, nothing open is lost, completed
work stays, the lineage links old and new, and a second run changes nothing.

On a database of its own (committed for real); the suite's baseline stays the pre-reform tree."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update

from tests.conftest import app_config, bearer_headers, fresh_database, load_baseline
from tests.helpers import descendants, row_counts
from tracker import create_app
from tracker.domain.admin_units import find_province, units_from_former_district
from tracker.extensions import db
from tracker.models import (
    Assignment, AssignmentEvent, AssignmentTransfer, Membership, Organization, OrganizationLink, OrganizationVersion,
    Reorganization, User,
)
from tracker.services import org_tree
from tracker.services.reorganization import OPEN_STATUSES

pytestmark = pytest.mark.no_transaction

LAST_DAY, FIRST_DAY = dt.date(2025, 6, 30), dt.date(2025, 7, 1)
KIM_DONG_UNITS = {"11983", "12280", "12286", "12313", "12322"}


@dataclass
class Before:
    """The demo as loaded, just before the reform."""

    district_ids: set[int]  # HU-KD and everything under it
    open_work: dict[int, tuple[int, int, int, str]]  # assignment id -> (organisation, action, cycle, role), on district bodies
    open_elsewhere: dict[int, int]  # assignment id -> organisation, open work outside the district
    completed: dict[int, int]  # assignment id -> organisation, work done before the reform
    memberships: set[tuple[int, int, str]]
    output: str


def counts() -> dict[str, int]:
    tables = (OrganizationVersion, OrganizationLink, Reorganization, AssignmentTransfer, Membership)
    return {**row_counts(), **{m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in tables}}


@pytest.fixture(scope="module")
def reformed(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo_reform")
    app = create_app(app_config(fresh_database(database_url, tmp, "demo_reform"), tmp))
    load_baseline(app)
    with app.app_context():
        orgs = dict(db.session.execute(select(Organization.code, Organization.id)).all())
        parents = dict(db.session.execute(select(Organization.id, Organization.parent_id)).all())
        district = descendants(parents, orgs["HU-KD"])
        # Some work was done before the reform: one assignment of a department, one of a commune's party body.
        done = [db.session.scalar(select(Assignment.id).where(Assignment.organization_id == orgs[code]).order_by(Assignment.id).limit(1))
                for code in ("PNV-KD", "DB-TOANTHANG")]
        db.session.execute(update(Assignment).where(Assignment.id.in_(done)).values(status="completed", progress=100))
        db.session.commit()
        rows = db.session.execute(select(Assignment.id, Assignment.organization_id, Assignment.action_id, Assignment.cycle,
                                         Assignment.role, Assignment.status)).all()
        before = Before(
            district_ids=district,
            open_work={r.id: (r.organization_id, r.action_id, r.cycle, r.role) for r in rows
                       if r.status in OPEN_STATUSES and r.organization_id in district},
            open_elsewhere={r.id: r.organization_id for r in rows if r.status in OPEN_STATUSES and r.organization_id not in district},
            completed={r.id: r.organization_id for r in rows if r.status == "completed"},
            memberships=set(db.session.execute(select(Membership.user_id, Membership.organization_id, Membership.role)).all()),
            output="",
        )
        db.session.remove()
    assert set(done) <= before.completed.keys()
    result = app.test_cli_runner().invoke(args=["tracker", "seed-demo", "--reform"])
    assert result.exit_code == 0, result.output
    before.output = result.output
    yield app, before
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def ctx(reformed):
    app, before = reformed
    with app.app_context():
        yield before
        db.session.remove()


def by_code() -> dict[str, Organization]:
    return {o.code: o for o in db.session.scalars(select(Organization))}


def new_units() -> dict[str, Organization]:
    """The new units of the former district's area, by official code."""
    codes = {u.code for u in units_from_former_district(find_province("Hưng Yên"), "Kim Động")}
    assert codes == KIM_DONG_UNITS
    return {o.admin_code: o for o in db.session.scalars(select(Organization).where(Organization.admin_code.in_(codes)))}


def test_output_tells_what_was_done(reformed):
    _, before = reformed
    assert "demo users: 0 created" in before.output  # the baseline had them already
    assert "reform effective 01/07/2025 (Nghị quyết số 1666/NQ-UBTVQH15" in before.output
    assert "Hưng Yên: 105 administrative units (105 created, 0 updated, 0 unchanged)" in before.output
    assert "merged: DB-LUONGBANG -> DVHC-12280" in before.output
    assert "closed 30/06/2025, split: HU-KD -> 5 units, open work to DVHC-12280" in before.output


def test_district_bodies_close_on_30_june_2025(ctx):
    orgs = {o.id: o for o in db.session.scalars(select(Organization))}
    assert len(ctx.district_ids) == 24
    assert {orgs[i].valid_to for i in ctx.district_ids} == {LAST_DAY}
    assert all(o.valid_to is None for i, o in orgs.items() if i not in ctx.district_ids)  # the province's bodies, the new units
    assert by_code()["TU-HY"].valid_to is None
    # A report as of 30 June 2025 still has the district; one as of 1 July 2025 has the new communes instead.
    old_tree, new_tree = org_tree.tree_on(LAST_DAY), org_tree.tree_on(FIRST_DAY)
    units = new_units()
    assert ctx.district_ids <= old_tree.keys() and not ctx.district_ids & new_tree.keys()
    assert {u.id for u in units.values()} <= new_tree.keys() and not {u.id for u in units.values()} & old_tree.keys()


def test_communes_party_bodies_merge_into_their_new_communes(ctx):
    orgs, units = by_code(), new_units()
    successors = {code: orgs[code].successor_id for code in ("DB-LUONGBANG", "DB-TOANTHANG", "DB-NGHIADAN")}
    assert successors == {"DB-LUONGBANG": units["12280"].id, "DB-TOANTHANG": units["12286"].id, "DB-NGHIADAN": units["12286"].id}
    links = set(db.session.execute(select(OrganizationLink.predecessor_id, OrganizationLink.successor_id).where(
        OrganizationLink.predecessor_id.in_([orgs["DB-LUONGBANG"].id, orgs["DB-TOANTHANG"].id]))).all())
    assert links == {(orgs["DB-LUONGBANG"].id, units["12280"].id), (orgs["DB-TOANTHANG"].id, units["12286"].id)}
    kinds = {r.kind for r in db.session.scalars(select(Reorganization))}
    assert kinds == {"merge", "split"}
    assert all(r.decision.startswith("Nghị quyết số 1666/NQ-UBTVQH15") and r.effective_on == FIRST_DAY
               for r in db.session.scalars(select(Reorganization)))


def test_other_district_bodies_split_between_the_new_units_with_work_to_the_seat(ctx):
    orgs, units = by_code(), new_units()
    unit_ids = {u.id for u in units.values()}
    cells = {orgs[c].id for c in ("DB-LUONGBANG", "DB-TOANTHANG", "DB-NGHIADAN")}
    links = db.session.execute(select(OrganizationLink.predecessor_id, OrganizationLink.successor_id)).all()
    for body in ctx.district_ids - cells:
        assert {s for p, s in links if p == body} == unit_ids
        assert db.session.get(Organization, body).successor_id == units["12280"].id  # thị trấn Lương Bằng was the district seat


def test_no_open_work_is_left_on_a_closed_unit(ctx):
    left = db.session.scalar(select(func.count()).select_from(Assignment).join(Organization, Organization.id == Assignment.organization_id)
                             .where(Organization.valid_to.is_not(None), Assignment.status.in_(OPEN_STATUSES)))
    assert left == 0


def test_open_work_passes_to_the_new_units_and_nothing_is_lost(ctx):
    unit_ids = {u.id for u in new_units().values()}
    now = {a.id: a for a in db.session.scalars(select(Assignment).where(Assignment.id.in_(list(ctx.open_work))))}
    open_now = {i for i, a in now.items() if a.status in OPEN_STATUSES}
    assert {now[i].organization_id for i in open_now} <= unit_ids
    assert now.keys() == ctx.open_work.keys()  # every one is still there
    # The others are yearly duties the successor already had for that year: superseded, the successor keeps one.
    superseded = {e.assignment_id: e for e in db.session.scalars(select(AssignmentEvent).where(AssignmentEvent.kind == "superseded"))}
    assert set(now) - open_now == superseded.keys()
    assert len(ctx.open_work) == len(open_now) + len(superseded)
    held = {(a.organization_id, a.action_id, a.cycle, a.role) for a in now.values() if a.id in open_now}
    for assignment_id, event in superseded.items():
        _, action_id, cycle, role = ctx.open_work[assignment_id]
        assert cycle != 0 and now[assignment_id].status == "cancelled"
        assert any(h[:3] == (event.new_value["successor_id"], action_id, cycle) for h in held)
    # Every duty that had an open lead before still has one.
    leads_before = {(action, cycle) for _, action, cycle, role in ctx.open_work.values() if role == "lead"}
    assert leads_before <= {(action, cycle) for _, action, cycle, role in held if role == "lead"}
    # One transfer (and one `transferred` event) for each assignment passed on, dated 1 July 2025.
    transfers = db.session.execute(select(AssignmentTransfer.assignment_id, AssignmentTransfer.effective_on)).all()
    assert sorted(i for i, _ in transfers) == sorted(open_now) and {d for _, d in transfers} == {FIRST_DAY}
    # Open work outside the district did not move.
    elsewhere = dict(db.session.execute(select(Assignment.id, Assignment.organization_id).where(
        Assignment.id.in_(list(ctx.open_elsewhere)))).all())
    assert elsewhere == ctx.open_elsewhere


def test_completed_work_stays_where_it_was_done(ctx):
    now = dict(db.session.execute(select(Assignment.id, Assignment.organization_id).where(
        Assignment.id.in_(list(ctx.completed)), Assignment.status == "completed")).all())
    assert now == ctx.completed and len(now) == 2


def test_memberships_stay_with_the_closed_district_bodies(ctx):
    # Splits do not move people; the merged party bodies had no members. District users keep reading the history.
    assert set(db.session.execute(select(Membership.user_id, Membership.organization_id, Membership.role)).all()) == ctx.memberships


def test_lineage_links_old_bodies_and_new_communes(reformed):
    app, before = reformed
    with app.app_context():
        orgs, units = by_code(), new_units()
        admin = db.session.scalar(select(User.id).where(User.username == "admin"))
        headers = bearer_headers(admin)
        client = app.test_client()
        response = client.get(f"/api/v1/organizations/{orgs['HU-KD'].id}/lineage", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert {s["code"] for s in response.get_json()["successors"]} == {f"DVHC-{c}" for c in KIM_DONG_UNITS}
        seat = org_tree.lineage_of(units["12280"].id)
        assert {p["organization_id"] for p in seat["predecessors"]} == before.district_ids - {orgs["DB-TOANTHANG"].id, orgs["DB-NGHIADAN"].id}
        nghia_dan = org_tree.lineage_of(units["12286"].id)
        assert {p["code"] for p in nghia_dan["predecessors"]} >= {"DB-TOANTHANG", "DB-NGHIADAN", "HU-KD", "UBND-KD"}
        db.session.remove()


def test_running_it_again_changes_nothing(reformed):
    app, _ = reformed
    with app.app_context():
        before = counts()
        db.session.remove()
    runner = app.test_cli_runner()
    again = runner.invoke(args=["tracker", "demo-reform"])
    assert again.exit_code == 0, again.output
    assert "already recorded (HU-KD closed on 30/06/2025); nothing changed" in again.output
    seeded = runner.invoke(args=["tracker", "seed-demo", "--reform"])  # the README's command, run once more
    assert seeded.exit_code == 0, seeded.output
    assert "assignments: 0 created" in seeded.output and "nothing changed" in seeded.output
    imported = runner.invoke(args=["tracker", "import-admin-units", "--province", "Hưng Yên"])
    assert "0 created, 0 updated, 105 unchanged" in imported.output
    with app.app_context():
        assert counts() == before
        db.session.remove()
