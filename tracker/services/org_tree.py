"""The organisation tree on a given day, and lineage across reorganisations.

A report as of day D groups by the names and parents valid on D (OrganizationVersion) and counts
each assignment where it was on D (its holder: the unit that held it before any transfer dated
after D). Everything here is a fixed number of SQL statements, whatever the size of the tree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, union_all

from tracker.extensions import db
from tracker.models import Assignment, AssignmentTransfer, Organization, OrganizationLink, OrganizationVersion


def valid_on(day: dt.date, valid_from, valid_to) -> ColumnElement[bool]:
    """A WHERE clause: the [valid_from, valid_to] range (inclusive, NULL open) holds `day`."""
    return and_(or_(valid_from.is_(None), valid_from <= day), or_(valid_to.is_(None), valid_to >= day))


def exists_on(day: dt.date) -> ColumnElement[bool]:
    """A WHERE clause: the organisation existed on `day`."""
    return valid_on(day, Organization.valid_from, Organization.valid_to)


def versions_on(day: dt.date):
    """The version of each organisation valid on `day` (a subquery: organization_id, name, short_name, parent_id)."""
    return (
        select(OrganizationVersion.organization_id, OrganizationVersion.name, OrganizationVersion.short_name,
               OrganizationVersion.parent_id)
        .where(valid_on(day, OrganizationVersion.valid_from, OrganizationVersion.valid_to))
        .subquery("version_on")
    )


@dataclass(frozen=True)
class Node:
    id: int
    code: str
    name: str
    short_name: str | None
    kind: str
    parent_id: int | None


def tree_on(day: dt.date, ids: Select | list[int] | None = None) -> dict[int, Node]:
    """Every organisation that existed on `day` (or those of `ids`), with its name and parent of that day. One statement."""
    version = versions_on(day)
    stmt = (
        select(Organization.id, Organization.code, version.c.name, version.c.short_name, Organization.kind, version.c.parent_id)
        .join(version, version.c.organization_id == Organization.id)
        .where(exists_on(day))
    )
    if ids is not None:
        stmt = stmt.where(Organization.id.in_(ids))
    return {row[0]: Node(*row) for row in db.session.execute(stmt)}


def subtree_on(root_ids: set[int], day: dt.date) -> Select:
    """Ids of the given organisations and their descendants in the tree of `day` (a recursive CTE)."""
    version = select(OrganizationVersion.organization_id, OrganizationVersion.parent_id).where(
        valid_on(day, OrganizationVersion.valid_from, OrganizationVersion.valid_to)).cte("tree_edges")
    tree = select(version.c.organization_id.label("id")).where(version.c.organization_id.in_(sorted(root_ids))).cte(
        "subtree_on", recursive=True)
    tree = tree.union(select(version.c.organization_id).where(version.c.parent_id == tree.c.id))
    return select(tree.c.id)


def ancestors_on(org_id: int, day: dt.date) -> list[int]:
    """The organisation's ancestors in the tree of `day`, nearest first."""
    edges = select(OrganizationVersion.organization_id, OrganizationVersion.parent_id).where(
        valid_on(day, OrganizationVersion.valid_from, OrganizationVersion.valid_to)).cte("edges")
    up = select(edges.c.parent_id.label("id"), literal(1).label("depth")).where(edges.c.organization_id == org_id).cte(
        "up_on", recursive=True)
    up = up.union(select(edges.c.parent_id, up.c.depth + 1).where(edges.c.organization_id == up.c.id))
    return list(db.session.scalars(select(up.c.id).where(up.c.id.is_not(None)).order_by(up.c.depth)))


def holder_on(day: dt.date) -> ColumnElement[int]:
    """The column expression for the organisation that held each assignment on `day`: the unit it
    was transferred from by the first transfer dated after `day`, else the one that holds it now.
    When no transfer is dated after `day` (any report as of today) it is simply the column."""
    later = db.session.scalar(select(exists().where(AssignmentTransfer.effective_on > day)))
    if not later:
        return Assignment.organization_id
    first_later = (
        select(AssignmentTransfer.from_organization_id)
        .where(AssignmentTransfer.assignment_id == Assignment.id, AssignmentTransfer.effective_on > day)
        .order_by(AssignmentTransfer.effective_on, AssignmentTransfer.id)
        .limit(1)
        .correlate(Assignment)
        .scalar_subquery()
    )
    return func.coalesce(first_later, Assignment.organization_id)


# --- lineage -----------------------------------------------------------------------------------


def scope_edges(name: str = "scope_edges"):
    """The edges of scope (a CTE of child, parent): child to parent in the current tree, and
    predecessor to successor in the lineage. A unit's scope is every unit that reaches it."""
    return union_all(
        select(Organization.id.label("child"), Organization.parent_id.label("parent")).where(Organization.parent_id.is_not(None)),
        select(OrganizationLink.predecessor_id, OrganizationLink.successor_id),
    ).cte(name)


def scope_ids(root_ids: set[int]) -> Select:
    """Ids of the given organisations, their descendants in the current tree, and (recursively)
    the predecessors of all of these with their own subtrees: whose work a leader or viewer of
    the roots reads. A successor's leaders read the history of the units it took over from."""
    edges = scope_edges()
    tree = select(Organization.id.label("id")).where(Organization.id.in_(sorted(root_ids))).cte("scope", recursive=True)
    tree = tree.union(select(edges.c.child).where(edges.c.parent == tree.c.id))
    return select(tree.c.id)


def lineage_of(org_id: int) -> dict[str, list[dict]]:
    """Every predecessor and successor of an organisation, however many reorganisations back or
    forward, with the step that links each (two statements)."""

    def walk(start_column, next_column) -> list[dict]:
        step = select(OrganizationLink.id.label("link_id"), start_column.label("start"), next_column.label("node"),
                      literal(1).label("depth")).where(start_column == org_id).cte("lineage", recursive=True)
        step = step.union_all(
            select(OrganizationLink.id, start_column, next_column, step.c.depth + 1)
            .where(start_column == step.c.node, step.c.depth < 50)
        )
        rows = db.session.execute(
            select(step.c.depth, step.c.start, step.c.node, OrganizationLink.reorganization_id, OrganizationLink.effective_on,
                   Organization.code, Organization.name, Organization.valid_from, Organization.valid_to)
            .join(OrganizationLink, OrganizationLink.id == step.c.link_id)
            .join(Organization, Organization.id == step.c.node)
            .order_by(step.c.depth, OrganizationLink.effective_on, step.c.node)
        )
        seen, found = set(), []
        for depth, start, node, reorganization_id, effective_on, code, name, valid_from, valid_to in rows:
            if node in seen:
                continue
            seen.add(node)
            found.append({"organization_id": node, "code": code, "name": name, "valid_from": valid_from, "valid_to": valid_to,
                          "via_organization_id": start, "depth": depth, "reorganization_id": reorganization_id,
                          "effective_on": effective_on})
        return found

    return {
        "predecessors": walk(OrganizationLink.successor_id, OrganizationLink.predecessor_id),
        "successors": walk(OrganizationLink.predecessor_id, OrganizationLink.successor_id),
    }
