"""Webhooks for other systems: the event types, the Standard Webhooks signature, the retry
schedule and which addresses a delivery may reach. Pure Python: no Flask, no database, no network."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

ASSIGNMENT_CREATED = "assignment.created"
ASSIGNMENT_CHANGED = "assignment.changed"
ASSIGNMENT_TRANSITIONED = "assignment.transitioned"
EVIDENCE_ADDED = "evidence.added"
EVIDENCE_WITHDRAWN = "evidence.withdrawn"
EXTENSION_REQUESTED = "extension.requested"
EXTENSION_DECIDED = "extension.decided"
URGE_SENT = "urge.sent"
REPORT_PUBLISHED = "report.published"

EVENT_TYPES = (
    ASSIGNMENT_CREATED, ASSIGNMENT_CHANGED, ASSIGNMENT_TRANSITIONED, EVIDENCE_ADDED, EVIDENCE_WITHDRAWN,
    EXTENSION_REQUESTED, EXTENSION_DECIDED, URGE_SENT, REPORT_PUBLISHED,
)

DELIVERY_STATUSES = ("pending", "delivered", "failed")

SECRET_PREFIX = "whsec_"
SECRET_MIN_BYTES, SECRET_MAX_BYTES = 24, 64  # what the Standard Webhooks specification asks of a key

RETRY_WINDOW = dt.timedelta(hours=24)
FIRST_RETRY = dt.timedelta(seconds=30)
LONGEST_RETRY = dt.timedelta(hours=1)

URL_SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2000


def new_secret() -> str:
    """A fresh signing secret, `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes | None:
    """The key bytes of a `whsec_...` secret; None when it is not one (bad prefix, bad base64, too
    short or too long)."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES else None


def new_message_id() -> str:
    """The `webhook-id` of a message: the same on every attempt, so that a receiver drops repeats."""
    return "msg_" + secrets.token_hex(16)


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header (Standard Webhooks, v1): HMAC-SHA256 over
    `{id}.{timestamp}.{body}` keyed by the secret's bytes, in base64."""
    key = secret_key(secret)
    if key is None:
        raise ValueError("not a whsec_ secret")
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed attempt: 30 s, doubling, at most an hour."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def next_attempt(failed_at: dt.datetime, attempts: int, expires_at: dt.datetime) -> dt.datetime | None:
    """When to try again after a failed attempt, or None when the window is over (the delivery has
    failed). The last attempt falls on the window's end itself."""
    if failed_at >= expires_at:
        return None
    return min(failed_at + retry_delay(attempts), expires_at)


def is_public_address(address: str) -> bool:
    """Whether an IP address is on the public internet: not loopback, private, link-local, shared
    (carrier NAT), multicast, reserved or unspecified; IPv4 written inside IPv6 is judged as IPv4."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local)


def url_problem(url: str, allow_private: bool) -> str | None:
    """What is wrong with an endpoint URL as written, or None: `scheme`, `host`, `credentials`, or
    `private` (an IP literal off the public internet, or a localhost name, unless allowed). Host
    names are resolved, and checked again, at each delivery."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number or out of range
    except ValueError:
        return "host"
    if parts.scheme.lower() not in URL_SCHEMES:
        return "scheme"
    host = parts.hostname
    if not host:
        return "host"
    if parts.username is not None or parts.password is not None:
        return "credentials"
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "private"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return None if is_public_address(host) else "private"
