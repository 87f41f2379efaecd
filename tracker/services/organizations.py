"""The organisation tree: queries and administration (create, update, move, close)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from tracker.domain.text import fold, like_pattern
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.domain.access import Principal
from tracker.models import Membership, Organization, User
from tracker.services.access import ancestor_ids, visible_organizations


def organizations_query(*, parent_id: int | None = None, roots: bool = False, kind: str | None = None, q: str | None = None) -> Select:
    stmt = select(Organization).order_by(Organization.parent_id.is_not(None), Organization.code)
    if parent_id is not None:
        stmt = stmt.where(Organization.parent_id == parent_id)
    if roots:
        stmt = stmt.where(Organization.parent_id.is_(None))
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    if q:
        stmt = stmt.where(Organization.search_key.like(like_pattern(q), escape="\\"))
    return stmt


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


def update_organization(org: Organization, data: dict) -> Organization:
    if data.get("valid_from") and org.valid_to and data["valid_from"] > org.valid_to:
        raise ValidationFailed(errors={"valid_from": ["Sau ngày đóng (valid_to). After the date the organisation closed."]})
    for name in ("name", "short_name", "kind", "valid_from"):
        if name in data:
            setattr(org, name, data[name])
    refresh_search_key(org)
    if "parent_id" in data and data["parent_id"] != org.parent_id:
        parent = _existing(data["parent_id"], "parent_id")
        if parent is not None and (parent.id == org.id or org.id in ancestor_ids(parent.id)):
            raise ValidationFailed(
                "Không thể chuyển đơn vị vào chính nó hoặc đơn vị con. An organisation cannot move under itself or its descendants.",
                code="organization.cycle",
                errors={"parent_id": ["Tạo vòng lặp trong cây đơn vị. Would create a cycle."]},
            )
        org.parent = parent
    db.session.flush()
    return org


def close_organization(org: Organization, valid_to: dt.date, successor_id: int | None) -> Organization:
    """Close a unit (merger, rename, dissolution); its history and assignments stay."""
    if org.valid_to is not None:
        raise Conflict("Đơn vị đã đóng. The organisation is already closed.", code="organization.already_closed")
    if org.valid_from is not None and valid_to < org.valid_from:
        raise ValidationFailed(errors={"valid_to": ["Trước ngày bắt đầu. Before valid_from."]})
    successor = _existing(successor_id, "successor_id")
    if successor is not None and successor.id == org.id:
        raise ValidationFailed(errors={"successor_id": ["Không thể kế thừa chính mình. Cannot succeed itself."]})
    org.valid_to = valid_to
    org.successor = successor
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
