"""Sign-in, token problems, throttling, and secrets kept out of answers and logs. Sessions (refresh
rotation, logout, password changes) have their own module, test_sessions.py."""

import base64
import datetime as dt
import json
import logging
import time
import uuid

import jwt as pyjwt
import pytest
from sqlalchemy import delete, func, select

from tests.helpers import assert_problem
from tracker import create_app
from tracker.extensions import db
from tracker.models import AuthSession, SignIn
from tracker.services.demo import DEMO_PASSWORD

ME = "/api/v1/auth/me"
LOGOUT = "/api/v1/auth/logout"
REFRESH = "/api/v1/auth/refresh"


def login(client, username, password=DEMO_PASSWORD, address="10.0.0.1"):
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_login_me_refresh(client):
    response = login(client, "canbo.noivu")
    assert response.status_code == 200
    tokens = response.get_json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 15 * 60 and tokens["refresh_expires_in"] == 14 * 24 * 3600
    me = client.get(ME, headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    body = me.get_json()
    assert body["user"]["username"] == "canbo.noivu"
    assert body["user"]["memberships"][0]["organization_code"] == "PNV-KD"
    assert body["scope"]["all"] is False and body["scope"]["subtree_roots"] == []
    assert body["scope"]["own_organizations"] == [body["user"]["memberships"][0]["organization_id"]]
    refreshed = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    assert set(refreshed.get_json()) == {"access_token", "refresh_token", "token_type", "expires_in", "refresh_expires_in"}
    assert client.get(ME, headers=bearer(refreshed.get_json()["access_token"])).status_code == 200


def test_tokens_carry_every_claim(app, client):
    tokens = login(client, "canbo.noivu").get_json()
    for token, kind, lifetime in ((tokens["access_token"], "access", 15 * 60), (tokens["refresh_token"], "refresh", 14 * 86400)):
        claims = pyjwt.decode(token, options={"verify_signature": False})
        assert claims["type"] == kind
        assert claims["iss"] == "tracker" and claims["aud"] == "tracker-api"
        assert claims["exp"] - claims["iat"] == lifetime
        assert claims["jti"] and isinstance(claims["sid"], int) and claims["sub"].isdigit()
    access, refresh = (pyjwt.decode(t, options={"verify_signature": False}) for t in (tokens["access_token"], tokens["refresh_token"]))
    assert access["sid"] == refresh["sid"] and access["jti"] != refresh["jti"]


def test_username_is_case_insensitive(client):
    assert login(client, "  CanBo.NoiVu ").status_code == 200


def test_wrong_password_and_unknown_user_look_the_same(client):
    wrong = assert_problem(login(client, "canbo.noivu", "wrong-password"), 401, "auth.invalid_credentials")
    unknown = assert_problem(login(client, "nobody.here", "wrong-password"), 401, "auth.invalid_credentials")
    wrong.pop("request_id"), unknown.pop("request_id")
    assert wrong == unknown


def test_login_validation(client):
    body = assert_problem(client.post("/api/v1/auth/login", json={"username": "x"}), 422, "request.validation_failed")
    assert "password" in body["errors"]


# --- token problems: each a 401 problem+json with its own code, and nothing changed -----------


def _b64(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _resign(app, claims: dict, *, drop: tuple[str, ...] = (), key: str | None = None, **changes) -> str:
    """A token with these claims (some dropped or changed), signed with the app's key or another."""
    claims = {name: value for name, value in {**claims, **changes}.items() if name not in drop}
    return pyjwt.encode(claims, key or app.config["JWT_SECRET_KEY"], algorithm="HS256")


def _alg_none(app, claims: dict) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


NOW = int(time.time())
# (header value, or a function of (app, the claims of a good access token) giving a token; code)
BAD_TOKENS = {
    "no-header": (None, "auth.token_missing"),
    "basic-scheme": ("Basic YWRtaW46eA==", "auth.token_missing"),
    "bearer-without-token": ("Bearer", "auth.header_malformed"),
    "bearer-two-tokens": ("Bearer a b", "auth.header_malformed"),
    "garbage": (lambda app, c: "not-a-token", "auth.token_malformed"),
    "three-parts": (lambda app, c: "a.b.c", "auth.token_malformed"),
    "sub-abc": (lambda app, c: _resign(app, c, sub="abc"), "auth.token_bad_subject"),
    "sub-integer": (lambda app, c: _resign(app, c, sub=int(c["sub"])), "auth.token_bad_subject"),
    "sub-too-large": (lambda app, c: _resign(app, c, sub="99999999999"), "auth.token_bad_subject"),
    "sid-text": (lambda app, c: _resign(app, c, sid="1"), "auth.token_bad_claim"),
    "no-exp": (lambda app, c: _resign(app, c, drop=("exp",)), "auth.token_missing_claim"),
    "no-iat": (lambda app, c: _resign(app, c, drop=("iat",)), "auth.token_missing_claim"),
    "no-jti": (lambda app, c: _resign(app, c, drop=("jti",)), "auth.token_missing_claim"),
    "no-type": (lambda app, c: _resign(app, c, drop=("type",)), "auth.token_missing_claim"),
    "no-sid": (lambda app, c: _resign(app, c, drop=("sid",)), "auth.token_missing_claim"),
    "no-sub": (lambda app, c: _resign(app, c, drop=("sub",)), "auth.token_missing_claim"),
    "no-issuer": (lambda app, c: _resign(app, c, drop=("iss",)), "auth.token_missing_claim"),
    "no-audience": (lambda app, c: _resign(app, c, drop=("aud",)), "auth.token_missing_claim"),
    "unknown-type": (lambda app, c: _resign(app, c, type="admin"), "auth.token_unknown_type"),
    "wrong-issuer": (lambda app, c: _resign(app, c, iss="someone-else"), "auth.token_wrong_issuer"),
    "wrong-audience": (lambda app, c: _resign(app, c, aud="another-api"), "auth.token_wrong_audience"),
    "expired": (lambda app, c: _resign(app, c, iat=NOW - 3600, nbf=NOW - 3600, exp=NOW - 1800), "auth.token_expired"),
    "issued-in-future": (lambda app, c: _resign(app, c, iat=NOW + 3600, nbf=NOW + 3600, exp=NOW + 7200), "auth.token_not_yet_valid"),
    "forged": (lambda app, c: _resign(app, c, key="another-secret-key-of-sufficient-length-000"), "auth.token_bad_signature"),
    "alg-none": (_alg_none, "auth.token_bad_algorithm"),
    "unknown-session": (lambda app, c: _resign(app, c, sid=2**31 - 1), "auth.session_ended"),
}


@pytest.mark.parametrize(("maker", "code"), list(BAD_TOKENS.values()), ids=list(BAD_TOKENS))
def test_bad_tokens(client, app, session, maker, code):
    tokens = login(client, "lanhdao.ubnd").get_json()
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    header = maker(app, claims) if callable(maker) else maker
    if callable(maker):
        header = f"Bearer {header}"
    headers = {"Authorization": header} if header else {}
    for response in (client.get(ME, headers=headers), client.post(LOGOUT, headers=headers)):
        body = assert_problem(response, 401, code)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        if code == "auth.token_missing_claim":
            assert body["claim"] in {"exp", "iat", "jti", "type", "sid", "sub", "iss", "aud"}
    # Nothing changed: the session the token was made from is still live.
    assert session.scalar(select(func.count()).select_from(AuthSession).where(AuthSession.ended_at.is_not(None))) == 0
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200


def test_missing_claim_is_named(client, app):
    tokens = login(client, "lanhdao.ubnd").get_json()
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    for claim in ("exp", "iat", "jti", "type", "sid", "iss", "aud"):
        body = assert_problem(client.get(ME, headers=bearer(_resign(app, claims, drop=(claim,)))), 401, "auth.token_missing_claim")
        assert body["claim"] == claim


def test_refresh_token_without_type_is_not_taken_for_an_access_token(client, app):
    tokens = login(client, "lanhdao.ubnd").get_json()
    claims = pyjwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    assert_problem(client.get(ME, headers=bearer(_resign(app, claims, drop=("type",)))), 401, "auth.token_missing_claim")


def test_refresh_token_is_not_an_access_token(client, auth):
    assert_problem(client.get(ME, headers=auth.headers("admin", refresh=True)), 401, "auth.token_wrong_type")


def test_access_token_cannot_refresh(client, auth):
    assert_problem(client.post(REFRESH, headers=auth("admin")), 401, "auth.token_wrong_type")


def test_deactivated_user_tokens_stop_at_once(client, auth):
    tokens = login(client, "canbo.congan").get_json()
    assert client.delete(f"/api/v1/users/{auth.user_ids['canbo.congan']}", headers=auth("admin")).status_code == 204
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "auth.user_inactive")
    assert_problem(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 401, "auth.user_inactive")
    assert_problem(login(client, "canbo.congan"), 401, "auth.invalid_credentials")


@pytest.mark.no_transaction
def test_logout_holds_across_instances(database_url, auth):
    """Two app instances share only the database: a logout through one is refused by the other."""
    first = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    second = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    user_id = auth.user_ids["giamsat.tgdv"]
    try:
        tokens = login(first.test_client(), "giamsat.tgdv", address="198.51.100.9").get_json()
        assert second.test_client().get(ME, headers=bearer(tokens["access_token"])).status_code == 200
        assert first.test_client().post(LOGOUT, headers=bearer(tokens["access_token"])).status_code == 204
        assert_problem(second.test_client().get(ME, headers=bearer(tokens["access_token"])), 401, "auth.session_ended")
        assert_problem(second.test_client().post(REFRESH, headers=bearer(tokens["refresh_token"])), 401, "auth.session_ended")
    finally:
        with first.app_context():
            db.session.execute(delete(SignIn).where(SignIn.client_address == "198.51.100.9"))
            db.session.execute(delete(AuthSession).where(AuthSession.user_id == user_id, AuthSession.client_address == "198.51.100.9"))
            db.session.commit()
            db.session.remove()
        for instance in (first, second):
            with instance.app_context():
                db.engine.dispose()


# --- throttling: growing delays per account and address, never a lock-out ---------------------
# The app's clock is stopped (the `clock` fixture): every wait is a `clock.advance`, not a sleep.


def test_delays_grow_per_account_and_address(client, clock):
    for _ in range(3):  # three failures are free
        assert_problem(login(client, "canbo.noivu", "wrong-password-x"), 401, "auth.invalid_credentials")
    throttled = login(client, "canbo.noivu")  # even the right password must wait
    body = assert_problem(throttled, 429, "auth.too_many_attempts")
    assert throttled.headers["Retry-After"] == "2" and body["retry_after"] == 2
    clock.advance(1)
    assert login(client, "canbo.noivu").headers["Retry-After"] == "1"  # waiting does not make it longer
    clock.advance(1)
    assert_problem(login(client, "canbo.noivu", "wrong-password-x"), 401, "auth.invalid_credentials")
    assert login(client, "canbo.noivu").headers["Retry-After"] == "4"
    clock.advance(4)
    assert_problem(login(client, "canbo.noivu", "wrong-password-x"), 401, "auth.invalid_credentials")
    assert login(client, "canbo.noivu").headers["Retry-After"] == "8"
    clock.advance(8)
    assert login(client, "canbo.noivu").status_code == 200
    # A success starts the count again.
    assert_problem(login(client, "canbo.noivu", "wrong-password-x"), 401, "auth.invalid_credentials")
    assert login(client, "canbo.noivu").status_code == 200


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(client, clock):
    """Defect 5: failures from one address never stop the right password from another."""
    failures = 0
    while failures < 10:
        response = login(client, "canbo.noivu", "wrong-password-x", address="203.0.113.66")
        if response.status_code == 429:
            clock.advance(int(response.headers["Retry-After"]))
        else:
            assert_problem(response, 401, "auth.invalid_credentials")
            failures += 1
    assert login(client, "canbo.noivu", address="203.0.113.66").status_code == 429
    assert login(client, "canbo.noivu", address="10.0.0.1").status_code == 200  # the owner, at their desk
    assert login(client, "canbo.vhkhtt", address="203.0.113.66").status_code == 200  # another account, same address


def test_delay_has_a_cap(client, app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_DELAY_SECONDS", 16)
    for _ in range(3):
        assert login(client, "canbo.noivu", "wrong-password-x").status_code == 401
    waits = []
    for _ in range(6):
        throttled = assert_problem(login(client, "canbo.noivu", "wrong-password-x"), 429, "auth.too_many_attempts")
        waits.append(throttled["retry_after"])
        clock.advance(throttled["retry_after"])
        assert login(client, "canbo.noivu", "wrong-password-x").status_code == 401
    assert waits == [2, 4, 8, 16, 16, 16]


def test_unknown_accounts_are_throttled_alike(client, clock):
    """Otherwise the delay would tell which usernames exist."""
    for username in ("canbo.noivu", "khong.co.ai"):
        for _ in range(3):
            assert login(client, username, "wrong-password-x").status_code == 401
        assert login(client, username, "wrong-password-x").headers["Retry-After"] == "2"


def test_ceiling_per_client_address(client, app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 4)
    for i in range(4):
        assert login(client, f"guess{i}", "x" * 10, address="192.0.2.7").status_code == 401
    throttled = assert_problem(login(client, "canbo.noivu", address="192.0.2.7"), 429, "auth.too_many_attempts")
    assert throttled["retry_after"] == app.config["LOGIN_WINDOW_SECONDS"]
    assert login(client, "canbo.noivu", address="192.0.2.8").status_code == 200
    clock.advance(app.config["LOGIN_WINDOW_SECONDS"])
    assert login(client, "canbo.noivu", address="192.0.2.7").status_code == 200


def test_an_office_behind_one_address_is_not_locked_out(client, app, session, clock):
    """Defect 5: 50 failures from one NAT address locked every user behind it. The default ceiling
    is 300 failures per 15 minutes from one address."""
    assert app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] == 300 and app.config["LOGIN_WINDOW_SECONDS"] == 900
    session.add_all(
        SignIn(occurred_at=clock() - dt.timedelta(seconds=i), username=f"nhanvien{i % 40}", client_address="100.64.0.1",
               outcome="failed", reason="wrong_password")
        for i in range(299)
    )
    session.commit()
    assert login(client, "canbo.noivu", address="100.64.0.1").status_code == 200
    assert login(client, "khong.co.ai", "wrong-password-x", address="100.64.0.1").status_code == 401  # the 300th failure
    assert_problem(login(client, "canbo.vhkhtt", address="100.64.0.1"), 429, "auth.too_many_attempts")


def test_sign_ins_are_recorded(client, session, clock):
    login(client, "canbo.noivu", "wrong-password-x", address="10.1.1.1")
    client.post("/api/v1/auth/login", json={"username": "canbo.noivu", "password": DEMO_PASSWORD},
                environ_base={"REMOTE_ADDR": "10.1.1.1"}, headers={"User-Agent": "Trình duyệt/1.0"})
    login(client, "khong.co.ai", "wrong-password-x", address="10.1.1.1")
    rows = session.execute(
        select(SignIn.username, SignIn.outcome, SignIn.reason, SignIn.session_id, SignIn.user_agent, SignIn.occurred_at)
        .where(SignIn.client_address == "10.1.1.1").order_by(SignIn.id)
    ).all()
    assert [(r.username, r.outcome, r.reason, r.session_id is not None) for r in rows] == [
        ("canbo.noivu", "failed", "wrong_password", False),
        ("canbo.noivu", "ok", None, True),
        ("khong.co.ai", "failed", "unknown_user", False),
    ]
    assert rows[1].user_agent == "Trình duyệt/1.0"
    assert {r.occurred_at for r in rows} == {clock()}
    started = session.get(AuthSession, rows[1].session_id)
    assert (started.client_address, started.user_agent, started.created_at) == ("10.1.1.1", "Trình duyệt/1.0", clock())


def test_no_password_or_hash_in_responses_or_logs(client, auth, caplog):
    secret = "Mật-khẩu-bí-mật-2025"
    with caplog.at_level(logging.DEBUG):
        created = client.post(
            "/api/v1/users",
            headers=auth("admin"),
            json={"username": "nguyen.an", "password": secret, "full_name": "Nguyễn Văn An",
                  "memberships": [{"organization_id": 1, "role": "viewer"}]},
        )
        assert created.status_code == 201
        signed_in = login(client, "nguyen.an", secret)
        responses = [
            created,
            signed_in,
            login(client, "nguyen.an", secret + "x"),
            client.get(f"/api/v1/users/{created.get_json()['id']}", headers=auth("admin")),
            client.get("/api/v1/users?page_size=200", headers=auth("admin")),
            client.post("/api/v1/auth/password", headers=bearer(signed_in.get_json()["access_token"]),
                        json={"current_password": secret + "x", "new_password": secret + "3"}),
            client.post("/api/v1/auth/password", headers=bearer(signed_in.get_json()["access_token"]),
                        json={"current_password": secret, "new_password": secret + "3"}),
            client.patch(f"/api/v1/users/{created.get_json()['id']}", headers=auth("admin"), json={"password": secret + "2"}),
            client.post("/api/v1/users", headers=auth("admin"), json={"username": "x", "password": secret}),
            client.get("/api/v1/auth/sign-ins?page_size=200", headers=auth("admin")),
        ]
    texts = [r.get_data(as_text=True) for r in responses] + [r.getMessage() for r in caplog.records]
    assert [r.status_code for r in responses[1:3]] == [200, 401] and [r.status_code for r in responses[5:7]] == [403, 200]
    for text in texts:
        assert secret not in text
        assert "$argon2" not in text
        assert "password_hash" not in text


def test_nul_in_username_is_a_validation_error(client):
    body = assert_problem(client.post("/api/v1/auth/login", json={"username": "ad\x00min", "password": "x" * 10}), 422,
                          "request.validation_failed")
    assert "username" in body["errors"]


def test_token_ids_are_unique(client):
    tokens = [login(client, "canbo.noivu").get_json() for _ in range(3)]
    jtis = {pyjwt.decode(t[kind], options={"verify_signature": False})["jti"] for t in tokens for kind in ("access_token", "refresh_token")}
    assert len(jtis) == 6 and all(uuid.UUID(jti) for jti in jtis)
