"""User administration: create, update, deactivate, memberships."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Membership, Organization, User
from tracker.services.auth import hash_password


def users_query(*, q: str | None = None, organization_id: int | None = None, active: bool | None = None) -> Select:
    stmt = select(User).options(selectinload(User.memberships).selectinload(Membership.organization)).order_by(User.username)
    if q:
        pattern = f"%{q.lower()}%"
        stmt = stmt.where(or_(User.username.like(pattern), User.full_name.ilike(f"%{q}%")))
    if organization_id is not None:
        stmt = stmt.where(User.id.in_(select(Membership.user_id).where(Membership.organization_id == organization_id)))
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    return stmt


def get_user(user_id: int) -> User:
    user = db.session.scalar(
        select(User).where(User.id == user_id).options(selectinload(User.memberships).selectinload(Membership.organization))
    )
    if user is None:
        raise NotFound(f"Không có người dùng {user_id}. No such user.", code="user.not_found")
    return user


def _memberships(entries: list[dict], field: str = "memberships") -> list[Membership]:
    ids = {entry["organization_id"] for entry in entries}
    known = set(db.session.scalars(select(Organization.id).where(Organization.id.in_(ids)))) if ids else set()
    errors: dict[str, list[str]] = {}
    seen: set[int] = set()
    for i, entry in enumerate(entries):
        if entry["organization_id"] not in known:
            errors[f"{field}[{i}].organization_id"] = ["Không có đơn vị này. No such organisation."]
        elif entry["organization_id"] in seen:
            errors[f"{field}[{i}].organization_id"] = ["Đơn vị bị lặp. Organisation listed twice."]
        seen.add(entry["organization_id"])
    if errors:
        raise ValidationFailed("Thành viên không hợp lệ. Invalid memberships.", errors=errors)
    return [Membership(organization_id=entry["organization_id"], role=entry["role"]) for entry in entries]


def create_user(data: dict) -> User:
    username = data["username"].lower()
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"Tên đăng nhập {username} đã tồn tại. Username taken.", code="user.username_taken")
    user = User(
        username=username,
        password_hash=hash_password(data["password"]),
        full_name=data["full_name"],
        phone=data.get("phone"),
        email=data.get("email"),
        is_active=True,
        memberships=_memberships(data.get("memberships", [])),
    )
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, data: dict) -> User:
    for name in ("full_name", "phone", "email", "is_active"):
        if name in data:
            setattr(user, name, data[name])
    if "password" in data:
        user.password_hash = hash_password(data["password"])
    if "memberships" in data:
        user.memberships.clear()
        db.session.flush()
        user.memberships.extend(_memberships(data["memberships"]))
    db.session.flush()
    return user


def deactivate_user(user: User) -> None:
    """A deactivated user's tokens stop working at once: every request looks the user up."""
    user.is_active = False
    db.session.flush()
