"""Scope in SQL: the organisations whose work a principal may see, as a subquery for filters.

List queries are filtered in the database with `visible_organizations`, never after fetching;
single objects outside the scope answer 404 so that their existence does not leak.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ARRAY, ColumnElement, Integer, Select, any_, bindparam, false, literal, literal_column, select, true

from tracker.domain.access import Principal
from tracker.extensions import db
from tracker.models import Organization, User
from tracker.services import clock
from tracker.services.org_tree import scope_ids


def principal_of(user: User, today: dt.date | None = None) -> Principal:
    """The user as the rules see them; memberships in organisations closed before `today` (default:
    today in the plan's zone) are read-only. The memberships' organisations are loaded with the user."""
    today = today or clock.today()
    closed = frozenset(m.organization_id for m in user.memberships if m.organization.closed_by(today))
    return Principal(user.id, frozenset((m.organization_id, m.role) for m in user.memberships), closed)


def subtree_ids(root_ids: set[int]) -> Select:
    """Ids of the given organisations and all their descendants (a recursive CTE)."""
    tree = select(Organization.id).where(Organization.id.in_(sorted(root_ids))).cte(recursive=True)
    tree = tree.union(select(Organization.id).where(Organization.parent_id == tree.c.id))
    return select(tree.c.id)


def ancestor_ids(org_id: int) -> list[int]:
    """The organisation's ancestors, nearest first."""
    up = select(Organization.parent_id.label("id"), literal(1).label("depth")).where(Organization.id == org_id).cte("up", recursive=True)
    up = up.union(select(Organization.parent_id, up.c.depth + 1).where(Organization.id == up.c.id))
    rows = db.session.execute(select(up.c.id).where(up.c.id.is_not(None)).order_by(up.c.depth)).scalars()
    return list(rows)


# On SQLite, a list of at least this many units is matched without the unit's index (see in_ids).
SQLITE_UNIT_INDEX_UP_TO = 12


def in_ids(column, ids: list[int]) -> ColumnElement[bool]:
    """`column IN ids`: one array parameter on PostgreSQL (`= ANY`), an IN list elsewhere. On
    SQLite, whose planner has no statistics, a long list (a district's subtree) is written
    `column + 0 IN (...)`, which SQLite cannot look up by index: a list page then walks the
    due-date index and stops at the page instead of sorting every row of those units (a district
    leader's first page at 100,000 assignments: 135 -> 15 ms)."""
    if not ids:
        return false()
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("scope_ids", sorted(ids), type_=ARRAY(Integer), unique=True))
    if len(ids) >= SQLITE_UNIT_INDEX_UP_TO:
        return (column + literal_column("0")).in_(sorted(ids))
    return column.in_(sorted(ids))


def visible_organizations(principal: Principal, org_column) -> ColumnElement[bool]:
    """A WHERE clause: `org_column` is an organisation whose work the principal may see."""
    if principal.is_admin:
        return true()
    clauses = []
    if principal.own_organizations:
        clauses.append(org_column.in_(sorted(principal.own_organizations)))
    if principal.subtree_roots:
        # Their subtrees, and the units these took over from: a successor's leaders read the history.
        # Read first (one statement), so that the planner sees how few they are: a recursive CTE
        # inside a list query is estimated at thousands of units and turns an index walk into a sort.
        clauses.append(in_ids(org_column, db.session.scalars(scope_ids(principal.subtree_roots)).all()))
    if not clauses:
        return false()
    return clauses[0] if len(clauses) == 1 else clauses[0] | clauses[1]


def approvable_organizations(principal: Principal, org_column) -> ColumnElement[bool]:
    """A WHERE clause: organisations whose work this principal approves (leaders over them, admins)."""
    if principal.is_admin:
        return true()
    leader_of = principal.writable_organizations_with("leader")
    return org_column.in_(subtree_ids(leader_of)) if leader_of else false()
