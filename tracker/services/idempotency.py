"""Idempotency keys: the first outcome of a request, kept 24 hours per user and key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from tracker.extensions import db
from tracker.models import IdempotencyKey
from tracker.models.base import utcnow

KEEP = dt.timedelta(hours=24)
# Headers of the first answer that a replay repeats; the rest (Date, request id…) are the replay's own.
REPLAYED_HEADERS = ("Content-Type", "Content-Language", "Location", "ETag", "Content-Disposition", "Retry-After")


def find(user_id: int, key: str, *, now: dt.datetime | None = None) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.user_id == user_id, IdempotencyKey.key == key, IdempotencyKey.expires_at > (now or utcnow())))


def remember(user_id: int, key: str, *, method: str, path: str, request_hash: str, status_code: int, headers: dict[str, str],
             body: bytes, now: dt.datetime | None = None) -> IdempotencyKey:
    """Add the outcome to the current transaction (the caller commits it with the change)."""
    now = now or utcnow()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
                                                    IdempotencyKey.expires_at <= now))
    record = IdempotencyKey(user_id=user_id, key=key, method=method, path=path[:500], request_hash=request_hash,
                            status_code=status_code, response_headers=headers, response_body=body, created_at=now,
                            expires_at=now + KEEP)
    db.session.add(record)
    return record


def purge_expired(now: dt.datetime | None = None) -> int:
    return db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow()))).rowcount
