"""The organisation tree: queries and administration (create, update, move, close)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager

from tracker.domain.text import fold, like_pattern
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.domain.access import Principal
from tracker.models import Membership, Organization, User
from tracker.services.access import visible_organizations
from tracker.services.filters import FilterValues, any_of, filter_values
from tracker.services.org_tree import exists_on, versions_on


def _columns(version=None) -> list:
    """The columns an organisation is shown with: current ones, or those of a version's day."""
    name = version.c.name if version is not None else Organization.name
    short_name = version.c.short_name if version is not None else Organization.short_name
    parent_id = version.c.parent_id if version is not None else Organization.parent_id
    return [Organization.id, Organization.code, name.label("name"), short_name.label("short_name"), Organization.kind,
            parent_id.label("parent_id"), Organization.valid_from, Organization.valid_to, Organization.successor_id,
            Organization.is_demo, Organization.admin_code]


def organizations_query(*, parent_id: FilterValues = None, roots: bool = False, kind: FilterValues = None, q: str | None = None,
                        active_on: dt.date | None = None, active: bool | None = None, today: dt.date | None = None) -> Select:
    """Organisations as rows; with `active_on`, only those that existed that day, with that day's
    names and parents (the parent filter too). `parent_id` and `kind` take one value or several."""
    version = versions_on(active_on) if active_on is not None else None
    stmt = select(*_columns(version))
    parent = Organization.parent_id
    if version is not None:
        stmt = stmt.join(version, version.c.organization_id == Organization.id).where(exists_on(active_on))
        parent = version.c.parent_id
    stmt = stmt.order_by(parent.is_not(None), Organization.code)
    if (parents := filter_values(parent_id)) is not None:
        stmt = stmt.where(any_of(parent, parents))
    if roots:
        stmt = stmt.where(parent.is_(None))
    if kinds := filter_values(kind):
        stmt = stmt.where(any_of(Organization.kind, kinds))
    if q:
        stmt = stmt.where(Organization.search_key.like(like_pattern(q), escape="\\"))
    if active is not None:
        open_today = or_(Organization.valid_to.is_(None), Organization.valid_to >= today)
        stmt = stmt.where(open_today if active else ~open_today)
    return stmt


def organization_on(org_id: int, day: dt.date):
    """The organisation with the name and parent valid on `day`; 404 if it did not exist then."""
    get_organization(org_id)
    version = versions_on(day)
    row = db.session.execute(select(*_columns(version)).join(version, version.c.organization_id == Organization.id)
                             .where(Organization.id == org_id, exists_on(day))).one_or_none()
    if row is None:
        raise NotFound(f"Đơn vị {org_id} không tồn tại vào ngày {day:%d/%m/%Y}. The organisation did not exist on that day.",
                       code="organization.not_on_date")
    return row


def refresh_search_key(org: Organization) -> None:
    org.search_key = fold(" ".join(filter(None, (org.code, org.name, org.short_name))))


def get_organization(org_id: int) -> Organization:
    org = db.session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"Không có đơn vị {org_id}. No such organisation.", code="organization.not_found")
    return org


def _existing(org_id: int | None, field: str) -> Organization | None:
    if org_id is None:
        return None
    org = db.session.get(Organization, org_id)
    if org is None:
        raise ValidationFailed(errors={field: ["Không có đơn vị này. No such organisation."]})
    return org


def create_organization(data: dict) -> Organization:
    if db.session.scalar(select(Organization.id).where(Organization.code == data["code"])) is not None:
        raise Conflict(f"Mã đơn vị {data['code']} đã tồn tại. Code taken.", code="organization.code_taken")
    org = Organization(
        code=data["code"], name=data["name"], short_name=data.get("short_name"), kind=data["kind"],
        parent=_existing(data.get("parent_id"), "parent_id"), valid_from=data.get("valid_from"), is_demo=False,
    )
    refresh_search_key(org)
    db.session.add(org)
    db.session.flush()
    return org


def update_organization(principal: Principal, org: Organization, data: dict, *, today: dt.date) -> Organization:
    """Correct the kind or first day; a new name or parent is a dated change (a rename or move
    reorganisation effective on `effective_on`, today by default), so past reports keep the old one."""
    from tracker.services import reorganization

    if data.get("valid_from") and org.valid_to and data["valid_from"] > org.valid_to:
        raise ValidationFailed(errors={"valid_from": ["Sau ngày đóng (valid_to). After the date the organisation closed."]})
    if "parent_id" in data and data["parent_id"] != org.parent_id:
        _existing(data["parent_id"], "parent_id")
    day = data.get("effective_on") or today
    renamed = any(name in data and data[name] != getattr(org, name) for name in ("name", "short_name"))
    if renamed:
        reorganization.reorganize(principal, {"kind": "rename", "effective_on": day, "organization_id": org.id,
                                              "name": data.get("name", org.name), "short_name": data.get("short_name", org.short_name),
                                              "note": data.get("note")}, today=today)
    if "parent_id" in data and data["parent_id"] != org.parent_id:
        reorganization.reorganize(principal, {"kind": "move", "effective_on": day, "organization_id": org.id,
                                              "parent_id": data["parent_id"], "note": data.get("note")}, today=today)
    for name in ("kind", "valid_from"):
        if name in data:
            setattr(org, name, data[name])
    refresh_search_key(org)
    db.session.flush()
    return org


def close_organization(principal: Principal, org: Organization, data: dict, *, today: dt.date) -> Organization:
    """Close a unit on `valid_to`: with a successor, a merger (its open work passes on); without,
    a dissolution (open work must be cancelled explicitly). History and completed work stay."""
    from tracker.services import reorganization

    valid_to, successor_id = data["valid_to"], data.get("successor_id")
    if org.valid_to is not None:
        raise Conflict("Đơn vị đã đóng. The organisation is already closed.", code="organization.already_closed")
    if org.valid_from is not None and valid_to < org.valid_from:
        raise ValidationFailed(errors={"valid_to": ["Trước ngày bắt đầu. Before valid_from."]})
    successor = _existing(successor_id, "successor_id")
    if successor is not None and successor.id == org.id:
        raise ValidationFailed(errors={"successor_id": ["Không thể kế thừa chính mình. Cannot succeed itself."]})
    common = {key: data[key] for key in ("decision", "note", "children", "children_parent_id", "cancel_open_work", "move_memberships")
              if data.get(key) is not None}
    day = valid_to + dt.timedelta(days=1)
    if successor is not None:
        reorganization.reorganize(principal, {"kind": "merge", "effective_on": day, "predecessor_ids": [org.id],
                                              "successor_id": successor.id, **common}, today=today)
    else:
        reorganization.reorganize(principal, {"kind": "close", "effective_on": day, "organization_id": org.id, **common}, today=today)
    db.session.flush()
    return org


def members_query(principal: Principal, org_id: int) -> Select:
    """Active members of an organisation whose work the caller sees (to choose an owner, say);
    404 outside the caller's scope."""
    visible = db.session.scalar(select(Organization.id).where(Organization.id == org_id, visible_organizations(principal, Organization.id)))
    if visible is None:
        raise NotFound(f"Không có đơn vị {org_id} trong phạm vi của bạn. No such organisation in your scope.", code="organization.not_found")
    return (
        select(Membership).join(User, User.id == Membership.user_id)
        .options(contains_eager(Membership.user))
        .where(Membership.organization_id == org_id, User.is_active.is_(True))
        .order_by(User.full_name, User.id)
    )
