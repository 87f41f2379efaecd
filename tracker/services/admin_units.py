"""Import a province's official administrative units (since 1 July 2025) as organisations.

The province and each of its communes, wards and special zones become one organisation:
`code` DVHC-<official code>, `admin_code` the official code, the name exactly as the package
(tracker.domain.admin_units) gives it, communes under the province, first day 1 July 2025.
Rows are matched by `admin_code`, so running it again creates nothing. Units that a
reorganisation has since changed (closed, renamed, moved) are left as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from tracker.domain import admin_units
from tracker.domain.admin_units import AdminUnit, FormerUnit
from tracker.domain.vocabulary import OrganizationKind
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.models import Organization, OrganizationLink, OrganizationVersion
from tracker.services.organizations import refresh_search_key

# The first day of the two-level local government (no more districts).
VALID_FROM = dt.date(2025, 7, 1)
CODE_PREFIX = "DVHC-"

# The package's kinds of unit -> the tracker's organisation kinds. Communes, wards and special
# zones are all of the commune level ("Xã, phường"); the name says which one a unit is.
KINDS = {
    "province": OrganizationKind.PROVINCE.value,
    "commune": OrganizationKind.COMMUNE.value,
    "ward": OrganizationKind.COMMUNE.value,
    "special_zone": OrganizationKind.COMMUNE.value,
}


class UnknownProvince(LookupError):
    """No such province since 1 July 2025 (the message says why, with close names)."""


@dataclass
class AdminUnitsResult:
    province: AdminUnit
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reorganised: int = 0  # matched, but changed by a reorganisation since: left as it is
    # Organisations by official code (the province's too), and the units each commune was formed from.
    organizations: dict[str, Organization] = field(default_factory=dict)
    units: list[AdminUnit] = field(default_factory=list)
    former: dict[str, list[FormerUnit]] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)  # official code -> created/updated/unchanged/reorganised

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.reorganised

    def as_dict(self) -> dict:
        return {"province": {"code": self.province.code, "name": self.province.name}, "created": self.created,
                "updated": self.updated, "unchanged": self.unchanged, "reorganised": self.reorganised, "total": self.total}


def org_code(unit: AdminUnit) -> str:
    return f"{CODE_PREFIX}{unit.code}"


def _reorganised_ids(ids: list[int]) -> set[int]:
    """Organisations among `ids` that a reorganisation closed, renamed, moved or linked."""
    if not ids:
        return set()
    found = set(db.session.scalars(select(OrganizationVersion.organization_id).where(
        OrganizationVersion.organization_id.in_(ids), OrganizationVersion.reorganization_id.is_not(None))))
    found |= set(db.session.scalars(select(OrganizationLink.predecessor_id).where(OrganizationLink.predecessor_id.in_(ids))))
    found |= set(db.session.scalars(select(Organization.id).where(Organization.id.in_(ids), Organization.valid_to.is_not(None))))
    return found


def import_admin_units(province_name: str, *, parent_code: str | None = None, valid_from: dt.date = VALID_FROM) -> AdminUnitsResult:
    """Create or update the province `province_name` and its communes as organisations.

    `parent_code`: the organisation the province sits under (default: none, a root; an existing
    province is then left where it is). Raises UnknownProvince, ValidationFailed (unknown parent) or
    Conflict (a DVHC- code held by another unit) before writing anything. Flushes; the caller commits.
    """
    try:
        province = admin_units.find_province(province_name)
    except LookupError as exc:
        raise UnknownProvince(str(exc)) from None
    units = [province, *admin_units.communes_of(province)]
    parent = None
    if parent_code is not None:
        parent = db.session.scalar(select(Organization).where(Organization.code == parent_code))
        if parent is None:
            raise ValidationFailed(f"Không có đơn vị {parent_code}. No organisation with code {parent_code}.",
                                   errors={"parent_code": ["Không có đơn vị này. No such organisation."]})

    codes = [u.code for u in units]
    existing = {o.admin_code: o for o in db.session.scalars(select(Organization).where(Organization.admin_code.in_(codes)))}
    wanted_codes = [org_code(u) for u in units if u.code not in existing]
    taken = db.session.scalars(select(Organization.code).where(Organization.code.in_(wanted_codes))).all() if wanted_codes else []
    if taken:
        raise Conflict(f"Mã đơn vị đã dùng cho đơn vị khác: {', '.join(sorted(taken))}. These codes are held by other organisations.",
                       code="organization.code_taken")
    if parent is not None and province.code in existing and parent.id == existing[province.code].id:
        raise ValidationFailed(errors={"parent_code": ["Tỉnh không thể trực thuộc chính nó. The province cannot be its own parent."]})
    reorganised = _reorganised_ids([o.id for o in existing.values()])

    result = AdminUnitsResult(province=province, units=units)
    for unit in units:
        is_province = unit is province
        if is_province:
            parent_id = parent.id if parent is not None else (existing[unit.code].parent_id if unit.code in existing else None)
        else:
            parent_id = result.organizations[province.code].id
        wanted = {"name": unit.name, "short_name": None, "kind": KINDS[unit.kind], "parent_id": parent_id}
        org = existing.get(unit.code)
        if org is None:
            org = Organization(code=org_code(unit), admin_code=unit.code, valid_from=valid_from, is_demo=False, **wanted)
            refresh_search_key(org)
            db.session.add(org)
            db.session.flush()
            outcome = "created"
        elif org.id in reorganised:
            outcome = "reorganised"
        elif any(getattr(org, key) != value for key, value in wanted.items()):
            for key, value in wanted.items():
                setattr(org, key, value)
            refresh_search_key(org)
            db.session.flush()
            outcome = "updated"
        else:
            outcome = "unchanged"
        setattr(result, outcome, getattr(result, outcome) + 1)
        result.outcomes[unit.code] = outcome
        result.organizations[unit.code] = org
        if not is_province:
            result.former[unit.code] = admin_units.former_units_of(unit, province)
    return result


def describe_former(unit: FormerUnit) -> str:
    """One former unit for people: "Xã Ngọc Thanh (Huyện Kim Động, Tỉnh Hưng Yên; một phần)"."""
    where = ", ".join(filter(None, (unit.district, unit.province)))
    part = "; một phần / part" if unit.partial else ""
    return f"{unit.name} ({where}{part})" if where or part else unit.name
