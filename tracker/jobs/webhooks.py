"""Delivering webhooks: signed as Standard Webhooks asks (tracker.domain.webhooks), retried with
exponential backoff for 24 hours, each attempt logged; to the address that was checked."""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import orjson
from flask import current_app
from sqlalchemy import select

from tracker.domain import webhooks as rules
from tracker.extensions import db
from tracker.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tracker.services import clock
from tracker.services.webhooks import allow_private

log = logging.getLogger("tracker.webhooks")

MAX_ANSWER_BYTES = 64 * 1024  # read of a receiver's answer, then dropped
USER_AGENT = "tracker-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class AddressRefused(OSError):
    """The host resolves to an address a delivery may not reach."""


def deliver_due(now: dt.datetime | None = None, limit: int = 50) -> int:
    """Send up to `limit` due deliveries, each in its own transaction; how many were attempted.

    They are claimed first (on PostgreSQL skipping rows another worker holds) and leased for as
    long as sending them may take, so that two workers never send one at once; no transaction is
    open while a receiver is called."""
    timeout = current_app.config.get("WEBHOOKS_TIMEOUT_SECONDS", 10)
    moment = now or clock.now()
    lease = dt.timedelta(seconds=timeout * limit + 60)
    stmt = (select(WebhookDelivery).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= moment, WebhookEndpoint.active.is_(True))
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=WebhookDelivery)
    claimed = db.session.scalars(stmt).all()
    for delivery in claimed:
        delivery.next_attempt_at = moment + lease
    ids = [delivery.id for delivery in claimed]
    db.session.commit()
    for delivery_id in ids:
        _attempt(delivery_id, now or clock.now(), timeout)
    return len(ids)


def _attempt(delivery_id: int, at: dt.datetime, timeout: float) -> None:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # its endpoint was deleted meanwhile
        db.session.commit()
        return
    url, secret, message_id = delivery.endpoint.url, delivery.endpoint.secret, delivery.message_id
    body = orjson.dumps(delivery.payload)
    db.session.commit()  # no transaction (on SQLite: no write lock) while the receiver answers
    timestamp = int(at.timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "webhook-id": message_id,
               "webhook-timestamp": str(timestamp), "webhook-signature": rules.signature(secret, message_id, timestamp, body)}
    outcome = post(url, headers, body, timeout=timeout, allow_private=allow_private())
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        db.session.commit()
        return
    db.session.add(WebhookAttempt(delivery_id=delivery_id, attempted_at=at, status_code=outcome.status_code, error=outcome.error,
                                  duration_ms=outcome.duration_ms))
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = outcome.status_code, outcome.error
    if outcome.delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", at, None
    else:
        delivery.next_attempt_at = rules.next_attempt(at, delivery.attempts, delivery.expires_at)
        if delivery.next_attempt_at is None:
            delivery.status = "failed"
            log.warning("webhook delivery %s to endpoint %s failed after %s attempts: %s", delivery.id, delivery.endpoint_id,
                        delivery.attempts, outcome.error)
    db.session.commit()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, not to whatever the name resolves to next (a
    name that changes between check and use must not reach a private address)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _checked_address(host: str, port: int, allow_private: bool) -> str:
    addresses = [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    refused = [address for address in addresses if not rules.is_public_address(address)]
    if refused and not allow_private:
        raise AddressRefused(f"address not allowed: {refused[0]} (WEBHOOKS_ALLOW_PRIVATE_ADDRESSES)")
    return addresses[0]


def post(url: str, headers: dict[str, str], body: bytes, *, timeout: float, allow_private: bool) -> Outcome:
    """POST a body; the answer's status code, or the error that stopped it, and how long it took.
    Redirects are not followed: a 3xx is a failed attempt, as Standard Webhooks asks."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    parts = urlsplit(url)
    secure = parts.scheme.lower() == "https"
    try:
        port = parts.port or (443 if secure else 80)
        address = _checked_address(parts.hostname or "", port, allow_private)
        connection_class = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
        connection = connection_class(parts.hostname, port, address=address, timeout=timeout)
        try:
            connection.request("POST", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_ANSWER_BYTES)
        finally:
            connection.close()
    except (OSError, ValueError, http.client.HTTPException) as error:
        return Outcome(None, (f"{type(error).__name__}: {error}")[:500], took())
    return Outcome(response.status, None if 200 <= response.status < 300 else f"HTTP {response.status}", took())
