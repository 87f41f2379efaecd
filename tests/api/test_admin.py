"""User and organisation administration through the API: who may do it, what is checked, what
changes (and what does not when a request is refused)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.helpers import assert_problem
from tracker.models import Organization, User
from tracker.services.demo import DEMO_PASSWORD

USERS = "/api/v1/users"
ORGS = "/api/v1/organizations"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
NEW_PASSWORD = "BaoMat@KimDong2025"
UNKNOWN_ID = 987654
NON_ADMINS = ["lanhdao.huyen", "canbo.noivu"]


# --- helpers ---------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client, username: str, password: str = DEMO_PASSWORD, address: str = "10.20.0.1"):
    return client.post(LOGIN, json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address})


def total(client, url: str, **params) -> int:
    """The X-Pagination total of a list endpoint."""
    response = client.get(url, query_string={**params, "page_size": 1})
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.headers["X-Pagination"])["total"]


def usernames(client, **params) -> list[str]:
    response = client.get(USERS, query_string={**params, "page_size": 200})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [u["username"] for u in response.get_json()]


def user_payload(orgs: dict[str, int], **overrides) -> dict:
    payload = {
        "username": "nguyen.an",
        "password": NEW_PASSWORD,
        "full_name": "Nguyễn Văn An",
        "phone": "0221 3800 999",
        "email": "an.nguyen@kimdong.example.vn",
        "memberships": [{"organization_id": orgs["PNV-KD"], "role": "officer"}],
    }
    payload.update(overrides)
    return payload


def create_user(admin, orgs: dict[str, int], **overrides) -> dict:
    response = admin.post(USERS, json=user_payload(orgs, **overrides))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def org_payload(orgs: dict[str, int], **overrides) -> dict:
    payload = {"code": "PTN-KD", "name": "Phòng Thử nghiệm", "short_name": "Phòng TN", "kind": "department",
               "parent_id": orgs["UBND-KD"]}
    payload.update(overrides)
    return payload


def memberships_of(body: dict) -> list[tuple[str, str]]:
    return sorted((m["organization_code"], m["role"]) for m in body["memberships"])


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def admin(client_as):
    return client_as("admin")


@pytest.fixture
def orgs(session) -> dict[str, int]:
    return dict(session.execute(select(Organization.code, Organization.id)).all())


@pytest.fixture
def user_ids(session) -> dict[str, int]:
    return dict(session.execute(select(User.username, User.id)).all())


# --- users: create ---------------------------------------------------------------------------


def test_create_user_returns_user_with_memberships(admin, orgs):
    payload = user_payload(orgs, username="Nguyen.An", memberships=[
        {"organization_id": orgs["PNV-KD"], "role": "officer"},
        {"organization_id": orgs["UBND-KD"], "role": "viewer"},
    ])
    response = admin.post(USERS, json=payload)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body["id"], int)
    assert body["username"] == "nguyen.an"
    assert body["full_name"] == "Nguyễn Văn An"
    assert body["phone"] == "0221 3800 999"
    assert body["email"] == "an.nguyen@kimdong.example.vn"
    assert body["is_active"] is True
    assert memberships_of(body) == [("PNV-KD", "officer"), ("UBND-KD", "viewer")]
    assert {m["organization_id"] for m in body["memberships"]} == {orgs["PNV-KD"], orgs["UBND-KD"]}


def test_create_user_never_returns_the_password_or_its_hash(admin, orgs, session):
    response = admin.post(USERS, json=user_payload(orgs))
    assert response.status_code == 201
    body = response.get_json()
    assert "password" not in body and "password_hash" not in body
    text = response.get_data(as_text=True)
    assert NEW_PASSWORD not in text
    assert "$argon2" not in text
    stored = session.scalar(select(User.password_hash).where(User.id == body["id"]))
    assert stored.startswith("$argon2") and NEW_PASSWORD not in stored


def test_created_user_can_sign_in(admin, client, orgs):
    create_user(admin, orgs, username="Nguyen.An")
    response = login(client, "nguyen.an", NEW_PASSWORD)
    assert response.status_code == 200, response.get_data(as_text=True)
    tokens = response.get_json()
    assert tokens["access_token"] and tokens["refresh_token"]
    me = client.get(ME, headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["user"]["username"] == "nguyen.an"
    assert memberships_of(me.get_json()["user"]) == [("PNV-KD", "officer")]


@pytest.mark.parametrize("username", ["canbo.noivu", "CanBo.NoiVu", "CANBO.NOIVU"])
def test_duplicate_username_in_any_case_is_refused(admin, orgs, username):
    before = total(admin, USERS)
    body = assert_problem(admin.post(USERS, json=user_payload(orgs, username=username)), 409, "user.username_taken")
    assert "canbo.noivu" in body["detail"]
    assert total(admin, USERS) == before


def test_username_with_trailing_newline_is_refused(admin, orgs):
    before = total(admin, USERS)
    body = assert_problem(admin.post(USERS, json=user_payload(orgs, username="canbo.noivu\n")), 422,
                          "request.validation_failed")
    assert list(body["errors"]) == ["username"]
    assert total(admin, USERS) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "ngan-qua"}, "password"),
        ({"username": "nguyễn an"}, "username"),
        ({"username": "an"}, "username"),
        ({"email": "khong-phai-email"}, "email"),
        ({"full_name": ""}, "full_name"),
        ({"memberships": [{"organization_id": 1, "role": "chu_tich"}]}, "memberships[0].role"),
    ],
    ids=["short-password", "username-with-space", "username-too-short", "bad-email", "empty-full-name", "unknown-role"],
)
def test_create_user_validation(admin, orgs, overrides, field):
    before = total(admin, USERS)
    body = assert_problem(admin.post(USERS, json=user_payload(orgs, **overrides)), 422, "request.validation_failed")
    assert field in body["errors"], body["errors"]
    assert total(admin, USERS) == before


def test_create_user_without_full_name(admin, orgs):
    payload = user_payload(orgs)
    del payload["full_name"]
    before = total(admin, USERS)
    body = assert_problem(admin.post(USERS, json=payload), 422, "request.validation_failed")
    assert list(body["errors"]) == ["full_name"]
    assert total(admin, USERS) == before


def test_create_user_with_unknown_organisation(admin, orgs):
    before = total(admin, USERS)
    payload = user_payload(orgs, memberships=[{"organization_id": UNKNOWN_ID, "role": "officer"}])
    body = assert_problem(admin.post(USERS, json=payload), 422, "request.validation_failed")
    assert list(body["errors"]) == ["memberships[0].organization_id"]
    assert total(admin, USERS) == before
    assert "nguyen.an" not in usernames(admin)


def test_create_user_with_the_same_organisation_twice(admin, orgs):
    before = total(admin, USERS)
    payload = user_payload(orgs, memberships=[
        {"organization_id": orgs["PNV-KD"], "role": "officer"},
        {"organization_id": orgs["PNV-KD"], "role": "viewer"},
    ])
    body = assert_problem(admin.post(USERS, json=payload), 422, "request.validation_failed")
    assert list(body["errors"]) == ["memberships[1].organization_id"]
    assert total(admin, USERS) == before


# --- users: list and read --------------------------------------------------------------------


def test_user_list_is_paged(admin, session):
    count = len(session.scalars(select(User.id)).all())
    assert count >= 8
    first = admin.get(USERS, query_string={"page_size": 3})
    assert first.status_code == 200
    meta = json.loads(first.headers["X-Pagination"])
    assert meta["total"] == count
    assert meta["page"] == 1 and meta["total_pages"] == -(-count // 3)
    assert 'rel="next"' in first.headers["Link"]
    second = admin.get(USERS, query_string={"page_size": 3, "page": 2})
    page_one = [u["username"] for u in first.get_json()]
    page_two = [u["username"] for u in second.get_json()]
    assert len(page_one) == 3 and len(page_two) == 3
    assert not set(page_one) & set(page_two)
    assert page_one + page_two == sorted(page_one + page_two)  # ordered by username


def test_user_list_never_shows_password_hashes(admin):
    response = admin.get(USERS, query_string={"page_size": 200})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "$argon2" not in text and "password" not in text and DEMO_PASSWORD not in text


def test_user_list_filtered_by_organisation(admin, orgs):
    assert usernames(admin, organization_id=orgs["HU-KD"]) == ["giamsat.tgdv", "lanhdao.huyen"]
    assert usernames(admin, organization_id=orgs["PNV-KD"]) == ["canbo.noivu"]
    assert usernames(admin, organization_id=orgs["MTTQ-KD"]) == []


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("noivu", ["canbo.noivu"]),
        ("CANBO.C", ["canbo.congan"]),
        ("Lê Thị", ["canbo.vhkhtt"]),
        ("hoàng văn", ["giamsat.tgdv"]),
        ("lanhdao", ["lanhdao.huyen", "lanhdao.ubnd"]),
        ("không-có-ai", []),
    ],
)
def test_user_list_search_matches_username_or_full_name(admin, q, expected):
    assert usernames(admin, q=q) == expected


def test_user_search_treats_underscore_literally(admin):
    assert usernames(admin, q="_") == []


def test_user_search_ignores_case_and_accents(admin):
    assert usernames(admin, q="duc") == ["canbo.noivu"]
    assert usernames(admin, q="đức") == ["canbo.noivu"]
    assert usernames(admin, q="PHẠM MINH") == ["canbo.noivu"]


def test_user_list_active_filter(admin, user_ids):
    assert admin.delete(f"{USERS}/{user_ids['canbo.congan']}").status_code == 204
    assert usernames(admin, active="false") == ["canbo.congan"]
    active = usernames(admin, active="true")
    assert "canbo.congan" not in active and "canbo.noivu" in active
    assert "canbo.congan" in usernames(admin)


def test_get_user(admin, user_ids):
    response = admin.get(f"{USERS}/{user_ids['canbo.vhkhtt']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == user_ids["canbo.vhkhtt"]
    assert body["username"] == "canbo.vhkhtt"
    assert body["full_name"] == "Lê Thị Hoa"
    assert memberships_of(body) == [("PVHKHTT-KD", "officer")]
    assert "password" not in body and "password_hash" not in body


def test_get_unknown_user(admin):
    assert_problem(admin.get(f"{USERS}/{UNKNOWN_ID}"), 404, "user.not_found")


# --- users: update ---------------------------------------------------------------------------


def test_patch_updates_contact_details(admin, user_ids):
    url = f"{USERS}/{user_ids['canbo.noivu']}"
    changes = {"full_name": "Phạm Minh Đức (Phó trưởng phòng)", "phone": "+84 912 000 199",
               "email": "duc.pham@kimdong.example.vn"}
    response = admin.patch(url, json=changes)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert {k: body[k] for k in changes} == changes
    assert body["username"] == "canbo.noivu"
    assert memberships_of(body) == [("PNV-KD", "officer")]  # untouched when not given
    again = admin.get(url).get_json()
    assert {k: again[k] for k in changes} == changes


def test_patch_memberships_replaces_them(admin, orgs, user_ids):
    url = f"{USERS}/{user_ids['canbo.noivu']}"
    new = [{"organization_id": orgs["UBND-KD"], "role": "leader"}, {"organization_id": orgs["PVHKHTT-KD"], "role": "viewer"}]
    response = admin.patch(url, json={"memberships": new})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert memberships_of(response.get_json()) == [("PVHKHTT-KD", "viewer"), ("UBND-KD", "leader")]
    assert memberships_of(admin.get(url).get_json()) == [("PVHKHTT-KD", "viewer"), ("UBND-KD", "leader")]
    assert "canbo.noivu" not in usernames(admin, organization_id=orgs["PNV-KD"])
    assert "canbo.noivu" in usernames(admin, organization_id=orgs["UBND-KD"])


def test_patch_memberships_with_unknown_organisation_changes_nothing(admin, user_ids):
    url = f"{USERS}/{user_ids['canbo.noivu']}"
    bad = [{"organization_id": UNKNOWN_ID, "role": "leader"}]
    body = assert_problem(admin.patch(url, json={"memberships": bad}), 422, "request.validation_failed")
    assert list(body["errors"]) == ["memberships[0].organization_id"]
    assert memberships_of(admin.get(url).get_json()) == [("PNV-KD", "officer")]


def test_patch_password_changes_sign_in(admin, client, user_ids):
    response = admin.patch(f"{USERS}/{user_ids['canbo.vhkhtt']}", json={"password": NEW_PASSWORD})
    assert response.status_code == 200
    assert "password" not in response.get_json() and NEW_PASSWORD not in response.get_data(as_text=True)
    assert login(client, "canbo.vhkhtt", NEW_PASSWORD).status_code == 200
    assert_problem(login(client, "canbo.vhkhtt", DEMO_PASSWORD), 401, "auth.invalid_credentials")


def test_patch_short_password_is_refused(admin, client, user_ids):
    body = assert_problem(admin.patch(f"{USERS}/{user_ids['canbo.vhkhtt']}", json={"password": "ngan"}), 422,
                          "request.validation_failed")
    assert list(body["errors"]) == ["password"]
    assert login(client, "canbo.vhkhtt", DEMO_PASSWORD).status_code == 200


def test_patch_unknown_user(admin):
    assert_problem(admin.patch(f"{USERS}/{UNKNOWN_ID}", json={"full_name": "Nguyễn Văn An"}), 404, "user.not_found")


# --- users: deactivate -----------------------------------------------------------------------


def test_delete_deactivates_and_stops_tokens(admin, client, user_ids):
    tokens = login(client, "canbo.congan").get_json()
    assert client.get(ME, headers=bearer(tokens["access_token"])).status_code == 200
    response = admin.delete(f"{USERS}/{user_ids['canbo.congan']}")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(client.get(ME, headers=bearer(tokens["access_token"])), 401, "auth.user_inactive")
    assert_problem(login(client, "canbo.congan"), 401, "auth.invalid_credentials")


def test_deactivated_user_is_kept(admin, user_ids):
    url = f"{USERS}/{user_ids['canbo.congan']}"
    assert admin.delete(url).status_code == 204
    body = admin.get(url).get_json()
    assert body["is_active"] is False
    assert body["username"] == "canbo.congan"
    assert memberships_of(body) == [("CA-KD", "officer")]


def test_delete_unknown_user(admin):
    assert_problem(admin.delete(f"{USERS}/{UNKNOWN_ID}"), 404, "user.not_found")


# --- users: who may ---------------------------------------------------------------------------


@pytest.mark.parametrize("username", NON_ADMINS)
def test_non_admin_cannot_list_or_read_users(client_as, user_ids, username):
    caller = client_as(username)
    assert_problem(caller.get(USERS), 403, "auth.admin_only")
    assert_problem(caller.get(f"{USERS}/{user_ids[username]}"), 403, "auth.admin_only")


@pytest.mark.parametrize("username", NON_ADMINS)
def test_non_admin_cannot_create_users(admin, client_as, orgs, username):
    before = total(admin, USERS)
    assert_problem(client_as(username).post(USERS, json=user_payload(orgs)), 403, "auth.admin_only")
    assert total(admin, USERS) == before
    assert "nguyen.an" not in usernames(admin)


@pytest.mark.parametrize("username", NON_ADMINS)
def test_non_admin_cannot_update_users(admin, client_as, orgs, user_ids, username):
    url = f"{USERS}/{user_ids['canbo.vhkhtt']}"
    change = {"full_name": "Nguyễn Văn An", "memberships": [{"organization_id": orgs["TU-HY"], "role": "admin"}]}
    assert_problem(client_as(username).patch(url, json=change), 403, "auth.admin_only")
    own = f"{USERS}/{user_ids[username]}"
    assert_problem(client_as(username).patch(own, json=change), 403, "auth.admin_only")  # not even themselves
    for target in (url, own):
        body = admin.get(target).get_json()
        assert body["full_name"] != "Nguyễn Văn An"
        assert ("TU-HY", "admin") not in memberships_of(body)


@pytest.mark.parametrize("username", NON_ADMINS)
def test_non_admin_cannot_deactivate_users(admin, client_as, user_ids, username):
    url = f"{USERS}/{user_ids['canbo.vhkhtt']}"
    assert_problem(client_as(username).delete(url), 403, "auth.admin_only")
    assert admin.get(url).get_json()["is_active"] is True


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", USERS, None), ("POST", USERS, {"username": "nguyen.an"}), ("GET", f"{USERS}/1", None),
     ("PATCH", f"{USERS}/1", {"full_name": "Nguyễn Văn An"}), ("DELETE", f"{USERS}/1", None)],
)
def test_anonymous_cannot_administer_users(client, method, path, body):
    assert_problem(client.open(path, method=method, json=body), 401, "auth.token_missing")


# --- organisations: create -------------------------------------------------------------------


def test_create_organization(admin, orgs):
    before = total(admin, ORGS)
    response = admin.post(ORGS, json=org_payload(orgs, valid_from="2025-01-01"))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body["id"], int)
    assert body["code"] == "PTN-KD"
    assert body["name"] == "Phòng Thử nghiệm"
    assert body["short_name"] == "Phòng TN"
    assert body["kind"] == "department"
    assert body["parent_id"] == orgs["UBND-KD"]
    assert body["valid_from"] == "2025-01-01"
    assert body["valid_to"] is None and body["successor_id"] is None
    assert body["is_demo"] is False
    assert total(admin, ORGS) == before + 1
    assert admin.get(f"{ORGS}/{body['id']}").get_json()["code"] == "PTN-KD"


def test_create_organization_with_taken_code(admin, orgs):
    before = total(admin, ORGS)
    assert_problem(admin.post(ORGS, json=org_payload(orgs, code="PNV-KD")), 409, "organization.code_taken")
    assert total(admin, ORGS) == before
    assert admin.get(f"{ORGS}/{orgs['PNV-KD']}").get_json()["name"] == "Phòng Nội vụ huyện Kim Động"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "ptn-kd"}, "code"),
        ({"code": "PTN KD"}, "code"),
        ({"code": "-PTN"}, "code"),
        ({"kind": "phong_ban"}, "kind"),
        ({"name": ""}, "name"),
        ({"parent_id": UNKNOWN_ID}, "parent_id"),
    ],
    ids=["lowercase-code", "code-with-space", "code-leading-dash", "unknown-kind", "empty-name", "unknown-parent"],
)
def test_create_organization_validation(admin, orgs, overrides, field):
    before = total(admin, ORGS)
    body = assert_problem(admin.post(ORGS, json=org_payload(orgs, **overrides)), 422, "request.validation_failed")
    assert list(body["errors"]) == [field]
    assert total(admin, ORGS) == before


def test_organization_code_with_trailing_newline_is_refused(admin, orgs):
    before = total(admin, ORGS)
    body = assert_problem(admin.post(ORGS, json=org_payload(orgs, code="PNV-KD\n")), 422, "request.validation_failed")
    assert list(body["errors"]) == ["code"]
    assert total(admin, ORGS) == before


# --- organisations: read, update, move --------------------------------------------------------


def test_get_organization(admin, orgs):
    response = admin.get(f"{ORGS}/{orgs['PNV-KD']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == orgs["PNV-KD"]
    assert body["code"] == "PNV-KD"
    assert body["name"] == "Phòng Nội vụ huyện Kim Động"
    assert body["kind"] == "department"
    assert body["parent_id"] == orgs["UBND-KD"]


def test_get_unknown_organization(admin):
    assert_problem(admin.get(f"{ORGS}/{UNKNOWN_ID}"), 404, "organization.not_found")


def test_patch_renames_organization(admin, orgs):
    url = f"{ORGS}/{orgs['PNV-KD']}"
    response = admin.patch(url, json={"name": "Phòng Nội vụ và Lao động", "short_name": "Phòng NV&LĐ"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["name"] == "Phòng Nội vụ và Lao động"
    body = admin.get(url).get_json()
    assert (body["name"], body["short_name"], body["code"]) == ("Phòng Nội vụ và Lao động", "Phòng NV&LĐ", "PNV-KD")
    assert body["parent_id"] == orgs["UBND-KD"]


def test_patch_moves_organization(admin, orgs):
    url = f"{ORGS}/{orgs['PNV-KD']}"
    response = admin.patch(url, json={"parent_id": orgs["HU-KD"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["parent_id"] == orgs["HU-KD"]
    assert admin.get(url).get_json()["parent_id"] == orgs["HU-KD"]
    children = admin.get(ORGS, query_string={"parent_id": orgs["UBND-KD"], "page_size": 200}).get_json()
    assert "PNV-KD" not in {c["code"] for c in children}


def test_patch_unknown_parent(admin, orgs):
    url = f"{ORGS}/{orgs['PNV-KD']}"
    body = assert_problem(admin.patch(url, json={"parent_id": UNKNOWN_ID}), 422, "request.validation_failed")
    assert list(body["errors"]) == ["parent_id"]
    assert admin.get(url).get_json()["parent_id"] == orgs["UBND-KD"]


@pytest.mark.parametrize(
    ("moved", "new_parent"),
    [("UBND-KD", "UBND-KD"), ("HU-KD", "UBND-KD"), ("HU-KD", "PNV-KD"), ("TU-HY", "PNV-KD")],
    ids=["itself", "child", "grandchild", "great-grandchild"],
)
def test_patch_refuses_cycles(admin, orgs, moved, new_parent):
    url = f"{ORGS}/{orgs[moved]}"
    before = admin.get(url).get_json()
    body = assert_problem(admin.patch(url, json={"parent_id": orgs[new_parent]}), 422, "organization.cycle")
    assert list(body["errors"]) == ["parent_id"]
    assert admin.get(url).get_json() == before


def test_refused_move_does_not_apply_other_changes(admin, orgs):
    url = f"{ORGS}/{orgs['HU-KD']}"
    change = {"name": "Huyện ủy Kim Động (mới)", "parent_id": orgs["UBND-KD"]}
    assert_problem(admin.patch(url, json=change), 422, "organization.cycle")
    body = admin.get(url).get_json()
    assert body["name"] == "Huyện ủy Kim Động"
    assert body["parent_id"] == orgs["TU-HY"]


# --- organisations: close ---------------------------------------------------------------------


def test_close_organization(admin, orgs):
    url = f"{ORGS}/{orgs['PNV-KD']}"
    response = admin.post(f"{url}/close", json={"valid_to": "2025-06-30", "successor_id": orgs["UBND-KD"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["valid_to"] == "2025-06-30"
    assert body["successor_id"] == orgs["UBND-KD"]
    again = admin.get(url).get_json()
    assert (again["valid_to"], again["successor_id"]) == ("2025-06-30", orgs["UBND-KD"])


def test_close_without_successor(admin, orgs):
    """A dissolution with open work and no successor must say what becomes of the work."""
    url = f"{ORGS}/{orgs['PNV-KD']}/close"
    assert_problem(admin.post(url, json={"valid_to": "2025-06-30"}), 422, "reorganization.open_work")
    assert admin.get(f"{ORGS}/{orgs['PNV-KD']}").get_json()["valid_to"] is None
    response = admin.post(url, json={"valid_to": "2025-06-30", "cancel_open_work": True})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.get_json()["valid_to"], response.get_json()["successor_id"]) == ("2025-06-30", None)


def test_close_twice_is_a_conflict(admin, orgs):
    url = f"{ORGS}/{orgs['PNV-KD']}"
    assert admin.post(f"{url}/close", json={"valid_to": "2025-06-30", "successor_id": orgs["UBND-KD"]}).status_code == 200
    assert_problem(admin.post(f"{url}/close", json={"valid_to": "2025-12-31", "successor_id": orgs["HU-KD"]}), 409,
                   "organization.already_closed")
    body = admin.get(url).get_json()
    assert (body["valid_to"], body["successor_id"]) == ("2025-06-30", orgs["UBND-KD"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"valid_to": "2025-06-30", "successor_id": "self"}, "successor_id"),
        ({"valid_to": "2025-06-30", "successor_id": UNKNOWN_ID}, "successor_id"),
        ({"successor_id": "UBND-KD"}, "valid_to"),
        ({"valid_to": "30/06/2025", "successor_id": "UBND-KD"}, "valid_to"),
    ],
    ids=["successor-itself", "unknown-successor", "missing-valid-to", "bad-date"],
)
def test_close_validation(admin, orgs, payload, field):
    url = f"{ORGS}/{orgs['PNV-KD']}"
    successor = payload.get("successor_id")
    payload = {**payload, "successor_id": orgs["PNV-KD"] if successor == "self" else orgs.get(successor, successor)}
    body = assert_problem(admin.post(f"{url}/close", json=payload), 422, "request.validation_failed")
    assert list(body["errors"]) == [field]
    after = admin.get(url).get_json()
    assert (after["valid_to"], after["successor_id"]) == (None, None)


def test_close_before_valid_from_is_refused(admin, orgs):
    created = admin.post(ORGS, json=org_payload(orgs, valid_from="2025-07-01")).get_json()
    body = assert_problem(admin.post(f"{ORGS}/{created['id']}/close", json={"valid_to": "2025-06-30"}), 422,
                          "request.validation_failed")
    assert list(body["errors"]) == ["valid_to"]
    assert admin.get(f"{ORGS}/{created['id']}").get_json()["valid_to"] is None


def test_close_unknown_organization(admin):
    assert_problem(admin.post(f"{ORGS}/{UNKNOWN_ID}/close", json={"valid_to": "2025-06-30"}), 404, "organization.not_found")


# --- organisations: who may -------------------------------------------------------------------


@pytest.mark.parametrize("username", NON_ADMINS)
def test_non_admin_cannot_create_organizations(admin, client_as, orgs, username):
    before = total(admin, ORGS)
    assert_problem(client_as(username).post(ORGS, json=org_payload(orgs)), 403, "auth.admin_only")
    assert total(admin, ORGS) == before


@pytest.mark.parametrize("username", NON_ADMINS)
def test_non_admin_cannot_update_organizations(admin, client_as, orgs, username):
    url = f"{ORGS}/{orgs['PNV-KD']}"
    assert_problem(client_as(username).patch(url, json={"name": "Phòng Thử nghiệm", "parent_id": orgs["HU-KD"]}), 403,
                   "auth.admin_only")
    body = admin.get(url).get_json()
    assert (body["name"], body["parent_id"]) == ("Phòng Nội vụ huyện Kim Động", orgs["UBND-KD"])


@pytest.mark.parametrize("username", NON_ADMINS)
def test_non_admin_cannot_close_organizations(admin, client_as, orgs, username):
    url = f"{ORGS}/{orgs['PNV-KD']}"
    assert_problem(client_as(username).post(f"{url}/close", json={"valid_to": "2025-06-30"}), 403, "auth.admin_only")
    assert admin.get(url).get_json()["valid_to"] is None


@pytest.mark.parametrize("username", NON_ADMINS)
def test_non_admin_can_read_organizations(admin, client_as, orgs, username):
    caller = client_as(username)
    listed = caller.get(ORGS, query_string={"page_size": 200})
    assert listed.status_code == 200
    assert {o["code"] for o in listed.get_json()} == set(orgs)
    assert json.loads(listed.headers["X-Pagination"])["total"] == len(orgs)
    one = caller.get(f"{ORGS}/{orgs['CA-KD']}")
    assert one.status_code == 200
    assert one.get_json() == admin.get(f"{ORGS}/{orgs['CA-KD']}").get_json()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ORGS), ("GET", f"{ORGS}/1"), ("POST", ORGS), ("PATCH", f"{ORGS}/1"), ("POST", f"{ORGS}/1/close")],
)
def test_anonymous_cannot_touch_organizations(client, method, path):
    body = None if method == "GET" else {"name": "Phòng Thử nghiệm"}
    assert_problem(client.open(path, method=method, json=body), 401, "auth.token_missing")



def test_last_active_admin_cannot_be_deactivated_or_demoted(admin, user_ids, orgs):
    url = f"{USERS}/{user_ids['admin']}"
    assert_problem(admin.delete(url), 409, "user.last_admin")
    assert_problem(admin.patch(url, json={"is_active": False}), 409, "user.last_admin")
    assert_problem(admin.patch(url, json={"memberships": [{"organization_id": orgs["HU-KD"], "role": "leader"}]}), 409, "user.last_admin")
    assert admin.get("/api/v1/auth/me").status_code == 200
    second = create_user(admin, orgs, username="quantri.hai", memberships=[{"organization_id": orgs["TU-HY"], "role": "admin"}])
    assert second["username"] == "quantri.hai"
    assert admin.delete(url).status_code == 204  # another admin remains


def test_members_of_an_organisation_in_scope(client_as, orgs, user_ids):
    leader = client_as("lanhdao.ubnd")
    response = leader.get(f"/api/v1/organizations/{orgs['PNV-KD']}/members")
    assert response.status_code == 200
    members = response.get_json()
    assert [(m["user_id"], m["full_name"], m["role"]) for m in members] == [(user_ids["canbo.noivu"], "Phạm Minh Đức", "officer")]
    assert "username" not in members[0] and "password_hash" not in members[0]
    assert_problem(client_as("canbo.vhkhtt").get(f"/api/v1/organizations/{orgs['PNV-KD']}/members"), 404, "organization.not_found")
    assert_problem(leader.get(f"/api/v1/organizations/{orgs['BTGDV-KD']}/members"), 404, "organization.not_found")
    assert_problem(leader.get("/api/v1/organizations/999999/members"), 404, "organization.not_found")
