"""The Kim Động demo as it happened: the 2025 reform of Vietnam's local government.

From 1 July 2025 there are no more districts, and the communes of Hưng Yên (now with the former
Thái Bình) were merged into 104 new communes and wards (Nghị quyết số 1666/NQ-UBTVQH15). In the
demo tree this means, all effective 1 July 2025:

- Hưng Yên and its new communes and wards are imported (tracker.services.admin_units);
- each demo party committee of a former commune ("Đảng bộ xã Toàn Thắng") merges into the new
  commune that took in that commune, found by the package's old -> new mapping (a split between
  them if the old commune was divided); its members move with it;
- every other district body (Huyện ủy Kim Động and everything under it) closes on 30 June 2025,
  split between all the new units of the former district's area: the lineage links it to each
  of them, and its open work passes to the unit holding the former district seat (the commune
  that took in the district's thị trấn).

Every change is a dated reorganisation (tracker.services.reorganization): past reports keep the
old tree, open work is transferred with its history, completed work stays where it was done.
Applying it again does nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from sqlalchemy import func, select

from tracker.domain import admin_units
from tracker.domain.access import Principal
from tracker.domain.text import fold
from tracker.domain.vocabulary import AssignmentRole, OrganizationKind
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.models import Assignment, Organization, User
from tracker.services import clock, reorganization
from tracker.services.access import principal_of
from tracker.services.admin_units import VALID_FROM, import_admin_units
from tracker.services.reorganization import OPEN_STATUSES

PROVINCE = "Hưng Yên"
DISTRICT = "Kim Động"
DISTRICT_BODY = "HU-KD"  # the district party committee: the root of the district's bodies in the demo tree
EFFECTIVE_ON = VALID_FROM  # 1 July 2025; the district bodies' last day is 30 June 2025
DECISION = "Nghị quyết số 1666/NQ-UBTVQH15 về việc sắp xếp các đơn vị hành chính cấp xã của tỉnh Hưng Yên năm 2025"
DISTRICT_NOTE = ("Chính quyền địa phương hai cấp: đơn vị hành chính cấp huyện kết thúc hoạt động từ 01/7/2025 "
                 "(Luật Tổ chức chính quyền địa phương số 72/2025/QH15); công việc chuyển cho xã, phường trên địa bàn huyện cũ. "
                 "Two-level local government: the district ends; its work passes to the new communes of its area.")
COMMUNE_NOTE = "Sắp xếp đơn vị hành chính cấp xã. The former commune is merged into the new one."

# "Đảng bộ thị trấn Lương Bằng" -> "thi tran luong bang": a party body's name without its own kind.
_PARTY_PREFIX = re.compile(r"^(dang bo|chi bo|dang uy)\s+")


def _district_short(name: str | None) -> str:
    return re.sub(r"^(huyen|quan|thi xa|thanh pho)\s+", "", fold(name))


def _closing_order(root: Organization, first: Callable[[Organization], bool]) -> list[Organization]:
    """`root` and the open units under it, each after all its children (a closing unit may have no
    open child left). When two units pass the same year's duty to one successor, the reorganisation
    keeps the copy that arrives first and supersedes the other; so among the units ready to close,
    those for which `first` holds (a former commune's own party body) go first, then those holding fewer open
    yearly duties as coordinating unit (the lead's copy is the one to keep)."""
    bodies = {root.id: root}
    frontier = [root.id]
    while frontier:
        children = db.session.scalars(select(Organization).where(
            Organization.parent_id.in_(frontier), Organization.valid_to.is_(None))).all()
        bodies.update((child.id, child) for child in children)
        frontier = [child.id for child in children]
    coordinating = dict(db.session.execute(
        select(Assignment.organization_id, func.count()).where(
            Assignment.organization_id.in_(list(bodies)), Assignment.cycle != 0,
            Assignment.role == AssignmentRole.COORDINATING, Assignment.status.in_(OPEN_STATUSES))
        .group_by(Assignment.organization_id)).all())
    waiting = {org_id: 0 for org_id in bodies}
    for org in bodies.values():
        if org.id != root.id:
            waiting[org.parent_id] += 1
    ready = [org for org in bodies.values() if waiting[org.id] == 0]
    early = {org_id for org_id, org in bodies.items() if first(org)}
    order = []
    while ready:
        ready.sort(key=lambda o: (o.id not in early, coordinating.get(o.id, 0), o.code))
        org = ready.pop(0)
        order.append(org)
        if org.id != root.id:
            waiting[org.parent_id] -= 1
            if waiting[org.parent_id] == 0:
                ready.append(bodies[org.parent_id])
    return order


def _former_communes(province: admin_units.AdminUnit, new_units: list[admin_units.AdminUnit]) -> dict[str, list[tuple]]:
    """Former communes of the district, by folded name: [(new unit, FormerUnit), ...]."""
    by_name: dict[str, list[tuple]] = {}
    for unit in new_units:
        for old in admin_units.former_units_of(unit, province):
            if old.kind != "district" and _district_short(old.district) == _district_short(DISTRICT):
                by_name.setdefault(fold(old.name), []).append((unit, old))
    return by_name


def _commune_of(org: Organization, former: dict[str, list[tuple]]) -> list[admin_units.AdminUnit]:
    """The new units that took in the former commune whose party body `org` is (none: not a commune's)."""
    if org.kind not in (OrganizationKind.PARTY_CELL, OrganizationKind.PARTY_COMMITTEE):
        return []
    for name in (org.name, org.short_name):
        stripped = _PARTY_PREFIX.sub("", fold(name))
        if stripped != fold(name) and stripped in former:
            return [unit for unit, _ in former[stripped]]
    return []


def _seat(former: dict[str, list[tuple]]) -> admin_units.AdminUnit:
    """The new unit holding the former district seat: the one that took in the district's thị trấn."""
    seats = {unit for pairs in former.values() for unit, old in pairs if old.kind == "township"}
    if len(seats) != 1:
        raise ValidationFailed(f"Không xác định được nơi đặt trụ sở huyện {DISTRICT} (thị trấn): {len(seats)} đơn vị. "
                               "Cannot tell which new unit holds the former district seat.")
    return next(iter(seats))


def _principal(actor_id: int | None, today: dt.date) -> Principal:
    user = db.session.get(User, actor_id) if actor_id is not None else None
    if actor_id is not None and user is None:
        raise ValidationFailed(errors={"actor_id": ["Không có người dùng này. No such user."]})
    return principal_of(user, today) if user is not None else Principal(None, frozenset())


def apply_kim_dong_reform(actor_id: int | None = None, *, today: dt.date | None = None) -> dict:
    """Record the reform in the demo tree (see the module's docstring). Flushes; the caller commits.

    Returns what it did; `applied` is False (and nothing is written) when the district bodies are
    already closed, i.e. the reform, or another closing of them, is already recorded.
    """
    district = db.session.scalar(select(Organization).where(Organization.code == DISTRICT_BODY))
    if district is None:
        raise ValidationFailed(f"Không có đơn vị {DISTRICT_BODY}: nạp kế hoạch Kim Động trước (seed-demo). Load the Kim Dong plan first (seed-demo).")
    if district.valid_to is not None:
        return {"applied": False, "district": DISTRICT_BODY, "closed_on": district.valid_to,
                "successor_ids": [district.successor_id] if district.successor_id else []}
    today = today or clock.today()
    principal = _principal(actor_id, today)

    imported = import_admin_units(PROVINCE)
    province = imported.province
    new_units = admin_units.units_from_former_district(province, DISTRICT)
    org_of = imported.organizations
    former = _former_communes(province, new_units)
    seat = _seat(former)
    # The seat first: a split names its first successor as the closed unit's `successor_id`.
    successor_ids = [org_of[u.code].id for u in sorted(new_units, key=lambda u: u != seat)]

    merged, split, totals = [], [], {"transferred": 0, "superseded": 0, "cancelled": 0, "memberships_moved": 0}
    reorganizations = []
    for body in _closing_order(district, lambda org: bool(_commune_of(org, former))):
        communes = _commune_of(body, former)
        common = {"effective_on": EFFECTIVE_ON, "decision": DECISION}
        if len(communes) == 1:
            target = org_of[communes[0].code]
            done = reorganization.reorganize(principal, {
                **common, "kind": "merge", "note": COMMUNE_NOTE, "predecessor_ids": [body.id], "successor_id": target.id,
                "move_memberships": True,
            }, today=today)
            merged.append({"code": body.code, "into": target.code})
        elif communes:  # the former commune was divided: the new unit with the lowest code takes its open work
            ids = [org_of[u.code].id for u in communes]
            done = reorganization.reorganize(principal, {
                **common, "kind": "split", "note": COMMUNE_NOTE, "organization_id": body.id, "successor_ids": ids,
                "default_successor_id": ids[0],
            }, today=today)
            split.append({"code": body.code, "into": [org_of[u.code].code for u in communes], "open_work_to": org_of[communes[0].code].code})
        else:
            done = reorganization.reorganize(principal, {
                **common, "kind": "split", "note": DISTRICT_NOTE, "organization_id": body.id, "successor_ids": successor_ids,
                "default_successor_id": org_of[seat.code].id,
            }, today=today)
            split.append({"code": body.code, "into": [org_of[u.code].code for u in new_units], "open_work_to": org_of[seat.code].code})
        reorganizations.append(done.id)
        outcome = done.outcome or {}
        totals["transferred"] += outcome.get("transferred_total", 0)
        totals["superseded"] += outcome.get("superseded", 0)
        totals["cancelled"] += outcome.get("cancelled", 0)
        totals["memberships_moved"] += outcome.get("memberships_moved", 0)
    db.session.flush()
    return {
        "applied": True,
        "effective_on": EFFECTIVE_ON,
        "decision": DECISION,
        "admin_units": imported.as_dict(),
        "new_units": [{"code": org_of[u.code].code, "admin_code": u.code, "name": u.name} for u in new_units],
        "seat": org_of[seat.code].code,
        "merged": merged,
        "split": split,
        "reorganization_ids": reorganizations,
        **totals,
    }
