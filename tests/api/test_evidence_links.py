"""Short-lived signed links to evidence, for <img> and <a>: no Authorization header, bound to the
evidence, the user, their session and an expiry, and checked again on every use. And the file
names a download gives: the exact UTF-8 name with an ASCII fallback (Đ as D)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from tests import evidence_files as files
from tests.api.test_evidence import upload
from tests.helpers import assert_problem
from tracker.models import Assignment, Membership, Organization
from tracker.web import content_disposition

VN_PDF = "Đề án Đổi mới.pdf"
VN_PDF_UTF8 = "%C4%90%E1%BB%81%20%C3%A1n%20%C4%90%E1%BB%95i%20m%E1%BB%9Bi.pdf"


@pytest.fixture
def evidence_of(client, auth, session):
    """Upload a file to the first assignment of PNV-KD as its officer; the evidence record."""
    target = session.scalar(
        select(Assignment.id).join(Organization, Organization.id == Assignment.organization_id)
        .where(Organization.code == "PNV-KD").order_by(Assignment.id).limit(1)
    )

    def make(content: bytes = None, name: str = "anh-hien-truong.png") -> dict:
        response = upload(client, target, files.png() if content is None else content, name, headers=auth("canbo.noivu"))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


def link_for(client, headers, evidence_id):
    return client.get(f"/api/v1/evidence/{evidence_id}/link", headers=headers)


def fetch(client, url, **headers):
    """What a browser does with the link: no Authorization header."""
    return client.get(url, headers=headers, buffered=True)


def test_link_shows_an_image_without_a_bearer_header(client, auth, evidence_of, clock):
    record = evidence_of()
    answer = link_for(client, auth("canbo.noivu"), record["id"])
    assert answer.status_code == 200
    link = answer.get_json()
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert link["disposition"] == "inline"
    assert link["url"].startswith(f"/api/v1/evidence/{record['id']}/signed-content?sig=")
    assert link["expires_at"] == (clock.moment + dt.timedelta(seconds=300)).strftime("%Y-%m-%dT%H:%M:%SZ")

    shown = fetch(client, link["url"])
    assert shown.status_code == 200 and shown.data == files.png()
    assert shown.headers["Content-Type"] == "image/png"
    assert shown.headers["Content-Disposition"].startswith('inline; filename="anh-hien-truong.png"')
    assert shown.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert shown.headers["Referrer-Policy"] == "no-referrer"
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["ETag"] == f'"{record["sha256"]}"'
    assert shown.headers["Cache-Control"] == "private, max-age=300, must-revalidate"
    assert "Vary" not in shown.headers or "Authorization" not in shown.headers["Vary"]


def test_ranges_conditional_and_head_work_through_a_link(client, auth, evidence_of):
    content = files.pdf("x" * 2000)
    record = evidence_of(content, "bien-ban.pdf")
    url = link_for(client, auth("canbo.noivu"), record["id"]).get_json()["url"]
    partial = fetch(client, url, Range="bytes=5-14")
    assert partial.status_code == 206 and partial.data == content[5:15]
    assert fetch(client, url, **{"If-None-Match": f'"{record["sha256"]}"'}).status_code == 304
    assert fetch(client, url, Range=f"bytes={len(content) + 10}-").status_code == 416
    head = client.head(url, buffered=True)
    assert head.status_code == 200 and head.data == b"" and int(head.headers["Content-Length"]) == len(content)


@pytest.mark.parametrize(("content", "name", "disposition"), [
    (files.pdf(), "bao-cao.pdf", "inline"),
    (files.png(), "anh.png", "inline"),
    (files.docx(), "ke-hoach.docx", "attachment"),
    (files.CSV, "so-lieu.csv", "attachment"),
])
def test_inline_only_for_images_and_pdfs(client, auth, evidence_of, content, name, disposition):
    record = evidence_of(content, name)
    link = link_for(client, auth("canbo.noivu"), record["id"]).get_json()
    assert link["disposition"] == disposition
    assert fetch(client, link["url"]).headers["Content-Disposition"].startswith(f"{disposition}; ")


def test_leaders_and_viewers_over_the_unit_get_links_too(client, auth, evidence_of):
    record = evidence_of()
    for name in ("lanhdao.huyen", "giamsat.tgdv", "admin"):
        link = link_for(client, auth(name), record["id"])
        assert link.status_code == 200, name
        assert fetch(client, link.get_json()["url"]).status_code == 200, name


def test_another_agency_gets_404_and_no_link(client, auth, evidence_of):
    record = evidence_of()
    assert_problem(link_for(client, auth("canbo.congan"), record["id"]), 404, "evidence.not_found")
    assert_problem(link_for(client, auth("canbo.congan"), 2147483647), 404, "evidence.not_found")


def test_a_link_needs_a_signed_in_caller(client, evidence_of):
    record = evidence_of()
    assert_problem(client.get(f"/api/v1/evidence/{record['id']}/link"), 401, "auth.token_missing")


def test_a_link_does_not_open_another_evidence(client, auth, evidence_of):
    first, second = evidence_of(files.png(), "mot.png"), evidence_of(files.pdf(), "hai.pdf")
    url = link_for(client, auth("canbo.noivu"), first["id"]).get_json()["url"]
    for other_id in (second["id"], 2147483647):
        swapped = url.replace(f"/evidence/{first['id']}/", f"/evidence/{other_id}/")
        assert_problem(fetch(client, swapped), 403, "evidence.link_invalid")
    assert fetch(client, url).status_code == 200


def test_altered_forged_and_missing_signatures(app, client, auth, evidence_of):
    record = evidence_of()
    url = link_for(client, auth("canbo.noivu"), record["id"]).get_json()["url"]
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    base = f"/api/v1/evidence/{record['id']}/signed-content"
    payload, signature = sig.rsplit(".", 1)
    # The first character: the last one of unpadded base64 may carry unused bits, and changing only
    # those leaves the same signature bytes (an "altered" link that still verifies).
    altered_signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    forged_payload = URLSafeSerializer("x").dumps([record["id"], 1, 1, 4102444800]).rsplit(".", 1)[0]  # another user, 2100
    for bad in (f"{payload}.{altered_signature}", f"{forged_payload}.{signature}", "garbage", "a.b.c",
                URLSafeSerializer("another-secret-key", salt="tracker.evidence-link").dumps([record["id"], 1, 1, 4102444800])):
        assert_problem(fetch(client, f"{base}?sig={bad}"), 403, "evidence.link_invalid")
    # Signed with the app's key but not shaped as a link (a key shared with another use must not confuse it).
    odd = URLSafeSerializer(app.config["SECRET_KEY"], salt="tracker.evidence-link").dumps({"evidence": record["id"]})
    assert_problem(fetch(client, f"{base}?sig={odd}"), 403, "evidence.link_invalid")
    assert_problem(fetch(client, base), 422, "request.validation_failed")
    assert_problem(fetch(client, f"{base}?sig="), 422, "request.validation_failed")
    assert_problem(fetch(client, f"{base}?sig={sig}&token=x"), 400, "request.unknown_parameter")


def test_links_expire(app, client, auth, evidence_of, clock, monkeypatch):
    monkeypatch.setitem(app.config, "EVIDENCE_LINK_SECONDS", 60)
    record = evidence_of()
    link = link_for(client, auth("canbo.noivu"), record["id"]).get_json()
    assert link["expires_at"] == (clock.moment + dt.timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(59)
    last_second = fetch(client, link["url"])
    assert last_second.status_code == 200 and last_second.headers["Cache-Control"] == "private, max-age=1, must-revalidate"
    clock.advance(1)
    assert_problem(fetch(client, link["url"]), 410, "evidence.link_expired")
    clock.advance(86400)
    assert_problem(fetch(client, link["url"]), 410, "evidence.link_expired")
    # A new link works again.
    assert fetch(client, link_for(client, auth("canbo.noivu"), record["id"]).get_json()["url"]).status_code == 200


def test_withdrawn_evidence_has_no_working_link(client, auth, evidence_of):
    record = evidence_of()
    officer = auth("canbo.noivu")
    url = link_for(client, officer, record["id"]).get_json()["url"]
    withdrawn = client.post(f"/api/v1/evidence/{record['id']}/withdraw", json={"reason": "Tải nhầm tệp"}, headers=officer)
    assert withdrawn.status_code == 200
    assert_problem(fetch(client, url), 410, "evidence.withdrawn")
    assert_problem(link_for(client, officer, record["id"]), 410, "evidence.withdrawn")
    # The signed-in download still serves it (the history keeps withdrawn evidence until purged).
    assert client.get(f"/api/v1/evidence/{record['id']}/content", headers=officer, buffered=True).status_code == 200


def test_a_deactivated_users_links_stop_working(client, auth, evidence_of):
    record = evidence_of()
    url = link_for(client, auth("canbo.noivu"), record["id"]).get_json()["url"]
    assert fetch(client, url).status_code == 200
    assert client.delete(f"/api/v1/users/{auth.user_ids['canbo.noivu']}", headers=auth("admin")).status_code == 204
    assert_problem(fetch(client, url), 403, "evidence.link_revoked")


def test_signing_out_ends_the_sessions_links(client, auth, evidence_of):
    record = evidence_of()
    officer = auth("canbo.noivu")
    url = link_for(client, officer, record["id"]).get_json()["url"]
    assert client.post("/api/v1/auth/logout", headers=officer).status_code in (200, 204)
    assert_problem(fetch(client, url), 403, "evidence.link_revoked")


def test_a_link_stops_when_the_evidence_leaves_the_users_scope(client, auth, session, evidence_of, org):
    record = evidence_of()
    url = link_for(client, auth("canbo.noivu"), record["id"]).get_json()["url"]
    membership = session.scalar(select(Membership).where(Membership.user_id == auth.user_ids["canbo.noivu"]))
    membership.organization_id = org["CA-KD"]  # moved to another agency
    session.commit()
    assert_problem(fetch(client, url), 403, "evidence.link_revoked")


def test_vietnamese_names_get_an_ascii_fallback_and_the_exact_name(client, auth, evidence_of):
    record = evidence_of(files.pdf(), VN_PDF)
    assert record["original_name"] == VN_PDF
    download = client.get(f"/api/v1/evidence/{record['id']}/content", headers=auth("canbo.noivu"), buffered=True)
    assert download.headers["Content-Disposition"] == f"attachment; filename=\"De an Doi moi.pdf\"; filename*=UTF-8''{VN_PDF_UTF8}"
    link = link_for(client, auth("canbo.noivu"), record["id"]).get_json()
    shown = fetch(client, link["url"])
    assert shown.headers["Content-Disposition"] == f"inline; filename=\"De an Doi moi.pdf\"; filename*=UTF-8''{VN_PDF_UTF8}"


@pytest.mark.parametrize(("name", "fallback"), [
    ("Đề án Đổi mới.pdf", "De an Doi moi.pdf"),
    ("đơn vị ĐOÀN.xlsx", "don vi DOAN.xlsx"),
    ("Ưu tiên ơ ư ạ ỹ.docx", "Uu tien o u a y.docx"),
    ('a"b\\c;d.txt', "a_b_c_d.txt"),
    ("漢字", "download"),
])
def test_content_disposition_fallbacks(name, fallback):
    header = content_disposition(name)
    assert re.fullmatch(r'attachment; filename="([ -~]*)"; filename\*=UTF-8\'\'[A-Za-z0-9%._~-]+', header)
    assert header.split('"')[1] == fallback
    assert content_disposition(name, "inline").startswith(f'inline; filename="{fallback}"')


def test_exports_name_their_files_in_ascii_with_the_same_exact_name(client, auth):
    response = client.get("/api/v1/reports/overdue?as_of=2026-11-24&format=csv", headers=auth("lanhdao.huyen"), buffered=True)
    disposition = response.headers["Content-Disposition"]
    assert disposition == "attachment; filename=\"nhiem-vu-qua-han_2026-11-24.csv\"; filename*=UTF-8''nhiem-vu-qua-han_2026-11-24.csv"


def test_documented(client):
    document = client.get("/api/v1/openapi.json").get_json()
    link = document["paths"]["/api/v1/evidence/{evidence_id}/link"]["get"]
    assert link["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/EvidenceLink")
    assert {"404", "410", "401"} <= link["responses"].keys()
    signed = document["paths"]["/api/v1/evidence/{evidence_id}/signed-content"]["get"]
    assert "security" not in signed and {"403", "410", "206", "304"} <= signed["responses"].keys()
    assert [p["name"] for p in signed["parameters"] if p["in"] == "query"] == ["sig"]
    assert {"url", "expires_at", "disposition"} <= document["components"]["schemas"]["EvidenceLink"]["properties"].keys()
