"""User administration: create, update, deactivate, memberships."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from tracker.domain.access import MemberRole
from tracker.domain.sign_in import EndReason
from tracker.domain.text import fold, like_pattern
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.models import Membership, Organization, User
from tracker.services.filters import FilterValues, any_of, filter_values
from tracker.services.auth import hash_password
from tracker.services.sessions import end_all_sessions


def users_query(*, q: str | None = None, organization_id: FilterValues = None, active: bool | None = None) -> Select:
    """Users by name, ordered by username; `organization_id`: members of any of these organisations."""
    stmt = select(User).options(selectinload(User.memberships).selectinload(Membership.organization)).order_by(User.username)
    if q:
        stmt = stmt.where(User.search_key.like(like_pattern(q), escape="\\"))
    if (organization_ids := filter_values(organization_id)) is not None:
        stmt = stmt.where(User.id.in_(select(Membership.user_id).where(any_of(Membership.organization_id, organization_ids))))
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


def _refresh_search_key(user: User) -> None:
    user.search_key = fold(" ".join(filter(None, (user.username, user.full_name, user.email))))


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
    _refresh_search_key(user)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(user: User, data: dict) -> User:
    if data.get("is_active") is False:
        _refuse_losing_last_admin(user)
    if "memberships" in data and not any(m["role"] == MemberRole.ADMIN for m in data["memberships"]):
        _refuse_losing_last_admin(user)
    had_memberships = bool(user.memberships)
    for name in ("full_name", "phone", "email", "is_active"):
        if name in data:
            setattr(user, name, data[name])
    _refresh_search_key(user)
    if "password" in data:
        user.password_hash = hash_password(data["password"])
    if "memberships" in data:
        user.memberships.clear()
        db.session.flush()
        user.memberships.extend(_memberships(data["memberships"]))
    db.session.flush()
    # Whoever held the old password, or belonged where the user no longer does, is signed out.
    if data.get("is_active") is False:
        end_all_sessions(user.id, EndReason.DEACTIVATED)
    if "password" in data:
        end_all_sessions(user.id, EndReason.PASSWORD_CHANGED)
    if had_memberships and not user.memberships:
        end_all_sessions(user.id, EndReason.MEMBERSHIPS_REMOVED)
    return user


def deactivate_user(user: User) -> None:
    """A deactivated user's sessions end, and their tokens stop working at once."""
    _refuse_losing_last_admin(user)
    user.is_active = False
    end_all_sessions(user.id, EndReason.DEACTIVATED)
    db.session.flush()


def _refuse_losing_last_admin(user: User) -> None:
    """Someone must be left to administer: the last active admin cannot be deactivated or demoted."""
    if not user.is_active or not any(m.role == MemberRole.ADMIN for m in user.memberships):
        return
    others = db.session.scalar(
        select(func.count(func.distinct(User.id)))
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.role == MemberRole.ADMIN, User.is_active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict("Đây là quản trị viên cuối cùng còn hoạt động. This is the last active administrator.",
                       code="user.last_admin")
