"""In-app notifications: written in the same transaction as the event that causes them (an
urging), listed newest first for their user, marked read by that user alone."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select, update

from tracker.errors import NotFound
from tracker.extensions import db
from tracker.models import Notification
from tracker.services import changes, clock


def notify(user_ids: Iterable[int], *, kind: str, title: str, body: str, assignment_id: int | None = None,
           actor_id: int | None = None) -> int:
    """One notification to each user named (once each); how many were written."""
    recipients = sorted(set(user_ids))
    now = clock.now()
    db.session.add_all(Notification(user_id=user_id, kind=kind, title=title, body=body, assignment_id=assignment_id,
                                    actor_id=actor_id, created_at=now) for user_id in recipients)
    return len(recipients)


def notifications_query(user_id: int, *, unread: bool | None = None) -> Select:
    """The user's notifications, newest first; only the unread (or only the read) ones when asked."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread is not None:
        stmt = stmt.where(Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None))
    return stmt.order_by(Notification.id.desc())


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == user_id, Notification.read_at.is_(None)))


def mark_read(user_id: int, ids: list[int] | None) -> int:
    """Mark the user's notifications read: those named, or all when `ids` is None; how many were
    unread. An id that is not one of the user's is a 404 naming it, and nothing is marked."""
    if ids is not None:
        own = set(db.session.scalars(select(Notification.id).where(Notification.user_id == user_id,
                                                                   Notification.id.in_(sorted(set(ids))))))
        missing = sorted(set(ids) - own)
        if missing:
            raise NotFound(f"Không có thông báo {', '.join(map(str, missing))}. No such notification.",
                           code="notification.not_found", ids=missing)
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(sorted(set(ids))))
    marked = db.session.execute(stmt.values(read_at=clock.now()).returning(Notification.id)
                                .execution_options(synchronize_session=False)).scalars().all()
    changes.touched(changes.NOTIFICATION, marked)  # a bulk UPDATE: the change feed's hook does not see it
    return len(marked)
