"""Conditional GET on JSON answers: ETags, If-None-Match and 304, never stale.

The detail of an assignment carries `"<id>.<version>.<digest>"`: If-Match reads the version part,
If-None-Match the whole tag. Lists and other JSON reads carry a weak tag of their body and paging
headers. A validator must change whenever the answer would: with the day (`as_of`), the caller,
names that change without a new version, and the paging totals."""

from __future__ import annotations

import datetime as dt
import json

from tests.helpers import assert_problem
from tracker import create_app
from tracker.models import Organization

DUE = dt.date(2026, 1, 10)


def detail(client, headers, assignment_id, **extra):
    return client.get(f"/api/v1/assignments/{assignment_id}", headers={**headers, **extra})


def test_detail_tag_names_version_and_digest_and_a_match_is_a_304(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    first = detail(client, officer, target)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert tag.startswith(f'"{target}.{first.get_json()["version"]}.') and not tag.startswith("W/")
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert {"Authorization", "Accept-Language"} <= {v.strip() for v in first.headers["Vary"].split(",")}

    again = detail(client, officer, target, **{"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag and again.headers["Cache-Control"] == "private, no-cache"
    assert "Authorization" in again.headers["Vary"] and "Content-Type" not in again.headers
    # If-None-Match compares weakly: the same tag marked weak, or one among several, matches too.
    assert detail(client, officer, target, **{"If-None-Match": f"W/{tag}"}).status_code == 304
    assert detail(client, officer, target, **{"If-None-Match": f'"other", {tag}'}).status_code == 304
    assert detail(client, officer, target, **{"If-None-Match": "*"}).status_code == 304
    assert detail(client, officer, target, **{"If-None-Match": '"nothing-like-it"'}).status_code == 200
    # Malformed values are no match, never an error.
    assert detail(client, officer, target, **{"If-None-Match": "garbage, W/"}).status_code == 200


def test_head_answers_like_get(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    tag = detail(client, officer, target).headers["ETag"]
    head = client.head(f"/api/v1/assignments/{target}", headers=officer)
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == tag
    assert client.head(f"/api/v1/assignments/{target}", headers={**officer, "If-None-Match": tag}).status_code == 304


def test_the_tag_changes_with_the_day(client, auth, make_assignment):
    """Same version, another day: the class changes, so does the tag; yesterday's tag is no 304 today."""
    officer = auth("canbo.noivu")
    target = make_assignment(due=DUE)
    before = detail(client, officer, f"{target}?as_of=2026-01-05")
    after_due = detail(client, officer, f"{target}?as_of=2026-01-20")
    assert before.get_json()["classification"] != after_due.get_json()["classification"] == "overdue"
    assert before.get_json()["version"] == after_due.get_json()["version"]
    assert before.headers["ETag"] != after_due.headers["ETag"]
    stale = detail(client, officer, f"{target}?as_of=2026-01-20", **{"If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200 and stale.get_json()["classification"] == "overdue"
    # The version part is the same: the tag of either day is good for If-Match.
    assert before.headers["ETag"].split(".")[:2] == after_due.headers["ETag"].split(".")[:2]


def test_the_tag_changes_when_a_name_changes_without_a_new_version(client, auth, session, make_assignment, org):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    first = detail(client, officer, target)
    session.get(Organization, org["PNV-KD"]).name = "Phòng Nội vụ (đổi tên)"
    session.commit()
    renamed = detail(client, officer, target, **{"If-None-Match": first.headers["ETag"]})
    assert renamed.status_code == 200 and renamed.get_json()["organization"]["name"] == "Phòng Nội vụ (đổi tên)"
    assert renamed.get_json()["version"] == first.get_json()["version"] and renamed.headers["ETag"] != first.headers["ETag"]


def test_same_tag_only_for_the_same_bytes_whoever_asks(client, auth, make_assignment):
    """Two callers may see different answers (what each may do): equal tags only for equal bodies."""
    target = make_assignment(due=dt.date(2030, 1, 1))
    answers = [detail(client, auth(name), target) for name in ("canbo.noivu", "lanhdao.ubnd", "lanhdao.huyen", "admin")]
    for a in answers:
        for b in answers:
            assert (a.headers["ETag"] == b.headers["ETag"]) == (a.data == b.data)
    officer, leader = answers[0], answers[1]
    answer = detail(client, auth("lanhdao.ubnd"), target, **{"If-None-Match": officer.headers["ETag"]})
    assert answer.status_code == (304 if officer.data == leader.data else 200)


def test_the_full_tag_works_with_if_match_and_a_change_makes_it_stale(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    url = f"/api/v1/assignments/{target}"
    tag = detail(client, officer, target).headers["ETag"]
    patched = client.patch(url, headers={**officer, "If-Match": tag}, json={"progress": 20})
    assert patched.status_code == 200
    # A PATCH answers with the bare version tag: good for If-Match, never a match for If-None-Match.
    assert patched.headers["ETag"] == f'"{target}.{patched.get_json()["version"]}"'
    assert detail(client, officer, target, **{"If-None-Match": patched.headers["ETag"]}).status_code == 200
    changed = detail(client, officer, target, **{"If-None-Match": tag})
    assert changed.status_code == 200 and changed.get_json()["progress"] == 20 and changed.headers["ETag"] != tag
    # The old tag is stale for If-Match; the 412 names the tag a GET gives now.
    stale = assert_problem(client.patch(url, headers={**officer, "If-Match": tag}, json={"progress": 30}), 412, "assignment.stale")
    assert f'"{stale["etag"]}"' == changed.headers["ETag"]
    # A weak tag never passes If-Match (strong comparison), even with the current version.
    assert_problem(client.patch(url, headers={**officer, "If-Match": f"W/{changed.headers['ETag']}"}, json={"progress": 30}),
                   412, "assignment.stale")
    # The bare version tag still works, as before.
    assert client.patch(url, headers={**officer, "If-Match": patched.headers["ETag"]}, json={"progress": 30}).status_code == 200


def test_a_stale_transition_names_the_current_tag(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    old = detail(client, officer, target).headers["ETag"]
    assert client.patch(f"/api/v1/assignments/{target}", headers={**officer, "If-Match": old}, json={"progress": 5}).status_code == 200
    stale = client.post(f"/api/v1/assignments/{target}/transitions", headers={**officer, "If-Match": old}, json={"to": "in_progress"})
    body = assert_problem(stale, 412, "assignment.stale")
    assert f'"{body["etag"]}"' == detail(client, officer, target).headers["ETag"]
    assert "ETag" not in stale.headers


def test_another_agency_gets_404_not_304(client, auth, make_assignment):
    target = make_assignment(due=dt.date(2030, 1, 1))
    tag = detail(client, auth("canbo.noivu"), target).headers["ETag"]
    outsider = detail(client, auth("canbo.congan"), target, **{"If-None-Match": tag})
    assert_problem(outsider, 404, "assignment.not_found")
    assert "ETag" not in outsider.headers
    assert detail(client, auth("canbo.congan"), target, **{"If-None-Match": "*"}).status_code == 404


def test_list_weak_tag_and_304(client, auth, org):
    officer = auth("canbo.noivu")
    url = f"/api/v1/assignments?organization_id={org['PNV-KD']}&page_size=5&as_of=2026-06-01"
    first = client.get(url, headers=officer)
    assert first.status_code == 200 and first.headers["ETag"].startswith('W/"')
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(url, headers={**officer, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == first.headers["ETag"]
    assert "X-Pagination" not in again.headers and "Link" not in again.headers
    # Another filter, another answer, another tag.
    other = client.get(url.replace("2026-06-01", "2026-12-31"), headers={**officer, "If-None-Match": first.headers["ETag"]})
    assert (other.status_code == 304) == (other.headers["ETag"] == first.headers["ETag"])


def test_list_tag_changes_when_the_total_does_though_the_page_does_not(client, auth, org, make_assignment):
    officer = auth("canbo.noivu")
    url = f"/api/v1/assignments?organization_id={org['PNV-KD']}&sort=id&page_size=1"
    first = client.get(url, headers=officer)
    make_assignment(due=dt.date(2099, 1, 1))  # a later id: on the last page, not on the first
    second = client.get(url, headers={**officer, "If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.data == first.data
    assert json.loads(second.headers["X-Pagination"])["total"] == json.loads(first.headers["X-Pagination"])["total"] + 1
    assert second.headers["ETag"] != first.headers["ETag"]


def test_list_tag_changes_when_an_item_changes(client, auth, org, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    url = f"/api/v1/assignments?organization_id={org['PNV-KD']}&sort=-updated_at&page_size=200"
    first = client.get(url, headers=officer)
    tag = detail(client, officer, target).headers["ETag"]
    assert client.patch(f"/api/v1/assignments/{target}", headers={**officer, "If-Match": tag}, json={"note": "Ghi chú mới"}).status_code == 200
    second = client.get(url, headers={**officer, "If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]


def test_lists_of_two_agencies_never_share_a_tag(client, auth):
    url = "/api/v1/assignments?page_size=50&as_of=2026-06-01"
    mine = client.get(url, headers=auth("canbo.noivu"))
    theirs = client.get(url, headers={**auth("canbo.congan"), "If-None-Match": mine.headers["ETag"]})
    assert theirs.status_code == 200 and theirs.data != mine.data and theirs.headers["ETag"] != mine.headers["ETag"]


def test_overdue_report_and_other_reads(client, auth):
    leader = auth("lanhdao.huyen")
    for url in ("/api/v1/reports/overdue?as_of=2026-11-24", "/api/v1/plans", "/api/v1/organizations", "/api/v1/auth/me"):
        first = client.get(url, headers=leader)
        assert first.status_code == 200 and first.headers["ETag"].startswith('W/"'), url
        assert client.get(url, headers={**leader, "If-None-Match": first.headers["ETag"]}).status_code == 304, url
    moved = client.get("/api/v1/reports/overdue?as_of=2026-11-25", headers={**leader, "If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200


def test_exports_and_errors_are_left_alone(client, auth):
    leader = auth("lanhdao.huyen")
    export = client.get("/api/v1/reports/overdue?as_of=2026-11-24&format=csv", headers=leader, buffered=True)
    assert export.status_code == 200 and "ETag" not in export.headers and export.headers["Cache-Control"] == "private, no-store"
    missing = client.get("/api/v1/assignments/2147483647", headers={**leader, "If-None-Match": "*"})
    assert_problem(missing, 404, "assignment.not_found")
    assert "ETag" not in missing.headers
    bad = client.get("/api/v1/assignments?status=nonsense", headers={**leader, "If-None-Match": "*"})
    assert bad.status_code == 422 and "ETag" not in bad.headers
    assert client.get("/api/v1/assignments", headers={"If-None-Match": "*"}).status_code == 401


def test_writes_never_answer_304(client, auth, make_assignment):
    officer = auth("canbo.noivu")
    target = make_assignment(due=dt.date(2030, 1, 1))
    tag = detail(client, officer, target).headers["ETag"]
    response = client.patch(f"/api/v1/assignments/{target}", headers={**officer, "If-Match": tag, "If-None-Match": "*"},
                            json={"progress": 15})
    assert response.status_code == 200 and response.get_json()["progress"] == 15


def test_cors_origin_is_added_to_vary(database_url, monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.gov.vn")
    app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    response = app.test_client().get("/api/v1/healthz", headers={"Origin": "https://app.example.gov.vn"})
    assert response.status_code == 200
    assert {"Origin", "Authorization", "Accept-Language"} <= {v.strip() for v in response.headers["Vary"].split(",")}
    assert "If-None-Match" in app.test_client().options(
        "/api/v1/plans", headers={"Origin": "https://app.example.gov.vn", "Access-Control-Request-Method": "GET"}
    ).headers["Access-Control-Allow-Headers"]


def test_documented(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/assignments/{assignment_id}", "/api/v1/assignments", "/api/v1/reports/overdue"):
        operation = document["paths"][path]["get"]
        assert "304" in operation["responses"], path
        assert "ETag" in operation["responses"]["200"]["headers"], path
        assert any(p["in"] == "header" and p["name"] == "If-None-Match" for p in operation["parameters"]), path
    assert "If-Match" in document["paths"]["/api/v1/assignments/{assignment_id}"]["get"]["responses"]["200"]["headers"]["ETag"]["description"]
    assert "304" not in document["paths"]["/api/v1/assignments/{assignment_id}"]["patch"]["responses"]

