"""Exact totals without counting: maintained tallies of assignments per scope, state and due date.

A list of a million assignments needs its exact total on every page (government figures are never
estimates), and COUNT(*) over the matching rows costs hundreds of milliseconds at that size. So the
table `assignment_tally` keeps, for every organisation X, how many assignments X's scope holds in
each (state, due date), where X's scope is what a leader of X reads (`org_tree.scope_ids`): X, its
subtree and the units any of these took over from; node 0 counts everything, and node -A the
work of action A (everything's, for search totals: the actions a query names). Each change to an
assignment updates the tallies of every node above it in the same transaction as the change (a
session hook, one upsert per flush), so that a transition shows in the very next total.

Tallies answer only what they can answer exactly, else the caller counts:
- as of a day on or after every completion (`max(completed_on)`): before that, a completed
  assignment may not yet have been completed on the day;
- a scope that is one node (an admin's, or a leader's single subtree with no officer membership
  outside it), with no filter but the class (and an organisation with its subtree when no
  reorganisation links exist: the filter follows the current tree, the tally the lineage);
- a search `q` (an admin's, with the class or not): the work of the actions whose text matches,
  summed from their nodes, plus a COUNT of the other work matching by organisation or note (few
  rows, found through the trigram indexes on PostgreSQL).

Three coarser tables are kept beside it, in the same hook, so that what is read stays small at
national scale:
- `assignment_tally_month`: the day rows summed by due month (open work) or in one row (the other
  states, whose class does not depend on the day). A level of the tree, a list total or a search
  total reads the month rows, and the day rows only for open work due in the month of the day
  asked about (`_as_of_month`): dozens of rows per node instead of one per due day.
- `unit_year_tally`: each unit's own work per due year (on time, late, open by due month), from
  which a scorecard page ranks every unit (tracker.services.reports).
- `note_search`: the assignments with a note, narrow, where a search total counts the notes that
  match (a few pages instead of a page of the assignments per match).

Writes that bypass the ORM (bulk SQL in benchmarks and tests, the transfer UPDATE of a
reorganisation) call `rebuild()`; `tests/api/test_tallies.py` compares every table with a full
recount after random operations on both databases, and `flask tracker recount --check` does so
on a live database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Select, and_, case, delete, event, exists, func, inspect, literal, or_, select, text, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.domain.access import Principal
from tracker.domain.classification import DEFAULT_DUE_SOON_DAYS, TaskClass, class_condition
from tracker.domain.text import like_pattern
from tracker.extensions import db
from tracker.models import (
    Action, Assignment, AssignmentTally, AssignmentTallyMonth, NoteSearch, Organization, OrganizationLink, UnitYearTally,
)
from tracker.models.tally import OPEN_BY_MONTH
from tracker.services.filters import FilterValues, any_of, filter_values
from tracker.services.org_tree import scope_edges
from tracker.services.sql import month_of, month_start, year_of

EVERYTHING = 0
NO_DUE = dt.date(9999, 12, 31)
OPEN, ON_TIME, LATE, CANCELLED = "open", "on_time", "late", "cancelled"
_TRACKED = ("organization_id", "action_id", "status", "due_date", "completed_on")


def state_of(status: str, due_date: dt.date | None, completed_on: dt.date | None) -> str:
    """The tally state: cancelled, completed on time or late (for good: completions are dated), else open."""
    if status == "cancelled":
        return CANCELLED
    if status == "completed" and completed_on is not None:
        return ON_TIME if due_date is None or completed_on <= due_date else LATE
    return OPEN


def _state_sql(status, due_date, completed_on):
    return case(
        (status == "cancelled", literal(CANCELLED)),
        (and_(status == "completed", completed_on.is_not(None)),
         case((or_(due_date.is_(None), completed_on <= due_date), literal(ON_TIME)), else_=literal(LATE))),
        else_=literal(OPEN),
    )


def nodes_above(org_ids: set[int] | None = None, session: Session | None = None) -> dict[int, set[int]]:
    """For each organisation (every one when None), itself and every node whose scope holds its
    work: the units it reaches by the scope's edges (`org_tree.scope_edges`). One recursive statement."""
    edges = scope_edges("tally_edges")
    starts = select(Organization.id.label("start"), Organization.id.label("node"))
    if org_ids is not None:
        starts = starts.where(Organization.id.in_(sorted(org_ids)))
    up = starts.cte("tally_up", recursive=True)
    up = up.union(select(up.c.start, edges.c.parent).where(edges.c.child == up.c.node))
    found: dict[int, set[int]] = defaultdict(set)
    for start, node in (session or db.session).execute(select(up.c.start, up.c.node)):
        found[start].add(node)
    return found


def _members(starts: Select):
    """(node, member): each node of `starts` (a select of node, member = node) with every unit in its scope (a recursive CTE)."""
    edges = scope_edges("tally_edges")
    below = starts.cte("tally_below", recursive=True)
    return below.union(select(below.c.node, edges.c.child).where(edges.c.parent == below.c.member))


# --- keeping them -------------------------------------------------------------------------------


def _old(state, name):
    history = state.attrs[name].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(state.obj(), name)


def _key(org_id, action_id, status, due_date, completed_on) -> tuple:
    return org_id, action_id, state_of(status, due_date, completed_on), due_date or NO_DUE


def _changes(session: Session) -> dict[tuple, int]:
    deltas: dict[tuple, int] = defaultdict(int)
    for obj in session.new:
        if isinstance(obj, Assignment):
            deltas[_key(obj.organization_id, obj.action_id, obj.status, obj.due_date, obj.completed_on)] += 1
    for obj in session.deleted:
        if isinstance(obj, Assignment):
            state = inspect(obj)
            deltas[_key(*(_old(state, name) for name in _TRACKED))] -= 1
    for obj in session.dirty:
        if isinstance(obj, Assignment) and obj not in session.deleted:
            state = inspect(obj)
            if not any(state.attrs[name].history.has_changes() for name in _TRACKED):
                continue
            old = _key(*(_old(state, name) for name in _TRACKED))
            new = _key(obj.organization_id, obj.action_id, obj.status, obj.due_date, obj.completed_on)
            if old != new:
                deltas[old] -= 1
                deltas[new] += 1
    return {key: n for key, n in deltas.items() if n}


def _upsert(session: Session, table, keys: list[str], rows: list[dict], *, add: bool = True) -> None:
    """Write the rows in one statement, inserted when their key is missing; else each row's counts
    are added to the stored row's (`add`), or its values replace them."""
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(rows)
    values = [name for name in rows[0] if name not in keys]
    connection.execute(stmt.on_conflict_do_update(
        index_elements=keys, set_={name: table.c[name] + stmt.excluded[name] if add else stmt.excluded[name] for name in values}))


def month_bucket(state: str, due_on: dt.date) -> dt.date:
    """The due month a day tally adds to (AssignmentTallyMonth): the first of the month for open
    work with a due date, else NO_DUE (the class of other states does not depend on the day)."""
    return due_on.replace(day=1) if state == OPEN and due_on != NO_DUE else NO_DUE


def _unit_year_columns(state: str, due_on: dt.date) -> tuple[str, ...]:
    """The UnitYearTally columns a unit's own assignment counts in: none when cancelled or without
    a due date; open work in every cumulative column from its due month on."""
    if due_on == NO_DUE or state == CANCELLED:
        return ()
    return OPEN_BY_MONTH[due_on.month - 1:] if state == OPEN else (state,)


def _unit_year_rows(deltas: dict[tuple, int]) -> list[dict]:
    """The UnitYearTally changes (one row per unit and year, each column's delta) of `_changes`' deltas, in key order."""
    columns = ("on_time", "late", *OPEN_BY_MONTH)
    rows: dict[tuple, dict] = {}
    for (org_id, _action_id, state, due_on), n in deltas.items():
        for column in _unit_year_columns(state, due_on):
            row = rows.setdefault((org_id, due_on.year), {"organization_id": org_id, "year": due_on.year, **dict.fromkeys(columns, 0)})
            row[column] += n
    return [row for _, row in sorted(rows.items()) if any(row[c] for c in columns)]


def _note_rows(session: Session) -> tuple[list[dict], list[int]]:
    """The NoteSearch rows to write (assignments with a note, new or changed in what the row holds)
    and the ids whose row goes (the note was cleared), in id order."""
    written, cleared = {}, set()
    watched = ("search_key", *_TRACKED)
    for obj in session.new | session.dirty:
        if not isinstance(obj, Assignment) or obj in session.deleted:
            continue
        state = inspect(obj)
        if obj not in session.new and not any(state.attrs[name].history.has_changes() for name in watched):
            continue
        if obj.search_key:
            written[obj.id] = {"assignment_id": obj.id, "action_id": obj.action_id, "organization_id": obj.organization_id,
                               "state": state_of(obj.status, obj.due_date, obj.completed_on), "due_on": obj.due_date or NO_DUE,
                               "search_key": obj.search_key}
        elif obj not in session.new:
            cleared.add(obj.id)
    cleared |= {obj.id for obj in session.deleted if isinstance(obj, Assignment)}
    return [written[key] for key in sorted(written)], sorted(cleared)


def _keep_notes(session: Session) -> None:
    rows, cleared = _note_rows(session)
    if cleared:
        session.connection().execute(delete(NoteSearch).where(NoteSearch.assignment_id.in_(cleared)))
    if rows:
        _upsert(session, NoteSearch.__table__, ["assignment_id"], rows, add=False)


@event.listens_for(Session, "after_flush")
def _keep(session: Session, _context) -> None:
    _keep_notes(session)
    deltas = _changes(session)
    if not deltas:
        return
    above = nodes_above({org_id for org_id, *_ in deltas}, session)
    per_node: dict[tuple, int] = defaultdict(int)
    for (org_id, action_id, state, due_on), n in deltas.items():
        for node in above.get(org_id, {org_id}) | {EVERYTHING, -action_id}:
            per_node[(node, state, due_on)] += n
    # Sorted, so that concurrent transactions lock the rows in one order (no deadlocks).
    rows = [{"node_id": node, "state": state, "due_on": due_on, "n": n}
            for (node, state, due_on), n in sorted(per_node.items()) if n]
    if rows:
        _upsert(session, AssignmentTally.__table__, ["node_id", "state", "due_on"], rows)
    per_month: dict[tuple, int] = defaultdict(int)
    for (node, state, due_on), n in per_node.items():
        per_month[(node, state, month_bucket(state, due_on))] += n
    rows = [{"node_id": node, "state": state, "due_month": month, "n": n} for (node, state, month), n in sorted(per_month.items()) if n]
    if rows:
        _upsert(session, AssignmentTallyMonth.__table__, ["node_id", "state", "due_month"], rows)
    rows = _unit_year_rows(deltas)
    if rows:
        _upsert(session, UnitYearTally.__table__, ["organization_id", "year"], rows)


def rebuild(nodes: set[int] | None = None) -> None:
    """Recount the tallies from the assignments, set-based: all of them (about 10 s at a million on
    the 2-core machine), or only those of the given organisations' scopes. For writes that bypass
    the ORM, and after a reorganisation changed the tree or the lineage (which also calls
    `rebuild_units` for the units whose own work moved)."""
    session = db.session
    table = AssignmentTally.__table__
    if session.get_bind().dialect.name == "postgresql":
        # Writers wait until this transaction ends, so that no change slips between delete and insert.
        session.execute(text("LOCK TABLE assignment_tally, assignment_tally_month, unit_year_tally, note_search IN SHARE ROW EXCLUSIVE MODE"))
    state = _state_sql(Assignment.status, Assignment.due_date, Assignment.completed_on).label("state")
    due_on = func.coalesce(Assignment.due_date, NO_DUE).label("due_on")
    columns = ["node_id", "state", "due_on", "n"]
    starts = select(Organization.id.label("node"), Organization.id.label("member"))
    if nodes is None:
        session.execute(delete(AssignmentTally))
        for node in (literal(EVERYTHING), -Assignment.action_id):  # the whole, and each action's work
            node = node.label("node")
            session.execute(table.insert().from_select(
                columns, select(node, state, due_on, func.count()).select_from(Assignment).group_by(node, state, due_on)))
    else:
        organizations = sorted(n for n in nodes if n > 0)
        if not organizations:
            return
        session.execute(delete(AssignmentTally).where(AssignmentTally.node_id.in_(organizations)))
        starts = starts.where(Organization.id.in_(organizations))
    below = _members(starts)
    session.execute(table.insert().from_select(
        columns,
        select(below.c.node, state, due_on, func.count())
        .select_from(below).join(Assignment, Assignment.organization_id == below.c.member)
        .group_by(below.c.node, state, due_on)
        # Written in key order: a node's rows lie together, so that reading a level of the tree touches few pages.
        .order_by(below.c.node, state, due_on),
    ))
    _rebuild_months(None if nodes is None else organizations)
    if nodes is None:
        rebuild_units(None)


def _rebuild_months(nodes: list[int] | None) -> None:
    """The month tallies of these nodes (all when None), summed from their day tallies."""
    t, months = AssignmentTally, AssignmentTallyMonth
    bucket = case((and_(t.state == OPEN, t.due_on != NO_DUE), month_start(t.due_on)), else_=literal(NO_DUE)).label("due_month")  # as month_bucket
    rows = select(t.node_id, t.state, bucket, func.sum(t.n)).group_by(t.node_id, t.state, bucket).order_by(t.node_id, t.state, bucket)
    wipe = delete(months)
    if nodes is not None:
        rows = rows.where(t.node_id.in_(nodes))
        wipe = wipe.where(months.node_id.in_(nodes))
    db.session.execute(wipe)
    db.session.execute(months.__table__.insert().from_select(["node_id", "state", "due_month", "n"], rows))


def rebuild_units(units: set[int] | None) -> None:
    """Recount the yearly tallies of these units' own work (all when None) from the assignments,
    and write their work's NoteSearch rows again."""
    state = _state_sql(Assignment.status, Assignment.due_date, Assignment.completed_on)
    month = month_of(Assignment.due_date)
    year = year_of(Assignment.due_date).label("year")

    def counted(condition):
        return func.sum(case((condition, 1), else_=0))

    rows = (select(Assignment.organization_id, year, counted(state == ON_TIME), counted(state == LATE),
                   *(counted(and_(state == OPEN, month <= m)) for m in range(1, 13)))
            .where(Assignment.due_date.is_not(None), state != CANCELLED)
            .group_by(Assignment.organization_id, year))
    notes = select(Assignment.id, Assignment.action_id, Assignment.organization_id, state, func.coalesce(Assignment.due_date, NO_DUE),
                   Assignment.search_key).where(Assignment.search_key != "")
    wipe, wipe_notes = delete(UnitYearTally), delete(NoteSearch)
    if units is not None:
        if not units:
            return
        rows = rows.where(Assignment.organization_id.in_(sorted(units)))
        notes = notes.where(Assignment.organization_id.in_(sorted(units)))
        wipe = wipe.where(UnitYearTally.organization_id.in_(sorted(units)))
        wipe_notes = wipe_notes.where(NoteSearch.organization_id.in_(sorted(units)))
    db.session.execute(wipe)
    db.session.execute(UnitYearTally.__table__.insert().from_select(["organization_id", "year", "on_time", "late", *OPEN_BY_MONTH], rows))
    db.session.execute(wipe_notes)
    db.session.execute(NoteSearch.__table__.insert().from_select(
        ["assignment_id", "action_id", "organization_id", "state", "due_on", "search_key"], notes.order_by(Assignment.id)))


def rebuild_after_reorganization(before: dict[int, set[int]], transfers: list[tuple[int, int]]) -> None:
    """Recount only the nodes a reorganisation changed: those that gained or lost an organisation
    (a move, a merge's lineage), and those between the two ends of each transfer of work; and the
    yearly tallies of the units whose own work was transferred. `before` is `nodes_above()` taken
    before the reorganisation."""
    after = nodes_above()
    changed: set[int] = set()
    for org, above in after.items():
        changed |= above ^ before.get(org, set())
    for source, target in transfers:
        changed |= after.get(source, {source}) ^ after.get(target, {target})
    rebuild(changed)
    rebuild_units({org for transfer in transfers for org in transfer})


def recount() -> dict[tuple, int]:
    """What the tallies should hold, counted from the assignments (for checks; zero rows left out):
    keys ("day", node, state, due_on), ("month", node, state, due_month), ("unit_year", unit, year, column)
    and ("note", assignment, action, unit, state, due_on, search_key)."""
    below = _members(select(Organization.id.label("node"), Organization.id.label("member")))
    days: dict[tuple, int] = defaultdict(int)
    rows = db.session.execute(
        select(below.c.node, Assignment.status, Assignment.due_date, Assignment.completed_on)
        .join(Assignment, Assignment.organization_id == below.c.member))
    for node, status, due_date, completed_on in rows:
        days[(node, state_of(status, due_date, completed_on), due_date or NO_DUE)] += 1
    counts: dict[tuple, int] = defaultdict(int)
    everything = select(Assignment.organization_id, Assignment.action_id, Assignment.status, Assignment.due_date, Assignment.completed_on)
    for org_id, action_id, status, due_date, completed_on in db.session.execute(everything):
        state = state_of(status, due_date, completed_on)
        for node in (EVERYTHING, -action_id):
            days[(node, state, due_date or NO_DUE)] += 1
        for column in _unit_year_columns(state, due_date or NO_DUE):
            counts[("unit_year", org_id, due_date.year, column)] += 1
    for row in db.session.execute(select(Assignment.id, Assignment.action_id, Assignment.organization_id, Assignment.status,
                                         Assignment.due_date, Assignment.completed_on, Assignment.search_key)
                                  .where(Assignment.search_key != "")):
        assignment_id, action_id, org_id, status, due_date, completed_on, key = row
        counts[("note", assignment_id, action_id, org_id, state_of(status, due_date, completed_on), due_date or NO_DUE, key)] = 1
    for (node, state, due_on), n in days.items():
        counts[("day", node, state, due_on)] += n
        counts[("month", node, state, month_bucket(state, due_on))] += n
    return dict(counts)


def stored() -> dict[tuple, int]:
    """What the tallies hold, keyed as `recount` counts them (zero rows left out)."""
    found = {("day", node, state, due_on): n for node, state, due_on, n in db.session.execute(
        select(AssignmentTally.node_id, AssignmentTally.state, AssignmentTally.due_on, AssignmentTally.n)
        .where(AssignmentTally.n != 0))}
    found.update({("month", node, state, month): n for node, state, month, n in db.session.execute(
        select(AssignmentTallyMonth.node_id, AssignmentTallyMonth.state, AssignmentTallyMonth.due_month, AssignmentTallyMonth.n)
        .where(AssignmentTallyMonth.n != 0))})
    columns = ("on_time", "late", *OPEN_BY_MONTH)
    for row in db.session.execute(select(UnitYearTally.organization_id, UnitYearTally.year,
                                         *(UnitYearTally.__table__.c[c] for c in columns))):
        org_id, year, *values = row
        found.update({("unit_year", org_id, year, column): n for column, n in zip(columns, values, strict=True) if n})
    n = NoteSearch
    found.update({("note", *row): 1 for row in db.session.execute(
        select(n.assignment_id, n.action_id, n.organization_id, n.state, n.due_on, n.search_key))})
    return found


# --- reading them -------------------------------------------------------------------------------


def _class_condition(task_class: TaskClass | None, as_of: dt.date, tally=AssignmentTally):
    """The tally rows of one class as of `as_of` (of `tally`: the table, or a subquery's columns)."""
    t = tally
    if task_class is None:
        return literal(True)
    return {
        TaskClass.COMPLETED_ON_TIME: t.state == ON_TIME,
        TaskClass.COMPLETED_LATE: t.state == LATE,
        TaskClass.NO_DEADLINE: and_(t.state == OPEN, t.due_on == NO_DUE),
        TaskClass.IN_PROGRESS_ON_TIME: and_(t.state == OPEN, t.due_on >= as_of, t.due_on < NO_DUE),
        TaskClass.OVERDUE: and_(t.state == OPEN, t.due_on < as_of),
    }[task_class]


def _as_of_month(as_of: dt.date, nodes):
    """The tallies of the nodes `nodes(column)` selects, from the fewest rows that classify them as of
    `as_of` (a subquery: node_id, state, due_on, n): the month rows, except open work due in the
    month of `as_of`, which comes from the day rows (whether it is overdue depends on the day). A
    month row's `due_on` is its month's first day: before `as_of`'s month is before `as_of`, after
    it is after, so `_class_condition` reads both kinds alike."""
    m, t = AssignmentTallyMonth, AssignmentTally
    first = as_of.replace(day=1)
    following = NO_DUE if first.year == NO_DUE.year and first.month == 12 else (first + dt.timedelta(days=32)).replace(day=1)
    months = select(m.node_id, m.state, m.due_month.label("due_on"), m.n).where(nodes(m.node_id), or_(m.state != OPEN, m.due_month != first))
    days = select(t.node_id, t.state, t.due_on, t.n).where(nodes(t.node_id), t.state == OPEN, t.due_on >= first, t.due_on < following)
    return union_all(months, days).subquery("tallied")


def scope_node(principal: Principal) -> int | None:
    """The one node whose tally is the principal's scope, or None when it is not one node."""
    if principal.is_admin:
        return EVERYTHING
    roots = principal.subtree_roots
    if not roots:
        return None
    above = nodes_above(roots | principal.own_organizations)
    # Roots inside another root's scope add nothing; officers' own units must lie inside a root's too.
    outer = {r for r in roots if not (above.get(r, {r}) - {r}) & roots}
    if len(outer) != 1:
        return None
    (node,) = outer
    if any(node not in above.get(o, {o}) for o in principal.own_organizations):
        return None
    return node


def _classes_condition(classes: list[TaskClass] | None, as_of: dt.date, tally=AssignmentTally):
    """Any of the classes (they are disjoint, so the sum over them is exact); every state for None."""
    if classes is None:
        return literal(True)
    return or_(*(_class_condition(task_class, as_of, tally) for task_class in classes))


def total(principal: Principal, *, as_of: dt.date, classification: FilterValues = None, organization_id: FilterValues = None,
          include_descendants: bool = False, **filters) -> int | None:
    """The exact number of assignments the /assignments filters select, from the tallies; None when
    the tallies cannot answer (see the module's docstring) and the caller must count. Several
    classes are summed; several organisations with their subtrees are summed over the outermost of
    them (the others lie inside their subtrees, and distinct subtrees of a tree do not overlap)."""
    q = filters.pop("q", None)
    if any(value not in (None, False, "", [], ()) for value in filters.values()):
        return None
    classes = [TaskClass(c) for c in filter_values(classification)] if classification else None
    organization_ids = filter_values(organization_id)
    if q:
        if organization_ids is not None or scope_node(principal) != EVERYTHING:
            return None
        return _search_total(q, classes, as_of)
    if organization_ids is not None:
        if not include_descendants:
            return None
        above = nodes_above(set(organization_ids))
        nodes = sorted({n for n in organization_ids if not (above.get(n, {n}) - {n}) & set(organization_ids)})
        scope = scope_node(principal)
        if scope is None or (scope != EVERYTHING and any(scope not in above.get(n, set()) for n in nodes)):
            return None
        if db.session.scalar(select(exists().where(OrganizationLink.id.is_not(None)))):
            return None
    else:
        node = scope_node(principal)
        if node is None:
            return None
        nodes = [node]
    latest_completion = select(func.max(Assignment.completed_on)).scalar_subquery()
    tallied = _as_of_month(as_of, lambda column: any_of(column, nodes))
    summed = select(func.coalesce(func.sum(tallied.c.n), 0)).where(_classes_condition(classes, as_of, tallied.c)).scalar_subquery()
    latest, counted = db.session.execute(select(latest_completion, summed)).one()
    if latest is not None and latest > as_of:
        return None
    return int(counted)


def _search_total(q: str, classes: list[TaskClass] | None, as_of: dt.date) -> int | None:
    """Everything's work matching `q`: that of the matching actions from their tallies, plus a COUNT
    of the rest matching by organisation or note (the same conditions as `apply_filters`)."""
    pattern = like_pattern(q)
    actions = select(Action.id).where(Action.search_key.like(pattern, escape="\\"))
    latest_completion = select(func.max(Assignment.completed_on)).scalar_subquery()
    tallied = _as_of_month(as_of, lambda column: column.in_(select(-Action.id).where(Action.search_key.like(pattern, escape="\\"))))
    summed = select(func.coalesce(func.sum(tallied.c.n), 0)).where(_classes_condition(classes, as_of, tallied.c)).scalar_subquery()
    # The rest in two disjoint parts, each of which an index finds (a semi-join on the organisation,
    # the trigram index on the note): an OR of the two would scan every row.
    matching_units = select(Organization.id).where(Organization.search_key.like(pattern, escape="\\"))
    by_unit = select(func.count()).select_from(Assignment).where(
        Assignment.action_id.not_in(actions), Assignment.organization_id.in_(matching_units))
    # Notes are counted in their narrow table (NoteSearch), classified like the tallies.
    by_note = select(func.count()).select_from(NoteSearch).where(
        NoteSearch.action_id.not_in(actions), NoteSearch.organization_id.not_in(matching_units),
        NoteSearch.search_key.like(pattern, escape="\\"), _classes_condition(classes, as_of, NoteSearch))
    if classes is not None:
        by_unit = by_unit.where(or_(*(class_condition(task_class, Assignment.status, Assignment.due_date, Assignment.completed_on, as_of)
                                      for task_class in classes)))
    latest, counted, units, notes = db.session.execute(
        select(latest_completion, summed, by_unit.scalar_subquery(), by_note.scalar_subquery())).one()
    if latest is not None and latest > as_of:
        return None
    return int(counted) + int(units) + int(notes)


def due_soon_counts(node_ids: list[int], as_of: dt.date, days: int = DEFAULT_DUE_SOON_DAYS) -> dict[int, int]:
    """Each node's scope's open work due within `days` of `as_of` (`due_soon_condition`); only
    meaningful once `class_counts` answered for that day (no completion after it). One statement."""
    t = AssignmentTally
    window = t.due_on.between(as_of, as_of + dt.timedelta(days=days))
    return {node: int(n) for node, n in db.session.execute(
        select(t.node_id, func.sum(t.n)).where(t.node_id.in_(sorted(node_ids)), t.state == OPEN, window).group_by(t.node_id))}


def class_counts(node_ids: list[int], as_of: dt.date) -> dict[int, dict[str, int]] | None:
    """Each node's scope counted by class as of `as_of` (one statement), or None when the tallies
    cannot answer for that day (a completion after it). Cancelled work has no class."""
    t = _as_of_month(as_of, lambda column: column.in_(sorted(node_ids))).c
    task_class = case(*((_class_condition(c, as_of, t), literal(c.value)) for c in TaskClass), else_=None).label("class")
    latest = db.session.scalar(select(func.max(Assignment.completed_on)))
    if latest is not None and latest > as_of:
        return None
    counts: dict[int, dict[str, int]] = {node: {c.value: 0 for c in TaskClass} for node in node_ids}
    rows = db.session.execute(
        select(t.node_id, task_class, func.sum(t.n)).where(t.state != CANCELLED).group_by(t.node_id, task_class))
    for node, name, n in rows:
        if name is not None:
            counts[node][name] = int(n)
    return counts



def open_work(assignment=Assignment):
    """The condition of work in the state OPEN (neither cancelled nor completed with a date), as the tallies count it."""
    return and_(assignment.status != "cancelled", or_(assignment.status != "completed", assignment.completed_on.is_(None)))
