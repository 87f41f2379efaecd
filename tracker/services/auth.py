"""Sign-in, tokens, revocation and throttling. State lives in the database, never in a process."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from tracker.errors import AppError
from tracker.extensions import db
from tracker.models import LoginFailure, Membership, RevokedToken, User
from tracker.models.base import utcnow

log = logging.getLogger("tracker.auth")
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so that both failures take the same time."""
    return _hasher.hash("not-a-real-password-0000")


class AuthError(AppError):
    status = 401
    code = "auth.invalid_credentials"

    def __init__(self, detail: str, *, code: str | None = None, **kwargs):
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="tracker"'})
        super().__init__(detail, code=code, **kwargs)


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


def load_user(user_id: int) -> User | None:
    return db.session.scalar(
        select(User).where(User.id == user_id).options(selectinload(User.memberships).selectinload(Membership.organization))
    )


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str


def _issue(user: User) -> TokenPair:
    identity = str(user.id)
    return TokenPair(create_access_token(identity=identity), create_refresh_token(identity=identity))


def _throttle_keys(username: str, client_address: str) -> list[tuple[str, int]]:
    config = current_app.config
    return [
        (f"user:{username}", config["LOGIN_MAX_FAILURES"]),
        (f"addr:{client_address}", config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ]


def _check_throttle(keys: list[tuple[str, int]], now: dt.datetime) -> None:
    window = dt.timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    for key, limit in keys:
        count, oldest = db.session.execute(
            select(func.count(LoginFailure.id), func.min(LoginFailure.failed_at)).where(
                LoginFailure.key == key, LoginFailure.failed_at > now - window
            )
        ).one()
        if count >= limit:
            if oldest.tzinfo is None:  # SQLite returns naive UTC
                oldest = oldest.replace(tzinfo=dt.UTC)
            retry_after = max(1, math.ceil((oldest + window - now).total_seconds()))
            log.warning("sign-in throttled for %s (%d failures)", key.split(":", 1)[0], count)
            raise Throttled(
                f"Đăng nhập sai quá nhiều lần; thử lại sau {retry_after} giây. "
                f"Too many failed sign-ins; retry after {retry_after} seconds.",
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
            )


def login(username: str, password: str, client_address: str) -> TokenPair | AuthError:
    """Tokens for good credentials; otherwise the failure is recorded and returned.

    The failure is returned, not raised, so that the caller can commit its record first.
    Unknown user, wrong password and deactivated user give the same answer.
    """
    now = utcnow()
    username = username.strip().lower()
    keys = _throttle_keys(username, client_address)
    _check_throttle(keys, now)
    user = db.session.scalar(select(User).where(User.username == username))
    ok = _verify(user.password_hash if user else _dummy_hash(), password)
    if user is not None and ok and user.is_active:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0][0]))
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        log.info("sign-in ok user_id=%s", user.id)
        return _issue(user)
    db.session.add_all(LoginFailure(key=key, failed_at=now) for key, _ in keys)
    window = dt.timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    db.session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - 2 * window))
    log.info("sign-in failed")
    return AuthError("Sai tên đăng nhập hoặc mật khẩu. Wrong username or password.")


def refresh(user: User) -> str:
    return create_access_token(identity=str(user.id))


def revoke(claims: dict) -> None:
    """Refuse this token from now on, in every process sharing the database."""
    expires = dt.datetime.fromtimestamp(claims["exp"], dt.UTC)
    if db.session.get(RevokedToken, claims["jti"]) is None:
        db.session.add(RevokedToken(jti=claims["jti"], token_type=claims["type"], user_id=int(claims["sub"]), expires_at=expires))
    purge_expired_revocations()


def is_revoked(jti: str) -> bool:
    return db.session.scalar(select(RevokedToken.jti).where(RevokedToken.jti == jti)) is not None


def purge_expired_revocations() -> int:
    """Revocations of tokens that have expired anyway are no longer needed."""
    return db.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow())).rowcount
