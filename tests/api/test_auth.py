"""Sign-in, refresh, logout, token problems, throttling, and secrets kept out of answers and logs."""

import base64
import datetime as dt
import json
import logging
import time

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token
from sqlalchemy import delete

from tests.helpers import assert_problem
from tracker import create_app
from tracker.extensions import db
from tracker.models import RevokedToken
from tracker.services.demo import DEMO_PASSWORD

ME = "/api/v1/auth/me"


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
    me = client.get(ME, headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    body = me.get_json()
    assert body["user"]["username"] == "canbo.noivu"
    assert body["user"]["memberships"][0]["organization_code"] == "PNV-KD"
    assert body["scope"]["all"] is False and body["scope"]["subtree_roots"] == []
    assert body["scope"]["own_organizations"] == [body["user"]["memberships"][0]["organization_id"]]
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    assert client.get(ME, headers=bearer(refreshed.get_json()["access_token"])).status_code == 200


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


@pytest.mark.parametrize(
    ("token_maker", "code"),
    [
        (lambda app, uid: None, "auth.token_missing"),
        (lambda app, uid: "not-a-token", "auth.token_malformed"),
        (lambda app, uid: "a.b.c", "auth.token_malformed"),
        (lambda app, uid: create_access_token(str(uid), expires_delta=dt.timedelta(seconds=-10)), "auth.token_expired"),
        (lambda app, uid: pyjwt.encode(_claims(uid), "another-secret-key-of-sufficient-length-000", algorithm="HS256"), "auth.token_bad_signature"),
        (lambda app, uid: _alg_none(uid), "auth.token_bad_algorithm"),
    ],
    ids=["missing", "garbage", "malformed", "expired", "forged", "alg-none"],
)
def test_bad_tokens(client, app, auth, token_maker, code):
    with app.app_context():
        token = token_maker(app, auth.user_ids["admin"])
    headers = bearer(token) if token else {}
    response = client.get(ME, headers=headers)
    assert_problem(response, 401, code)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def _claims(uid):
    now = int(time.time())
    return {"sub": str(uid), "type": "access", "jti": "forged-1", "fresh": False, "iat": now, "nbf": now, "exp": now + 600}


def _alg_none(uid):
    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_claims(uid))}."


def test_refresh_token_is_not_an_access_token(client, auth):
    assert_problem(client.get(ME, headers=auth.headers("admin", refresh=True)), 401, "auth.token_wrong_type")


def test_access_token_cannot_refresh(client, auth):
    assert_problem(client.post("/api/v1/auth/refresh", headers=auth("admin")), 401, "auth.token_wrong_type")


def test_logout_revokes_access_and_refresh_tokens(client):
    tokens = login(client, "canbo.vhkhtt").get_json()
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "auth.token_revoked")
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"])).status_code == 204
    assert_problem(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401, "auth.token_revoked")


def test_deactivated_user_tokens_stop_at_once(client, auth):
    tokens = login(client, "canbo.congan").get_json()
    assert client.delete(f"/api/v1/users/{auth.user_ids['canbo.congan']}", headers=auth("admin")).status_code == 204
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "auth.user_inactive")
    assert_problem(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401, "auth.user_inactive")
    assert_problem(login(client, "canbo.congan"), 401, "auth.invalid_credentials")


@pytest.mark.no_transaction
def test_revocation_holds_across_instances(database_url, auth):
    """Two app instances share only the database: a logout through one is refused by the other."""
    first = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    second = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    with first.app_context():
        token = create_access_token(identity=str(auth.user_ids["giamsat.tgdv"]))
    jti = pyjwt.decode(token, options={"verify_signature": False})["jti"]
    try:
        assert second.test_client().get(ME, headers=bearer(token)).status_code == 200
        assert first.test_client().post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
        assert_problem(second.test_client().get(ME, headers=bearer(token)), 401, "auth.token_revoked")
    finally:
        with first.app_context():
            db.session.execute(delete(RevokedToken).where(RevokedToken.jti == jti))
            db.session.commit()
            db.session.remove()
        for instance in (first, second):
            with instance.app_context():
                db.engine.dispose()


def test_throttling_per_account_starts_and_ends(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 3)
    monkeypatch.setitem(app.config, "LOGIN_WINDOW_SECONDS", 2)
    for _ in range(3):
        assert_problem(login(client, "canbo.noivu", "wrong-password-x"), 401, "auth.invalid_credentials")
    throttled = login(client, "canbo.noivu")  # even the right password, while throttled
    body = assert_problem(throttled, 429, "auth.too_many_attempts")
    assert 1 <= int(throttled.headers["Retry-After"]) <= 2 and body["retry_after"] >= 1
    assert login(client, "canbo.vhkhtt", address="10.9.9.9").status_code == 200  # other accounts are not affected
    time.sleep(2.2)
    assert login(client, "canbo.noivu").status_code == 200


def test_throttling_per_client_address(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 4)
    for i in range(4):
        assert login(client, f"guess{i}", "x" * 10, address="192.0.2.7").status_code == 401
    assert_problem(login(client, "canbo.noivu", address="192.0.2.7"), 429, "auth.too_many_attempts")
    assert login(client, "canbo.noivu", address="192.0.2.8").status_code == 200


def test_success_resets_the_account_counter(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 3)
    for _ in range(2):
        login(client, "canbo.noivu", "wrong-password-x")
    assert login(client, "canbo.noivu").status_code == 200
    for _ in range(2):
        login(client, "canbo.noivu", "wrong-password-x")
    assert login(client, "canbo.noivu").status_code == 200


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
        responses = [
            created,
            login(client, "nguyen.an", secret),
            login(client, "nguyen.an", secret + "x"),
            client.get(f"/api/v1/users/{created.get_json()['id']}", headers=auth("admin")),
            client.get("/api/v1/users?page_size=200", headers=auth("admin")),
            client.patch(f"/api/v1/users/{created.get_json()['id']}", headers=auth("admin"), json={"password": secret + "2"}),
            client.post("/api/v1/users", headers=auth("admin"), json={"username": "x", "password": secret}),
        ]
    texts = [r.get_data(as_text=True) for r in responses] + [r.getMessage() for r in caplog.records]
    assert responses[1].status_code == 200 and responses[2].status_code == 401
    for text in texts:
        assert secret not in text
        assert "$argon2" not in text
        assert "password_hash" not in text


def test_nul_in_username_is_a_validation_error(client):
    body = assert_problem(client.post("/api/v1/auth/login", json={"username": "ad\x00min", "password": "x" * 10}), 422,
                          "request.validation_failed")
    assert "username" in body["errors"]
