"""Problems in the language asked for: Vietnamese by default, English with `Accept-Language: en`;
`detail`, `title` and every message of `errors` (keyed by field) in that language, the `code`
the same in both; `Content-Language` says which, `Vary: Accept-Language` tells caches."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from sqlalchemy import select

from tests.helpers import assert_problem
from tracker.i18n import has_vietnamese
from tracker.models import Assignment

VI, EN = "vi", "en"

# Accept-Language as clients send it, and the language of the answer.
HEADERS = [
    (None, VI),
    ("vi", VI),
    ("vi-VN,vi;q=0.9,en;q=0.5", VI),
    ("en", EN),
    ("en-US,en;q=0.9", EN),
    ("fr", VI),
    ("vi;q=0.1, en;q=0.9", EN),
]


def _headers(base: dict, accept_language: str | None) -> dict:
    return base if accept_language is None else {**base, "Accept-Language": accept_language}


def _assert_language(response, language: str) -> dict:
    assert response.headers["Content-Language"] == language
    assert "accept-language" in response.headers.get("Vary", "").lower()
    body = response.get_json(force=True)
    texts = [body["title"], body["detail"], *(m for messages in (body.get("errors") or {}).values() for m in messages)]
    for text in texts:
        if language == EN:
            assert not has_vietnamese(text), text
    return body


@pytest.mark.parametrize(("accept_language", "language"), HEADERS)
def test_not_found(client, auth, accept_language, language):
    response = client.get("/api/v1/assignments/999999", headers=_headers(auth("admin"), accept_language))
    assert_problem(response, 404, "assignment.not_found")
    body = _assert_language(response, language)
    expected = {VI: ("Không tìm thấy", "Không có nhiệm vụ được giao 999999."), EN: ("Not Found", "No such assignment.")}
    assert (body["title"], body["detail"]) == expected[language]


def test_another_agencys_assignment_is_not_found_in_either_language(client, auth, session, org):
    """An officer asking for another agency's assignment gets the same 404 as for none, in each language."""
    other = session.scalar(select(Assignment.id).where(Assignment.organization_id == org["PVHKHTT-KD"]).limit(1))
    officer = auth("canbo.noivu")
    vi = assert_problem(client.get(f"/api/v1/assignments/{other}", headers=officer), 404, "assignment.not_found")
    en = assert_problem(client.get(f"/api/v1/assignments/{other}", headers={**officer, "Accept-Language": "en"}), 404,
                        "assignment.not_found")
    assert vi["detail"] == f"Không có nhiệm vụ được giao {other}." and en["detail"] == "No such assignment."


@pytest.mark.parametrize(("accept_language", "language"), HEADERS)
def test_conflict(client, auth, make_assignment, accept_language, language):
    target = make_assignment("PNV-KD")
    response = client.post(f"/api/v1/assignments/{target}/transitions", json={"to": "completed"},
                           headers=_headers(auth("canbo.noivu"), accept_language))
    body = _assert_language(response, language)
    assert_problem(response, 409, "assignment.invalid_transition")
    assert body["current"] == "not_started" and body["allowed"]  # extension members stay as they are
    expected = {VI: ("Xung đột", "Không thể chuyển từ not_started sang completed."),
                EN: ("Conflict", "This move is not allowed from the current status.")}
    assert (body["title"], body["detail"]) == expected[language]


@pytest.mark.parametrize(("accept_language", "language"), HEADERS)
def test_a_bad_date_in_the_query(client, auth, accept_language, language):
    response = client.get("/api/v1/reports/overdue?as_of=2026-13-01&status=completed,done",
                          headers=_headers(auth("admin"), accept_language))
    body = _assert_language(response, language)
    assert_problem(response, 422, "request.validation_failed")
    expected = {
        VI: {"title": "Dữ liệu không hợp lệ", "detail": "Dữ liệu không hợp lệ, xem `errors`.", "errors": {
            "as_of": ["Ngày không hợp lệ; dùng dạng YYYY-MM-DD (ví dụ 2026-06-30)."],
            "status": ["`done`: Phải là một trong: not_started, in_progress, submitted, returned, completed, blocked, cancelled."]}},
        EN: {"title": HTTPStatus(422).phrase, "detail": "Some fields are invalid; see `errors`.", "errors": {
            "as_of": ["Not a valid date; use YYYY-MM-DD (e.g. 2026-06-30)."],
            "status": ["`done`: Must be one of: not_started, in_progress, submitted, returned, completed, blocked, cancelled."]}},
    }
    assert {key: body[key] for key in ("title", "detail", "errors")} == expected[language]


@pytest.mark.parametrize(("accept_language", "language"), HEADERS)
def test_bad_fields_in_a_json_body(client, auth, make_assignment, accept_language, language):
    target = make_assignment("PNV-KD")
    response = client.post(f"/api/v1/assignments/{target}/extensions", json={"new_due_date": "30/06/2026"},
                           headers=_headers(auth("canbo.noivu"), accept_language))
    body = _assert_language(response, language)
    assert_problem(response, 422, "request.validation_failed")
    expected = {
        VI: {"new_due_date": ["Ngày không hợp lệ; dùng dạng YYYY-MM-DD (ví dụ 2026-06-30)."], "reason": ["Thiếu trường bắt buộc."]},
        EN: {"new_due_date": ["Not a valid date; use YYYY-MM-DD (e.g. 2026-06-30)."], "reason": ["Missing data for required field."]},
    }
    assert body["errors"] == expected[language]
    assert client.get(f"/api/v1/assignments/{target}/extensions", headers=auth("canbo.noivu")).get_json() == []


def test_a_rule_of_ours_in_errors(client, auth, make_assignment):
    """A service's own field message, split like the detail: the later date the extension needs."""
    target = make_assignment("PNV-KD", due=dt.date(2026, 6, 30))
    path = f"/api/v1/assignments/{target}/extensions"
    payload = {"new_due_date": "2026-06-01", "reason": "Chờ số liệu"}
    vi = assert_problem(client.post(path, json=payload, headers=auth("canbo.noivu")), 422, "extension.not_later")
    en = assert_problem(client.post(path, json=payload, headers={**auth("canbo.noivu"), "Accept-Language": "en"}), 422,
                        "extension.not_later")
    assert (vi["detail"], vi["errors"]) == ("Hạn mới phải sau hạn hiện tại.", {"new_due_date": ["Phải sau 30/06/2026."]})
    assert (en["detail"], en["errors"]) == ("The new date must be after the current due date.",
                                            {"new_due_date": ["Must be after 2026-06-30."]})


@pytest.mark.parametrize(("accept_language", "message"), [
    (None, "Kỳ báo cáo có dạng 2026-H1 (6 tháng đầu năm) hoặc 2026 (cả năm)."),
    ("en", "A period is written 2026-H1 (the first half-year) or 2026 (the year)."),
])
def test_a_bad_period_names_the_accepted_forms(client, auth, org, accept_language, message):
    response = client.get(f"/api/v1/reports/periodic?organization_id={org['HU-KD']}&period=2026-Q1",
                          headers=_headers(auth("admin"), accept_language))
    body = assert_problem(response, 422, "request.validation_failed")
    assert body["errors"] == {"period": [message]}
    assert body["detail"] != HTTPStatus(422).phrase


@pytest.mark.parametrize("query", [
    "periodic?organization_id=abc&period=2026",
    "periodic?organization_id={hu}",
    "periodic?organization_id={hu}&period=2026&format=pdf",
    "periodic?organization_id={hu}&period=2026-H1&as_of=2026-09-01",
    "summary",
    "summary?by=unit",
    "summary?by=organization&due_from=yesterday",
    "summary?by=plan&level=children",
    "scorecard",
    "scorecard?year=1900",
    "scorecard?year=2026&page=0",
    "overdue?status=done",
    "overdue?group=100",
    "attention?as_of=x",
])
@pytest.mark.parametrize("accept_language", [None, "en"])
def test_every_bad_report_request_says_which_field_in_the_language_asked(client, auth, org, query, accept_language):
    response = client.get("/api/v1/reports/" + query.format(hu=org["HU-KD"]), headers=_headers(auth("admin"), accept_language))
    body = assert_problem(response, 422, "request.validation_failed")
    language = accept_language or VI
    _assert_language(response, language)
    assert body["errors"] and body["detail"] == {VI: "Dữ liệu không hợp lệ, xem `errors`.",
                                                 EN: "Some fields are invalid; see `errors`."}[language]
    for messages in body["errors"].values():
        for message in messages:
            assert has_vietnamese(message) == (language == VI), message


@pytest.mark.parametrize(("accept_language", "detail"), [
    (None, "Thiếu mã truy cập (Authorization: Bearer ...)."),
    ("en-GB", "Missing bearer token."),
])
def test_signed_out(client, accept_language, detail):
    response = client.get("/api/v1/assignments", headers=_headers({}, accept_language))
    assert assert_problem(response, 401, "auth.token_missing")["detail"] == detail
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("accept_language", "detail"), [
    (None, "Không tìm thấy `/api/v1/nothing-here`."),
    ("en", "No resource at this URL."),
])
def test_unknown_url(client, accept_language, detail):
    response = client.get("/api/v1/nothing-here", headers=_headers({}, accept_language))
    assert assert_problem(response, 404, "request.not_found")["detail"] == detail


@pytest.mark.parametrize(("accept_language", "detail"), [
    (None, "Nội dung không phải JSON hợp lệ."),
    ("en", "The request body is not valid JSON."),
])
def test_malformed_json(client, auth, make_assignment, accept_language, detail):
    target = make_assignment("PNV-KD")
    response = client.post(f"/api/v1/assignments/{target}/transitions", data="{not json", content_type="application/json",
                           headers=_headers(auth("canbo.noivu"), accept_language))
    assert assert_problem(response, 400, "request.malformed_json")["detail"] == detail


def test_the_code_and_members_do_not_change_with_the_language(client, auth):
    admin = auth("admin")
    vi = client.get("/api/v1/assignments?status=done", headers=admin).get_json()
    en = client.get("/api/v1/assignments?status=done", headers={**admin, "Accept-Language": "en"}).get_json()
    assert vi["code"] == en["code"] == "request.validation_failed"
    assert vi["type"] == en["type"] and vi["status"] == en["status"] and set(vi) == set(en)
    assert set(vi["errors"]) == set(en["errors"]) == {"status"}
    assert vi["errors"] != en["errors"]


@pytest.mark.parametrize("accept_language", [None, "vi", "en", "en-US,en;q=0.9", "fr"])
def test_labels_are_the_same_whatever_the_language(client, accept_language):
    """The labels endpoint gives both languages always; Accept-Language changes nothing in it."""
    reference = client.get("/api/v1/meta/labels")
    response = client.get("/api/v1/meta/labels", headers=_headers({}, accept_language))
    assert response.status_code == 200 and response.get_data() == reference.get_data()
    assert response.get_json()["statuses"]["completed"] == {"vi": "Hoàn thành", "en": "Completed"}
    assert "Content-Language" not in response.headers
