"""Webhook rules: the signature against an independent implementation (the `standardwebhooks`
package), the retry schedule, and which addresses and URLs a delivery may reach."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from tracker.domain import webhooks as rules

T0 = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)


@given(body=st.binary(max_size=300), key=st.binary(min_size=24, max_size=64), timestamp=st.integers(0, 2**33))
def test_the_signature_is_the_one_standard_webhooks_computes(body, key, timestamp):
    secret = "whsec_" + base64.b64encode(key).decode()
    text = body.decode("latin-1")  # the package signs text; the same bytes, one character each
    expected = Webhook(secret).sign("msg_1", dt.datetime.fromtimestamp(timestamp, dt.UTC), text)
    assert rules.signature(secret, "msg_1", timestamp, text.encode()) == expected


def test_a_signed_message_verifies_and_an_altered_one_does_not():
    secret, body = rules.new_secret(), b'{"type":"urge.sent","data":{"assignment_id":7}}'
    now = int(dt.datetime.now(dt.UTC).timestamp())
    headers = {"webhook-id": "msg_abc", "webhook-timestamp": str(now), "webhook-signature": rules.signature(secret, "msg_abc", now, body)}
    assert Webhook(secret).verify(body, headers) == {"type": "urge.sent", "data": {"assignment_id": 7}}
    for changed in ({"webhook-id": "msg_abd"}, {"webhook-timestamp": str(now + 1)}):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, {**headers, **changed})
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"7", b"8"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.new_secret()).verify(body, headers)


def test_secrets():
    made = rules.new_secret()
    assert made.startswith("whsec_") and len(rules.secret_key(made)) == 32
    assert made != rules.new_secret()
    assert rules.secret_key("whsec_" + base64.b64encode(b"k" * 24).decode()) == b"k" * 24
    for bad in ("", "whsec_", "whsec_!!!!", "sk_" + base64.b64encode(b"k" * 32).decode(),
                "whsec_" + base64.b64encode(b"k" * 23).decode(), "whsec_" + base64.b64encode(b"k" * 65).decode()):
        assert rules.secret_key(bad) is None, bad
    with pytest.raises(ValueError):
        rules.signature("nope", "msg_1", 0, b"")


def test_message_ids_are_fresh():
    ids = {rules.new_message_id() for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("msg_") and len(i) <= 40 for i in ids)


def test_the_retry_schedule_doubles_to_an_hour_and_ends_on_the_window():
    assert [rules.retry_delay(n).total_seconds() for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    expires = T0 + rules.RETRY_WINDOW
    assert rules.next_attempt(T0, 1, expires) == T0 + dt.timedelta(seconds=30)
    assert rules.next_attempt(expires - dt.timedelta(minutes=10), 20, expires) == expires  # the last try on the end itself
    assert rules.next_attempt(expires, 21, expires) is None
    assert rules.next_attempt(expires + dt.timedelta(seconds=1), 21, expires) is None
    # Down for the whole window: tried about thirty times.
    moment, attempts = T0, 0
    while moment is not None:
        attempts += 1
        moment = rules.next_attempt(moment, attempts, expires)
    assert 25 <= attempts <= 35


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.8.8", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd12:3456::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1",
    "fe80::1%eth0", "ff02::1", "192.0.2.1", "not-an-address",
])
def test_addresses_off_the_public_internet(address):
    assert not rules.is_public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "203.162.4.191", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_addresses(address):
    assert rules.is_public_address(address)


@pytest.mark.parametrize(("url", "problem"), [
    ("https://hooks.example.org/tracker", None),
    ("http://203.162.4.191:8080/hook?x=1", None),
    ("HTTPS://Hooks.Example.org/", None),
    ("http://127.0.0.1:8080/hook", "private"),
    ("http://localhost:8080/hook", "private"),
    ("http://dev.localhost/hook", "private"),
    ("http://[::1]/hook", "private"),
    ("http://10.0.0.7/hook", "private"),
    ("ftp://example.org/file", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("http:///nohost", "host"),
    ("http://example.org:0x50/", "host"),
    ("http://user:secret@example.org/", "credentials"),
])
def test_urls(url, problem):
    assert rules.url_problem(url, allow_private=False) == problem


def test_the_setting_allows_private_addresses_but_not_other_schemes():
    assert rules.url_problem("http://127.0.0.1:8080/hook", allow_private=True) is None
    assert rules.url_problem("http://localhost/hook", allow_private=True) is None
    assert rules.url_problem("gopher://127.0.0.1/", allow_private=True) == "scheme"
