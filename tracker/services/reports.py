"""Leaders' views: overdue list, summary, scorecard and what needs attention (the periodic report,
built on these, is in tracker.services.periodic).

Every report is limited to the caller's scope in SQL, takes `as_of` so that it can be reproduced,
and runs a fixed number of statements whatever the number of assignments: counts are grouped in
the database, lists are paged or streamed.

A report as of day D uses the tree of D (tracker.services.org_tree): each assignment counts for the
unit that held it on D (`holder_on`, before any later transfer), shown with the name and parent of
D, and an organisation filter or a subtree is that of D. Work a reorganisation ended after D
(superseded or cancelled with its unit) still counts as of D. So a report as of a past day never
changes after a later rename, move or merger. A unit closed before D keeps the completed work it
did (a merger passes only open work on): it appears with its last name, in its last parent's
subtree (a summary's row hangs under its nearest ancestor that existed on D).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Float, Select, Subquery, and_, case, cast, exists, func, literal, not_, or_, select, text, true
from sqlalchemy.orm import aliased

from tracker.domain.access import Principal
from tracker.domain.classification import (
    LABELS as CLASS_LABELS, TaskClass, class_condition, classify, class_expression, days_overdue, due_soon_condition,
)
from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import (
    Action, Assignment, AssignmentEvent, AssignmentTally, Evidence, Extension, Organization, OrganizationLink,
    OrganizationVersion, Plan, TaskGroup, UnitYearTally, User,
)
from tracker.services import tallies
from tracker.services.access import approvable_organizations, visible_organizations
from tracker.services.assignments import apply_filters
from tracker.services.filters import FilterValues, any_of, filter_values
from tracker.services.org_tree import exists_on, holder_on, scope_ids, valid_on
from tracker.services.sql import days_between

RATE_BASES = {
    "completion_rate": "completed / total (completed = completed_on_time + completed_late)",
    "on_time_rate": "completed_on_time / (completed + overdue): of the tasks already due, as in the Government Office's reports",
    "overdue_rate": "overdue / total",
    "completion_rate_of_due": "completed / (completed + overdue): the Government Office's headline rate (report 1270/BC-TCTTTg), of the tasks already due",
    "overdue_rate_of_due": "overdue / (completed + overdue): the Government Office's overdue share of the tasks already due",
    "total": "all assignments in scope except cancelled ones",
}

_Parent = aliased(Organization, name="parent_organization")
_Owner = aliased(User, name="owner")


def _live(stmt: Select, tree: TreeOn) -> Select:
    return stmt.where(tree.status != "cancelled")


# --- the tree of a day -------------------------------------------------------------------------


def _held_where(day: dt.date, version=OrganizationVersion, organization=Organization) -> ColumnElement[bool]:
    """Versions of the tree of `day` for reports: the one valid on `day`, or, for a unit closed
    before `day`, its last one (it still holds the completed work it did). `version` and
    `organization` may be aliases (of OrganizationVersion and the Organization it versions)."""
    return or_(
        valid_on(day, version.valid_from, version.valid_to),
        and_(organization.valid_to < day, version.valid_to == organization.valid_to),
    )


def held_versions(day: dt.date, name: str) -> Subquery:
    """Name, short name and parent of each organisation in the tree of `day` (see `_held_where`), a subquery."""
    return (
        select(OrganizationVersion.organization_id, OrganizationVersion.name, OrganizationVersion.short_name,
               OrganizationVersion.parent_id)
        .join(Organization, Organization.id == OrganizationVersion.organization_id)
        .where(_held_where(day))
        .subquery(name)
    )


def held_subtree(root_ids: set[int], day: dt.date) -> Select:
    """Ids of the given organisations and their descendants in the tree of `day`, closed units under
    their last parent included (a recursive CTE): whose work a report of the roots as of `day` counts."""
    edges = (
        select(OrganizationVersion.organization_id, OrganizationVersion.parent_id)
        .join(Organization, Organization.id == OrganizationVersion.organization_id)
        .where(_held_where(day))
        .cte("held_edges")
    )
    tree = select(Organization.id.label("id")).where(Organization.id.in_(sorted(root_ids))).cte("held_subtree", recursive=True)
    tree = tree.union(select(edges.c.organization_id).where(edges.c.parent_id == tree.c.id))
    return select(tree.c.id)


# Events of work a reorganisation ended (a yearly duty the successor already had, or the open work of
# a unit dissolved without a successor): cancelled from their effective day on, live before it.
ENDED_BY_REORGANIZATION = ("superseded", "cancelled_by_reorganization")


def ended_after(day: dt.date) -> Subquery:
    """The assignments a reorganisation ended after `day`, with the status each had before (a
    subquery: assignment_id, status). An assignment is ended once: cancelled is final."""
    return (
        select(AssignmentEvent.assignment_id, func.max(AssignmentEvent.old_value["status"].as_string()).label("status"))
        .where(AssignmentEvent.kind.in_(ENDED_BY_REORGANIZATION), AssignmentEvent.effective_on > day)
        .group_by(AssignmentEvent.assignment_id)
        .subquery("ended_after")
    )


def version_or_current(version: Subquery, column: str, current):
    """`version`'s column, or the current one for a unit without a version in that tree (one not
    yet created on the day: it holds no work then, normally)."""
    return case((version.c.organization_id.is_(None), current), else_=version.c[column])


@dataclass(frozen=True)
class TreeOn:
    """How a report as of `day` sees assignments and organisations: who held each assignment and
    its status that day, and the names and parents of the day. `TreeOn.of(day)` runs one statement
    (holder_on's check)."""

    day: dt.date
    holder: ColumnElement[int]
    ended: Subquery
    version: Subquery
    parent_version: Subquery

    @classmethod
    def of(cls, day: dt.date) -> TreeOn:
        return cls(day, holder_on(day), ended_after(day), held_versions(day, "organization_on"),
                   held_versions(day, "parent_organization_on"))

    @property
    def holders_are_current(self) -> bool:
        """No transfer is dated after the day: each assignment's holder that day is its unit now
        (`holder_on` then answers the column itself, having asked once)."""
        return self.holder is Assignment.organization_id

    @property
    def status(self) -> ColumnElement[str]:
        """Each assignment's status on the day: the current one, except that work a reorganisation
        ended after the day still had the status it had then. Needs `join_status`."""
        return case((and_(Assignment.status == "cancelled", self.ended.c.status.is_not(None)), self.ended.c.status),
                    else_=Assignment.status)

    def join_status(self, stmt: Select) -> Select:
        return stmt.outerjoin(self.ended, self.ended.c.assignment_id == Assignment.id)

    @property
    def name(self):
        return version_or_current(self.version, "name", Organization.name)

    @property
    def parent_id(self):
        return version_or_current(self.version, "parent_id", Organization.parent_id)

    @property
    def parent_name(self):
        return version_or_current(self.parent_version, "name", _Parent.name)

    def join_holder(self, stmt: Select) -> Select:
        """Join the holder (Organization) with its version of the day, and its parent of the day (_Parent) with its version."""
        return (
            stmt.join(Organization, Organization.id == self.holder)
            .outerjoin(self.version, self.version.c.organization_id == Organization.id)
            .outerjoin(_Parent, _Parent.id == self.parent_id)
            .outerjoin(self.parent_version, self.parent_version.c.organization_id == _Parent.id)
        )

    def in_subtree(self, organization_id: int) -> ColumnElement[bool]:
        """The holder on the day is the organisation or one of its descendants that day."""
        return self.holder.in_(held_subtree({organization_id}, self.day))


def filtered(stmt: Select, tree: TreeOn, *, organization_id: FilterValues = None, include_descendants: bool = False,
             **filters) -> Select:
    """The /assignments filters (`apply_filters`), the organisations' taken as the holder on the
    day and their subtrees (the union) as those of the day. `stmt` has the holder joined as Organization."""
    stmt = apply_filters(stmt, as_of=tree.day, **filters)
    organization_ids = filter_values(organization_id)
    if organization_ids is not None:
        if include_descendants:
            stmt = stmt.where(Organization.id.in_(held_subtree(set(organization_ids), tree.day)))
        else:
            stmt = stmt.where(any_of(Organization.id, organization_ids))
    return stmt


# --- overdue -----------------------------------------------------------------------------------


def _scoped_from_assignments(stmt: Select, principal: Principal, tree: TreeOn) -> Select:
    """Assignments with their action, plan, group, holder on the day (and its parent) and owner, in scope."""
    stmt = (
        tree.join_status(stmt.select_from(Assignment))
        .join(Action, Action.id == Assignment.action_id)
        .join(Plan, Plan.id == Action.plan_id)
        .outerjoin(TaskGroup, TaskGroup.id == Action.group_id)
    )
    return (
        tree.join_holder(stmt)
        .outerjoin(_Owner, _Owner.id == Assignment.owner_id)
        # On the holder expression (the assignment's own column as of today), not on the joined
        # organisation: the database tests each row it walks without looking the unit up first.
        .where(visible_organizations(principal, tree.holder))
    )


def report_rows(principal: Principal, tree: TreeOn) -> Select:
    """The columns every assignment list of the reports shows, joined and scoped, unfiltered: each
    assignment with the unit that held it on the tree's day, named as on that day."""
    return _scoped_from_assignments(
        select(
            Assignment.id.label("assignment_id"),
            Plan.id.label("plan_id"), Plan.code.label("plan_code"),
            TaskGroup.number.label("group_number"), TaskGroup.title.label("group_title"),
            Action.ref.label("action_ref"), Action.title.label("action_title"), Action.text.label("action_text"),
            Organization.id.label("organization_id"), Organization.code.label("organization_code"),
            tree.name.label("organization_name"),
            _Parent.id.label("parent_organization_id"), tree.parent_name.label("parent_organization_name"),
            Assignment.role, Assignment.cycle,
            _Owner.id.label("owner_id"), _Owner.full_name.label("owner_name"), _Owner.phone.label("owner_phone"),
            _Owner.email.label("owner_email"),
            Assignment.original_due_date, Assignment.due_date, tree.status.label("status"), Assignment.progress,
            Assignment.submitted_on, Assignment.completed_on,
            Assignment.updated_at.label("last_updated_at"), Assignment.urge_count, Assignment.last_urged_at,
        ),
        principal, tree,
    )


def overdue_query(principal: Principal, *, as_of: dt.date, tree: TreeOn | None = None, **filters) -> Select:
    """Assignments not completed whose due date is before `as_of`, most overdue first."""
    tree = tree or TreeOn.of(as_of)
    stmt = (
        report_rows(principal, tree)
        .where(class_condition(TaskClass.OVERDUE, tree.status, Assignment.due_date, Assignment.completed_on, as_of))
        .order_by(Assignment.due_date, Organization.code, Assignment.id)
    )
    return filtered(stmt, tree, **filters)


def as_dict(row) -> dict:
    """A result row as a dict of its columns (a dict, as streamed rows come, is taken as it is)."""
    return row if isinstance(row, dict) else dict(zip(row._fields, row))


def classified(rows: list[dict], as_of: dt.date) -> list[dict]:
    """Report rows (as JSON gives them) with their class as of `as_of`, as /assignments gives it; in
    place. Exports have no such column and skip it."""
    for row in rows:
        found = classify(row["status"], row["due_date"], row["completed_on"], as_of)
        row["classification"] = found.value if found else None
    return rows


def overdue_row(row, as_of: dt.date) -> dict:
    item = as_dict(row)
    item["days_overdue"] = days_overdue(item["due_date"], as_of)
    item["extended"] = item["due_date"] != item["original_due_date"]
    return item


# --- summary -----------------------------------------------------------------------------------


def _rates(counts: dict[str, int]) -> dict:
    on_time, late = counts.get(TaskClass.COMPLETED_ON_TIME, 0), counts.get(TaskClass.COMPLETED_LATE, 0)
    overdue = counts.get(TaskClass.OVERDUE, 0)
    total = sum(counts.get(c, 0) for c in TaskClass)
    completed = on_time + late
    due = completed + overdue
    return {
        "total": total,
        "completed": completed,
        "due": due,
        "completion_rate": _ratio(completed, total),
        "on_time_rate": _ratio(on_time, due),
        "overdue_rate": _ratio(overdue, total),
        "completion_rate_of_due": _ratio(completed, due),
        "overdue_rate_of_due": _ratio(overdue, due),
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def counts_row(key: dict, label: str, counts: dict[str, int], due_soon: int) -> dict:
    return {"key": key, "label": label, "counts": {c.value: counts.get(c, 0) for c in TaskClass}, "due_soon": due_soon, **_rates(counts)}


SUMMARY_KEYS = ("organization", "group", "plan", "owner")


def summary(principal: Principal, *, as_of: dt.date, by: str, **filters) -> dict:
    """Counts of each class, due-soon count and rates per key; by=organization rolls subtrees up
    (the tree of `as_of`: each assignment where it was held that day)."""
    tree = TreeOn.of(as_of)
    task_class = class_expression(tree.status, Assignment.due_date, Assignment.completed_on, as_of).label("task_class")
    soon = func.sum(case((due_soon_condition(tree.status, Assignment.due_date, Assignment.completed_on, as_of), 1), else_=0))
    keys = {
        "organization": [Organization.id],  # the holder on as_of
        "group": [Plan.id, Plan.code, TaskGroup.number, TaskGroup.title],
        "plan": [Plan.id, Plan.code, Plan.title],
        "owner": [_Owner.id, _Owner.full_name],
    }[by]
    stmt = _scoped_from_assignments(select(*keys, task_class, func.count(Assignment.id), soon), principal, tree).group_by(*keys, task_class)
    stmt = filtered(_live(stmt, tree), tree, **filters)
    grouped: dict[tuple, dict[str, int]] = defaultdict(dict)
    soon_by_key: dict[tuple, int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    total_soon = 0
    for *key, klass, count, due_soon in db.session.execute(stmt):
        grouped[tuple(key)][klass] = grouped[tuple(key)].get(klass, 0) + count
        soon_by_key[tuple(key)] += due_soon or 0
        totals[klass] += count
        total_soon += due_soon or 0

    if by == "organization":
        rows = _organization_rows(principal, grouped, soon_by_key, filters.get("organization_id"), as_of)
    elif by == "group":
        rows = [
            counts_row({"plan_id": plan_id, "plan_code": code, "group": number},
                 f"{code} – {number}. {title}" if number is not None else f"{code} – Tổ chức thực hiện (mục IV)",
                 counts, soon_by_key[(plan_id, code, number, title)])
            for (plan_id, code, number, title), counts in sorted(grouped.items(), key=lambda kv: (kv[0][1], kv[0][2] or 99))
        ]
    elif by == "plan":
        rows = [counts_row({"plan_id": plan_id}, f"{code} – {title}", counts, soon_by_key[(plan_id, code, title)])
                for (plan_id, code, title), counts in sorted(grouped.items(), key=lambda kv: kv[0][1])]
    else:
        rows = [counts_row({"owner_id": owner_id}, name or "Chưa phân công người phụ trách", counts, soon_by_key[(owner_id, name)])
                for (owner_id, name), counts in sorted(grouped.items(), key=lambda kv: (kv[0][1] is None, kv[0][1] or ""))]
    return {
        "as_of": as_of, "by": by, "rate_bases": RATE_BASES,
        "labels": {c.value: CLASS_LABELS[c] for c in TaskClass},
        "totals": counts_row({}, "Tổng cộng", totals, total_soon),
        "rows": rows,
    }


def _organization_rows(principal: Principal, grouped: dict[tuple, dict[str, int]], soon: dict[tuple, int],
                       root: FilterValues, as_of: dt.date) -> list[dict]:
    """One row per visible organisation with work in its subtree in the tree of `as_of` (names and
    parents of that day); a parent's row is its own work plus its children's rows. A unit that did
    not exist on `as_of` has a row only for work it holds (a closed unit: the work it completed),
    under its nearest ancestor that existed then. With an organisation filter, the rows stop at that
    organisation (its ancestors are not shown); with several, at the outermost of them. Two statements."""
    version = held_versions(as_of, "organization_on")
    names: dict[int, str] = {}
    parents: dict[int, int | None] = {}
    existing: set[int] = set()
    for org_id, name, parent_id, existed in db.session.execute(
            select(Organization.id, version_or_current(version, "name", Organization.name),
                   version_or_current(version, "parent_id", Organization.parent_id), exists_on(as_of))
            .outerjoin(version, version.c.organization_id == Organization.id)):
        names[org_id], parents[org_id] = name, parent_id
        if existed:
            existing.add(org_id)
    roots = set(filter_values(root) or ())
    existing |= roots  # the rows stop there, whether they existed that day or not

    stops = {r for r in roots if not ancestor_ids_of(r, parents) & roots}  # a filtered unit inside another's subtree rolls up into it

    def parent_on(org_id: int) -> int | None:
        return nearest_existing_parent(org_id, parents, existing)

    visible = dict(db.session.execute(
        select(Organization.id, Organization.code).where(visible_organizations(principal, Organization.id))
    ).all())
    rolled: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rolled_soon: dict[int, int] = defaultdict(int)
    for (org_id,), counts in grouped.items():
        node, seen = org_id, set()
        while node is not None and node not in seen:  # up the tree of as_of: every ancestor's row includes it
            seen.add(node)
            for klass, count in counts.items():
                rolled[node][klass] += count
            rolled_soon[node] += soon[(org_id,)]
            node = None if node in stops else parent_on(node)
    rows = []
    for org_id in sorted(rolled, key=lambda o: visible.get(o, "")):
        if org_id in visible:
            row = counts_row({"organization_id": org_id, "organization_code": visible[org_id], "parent_id": parent_on(org_id)},
                             names[org_id], rolled[org_id], rolled_soon[org_id])
            row["own"] = {c.value: grouped.get((org_id,), {}).get(c, 0) for c in TaskClass}
            rows.append(row)
    return rows


def summary_units_page(principal: Principal, *, as_of: dt.date, today: dt.date, offset: int, limit: int,
                       **filters) -> tuple[dict, int] | None:
    """A page of the whole-tree summary by organisation (`summary(by="organization")`: the same
    rows, in the same order, and the same totals) and the number of rows, read from the maintained
    tallies without counting the assignments; None when the tallies cannot answer exactly (see
    `_tallies_answer`; the caller then pages the whole summary). Five statements, whatever the size:
    the units (with the row count), their subtrees' classes and due-soon counts, their own work, and
    the totals."""
    tops = [tallies.EVERYTHING] if principal.is_admin else sorted(principal.subtree_roots | principal.own_organizations)
    if not _tallies_answer(principal, tops, as_of, today, filters):
        return None
    t = AssignmentTally
    # Every unit (with its parent that day, for the rows' `parent_id`), and the page of those the
    # caller may see whose subtree holds live work, in code order: the whole summary's rows.
    version = held_versions(as_of, "units_page_version")
    # (the live states named, not "not cancelled", so that the probe seeks past the cancelled rows)
    has_work = exists().where(t.node_id == Organization.id, t.state.in_((tallies.OPEN, tallies.ON_TIME, tallies.LATE)), t.n > 0)
    visible = visible_organizations(principal, Organization.id)
    units = db.session.execute(
        select(Organization.id, Organization.code, version_or_current(version, "name", Organization.name),
               version_or_current(version, "parent_id", Organization.parent_id), exists_on(as_of), and_(visible, has_work))
        .outerjoin(version, version.c.organization_id == Organization.id)).all()
    parents = {org_id: parent_id for org_id, _, _, parent_id, _, _ in units}
    existing = {org_id for org_id, *_, existed, _ in units if existed}
    if any(parent_id is not None and parent_id not in existing for parent_id in parents.values()):
        return None  # a closed unit above others: its row holds only its own work, which a tally does not tell
    listed = sorted(((code, org_id, name) for org_id, code, name, _, _, shown in units if shown))
    page = listed[offset:offset + limit]
    ids = [org_id for _, org_id, _ in page]
    counted = tallies.class_counts([*ids, *tops], as_of)
    if counted is None:  # a completion after as_of
        return None
    soon = tallies.due_soon_counts([*ids, *tops], as_of)
    own, _ = _counts_by_holder(principal, TreeOn.of(as_of), {}, ids)

    rows = []
    for code, org_id, name in page:
        row = counts_row({"organization_id": org_id, "organization_code": code,
                          "parent_id": nearest_existing_parent(org_id, parents, existing)}, name,
                         counted.get(org_id, {}), soon.get(org_id, 0))
        row["own"] = {c.value: own.get(org_id, {}).get(c, 0) for c in TaskClass}
        rows.append(row)
    # The scope's tops apart: everything (an admin's), or a leader's subtrees (a unit of their own,
    # or a subtree, inside another is in it already).
    apart = tops if principal.is_admin else [top for top in tops if not ancestor_ids_of(top, parents) & set(tops)]
    totals: dict[str, int] = defaultdict(int)
    for top in apart:
        for klass, count in counted.get(top, {}).items():
            totals[klass] += count
    total_soon = sum(soon.get(top, 0) for top in apart)
    return {
        "as_of": as_of, "by": "organization", "rate_bases": RATE_BASES,
        "labels": {c.value: CLASS_LABELS[c] for c in TaskClass},
        "totals": counts_row({}, "Tổng cộng", totals, total_soon),
        "rows": rows,
    }, len(listed)


def ancestor_ids_of(org_id: int, parents: dict[int, int | None]) -> set[int]:
    """The units above `org_id` by the parent links given."""
    node, seen = parents.get(org_id), set()
    while node is not None and node not in seen:
        seen.add(node)
        node = parents.get(node)
    return seen


def nearest_existing_parent(org_id: int, parents: dict[int, int | None], existing: set[int]) -> int | None:
    """The nearest unit above `org_id` that existed on the day (units closed by then are skipped)."""
    node, seen = parents.get(org_id), set()
    while node is not None and node not in existing and node not in seen:
        seen.add(node)
        node = parents.get(node)
    return node if node in existing else None


# --- summary by organisation, one level of the tree --------------------------------------------


def _filtered_by(filters: dict) -> bool:
    """Whether any of the /assignments filters is set."""
    return any(value not in (None, False, "", [], ()) for value in filters.values())


def _visible_test(principal: Principal):
    """A function of a column: the column is an organisation whose work the principal may see. The
    scope is computed once per statement (a CTE), so that several columns can be tested in one."""
    if principal.is_admin:
        return lambda column: true()
    ids = select(Organization.id.label("id")).where(visible_organizations(principal, Organization.id)).cte("level_visible")
    return lambda column: column.in_(select(ids.c.id))


def _held_edges(day: dt.date, name: str):
    """(organization_id, parent_id) of every unit in the tree of `day` (`_held_where`), a CTE."""
    return (
        select(OrganizationVersion.organization_id, OrganizationVersion.parent_id)
        .join(Organization, Organization.id == OrganizationVersion.organization_id)
        .where(_held_where(day))
        .cte(name)
    )


@dataclass(frozen=True)
class LevelNode:
    id: int
    code: str
    name: str
    parent_id: int | None
    existed: bool  # existed on the day (else: closed before it, holding the work it completed)
    visible: bool
    has_children: bool  # has units under it in the tree of the day that the caller may see


def level_nodes(principal: Principal, day: dt.date, parent_id: int | None) -> list[LevelNode]:
    """One statement. With `parent_id`: that organisation and its children in the tree of `day`,
    each marked visible or not. Without: the top of the caller's scope that day, the visible units
    none of whose ancestors that day is visible (an admin's: the roots), so that their subtrees
    are apart."""
    visible = _visible_test(principal)
    version = aliased(OrganizationVersion, name="level_version")
    child_version = aliased(OrganizationVersion, name="level_child_version")
    child = aliased(Organization, name="level_child")
    has_children = exists().where(child_version.parent_id == Organization.id, child.id == child_version.organization_id,
                                  _held_where(day, child_version, child), visible(child.id))
    stmt = (
        select(Organization.id, Organization.code, version.name, version.parent_id, exists_on(day),
               literal(True) if principal.is_admin else visible(Organization.id), has_children)
        .join(version, version.organization_id == Organization.id)
        .where(_held_where(day, version, Organization))
    )
    if parent_id is not None:
        stmt = stmt.where(or_(Organization.id == parent_id, version.parent_id == parent_id))
    elif principal.is_admin:
        stmt = stmt.where(version.parent_id.is_(None))
    else:
        # Visible units under an invisible parent, unless a visible unit stands higher up that day.
        edges = _held_edges(day, "level_edges")
        up = (select(edges.c.organization_id.label("start"), edges.c.parent_id.label("node"))
              .where(visible(edges.c.organization_id), edges.c.parent_id.is_not(None), not_(visible(edges.c.parent_id)))
              .cte("level_up", recursive=True))
        up = up.union(select(up.c.start, edges.c.parent_id).where(edges.c.organization_id == up.c.node, edges.c.parent_id.is_not(None)))
        stmt = stmt.where(visible(Organization.id), or_(version.parent_id.is_(None), not_(visible(version.parent_id))),
                          ~exists().where(up.c.start == Organization.id, visible(up.c.node)))
    return [LevelNode(id_, code, name, parent, bool(existed), bool(seen), bool(below))
            for id_, code, name, parent, existed, seen, below in db.session.execute(stmt)]


def _tallies_answer(principal: Principal, node_ids: list[int], as_of: dt.date, today: dt.date, filters: dict) -> bool:
    """Whether the maintained tallies (tracker.services.tallies) count these nodes' subtrees as the
    report would: as of today or later (they follow the current tree), without filters, with no
    reorganisation links (their scopes would take in predecessors), and with the whole subtree of
    each node in the caller's scope. At most one statement."""
    if as_of < today or _filtered_by(filters) or not node_ids:
        return False
    links = exists().where(OrganizationLink.id.is_not(None))
    if principal.is_admin:
        return not db.session.scalar(select(links))
    roots = principal.subtree_roots
    if not roots:
        return False
    outside = (select(func.count()).select_from(Organization)
               .where(Organization.id.in_(sorted(node_ids)), Organization.id.not_in(scope_ids(roots))).scalar_subquery())
    has_links, n_outside = db.session.execute(select(links.label("links"), outside.label("outside"))).one()
    return not has_links and not n_outside


# Above this many organisations in the subtrees asked for, their work is counted over the whole
# scope and picked out after (a list that long would select most assignments anyway).
LISTED_HOLDERS_UP_TO = 2000


def _subtree_members(day: dt.date, deep: list[int], shallow: int | None) -> dict[int, int]:
    """Each organisation in the subtree of a node of `deep` in the tree of `day`, and `shallow`
    alone, with the node it counts for (one statement, a recursive CTE)."""
    edges = _held_edges(day, "level_edges")
    reach = (select(Organization.id.label("top"), Organization.id.label("member"))
             .where(Organization.id.in_(sorted({*deep, *([shallow] if shallow is not None else [])})))
             .cte("level_reach", recursive=True))
    step = select(reach.c.top, edges.c.organization_id).where(edges.c.parent_id == reach.c.member)
    if shallow is not None:
        step = step.where(reach.c.top != shallow)
    reach = reach.union(step)
    return {member: top for top, member in db.session.execute(select(reach.c.top, reach.c.member))}


def _counts_by_holder(principal: Principal, tree: TreeOn, filters: dict, holders: list[int] | None) -> tuple[dict, dict]:
    """One statement: the visible, live, filtered work each unit held on the tree's day, by class,
    and its due-soon count; only that of `holders` unless None."""
    task_class = class_expression(tree.status, Assignment.due_date, Assignment.completed_on, tree.day).label("task_class")
    soon = case((due_soon_condition(tree.status, Assignment.due_date, Assignment.completed_on, tree.day), 1), else_=0).label("soon")
    if _filtered_by(filters):  # the filters need the action, plan, group and owner joined
        work = filtered(_scoped_from_assignments(select(Organization.id.label("holder"), task_class, soon), principal, tree), tree, **filters)
    else:
        work = (tree.join_status(select(tree.holder.label("holder"), task_class, soon).select_from(Assignment))
                .where(visible_organizations(principal, tree.holder)))
    if holders is not None:
        work = work.where(tree.holder.in_(sorted(holders)))
    work = _live(work, tree).subquery("level_work")
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    soon_of: dict[int, int] = defaultdict(int)
    for holder, klass, count, due_soon in db.session.execute(
            select(work.c.holder, work.c.task_class, func.count(), func.sum(work.c.soon)).group_by(work.c.holder, work.c.task_class)):
        counts[holder][klass] = count
        soon_of[holder] += due_soon or 0
    return counts, soon_of


def summary_level(principal: Principal, *, as_of: dt.date, today: dt.date, parent_id: int | None = None, **filters) -> dict:
    """By organisation, one level of the tree of `as_of`: the children of `parent_id` that the
    caller may see (without it, the top of the caller's scope), each with its own counts (`own`)
    and its subtree's (`counts`, rates, due soon), as a row of the whole-tree summary would have
    them; `parent` is the organisation asked about, its own work plus its children's; `totals` is
    `parent` or, at the top, the sum of the rows. A unit closed before `as_of` appears only for the
    work it holds. 404 `organization.not_found` for a parent outside the caller's scope or not in
    the tree of that day.

    The subtrees' counts come from the maintained tallies when they answer exactly
    (`_tallies_answer`; then only the nodes' own work is read from the assignments), else from the
    assignments, grouped by the unit that held them and added up per subtree. A fixed number of
    statements whatever the size: 5 from the tallies, 4 counting (3 as of a past day)."""
    nodes = level_nodes(principal, as_of, parent_id)
    parent = None
    if parent_id is not None:
        parent = next((node for node in nodes if node.id == parent_id), None)
        if parent is None or not parent.visible:
            raise NotFound("Không có đơn vị này trong phạm vi của bạn. No such organisation in your scope.", code="organization.not_found",
                           organization_id=parent_id)
    children = [node for node in nodes if node.id != parent_id]
    deep = [node.id for node in children]
    tops = [*deep, *([parent_id] if parent is not None else [])]
    tree = TreeOn.of(as_of)
    counted = None
    if _tallies_answer(principal, [parent_id] if parent is not None else deep, as_of, today, filters):
        counted = tallies.class_counts(deep, as_of)
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # each node's subtree (the parent: its own work)
    soon: dict[int, int] = defaultdict(int)
    if counted is not None:  # the subtrees from the tallies; only the nodes' own work is read
        sums.update(counted)
        soon.update(tallies.due_soon_counts(deep, as_of))
        own, own_soon = _counts_by_holder(principal, tree, filters, tops)
        if parent is not None:
            sums[parent_id], soon[parent_id] = own.get(parent_id, {}), own_soon[parent_id]
    else:
        members = _subtree_members(as_of, deep, parent_id)
        own, own_soon = _counts_by_holder(principal, tree, filters, list(members) if len(members) <= LISTED_HOLDERS_UP_TO else None)
        for holder, counts in own.items():
            top = members.get(holder)
            if top is not None:
                for klass, count in counts.items():
                    sums[top][klass] += count
                soon[top] += own_soon[holder]

    def subtree(node_id: int) -> dict[str, int]:
        return sums.get(node_id, {})

    def row(node: LevelNode, counts: dict[str, int], due_soon: int) -> dict:
        item = counts_row({"organization_id": node.id, "organization_code": node.code, "parent_id": node.parent_id}, node.name,
                          counts, due_soon)
        item["own"] = {c.value: own.get(node.id, {}).get(c, 0) for c in TaskClass}
        item["has_children"] = node.has_children
        return item

    rows = []
    for node in sorted(children, key=lambda n: n.code):
        counts = subtree(node.id)
        if node.visible and (node.existed or any(counts.values())):
            rows.append(row(node, counts, soon[node.id]))
    parts = [(node.id, subtree(node.id)) for node in children]  # apart: children, or the tops of the scope
    if parent is not None:
        parts.append((parent.id, subtree(parent.id)))  # its own work
    total: dict[str, int] = defaultdict(int)
    total_soon = 0
    for node_id, counts in parts:
        for klass, count in counts.items():
            total[klass] += count
        total_soon += soon[node_id]
    return {
        "as_of": as_of, "by": "organization", "level": "children", "rate_bases": RATE_BASES,
        "labels": {c.value: CLASS_LABELS[c] for c in TaskClass},
        "parent": row(parent, total, total_soon) if parent is not None else None,
        "totals": counts_row({}, "Tổng cộng", total, total_soon),
        "rows": rows,
    }


# --- scorecard ---------------------------------------------------------------------------------

SCORECARD_RATE_BASES = {
    "on_time_rate": RATE_BASES["on_time_rate"],
    "completion_rate_of_due": RATE_BASES["completion_rate_of_due"],
    "overdue_rate_of_due": RATE_BASES["overdue_rate_of_due"],
    "evidence_rate": "completed items with at least one evidence file not withdrawn / completed items",
    "average_days_late": "mean of (completion date - due date) over items completed late",
    "rank": "by on-time rate (highest first), then fewest overdue; equal standings share a rank; a unit that "
            "did not exist during the year (closed before it or created after it) is not ranked (closed, rank null)",
}


def _count_if(condition):
    return func.sum(case((condition, 1), else_=0))


def _score_conditions(tree: TreeOn, year: int, as_of: dt.date) -> tuple:
    """The year's first and last days, and the conditions: on time, late, overdue (as of `as_of`),
    and the unit did not exist during the year."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    on_time = class_condition(TaskClass.COMPLETED_ON_TIME, tree.status, Assignment.due_date, Assignment.completed_on, as_of)
    late = class_condition(TaskClass.COMPLETED_LATE, tree.status, Assignment.due_date, Assignment.completed_on, as_of)
    overdue = class_condition(TaskClass.OVERDUE, tree.status, Assignment.due_date, Assignment.completed_on, as_of)
    closed = or_(Organization.valid_to < first, Organization.valid_from > last)
    return first, last, on_time, late, overdue, closed


def _scorecard_statement(principal: Principal, tree: TreeOn, year: int, as_of: dt.date) -> Select:
    """One row per organisation in scope holding work due in `year` on `as_of` (see `_score_row`)."""
    first, last, on_time, late, overdue, closed = _score_conditions(tree, year, as_of)
    has_evidence = exists().where(Evidence.assignment_id == Assignment.id, Evidence.withdrawn_at.is_(None))
    name = tree.name
    return (
        select(
            Organization.id, Organization.code, name, case((closed, True), else_=False),
            func.count(Assignment.id),
            _count_if(on_time), _count_if(late), _count_if(overdue),
            func.sum(case((late, days_between(Assignment.completed_on, Assignment.due_date)), else_=0)),
            _count_if(and_(or_(on_time, late), has_evidence)),
            func.sum(Assignment.urge_count), _count_if(Assignment.urge_count > 0),
        )
        .select_from(Assignment)
        .outerjoin(tree.ended, tree.ended.c.assignment_id == Assignment.id)
        .join(Organization, Organization.id == tree.holder)
        .outerjoin(tree.version, tree.version.c.organization_id == Organization.id)
        .where(visible_organizations(principal, Organization.id))
        .where(tree.status != "cancelled")
        .where(Assignment.due_date.between(first, last))
        .group_by(Organization.id, Organization.code, name, Organization.valid_from, Organization.valid_to)
    )


def _score_row(org_id, code, org_name, is_closed, assigned, n_on_time, n_late, n_overdue, late_days, with_evidence, urges,
               urged) -> dict:
    completed = (n_on_time or 0) + (n_late or 0)
    return {
        "organization_id": org_id, "organization_code": code, "organization_name": org_name,
        "assigned": assigned, "completed_on_time": n_on_time or 0, "completed_late": n_late or 0, "overdue": n_overdue or 0,
        "in_progress": assigned - completed - (n_overdue or 0),
        "on_time_rate": _ratio(n_on_time or 0, completed + (n_overdue or 0)),
        "completion_rate_of_due": _ratio(completed, completed + (n_overdue or 0)),
        "overdue_rate_of_due": _ratio(n_overdue or 0, completed + (n_overdue or 0)),
        "average_days_late": round((late_days or 0) / n_late, 1) if n_late else None,
        "evidence_rate": _ratio(with_evidence or 0, completed),
        "urges": urges or 0, "urged_assignments": urged or 0,
        "closed": bool(is_closed),
    }


def _standing_rate(on_time: int, late: int, overdue: int) -> float | None:
    """The on-time rate a unit is ranked by: exact (unrounded), so that the database ranks alike (`_ranked_page`)."""
    due = on_time + late + overdue
    return on_time / due if due else None


def _rank(rows: list[dict]) -> None:
    """Sort the rows by standing and give each its rank, in place. Each row needs `closed`,
    `completed_on_time`, `completed_late`, `overdue`, `assigned` and `organization_code`."""
    def rate(row: dict) -> float:
        value = _standing_rate(row["completed_on_time"], row["completed_late"], row["overdue"])
        return -1.0 if value is None else value

    rows.sort(key=lambda r: (r["closed"], -rate(r), r["overdue"], -r["assigned"], r["organization_code"]))
    for row, rank in zip(rows, _competition_ranks([(row["closed"], (rate(row), row["overdue"])) for row in rows]), strict=True):
        row["rank"] = rank


def _competition_ranks(standings: list[tuple[bool, tuple]], first_position: int = 1, first_rank: int = 1) -> list[int | None]:
    """The ranks of units in scorecard order, given (closed, standing) of each from `first_position`
    on: equal standings share the position of the first of them (`first_rank` for the first given);
    a unit that did not exist during the year (closed) is not ranked."""
    ranks: list[int | None] = []
    previous, rank = None, first_rank
    for position, (closed, standing) in enumerate(standings, start=first_position):
        if closed:
            ranks.append(None)
            continue
        if previous is not None and standing != previous:
            rank = position
        previous = standing
        ranks.append(rank)
    return ranks


def scorecard(principal: Principal, *, year: int, as_of: dt.date) -> dict:
    """Per organisation, for the yearly evaluation: its own assignments due in `year`, counted for
    the unit that held them on `as_of` and named as on that day. A unit that did not exist during
    `year` (closed before it, or created after it) keeps its row for the work it holds, unranked."""
    tree = TreeOn.of(as_of)
    rows = [_score_row(*row) for row in db.session.execute(_scorecard_statement(principal, tree, year, as_of))]
    _rank(rows)
    return {"year": year, "as_of": as_of, "rate_bases": SCORECARD_RATE_BASES, "rows": rows}


def _standings_from_tallies(year: int, tree: TreeOn) -> Select | None:
    """Each unit's own work due in `year` as the scorecard ranks it as of `as_of`, from the yearly
    tallies: a select of (organization_id, assigned, on_time, late, overdue) for every unit holding
    work that year. None when the tallies cannot answer for the tree's day (at most one statement):
    a completion after it, or work a reorganisation moved or ended after it (the scorecard counts
    work for the unit that held it that day, with its status of that day).
    Overdue work of `as_of`'s own month is counted from the assignments (the tallies keep months,
    and whether it is overdue depends on the day): a month's work at most, through the due-date index."""
    as_of = tree.day
    if not tree.holders_are_current:
        return None
    latest = select(func.max(Assignment.completed_on)).scalar_subquery()
    ended = exists().where(AssignmentEvent.kind.in_(ENDED_BY_REORGANIZATION), AssignmentEvent.effective_on > as_of)
    completed, ended_later = db.session.execute(select(latest, ended)).one()
    if (completed is not None and completed > as_of) or ended_later:
        return None
    t = UnitYearTally
    open_by = [t.__table__.c[name] for name in tallies.OPEN_BY_MONTH]  # cumulative: open_by[11] is the year's open work
    stmt = select(t.organization_id, (t.on_time + t.late + open_by[11]).label("assigned"), t.on_time, t.late)
    if year < as_of.year:
        overdue = open_by[11]
    elif year > as_of.year:
        overdue = literal(0)
    else:
        first = as_of.replace(day=1)
        this_month = (select(Assignment.organization_id.label("unit"), func.count().label("n"))
                      .where(Assignment.due_date >= first, Assignment.due_date < as_of, tallies.open_work())
                      .group_by(Assignment.organization_id).subquery("overdue_this_month"))
        overdue = func.coalesce(this_month.c.n, 0)
        if as_of.month > 1:
            overdue = open_by[as_of.month - 2] + overdue
        stmt = stmt.outerjoin(this_month, this_month.c.unit == t.organization_id)
    return stmt.add_columns(overdue.label("overdue")).where(t.year == year, t.on_time + t.late + open_by[11] > 0)


def scorecard_page(principal: Principal, *, year: int, as_of: dt.date, offset: int, limit: int) -> tuple[dict, int]:
    """The scorecard's rows `offset` to `offset + limit` (in rank order) and how many rows it has in
    all. Ranks are those of the whole scorecard: every unit's standing (from the yearly tallies when
    they answer for the day, else one lean grouped count: no names, evidence or days late) is ranked
    in the database, which answers only the page's units; then the page's rows in full (the
    scorecard's own statement, for those units only). Four statements (three when work was moved after the day)."""
    tree = TreeOn.of(as_of)
    per_unit = _standings_from_tallies(year, tree)
    first, last, on_time, late, overdue, closed = _score_conditions(tree, year, as_of)
    if per_unit is None:  # counted from the assignments
        per_assignment = (
            select(tree.holder.label("holder"), case((on_time, 1), else_=0).label("on_time"), case((late, 1), else_=0).label("late"),
                   case((overdue, 1), else_=0).label("overdue"))
            .select_from(Assignment)
            .outerjoin(tree.ended, tree.ended.c.assignment_id == Assignment.id)
            .where(tree.status != "cancelled", Assignment.due_date.between(first, last))
            .subquery("scored")
        )
        per_unit = (
            select(per_assignment.c.holder.label("organization_id"), func.count().label("assigned"),
                   func.sum(per_assignment.c.on_time).label("on_time"), func.sum(per_assignment.c.late).label("late"),
                   func.sum(per_assignment.c.overdue).label("overdue"))
            .group_by(per_assignment.c.holder)
        )
    ids, ranks, total = _ranked_page(principal, per_unit.subquery("standings"), closed, offset, limit)
    rows = []
    if ids:
        stmt = _scorecard_statement(principal, tree, year, as_of).where(Organization.id.in_(ids))
        full = {row["organization_id"]: row for row in (_score_row(*values) for values in db.session.execute(stmt))}
        rows = [{**full[org_id], "rank": rank} for org_id, rank in zip(ids, ranks, strict=True)]
    return {"year": year, "as_of": as_of, "rate_bases": SCORECARD_RATE_BASES, "rows": rows}, total


# Past this many rows every page is empty: far beyond any count, well inside 64-bit integers.
MAX_OFFSET = 2**53


def _ranked_page(principal: Principal, per_unit: Subquery, closed, offset: int, limit: int) -> tuple[list[int], list[int | None], int]:
    """The ids and ranks of the units at positions `offset` to `offset + limit` of the scorecard's
    order (as `_rank` sorts and ranks them), and how many units it has: one statement. The database
    sorts only as far as the page (a bounded sort) and counts the units whose standing is better
    than the page's first (its rank is one more); the other ranks follow from the page itself."""
    offset = min(offset, MAX_OFFSET)  # a page number past any count (the database's integers are 64-bit)
    due = per_unit.c.on_time + per_unit.c.late + per_unit.c.overdue
    code = Organization.code.collate("C") if db.session.get_bind().dialect.name == "postgresql" else Organization.code
    rated = (
        select(Organization.id.label("organization_id"), case((closed, 1), else_=0).label("closed"),
               case((due > 0, cast(per_unit.c.on_time, Float) / cast(due, Float)), else_=None).label("rate"),
               per_unit.c.overdue, per_unit.c.assigned, code.label("code"))
        .join(per_unit, per_unit.c.organization_id == Organization.id)
        .where(visible_organizations(principal, Organization.id))
        .cte("rated")
    )

    def order(of):
        return of.c.closed, of.c.rate.desc().nulls_last(), of.c.overdue, of.c.assigned.desc(), of.c.code

    page = select(rated).order_by(*order(rated)).limit(limit).offset(offset).cte("page")
    first = select(page).order_by(*order(page)).limit(1).subquery("first")
    other = rated.alias("other")
    better = (  # units ranked before the first's standing: open ones with a higher rate, or the same and fewer overdue
        select(func.count()).select_from(other).join(first, true())
        .where(other.c.closed == 0, first.c.closed == 0,
               or_(and_(first.c.rate.is_(None), other.c.rate.is_not(None)), other.c.rate > first.c.rate,
                   and_(or_(other.c.rate == first.c.rate, and_(other.c.rate.is_(None), first.c.rate.is_(None))),
                        other.c.overdue < first.c.overdue)))
        .scalar_subquery()
    )
    total = select(func.count().label("n"), better.label("better")).select_from(rated).subquery("total")
    found = db.session.execute(
        select(total.c.n, total.c.better, page.c.organization_id, page.c.closed, page.c.rate, page.c.overdue)
        .select_from(total.outerjoin(page, true())).order_by(*order(page))).all()
    units = [(org_id, bool(is_closed), (rate, overdue)) for _, _, org_id, is_closed, rate, overdue in found if org_id is not None]
    ranks = _competition_ranks([(is_closed, standing) for _, is_closed, standing in units], offset + 1, found[0][1] + 1)
    return [org_id for org_id, _, _ in units], ranks, found[0][0]


# --- attention ---------------------------------------------------------------------------------


def attention(principal: Principal, *, today: dt.date, due_within_days: int = 7, limit: int = 50) -> dict:
    """What needs the caller now: submissions to approve, extension requests, overdue work, work due soon."""

    def listing(stmt: Select) -> list[dict]:
        return [overdue_row(row, today) for row in db.session.execute(stmt.limit(limit))]

    def count(stmt: Select) -> int:
        return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))

    tree = TreeOn.of(today)
    rows = report_rows(principal, tree).order_by(Assignment.due_date, Assignment.id)
    overdue = overdue_query(principal, as_of=today, tree=tree)
    awaiting = rows.where(Assignment.status == "submitted", approvable_organizations(principal, Organization.id))
    returned = rows.where(Assignment.status == "returned")
    soon = rows.where(due_soon_condition(tree.status, Assignment.due_date, Assignment.completed_on, today, due_within_days))
    extensions = (
        select(Extension.id.label("extension_id"), Extension.assignment_id, Action.ref.label("action_ref"),
               Organization.code.label("organization_code"), tree.name.label("organization_name"),
               Extension.previous_due_date, Extension.new_due_date, Extension.reason, Extension.requested_at)
        .select_from(Extension)
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .join(Action, Action.id == Assignment.action_id)
        .join(Organization, Organization.id == tree.holder)
        .outerjoin(tree.version, tree.version.c.organization_id == Organization.id)
        .where(Extension.status == "pending", approvable_organizations(principal, Organization.id))
        .order_by(Extension.requested_at)
    )
    return {
        "as_of": today,
        "awaiting_approval": {"count": count(awaiting), "items": listing(awaiting)},
        "extension_requests": {"count": count(extensions),
                               "items": [dict(r._mapping) for r in db.session.execute(extensions.limit(limit))]},
        "returned": {"count": count(returned), "items": listing(returned)},
        "overdue": {"count": count(overdue), "items": listing(overdue)},
        "due_soon": {"count": count(soon), "items": listing(soon), "within_days": due_within_days},
    }


def only_columns(stmt: Select, names: Iterable[str]) -> Select:
    """The same statement (joins, conditions, order) with only the named columns: an export fetches
    what its sheet shows and nothing more (not the action's full text for 400,000 rows)."""
    keep = set(names)
    return stmt.with_only_columns(*(column for column in stmt.selected_columns if column.key in keep), maintain_column_froms=True)


def iter_rows(stmt: Select, as_of: dt.date, size: int = 2000, *, make_row=None) -> Iterable[dict]:
    """Stream a report's rows from the database without loading them all (exports)."""
    make_row = make_row or overdue_row
    if db.session.get_bind().dialect.name == "postgresql":
        # A streamed statement is a server-side cursor, which PostgreSQL plans for its first tenth
        # (nested loops); an export reads every row: plan for all of them (hash joins), for this transaction.
        db.session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    # Through the session's connection (Core), not the ORM: plain rows, without the ORM's loading
    # layer for each of them (a third of an export's time at 435,000 rows).
    result = db.session.connection().execute(stmt.execution_options(yield_per=size))
    keys = tuple(result.keys())  # once, not per row
    for rows in result.partitions():  # a batch at a time: no per-row fetch call
        for row in rows:
            yield make_row(dict(zip(keys, row)), as_of)
