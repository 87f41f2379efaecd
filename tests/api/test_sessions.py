"""Sessions: a sign-in opens one, both its tokens belong to it, and ending it (logout, a password
change, deactivation, the loss of every membership, a reused refresh token) refuses both at once,
leaving every other session alone. Refresh rotates the refresh token."""

import jwt as pyjwt
import pytest
from sqlalchemy import event, select

from tests.helpers import assert_problem
from tracker.extensions import db
from tracker.models import AuthSession, SignIn
from tracker.services.demo import DEMO_PASSWORD

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
PASSWORD = "/api/v1/auth/password"
SIGN_INS = "/api/v1/auth/sign-ins"
NEW_PASSWORD = "MatKhauMoi@2026"


def login(client, username, password=DEMO_PASSWORD, address="10.0.0.1"):
    response = client.post(LOGIN, json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def works(client, tokens) -> bool:
    """Whether the access token still opens /me (the refresh token is checked apart, as it is spent)."""
    return client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200


def assert_ended(client, tokens, reason):
    """Both tokens of a session are refused, saying why the session ended."""
    for response in (client.get(ME, headers=bearer(tokens["access_token"])),
                     client.post(REFRESH, headers=bearer(tokens["refresh_token"]))):
        assert assert_problem(response, 401, "auth.session_ended")["reason"] == reason


def session_of(session, tokens) -> AuthSession:
    sid = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    return session.get(AuthSession, sid)


# --- logout (defect 2) -------------------------------------------------------------------------


def test_logout_with_the_access_token_ends_the_refresh_token_too(client, session):
    tokens = login(client, "canbo.vhkhtt")
    assert client.post(LOGOUT, headers=bearer(tokens["access_token"])).status_code == 204
    assert_ended(client, tokens, "logout")
    ended = session_of(session, tokens)
    assert ended.end_reason == "logout" and ended.ended_at is not None


def test_logout_with_the_refresh_token_ends_the_access_token_too(client):
    tokens = login(client, "canbo.vhkhtt")
    assert client.post(LOGOUT, headers=bearer(tokens["refresh_token"])).status_code == 204
    assert_ended(client, tokens, "logout")
    assert_problem(client.post(LOGOUT, headers=bearer(tokens["access_token"])), 401, "auth.session_ended")


def test_logout_leaves_other_sessions_alone(client, auth):
    desk, phone, colleague = login(client, "canbo.vhkhtt"), login(client, "canbo.vhkhtt", address="10.0.0.2"), login(client, "canbo.noivu")
    assert client.post(LOGOUT, headers=bearer(desk["access_token"])).status_code == 204
    assert works(client, phone) and works(client, colleague) and client.get(ME, headers=auth("canbo.vhkhtt")).status_code == 200
    assert client.post(REFRESH, headers=bearer(phone["refresh_token"])).status_code == 200


# --- refresh: rotation and reuse ---------------------------------------------------------------


def test_refresh_rotates_the_refresh_token(client, session, clock):
    first = login(client, "canbo.noivu")
    clock.advance(600)
    response = client.post(REFRESH, headers=bearer(first["refresh_token"]))
    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    assert second["expires_in"] == 15 * 60 and second["refresh_expires_in"] == 14 * 24 * 3600
    claims = [pyjwt.decode(t, options={"verify_signature": False}) for t in (first["refresh_token"], second["refresh_token"])]
    assert claims[0]["sid"] == claims[1]["sid"] and claims[0]["jti"] != claims[1]["jti"]
    live = session_of(session, second)
    assert live.refresh_jti == claims[1]["jti"] and live.last_used_at == clock() and live.created_at < clock()
    assert works(client, first) and works(client, second)  # the older access token lives out its 15 minutes
    third = client.post(REFRESH, headers=bearer(second["refresh_token"]))
    assert third.status_code == 200 and works(client, third.get_json())


def test_reused_refresh_token_ends_the_session(client, auth):
    """A rotated refresh token coming back means someone kept a copy: the session ends for both."""
    first = login(client, "canbo.noivu")
    second = client.post(REFRESH, headers=bearer(first["refresh_token"])).get_json()
    other = login(client, "canbo.noivu", address="10.0.0.9")
    assert_problem(client.post(REFRESH, headers=bearer(first["refresh_token"])), 401, "auth.refresh_reused")
    assert_ended(client, second, "refresh_reused")
    assert_ended(client, first, "refresh_reused")
    assert works(client, other) and client.get(ME, headers=auth("canbo.noivu")).status_code == 200


def test_refresh_token_in_the_body(client):
    tokens = login(client, "canbo.noivu")
    response = client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200 and works(client, response.get_json())
    assert_problem(client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}), 401, "auth.refresh_reused")


def test_refresh_body_problems(client):
    tokens = login(client, "canbo.noivu")
    assert_problem(client.post(REFRESH, json={"refresh_token": tokens["access_token"]}), 401, "auth.token_wrong_type")
    assert_problem(client.post(REFRESH, json={}), 401, "auth.token_missing")
    assert_problem(client.post(REFRESH), 401, "auth.token_missing")
    assert_problem(client.post(REFRESH, json={"refresh_token": "a.b.c"}), 401, "auth.token_malformed")
    assert works(client, tokens)


# --- password changes (defect 1) ----------------------------------------------------------------


def test_admin_setting_a_password_ends_every_session_of_that_user(client, auth):
    desk, phone, colleague = login(client, "canbo.vhkhtt"), login(client, "canbo.vhkhtt", address="10.0.0.2"), login(client, "canbo.noivu")
    response = client.patch(f"/api/v1/users/{auth.user_ids['canbo.vhkhtt']}", headers=auth("admin"), json={"password": NEW_PASSWORD})
    assert response.status_code == 200
    assert_ended(client, desk, "password_changed")
    assert_ended(client, phone, "password_changed")
    assert works(client, colleague) and client.get(ME, headers=auth("admin")).status_code == 200
    assert works(client, login(client, "canbo.vhkhtt", NEW_PASSWORD))


def test_changing_ones_own_password(client, session):
    desk, phone, colleague = login(client, "canbo.vhkhtt"), login(client, "canbo.vhkhtt", address="10.0.0.2"), login(client, "canbo.noivu")
    response = client.post(PASSWORD, headers=bearer(desk["access_token"]),
                           json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 200
    fresh = response.get_json()
    assert fresh["expires_in"] == 15 * 60 and works(client, fresh)
    assert_ended(client, desk, "password_changed")  # this session too: the answer is a new one
    assert_ended(client, phone, "password_changed")
    assert works(client, colleague)
    assert client.post(LOGIN, json={"username": "canbo.vhkhtt", "password": DEMO_PASSWORD}).status_code == 401
    assert works(client, login(client, "canbo.vhkhtt", NEW_PASSWORD))
    record = session.scalar(select(SignIn).where(SignIn.session_id == session_of(session, fresh).id))
    assert (record.outcome, record.reason) == ("ok", "password_changed")


def test_wrong_current_password_changes_nothing(client):
    tokens = login(client, "canbo.vhkhtt")
    response = client.post(PASSWORD, headers=bearer(tokens["access_token"]),
                           json={"current_password": "not-my-password", "new_password": NEW_PASSWORD})
    assert_problem(response, 403, "auth.wrong_current_password")
    assert works(client, tokens)
    assert client.post(LOGIN, json={"username": "canbo.vhkhtt", "password": NEW_PASSWORD}).status_code == 401
    same = client.post(PASSWORD, headers=bearer(tokens["access_token"]),
                       json={"current_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD})
    assert "new_password" in assert_problem(same, 422, "request.validation_failed")["errors"]
    short = client.post(PASSWORD, headers=bearer(tokens["access_token"]), json={"current_password": DEMO_PASSWORD, "new_password": "ngan"})
    assert "new_password" in assert_problem(short, 422, "request.validation_failed")["errors"]
    assert works(client, tokens)


def test_guessing_the_current_password_is_throttled(client, clock):
    """A stolen access token must not bypass sign-in throttling to guess the password."""
    tokens = login(client, "canbo.vhkhtt", address="127.0.0.1")
    guess = {"current_password": "doan-mat-khau", "new_password": NEW_PASSWORD}
    for _ in range(3):
        assert_problem(client.post(PASSWORD, headers=bearer(tokens["access_token"]), json=guess), 403, "auth.wrong_current_password")
    throttled = client.post(PASSWORD, headers=bearer(tokens["access_token"]), json={**guess, "current_password": DEMO_PASSWORD})
    assert_problem(throttled, 429, "auth.too_many_attempts")
    assert throttled.headers["Retry-After"] == "2"
    clock.advance(2)
    assert client.post(PASSWORD, headers=bearer(tokens["access_token"]),
                       json={"current_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}).status_code == 200


# --- deactivation and memberships ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["delete", "patch"])
def test_deactivation_ends_every_session(client, auth, session, how):
    tokens, colleague = login(client, "canbo.congan"), login(client, "canbo.noivu")
    url = f"/api/v1/users/{auth.user_ids['canbo.congan']}"
    response = client.delete(url, headers=auth("admin")) if how == "delete" else client.patch(url, headers=auth("admin"), json={"is_active": False})
    assert response.status_code in (200, 204)
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "auth.user_inactive")
    assert session_of(session, tokens).end_reason == "deactivated"
    assert works(client, colleague)
    # Active again, the old sessions stay over.
    assert client.patch(url, headers=auth("admin"), json={"is_active": True}).status_code == 200
    assert_ended(client, tokens, "deactivated")
    assert works(client, login(client, "canbo.congan"))


def test_losing_every_membership_ends_every_session(client, auth, org):
    tokens, colleague = login(client, "canbo.congan"), login(client, "canbo.noivu")
    url = f"/api/v1/users/{auth.user_ids['canbo.congan']}"
    moved = client.patch(url, headers=auth("admin"), json={"memberships": [{"organization_id": org["PNV-KD"], "role": "officer"}]})
    assert moved.status_code == 200 and works(client, tokens)  # a move keeps the session (scope is read per request)
    assert client.patch(url, headers=auth("admin"), json={"memberships": []}).status_code == 200
    assert_ended(client, tokens, "memberships_removed")
    assert works(client, colleague)


# --- sign-in records ------------------------------------------------------------------------------


def test_sign_ins_are_readable_by_admins_only(client, auth, clock):
    client.post(LOGIN, json={"username": "lanhdao.ubnd", "password": "sai-mat-khau"}, environ_base={"REMOTE_ADDR": "10.7.7.7"},
                headers={"User-Agent": "Firefox/140"})
    login(client, "lanhdao.ubnd", address="10.7.7.7")
    response = client.get(SIGN_INS, headers=auth("admin"), query_string={"username": "LanhDao.UBND"})
    assert response.status_code == 200 and "X-Pagination" in response.headers
    records = response.get_json()
    assert [(r["outcome"], r["reason"]) for r in records] == [("ok", None), ("failed", "wrong_password")]  # newest first
    assert records[1]["client_address"] == "10.7.7.7" and records[1]["user_agent"] == "Firefox/140"
    assert records[0]["user_id"] == auth.user_ids["lanhdao.ubnd"] and records[0]["session_id"]
    assert records[0]["occurred_at"].endswith("Z")
    by_user = client.get(SIGN_INS, headers=auth("admin"), query_string={"user_id": auth.user_ids["lanhdao.ubnd"], "outcome": "failed"})
    assert [r["reason"] for r in by_user.get_json()] == ["wrong_password"]
    by_address = client.get(SIGN_INS, headers=auth("admin"), query_string={"client_address": "10.7.7.7", "page_size": 1})
    assert len(by_address.get_json()) == 1 and '"total": 2' in by_address.headers["X-Pagination"]
    for username in ("lanhdao.ubnd", "lanhdao.huyen", "canbo.noivu", "giamsat.tgdv"):
        assert_problem(client.get(SIGN_INS, headers=auth(username)), 403, "auth.admin_only")
    assert_problem(client.get(SIGN_INS), 401, "auth.token_missing")
    assert_problem(client.get(SIGN_INS, headers=auth("admin"), query_string={"outcome": "maybe"}), 422, "request.validation_failed")


# --- the cost of checking the session -------------------------------------------------------------


def test_session_is_read_with_the_user_in_one_query(app, client, auth):
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(ME, headers=auth("canbo.noivu")).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    queries = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    touching = [s for s in queries if "auth_session" in s]
    assert len(touching) == 1 and "user_account" in touching[0]  # one statement for the user and the session
    assert len(queries) <= 3, queries  # that one, the memberships, their organisations


def test_purge_removes_old_sessions_and_records_only(client, runner, session, auth, clock):
    ended = login(client, "canbo.noivu")
    ended_id = session_of(session, ended).id
    assert client.post(LOGOUT, headers=bearer(ended["access_token"])).status_code == 204
    live = login(client, "canbo.noivu")
    clock.advance(2 * 86400)
    result = runner.invoke(args=["tracker", "purge-sessions", "--older-than-days", "1"])
    assert result.exit_code == 0, result.output
    assert "1 sessions and 2 sign-in records removed" in result.output
    session.expire_all()
    assert session.get(AuthSession, ended_id) is None
    assert works(client, live) and client.get(ME, headers=auth("canbo.noivu")).status_code == 200
