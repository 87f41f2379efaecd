"""Who may see and do what. Pure predicates over a Principal; services call them.

Scope: an admin sees everything; a leader or viewer of organisation X sees the work of X's
whole subtree (in SQL also the units X's subtree took over from in a reorganisation); an officer sees the work of the organisations they belong to. The same rule in
SQL (for lists) is `tracker.services.access.visible_organizations`, tested against this one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class MemberRole(StrEnum):
    ADMIN = "admin"
    LEADER = "leader"
    OFFICER = "officer"
    VIEWER = "viewer"


SUBTREE_ROLES = frozenset({MemberRole.LEADER, MemberRole.VIEWER})


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the rules see them: an id and (organisation id, role) pairs."""

    user_id: int
    memberships: frozenset[tuple[int, str]]
    # Organisations among the memberships that are closed (after valid_to): their members still
    # read, but no longer write, through those memberships.
    closed: frozenset[int] = frozenset()

    @property
    def is_admin(self) -> bool:
        return any(role == MemberRole.ADMIN for _, role in self.memberships)

    def organizations_with(self, *roles: str) -> set[int]:
        return {org_id for org_id, role in self.memberships if role in roles}

    def writable_organizations_with(self, *roles: str) -> set[int]:
        """Like organizations_with, without the closed organisations: what this principal may still change."""
        return self.organizations_with(*roles) - self.closed

    @property
    def only_closed(self) -> bool:
        """Every membership is in a closed organisation (and none is an admin's): read-only."""
        return bool(self.memberships) and not self.is_admin and {org_id for org_id, _ in self.memberships} <= self.closed

    @property
    def subtree_roots(self) -> set[int]:
        """Organisations whose whole subtree this principal sees."""
        return self.organizations_with(*SUBTREE_ROLES)

    @property
    def own_organizations(self) -> set[int]:
        """Organisations whose own work this principal sees as an officer."""
        return self.organizations_with(MemberRole.OFFICER)


def can_see_work_of(principal: Principal, org_id: int, ancestor_ids: Iterable[int]) -> bool:
    """Whether the principal may see assignments (and their evidence) of organisation `org_id`.

    `ancestor_ids` are the organisation's ancestors, nearest first.
    """
    if principal.is_admin:
        return True
    if org_id in principal.own_organizations:
        return True
    return bool(principal.subtree_roots & ({org_id} | set(ancestor_ids)))


def can_administer(principal: Principal) -> bool:
    """Users, organisations and plans are administered by admins only."""
    return principal.is_admin


def can_contribute_to(principal: Principal, org_id: int, ancestor_ids: Iterable[int]) -> bool:
    """Whether the principal may add to an organisation's work (report, upload evidence):
    its officers, leaders over it, and admins. Viewers only read."""
    if org_id in principal.own_organizations:
        return True
    return can_approve_for(principal, org_id, ancestor_ids)


def can_approve_for(principal: Principal, org_id: int, ancestor_ids: Iterable[int]) -> bool:
    """Leaders over an organisation (and admins) approve, return, cancel, assign and extend."""
    if principal.is_admin:
        return True
    return bool(principal.writable_organizations_with(MemberRole.LEADER) & ({org_id} | set(ancestor_ids)))


def can_withdraw_evidence(principal: Principal, uploaded_by_id: int, assignment_completed: bool) -> bool:
    """The uploader may withdraw before the assignment is approved; an admin at any time."""
    if principal.is_admin:
        return True
    return principal.user_id == uploaded_by_id and not assignment_completed
