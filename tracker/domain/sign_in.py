"""Sign-in and session rules, pure: what a token must carry, why a session ends, what a sign-in
attempt came to, and how long a client must wait after failing.

Throttling never locks an account: failures are counted per (account, client address), and each
attempt after the first few free ones waits twice as long as the one before, up to a cap. Someone
guessing from elsewhere therefore slows only themselves; the owner's right password from their own
address still works. A separate ceiling on failures per client address (sized for an office behind
one NAT) stops one address from guessing across many accounts.
"""

from __future__ import annotations

from enum import StrEnum


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


# Every token carries these, or it is refused (`iss` and `aud` are checked against the configuration).
REQUIRED_CLAIMS = ("sub", "sid", "type", "jti", "iat", "exp")


class EndReason(StrEnum):
    """Why a session ended; both its tokens are refused from then on."""

    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    DEACTIVATED = "deactivated"
    MEMBERSHIPS_REMOVED = "memberships_removed"
    REFRESH_REUSED = "refresh_reused"  # a rotated refresh token came back: it was copied


class SignInOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    THROTTLED = "throttled"  # refused before the password was looked at; not counted as a failure


class SignInReason(StrEnum):
    PASSWORD_CHANGED = "password_changed"  # ok: a new session after changing one's own password
    UNKNOWN_USER = "unknown_user"
    WRONG_PASSWORD = "wrong_password"
    WRONG_CURRENT_PASSWORD = "wrong_current_password"  # when changing one's own password
    INACTIVE = "inactive"
    ACCOUNT_DELAY = "account_delay"  # this account from this address must wait
    ADDRESS_CEILING = "address_ceiling"  # too many failures from this address, whatever the account


def delay_after(failures: int, *, free: int, cap: int) -> int:
    """Seconds to wait after the last of `failures` consecutive failures (one account, one address)
    before the next attempt: none for the first `free` failures, then 2, 4, 8 … up to `cap`."""
    if failures < max(free, 1):
        return 0
    return min(2 ** min(failures - free + 1, 62), cap)
