"""Sign-in, password changes, throttling and the record of sign-ins. State lives in the database,
never in a process; the time comes from `clock.now()`, so tests set it instead of waiting."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import math

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import Select, delete, func, select, text

from tracker.domain.sign_in import EndReason, SignInOutcome, SignInReason, delay_after
from tracker.errors import AppError, Forbidden, ValidationFailed
from tracker.extensions import db
from tracker.models import SignIn, User
from tracker.models.base import as_utc
from tracker.services import clock, sessions
from tracker.services.sessions import AuthError, TokenPair

log = logging.getLogger("tracker.auth")
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so that both failures take the same time."""
    return _hasher.hash("not-a-real-password-0000")


class Throttled(AppError):
    status = 429
    code = "auth.too_many_attempts"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _take_turns(username: str, client_address: str) -> None:
    """Attempts for one account from one address run one at a time, until the request commits, so
    that parallel guesses cannot all pass the check below before any failure is recorded. SQLite
    runs one writing transaction at a time anyway; PostgreSQL takes an advisory lock."""
    if db.session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"sign-in\0{username}\0{client_address}".encode(), digest_size=8).digest()
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest, "big", signed=True)})


def _wait(username: str, client_address: str, now: dt.datetime) -> tuple[SignInReason, int] | None:
    """Why and how many seconds this attempt must wait, or None when it may go ahead.

    Two indexed queries: the failures from this address in the window (a ceiling high enough for
    an office behind one NAT), and this account's latest attempts from this address (growing
    delays after a few failures, reset by a success)."""
    _take_turns(username, client_address)
    config = current_app.config
    window = dt.timedelta(seconds=config["LOGIN_WINDOW_SECONDS"])
    failures, oldest = db.session.execute(
        select(func.count(SignIn.id), func.min(SignIn.occurred_at)).where(
            SignIn.client_address == client_address, SignIn.outcome == SignInOutcome.FAILED,
            SignIn.occurred_at > now - window,
        )
    ).one()
    if failures >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]:
        return SignInReason.ADDRESS_CEILING, _seconds(as_utc(oldest) + window - now)

    free, cap = config["LOGIN_FREE_FAILURES"], config["LOGIN_MAX_DELAY_SECONDS"]
    latest = db.session.execute(
        select(SignIn.outcome, SignIn.occurred_at)
        .where(SignIn.username == username, SignIn.client_address == client_address,
               SignIn.outcome != SignInOutcome.THROTTLED, SignIn.occurred_at > now - window)
        .order_by(SignIn.occurred_at.desc(), SignIn.id.desc())
        .limit(free + 64)  # past this the delay is at its cap anyway
    ).all()
    consecutive = 0
    for outcome, _ in latest:
        if outcome != SignInOutcome.FAILED:
            break
        consecutive += 1
    delay = delay_after(consecutive, free=free, cap=cap)
    if delay and (remaining := latest[0].occurred_at + dt.timedelta(seconds=delay) - now) > dt.timedelta(0):
        return SignInReason.ACCOUNT_DELAY, _seconds(remaining)
    return None


def _seconds(delta: dt.timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def _throttled(reason: SignInReason, retry_after: int) -> Throttled:
    log.warning("sign-in throttled (%s), retry after %d s", reason, retry_after)
    return Throttled(
        f"Đăng nhập sai quá nhiều lần; thử lại sau {retry_after} giây. "
        f"Too many failed sign-ins; retry after {retry_after} seconds.",
        headers={"Retry-After": str(retry_after)},
        retry_after=retry_after,
    )


def _record(now: dt.datetime, username: str, client_address: str, user_agent: str | None, outcome: SignInOutcome,
            reason: SignInReason | None = None, *, user_id: int | None = None, session_id: int | None = None) -> None:
    db.session.add(SignIn(
        occurred_at=now, username=username[:64], user_id=user_id, client_address=client_address[:64] or "unknown",
        user_agent=user_agent[:255] if user_agent else None, outcome=outcome.value,
        reason=reason.value if reason else None, session_id=session_id,
    ))
    db.session.flush()


def login(username: str, password: str, client_address: str, user_agent: str | None) -> TokenPair | AppError:
    """A new session and its tokens for good credentials; otherwise the error to answer.

    Every attempt is recorded; the error is returned, not raised, so that the caller commits the
    record first. Unknown user, wrong password and deactivated user give the same answer."""
    now = clock.now()
    username = username.strip().lower()
    if waiting := _wait(username, client_address, now):
        _record(now, username, client_address, user_agent, SignInOutcome.THROTTLED, waiting[0])
        return _throttled(*waiting)
    user = db.session.scalar(select(User).where(User.username == username))
    ok = _verify(user.password_hash if user else _dummy_hash(), password)
    if user is not None and ok and user.is_active:
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        pair = sessions.start_session(user.id, client_address, user_agent)
        _record(now, username, client_address, user_agent, SignInOutcome.OK, user_id=user.id, session_id=pair.session_id)
        log.info("sign-in ok user_id=%s session=%s", user.id, pair.session_id)
        return pair
    reason = SignInReason.UNKNOWN_USER if user is None else SignInReason.WRONG_PASSWORD if not ok else SignInReason.INACTIVE
    _record(now, username, client_address, user_agent, SignInOutcome.FAILED, reason, user_id=user.id if user else None)
    log.info("sign-in failed")
    return AuthError("Sai tên đăng nhập hoặc mật khẩu. Wrong username or password.")


def change_password(user: User, current: str, new: str, client_address: str, user_agent: str | None) -> TokenPair | AppError:
    """The signed-in user changes their own password, proving the current one (throttled and
    recorded like a sign-in). Every session of theirs ends, this one too; the answer is a new one."""
    now = clock.now()
    if waiting := _wait(user.username, client_address, now):
        _record(now, user.username, client_address, user_agent, SignInOutcome.THROTTLED, waiting[0], user_id=user.id)
        return _throttled(*waiting)
    if not _verify(user.password_hash, current):
        _record(now, user.username, client_address, user_agent, SignInOutcome.FAILED, SignInReason.WRONG_CURRENT_PASSWORD,
                user_id=user.id)
        return Forbidden("Mật khẩu hiện tại không đúng. The current password is wrong.", code="auth.wrong_current_password")
    if new == current:
        raise ValidationFailed(
            "Mật khẩu mới phải khác mật khẩu hiện tại. The new password must differ from the current one.",
            errors={"new_password": ["Mật khẩu mới trùng mật khẩu hiện tại. Same as the current password."]},
        )
    user.password_hash = hash_password(new)
    ended = sessions.end_all_sessions(user.id, EndReason.PASSWORD_CHANGED)
    pair = sessions.start_session(user.id, client_address, user_agent)
    _record(now, user.username, client_address, user_agent, SignInOutcome.OK, SignInReason.PASSWORD_CHANGED,
            user_id=user.id, session_id=pair.session_id)
    log.info("password changed user_id=%s, %d sessions ended", user.id, ended)
    return pair


def sign_ins_query(*, user_id: int | None = None, username: str | None = None, client_address: str | None = None,
                   outcome: str | None = None) -> Select:
    """Sign-in attempts, newest first."""
    stmt = select(SignIn).order_by(SignIn.occurred_at.desc(), SignIn.id.desc())
    if user_id is not None:
        stmt = stmt.where(SignIn.user_id == user_id)
    if username:
        stmt = stmt.where(SignIn.username == username.strip().lower())
    if client_address:
        stmt = stmt.where(SignIn.client_address == client_address)
    if outcome:
        stmt = stmt.where(SignIn.outcome == outcome)
    return stmt


def purge(older_than: dt.timedelta) -> tuple[int, int]:
    """Delete sessions over and sign-in records older than `older_than`: (sessions, records)."""
    cutoff = clock.now() - older_than
    records = db.session.execute(delete(SignIn).where(SignIn.occurred_at < cutoff)).rowcount
    return sessions.purge(older_than), records
