"""Sessions and their tokens.

A sign-in opens a session; its access and refresh tokens carry the session's id (`sid`). Every
request reads the session together with the user (one query), so ending a session refuses both
of its tokens at once, in every process sharing the database. Refreshing rotates the refresh
token: only the newest one is accepted, and an older one coming back means it was copied, so the
session ends. Services here flush and never commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import selectinload

from tracker.domain.sign_in import REQUIRED_CLAIMS, EndReason, TokenType
from tracker.errors import AppError
from tracker.extensions import db
from tracker.models import AuthSession, Membership, User
from tracker.services import clock

log = logging.getLogger("tracker.auth")

_DECIMAL_ID = re.compile(r"^[1-9][0-9]{0,9}\Z")
_MAX_ID = 2**31 - 1  # the largest id an integer column holds


class AuthError(AppError):
    """Not signed in, or not any more: 401, with the bearer challenge."""

    status = 401
    code = "auth.invalid_credentials"

    def __init__(self, detail: str, *, code: str | None = None, **kwargs):
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="tracker"'})
        super().__init__(detail, code=code, **kwargs)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds, for the access token
    refresh_expires_in: int  # seconds, for the refresh token
    session_id: int


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def _new_jti() -> str:
    return uuid.uuid4().hex


def _issue(user_id: int, session_id: int, refresh_jti: str) -> TokenPair:
    config = current_app.config
    access_life, refresh_life = config["JWT_ACCESS_TOKEN_EXPIRES"], config["JWT_REFRESH_TOKEN_EXPIRES"]
    identity, claims = str(user_id), {"sid": session_id}
    return TokenPair(
        access_token=create_access_token(identity, additional_claims=claims),
        refresh_token=create_refresh_token(identity, additional_claims={**claims, "jti": refresh_jti}),
        expires_in=int(access_life.total_seconds()),
        refresh_expires_in=int(refresh_life.total_seconds()),
        session_id=session_id,
    )


def start_session(user_id: int, client_address: str, user_agent: str | None) -> TokenPair:
    """A new session for a user whose credentials were checked, and its first pair of tokens."""
    now = clock.now()
    session = AuthSession(
        user_id=user_id, created_at=now, last_used_at=now,
        expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"], refresh_jti=_new_jti(),
        client_address=_clip(client_address, 64) or "unknown", user_agent=_clip(user_agent, 255),
    )
    db.session.add(session)
    db.session.flush()
    return _issue(user_id, session.id, session.refresh_jti)


def rotate(session: AuthSession, presented_jti: str) -> TokenPair | AuthError:
    """A new pair of tokens for the session, if `presented_jti` is its current refresh token.

    Otherwise that token was rotated already: someone kept a copy, so the session ends. The error
    is returned, not raised, so that the caller commits the ending before answering."""
    now = clock.now()
    new_jti = _new_jti()
    rotated = db.session.execute(
        update(AuthSession)
        .where(AuthSession.id == session.id, AuthSession.refresh_jti == presented_jti, AuthSession.ended_at.is_(None))
        .values(refresh_jti=new_jti, last_used_at=now, expires_at=now + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"])
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if rotated == 1:
        return _issue(session.user_id, session.id, new_jti)
    if not end_session(session.id, EndReason.REFRESH_REUSED):  # ended meanwhile, by a logout say
        db.session.refresh(session)
        return session_ended(session.end_reason)
    log.warning("refresh token reused: session %s of user_id=%s ended", session.id, session.user_id)
    return AuthError(
        "Mã làm mới đã được dùng trước đó; phiên đăng nhập đã kết thúc, hãy đăng nhập lại. "
        "This refresh token was used before (a copy may exist): the session has ended; sign in again.",
        code="auth.refresh_reused",
    )


def end_session(session_id: int, reason: EndReason) -> bool:
    """End one session (both its tokens). False when it had ended already."""
    return _end(AuthSession.id == session_id, reason) == 1


def end_all_sessions(user_id: int, reason: EndReason) -> int:
    """End every live session of a user; how many were live."""
    return _end(AuthSession.user_id == user_id, reason)


def _end(where, reason: EndReason) -> int:
    return db.session.execute(
        update(AuthSession).where(where, AuthSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason.value)
        .execution_options(synchronize_session="fetch")
    ).rowcount


def session_ended(reason: str | None) -> AuthError:
    return AuthError(
        "Phiên đăng nhập đã kết thúc; hãy đăng nhập lại. The session has ended; sign in again.",
        code="auth.session_ended", reason=reason,
    )


def signed_in(claims: dict) -> tuple[User, AuthSession]:
    """The user and the live session a verified token belongs to: one query for both (the
    memberships follow, as for any user)."""
    row = db.session.execute(
        select(User, AuthSession)
        .outerjoin(AuthSession, and_(AuthSession.id == claims["sid"], AuthSession.user_id == User.id))
        .where(User.id == int(claims["sub"]))
        .options(selectinload(User.memberships).selectinload(Membership.organization))
    ).one_or_none()
    if row is None or not row[0].is_active:
        raise AuthError("Tài khoản không còn hoạt động. The account is deactivated or gone.", code="auth.user_inactive")
    user, session = row
    if session is None or session.ended_at is not None:
        raise session_ended(session.end_reason if session is not None else None)
    return user, session


def _token_problem(code: str, detail: str, **extra) -> AuthError:
    return AuthError(detail, code=code, **extra)


def check_claims(claims: dict) -> None:
    """Refuse a token that lacks a claim or carries one of the wrong shape.

    Runs on the claims as sent, before flask-jwt-extended fills in its defaults (it would take a
    token without `type` for an access token, and one without `jti` as one that cannot be
    revoked). It only ever refuses: the signature, expiry, issuer and audience are checked next."""
    for claim in REQUIRED_CLAIMS:
        if claims.get(claim) is None:
            raise _token_problem(
                "auth.token_missing_claim",
                f"Mã truy cập thiếu trường {claim}. The token lacks the `{claim}` claim.", claim=claim,
            )
    if claims["type"] not in (TokenType.ACCESS, TokenType.REFRESH):
        raise _token_problem("auth.token_unknown_type", "Loại mã không xác định. Unknown token type.")
    if not isinstance(claims["sub"], str) or not _DECIMAL_ID.match(claims["sub"]) or int(claims["sub"]) > _MAX_ID:
        raise _token_problem("auth.token_bad_subject", "Chủ thể của mã không hợp lệ. The token's subject is not a user id.")
    sid = claims["sid"]
    if type(sid) is not int or not 0 < sid <= _MAX_ID:
        raise _token_problem("auth.token_bad_claim", "Mã phiên không hợp lệ. The token's session id is invalid.", claim="sid")
    if not isinstance(claims["jti"], str) or not 0 < len(claims["jti"]) <= 64:
        raise _token_problem("auth.token_bad_claim", "Mã định danh không hợp lệ. The token's id is invalid.", claim="jti")


def purge(older_than: dt.timedelta) -> int:
    """Delete sessions that ended, or could no longer be refreshed, longer ago than `older_than`."""
    cutoff = clock.now() - older_than
    return db.session.execute(
        delete(AuthSession).where(or_(AuthSession.ended_at < cutoff, AuthSession.expires_at < cutoff))
    ).rowcount
