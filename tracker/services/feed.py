"""The change feed (GET /changes): what changed since a cursor, in the caller's scope, each change
exactly once. The log it reads is written by `tracker.services.changes`.

Exactly once. Rows are read in (txid, id) order. On PostgreSQL `txid` is the writing
transaction's id, and a reader only takes rows of transactions that have ended
(`txid < xmin` of its snapshot): a transaction that took a smaller row id but commits later
cannot land behind a cursor already handed out, because every transaction still running, or
yet to start, has a txid of at least that xmin. On SQLite writers are serialised and `txid` is
0, so the id order is the commit order.

The cursor (signed, opaque) holds the position, the user and a digest of the user's scope: a
cursor used by someone else, or after the caller's scope changed (a membership, a unit moved in
the tree), is refused with 410 `changes.resync_required`, since the feed cannot replay what a
newly visible unit held before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import and_, func, or_, select, text

from tracker.domain.access import Principal
from tracker.errors import AppError, BadRequest
from tracker.extensions import db
from tracker.models import Assignment, Change, Evidence, Notification
from tracker.services import assignments, evidence, notifications
from tracker.services.access import visible_organizations
from tracker.services.changes import ASSIGNMENT, EVIDENCE, NOTIFICATION
from tracker.services.org_tree import scope_ids

NOW = "now"
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
_SALT = "tracker.change-feed.v1"
# The largest row id: a position after every row of a transaction.
_LAST_ID = 2**31 - 1


# --- the cursor ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    txid: int
    id: int


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def scope_digest(principal: Principal) -> str:
    """Who the caller is and which units' work they see now: a cursor is good only for the same."""
    if principal.is_admin:
        scope = "*"
    else:
        units = set(principal.own_organizations)
        if principal.subtree_roots:
            units |= set(db.session.scalars(scope_ids(principal.subtree_roots)))
        scope = ",".join(map(str, sorted(units)))
    return hashlib.sha256(f"{principal.user_id}|{scope}".encode()).hexdigest()[:16]


def encode_cursor(position: Position, digest: str) -> str:
    return _signer().dumps([position.txid, position.id, digest])


def invalid_cursor() -> BadRequest:
    return BadRequest("Con trỏ (since) không hợp lệ: bị hỏng hoặc bị sửa; hãy đồng bộ lại từ đầu (bỏ since). "
                      "The cursor is malformed or altered; sync again from the start (without since).",
                      code="changes.invalid_cursor")


def resync_required() -> AppError:
    return AppError("Phạm vi của người dùng đã thay đổi hoặc con trỏ của người khác; hãy đồng bộ lại từ đầu (bỏ since). "
                    "The caller's scope changed since this cursor was made, or it is another user's: sync again from the "
                    "start (without since).", code="changes.resync_required", status=410)


def decode_cursor(cursor: str, digest: str) -> Position:
    """The position a cursor holds; 400 `changes.invalid_cursor` unless it was made here, 410
    `changes.resync_required` when made for another user or another scope."""
    try:
        payload = _signer().loads(cursor)
    except (BadSignature, ValueError, UnicodeError):
        raise invalid_cursor() from None
    if (not isinstance(payload, list) or len(payload) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) for v in payload[:2])
            or not isinstance(payload[2], str)):
        raise invalid_cursor()
    if payload[2] != digest:
        raise resync_required()
    return Position(payload[0], payload[1])


# --- reading ------------------------------------------------------------------------------------


def _horizon() -> tuple[int | None, int | None]:
    """PostgreSQL: the xmin of the current snapshot (every transaction below it has ended) and this
    transaction's own id if it has one (its own rows are visible to it; only tests read and write
    in one transaction). (None, None) on SQLite: no horizon."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None, None
    return tuple(db.session.execute(text(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, pg_current_xact_id_if_assigned()::text::bigint")).one())


def _settled(horizon: tuple[int | None, int | None]):
    xmin, own = horizon
    if xmin is None:
        return None
    return Change.txid < xmin if own is None else or_(Change.txid < xmin, Change.txid == own)


def now_position(horizon: tuple[int | None, int | None]) -> Position:
    """A position after every change that has ended: the cursor of `since=now`."""
    xmin, own = horizon
    if xmin is not None:
        # Every transaction below xmin has ended; any later row has a txid of at least xmin (or is ours).
        settled = Position(xmin - 1, _LAST_ID)
        if own is None:
            return settled
        mine = db.session.scalar(select(func.max(Change.id)).where(Change.txid == own))
        return Position(own, mine) if mine is not None else settled
    last = db.session.scalar(select(func.max(Change.id)))
    return Position(0, last or 0)


def _visible_rows(principal: Principal):
    return or_(and_(Change.kind != NOTIFICATION, visible_organizations(principal, Change.organization_id)),
               and_(Change.kind == NOTIFICATION, Change.user_id == principal.user_id))


@dataclass
class Item:
    kind: str
    id: int
    deleted: bool
    data: Any


@dataclass
class FeedPage:
    items: list[Item]
    next_cursor: str
    has_more: bool


def read(principal: Principal, since: str | None, limit: int, *, today: dt.date) -> FeedPage:
    """The changes after `since` (from the start when None; `now`: none, and the current cursor),
    at most `limit` rows of the log, each entity once with its current state, or a tombstone
    when the caller no longer sees it."""
    digest = scope_digest(principal)
    horizon = _horizon()
    if since == NOW:
        return FeedPage([], encode_cursor(now_position(horizon), digest), False)
    position = decode_cursor(since, digest) if since is not None else Position(-1, 0)
    stmt = (select(Change.txid, Change.id, Change.kind, Change.entity_id)
            .where(or_(Change.txid > position.txid, and_(Change.txid == position.txid, Change.id > position.id)))
            .where(_visible_rows(principal))
            .order_by(Change.txid, Change.id).limit(limit + 1))
    settled = _settled(horizon)
    if settled is not None:
        stmt = stmt.where(settled)
    rows = db.session.execute(stmt).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        position = Position(rows[-1].txid, rows[-1].id)
    # Each entity once, where its last change of the page falls.
    latest: dict[tuple[str, int], int] = {}
    for index, row in enumerate(rows):
        latest[(row.kind, row.entity_id)] = index
    keys = sorted(latest, key=latest.get)
    wanted: dict[str, list[int]] = defaultdict(list)
    for kind, entity_id in keys:
        wanted[kind].append(entity_id)
    found = _current(principal, wanted, today)
    items = [Item(kind, entity_id, (kind, entity_id) not in found, found.get((kind, entity_id))) for kind, entity_id in keys]
    return FeedPage(items, encode_cursor(position, digest), has_more)


def _current(principal: Principal, wanted: dict[str, list[int]], today: dt.date) -> dict[tuple[str, int], Any]:
    """The entities the caller sees now, as their GETs show them, by (kind, id)."""
    found: dict[tuple[str, int], Any] = {}
    if wanted.get(ASSIGNMENT):
        items = db.session.scalars(assignments.scoped(principal).where(Assignment.id.in_(wanted[ASSIGNMENT]))).unique().all()
        found.update(((ASSIGNMENT, shown.assignment.id), shown) for shown in assignments.for_caller(principal, list(items), today))
    if wanted.get(EVIDENCE):
        rows = db.session.scalars(evidence.scoped(principal).where(Evidence.id.in_(wanted[EVIDENCE]))).unique().all()
        found.update(((EVIDENCE, row.id), row) for row in rows)
    if wanted.get(NOTIFICATION):
        rows = db.session.scalars(notifications.notifications_query(principal.user_id)
                                  .where(Notification.id.in_(wanted[NOTIFICATION]))).all()
        found.update(((NOTIFICATION, row.id), row) for row in rows)
    return found
