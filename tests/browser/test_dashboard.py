"""The leaders' dashboard at /app/ (issue 17), as people use it: Debian's Chromium driven by
Playwright against a live server with the demo data, every request kept on the server's origin.
The page's numbers are compared with what the API answers to the same user. Screenshots of the
overview, the overdue list and an assignment (desktop and phone) go to TRACKER_ARTIFACTS_DIR."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import evidence_files
from tests.browser.conftest import serving, visiting
from tests.conftest import scratch_app
from tests.helpers import TODAY, clock_held_to

# The live server commits for real on a database of its own, not in the test transaction.
pytestmark = pytest.mark.no_transaction

PASSWORD = "KimDong@2025"
ARTIFACTS = Path(os.environ.get("TRACKER_ARTIFACTS_DIR") or Path(__file__).with_name("artifacts"))
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
LOCALE = {"locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}
CSS = Path(__file__).resolve().parents[2] / "tracker" / "frontend" / "static" / "app.css"


@dataclass
class Dashboard:
    app: object
    origin: str

    def call(self, username: str, method: str, path: str, **kwargs):
        client = self.app.test_client()
        login = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.get_data(as_text=True)
        headers = {"Authorization": f"Bearer {login.get_json()['access_token']}", **kwargs.pop("headers", {})}
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, username: str, path: str, **query):
        response = self.call(username, "GET", path, query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    def organization_id(self, code: str) -> int:
        rows = self.get("admin", "/organizations", q=code).get_json()
        return next(row["id"] for row in rows if row["code"] == code)

    def open_assignments(self, username: str, organization_id: int) -> list[int]:
        rows = self.get(username, "/assignments", organization_id=organization_id, status="not_started", page_size=20).get_json()
        return [row["id"] for row in rows]

    def move(self, username: str, assignment_id: int, to: str, **extra):
        etag = self.get(username, f"/assignments/{assignment_id}").headers["ETag"]
        response = self.call(username, "POST", f"/assignments/{assignment_id}/transitions", json={"to": to, **extra},
                             headers={"If-Match": etag})
        assert response.status_code == 200, response.get_data(as_text=True)

    def submitted_by_officer(self, assignment_id: int) -> None:
        """What an officer does before a leader can approve: start, prove, submit."""
        self.move("canbo.noivu", assignment_id, "in_progress")
        upload = self.call("canbo.noivu", "POST", f"/assignments/{assignment_id}/evidence",
                           data={"file": (io.BytesIO(evidence_files.pdf()), "bao-cao.pdf")}, content_type="multipart/form-data")
        assert upload.status_code == 201, upload.get_data(as_text=True)
        self.move("canbo.noivu", assignment_id, "submitted")


@pytest.fixture(scope="module")
def dashboard(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboard")
    app, _target, _headers = scratch_app(database_url, tmp, "dashboard", username="lanhdao.huyen", org_code="PNV-KD",
                                         LOG_LEVEL="WARNING", CLOCK=clock_held_to(TODAY))
    with serving(app) as origin:
        yield Dashboard(app, origin)


@pytest.fixture(scope="module")
def noivu(dashboard):
    """Phòng Nội vụ (the officer canbo.noivu's unit): its id and assignments not yet started."""
    org_id = dashboard.organization_id("PNV-KD")
    return org_id, dashboard.open_assignments("canbo.noivu", org_id)


@pytest.fixture
def desktop(chromium, dashboard):
    with visiting(chromium, dashboard.origin, **DESKTOP, **LOCALE) as seen:
        yield seen


@pytest.fixture
def phone(chromium, dashboard):
    with visiting(chromium, dashboard.origin, **PHONE, **LOCALE) as seen:
        yield seen


def sign_in(page, username: str, full_name: str) -> None:
    page.goto("/app/")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.locator("#who-text").get_by_text(full_name).wait_for()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def heading(page, text: str) -> None:
    page.locator("main h1", has_text=text).first.wait_for()


def expect_text(locator, text: str) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415 - Playwright is optional (see conftest)

    expect(locator).to_have_text(text)


def expect_count(locator, count: int) -> None:
    from playwright.sync_api import expect  # noqa: PLC0415

    expect(locator).to_have_count(count)


# --- the leader ---------------------------------------------------------------------------------

def test_the_leader_sees_the_overdue_count_of_the_api(dashboard, desktop):
    page = desktop.page
    sign_in(page, "lanhdao.huyen", "Nguyễn Chi Hội")
    assert "Lãnh đạo · Huyện ủy Kim Động" in page.locator("#who-text").inner_text()
    overdue = dashboard.get("lanhdao.huyen", "/reports/overdue", page_size=20)
    total = json.loads(overdue.headers["X-Pagination"])["total"]
    assert total > 20

    heading(page, "Tổng quan")
    expect_text(page.locator("#desk-overdue .badge"), str(total))
    expect_text(page.locator('.class-card[data-class="overdue"] .count'), str(total))
    assert page.locator("svg.chart rect.bar.class-overdue").count() == 1
    summary = dashboard.get("lanhdao.huyen", "/reports/summary", by="organization", level="children").get_json()
    expect_text(page.locator('.class-card[data-class="in_progress_on_time"] .count'),
                str(summary["totals"]["counts"]["in_progress_on_time"]))
    assert f"/ {summary['totals']['total']} nhiệm vụ" in page.locator("#completion-rate").inner_text()
    shot(page, "overview-desktop")

    page.locator('#nav a[href="#/overdue"]').click()
    heading(page, "Nhiệm vụ quá hạn")
    expect_text(page.locator("#overdue-total"), str(total))
    rows = page.locator("#overdue-table tbody tr")
    expect_count(rows, 20)
    first = overdue.get_json()[0]
    assert rows.first.locator('td[data-label="Số ngày quá hạn"]').inner_text() == str(first["days_overdue"])
    assert rows.first.locator('td[data-label="Đơn vị"]').inner_text() == first["organization"]["name"]
    shot(page, "overdue-desktop")

    # Urge the first two rows at once: the API counts each.
    picked = [int(x) for x in rows.evaluate_all("rs => rs.slice(0, 2).map(r => r.dataset.assignment)")]
    before = {i: dashboard.get("lanhdao.huyen", f"/assignments/{i}").get_json()["urge_count"] for i in picked}
    for assignment_id in picked:
        page.locator(f'#overdue-table tr[data-assignment="{assignment_id}"] input.pick').check()
    page.get_by_role("button", name="Đôn đốc các nhiệm vụ đã chọn").click()
    expect_text(page.locator("#flash"), "Đã đôn đốc 2 nhiệm vụ.")
    for assignment_id in picked:
        assert dashboard.get("lanhdao.huyen", f"/assignments/{assignment_id}").get_json()["urge_count"] == before[assignment_id] + 1
    desktop.assert_clean()


def test_the_leader_downloads_the_periodic_report_as_a_word_document(dashboard, desktop):
    page = desktop.page
    sign_in(page, "lanhdao.huyen", "Nguyễn Chi Hội")
    heading(page, "Tổng quan")
    year = dashboard.get("lanhdao.huyen", "/reports/attention").get_json()["as_of"][:4]
    button = page.locator(f'#documents-title ~ ul button[data-period="{year}"]')
    expect_count(button, 1)
    assert button.inner_text() == f"Năm {year} – Huyện ủy Kim Động"
    with page.expect_download() as download:
        button.click()
    body = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename.endswith(".docx") and body[:2] == b"PK"  # a Word (OOXML) file
    with zipfile.ZipFile(io.BytesIO(body)) as document:
        text = document.read("word/document.xml").decode("utf-8")
    assert "Huyện ủy Kim Động".upper() in text.upper() and f"năm {year}" in text.lower()
    desktop.assert_clean()


def test_the_overdue_list_filters_pages_and_exports_what_the_api_reports(dashboard, desktop):
    page = desktop.page
    sign_in(page, "lanhdao.huyen", "Nguyễn Chi Hội")
    ubnd = dashboard.organization_id("UBND-KD")
    page.goto("/app/#/overdue")
    heading(page, "Nhiệm vụ quá hạn")
    page.locator("#f-unit").select_option(str(ubnd))
    page.locator("#f-days").fill("500")
    page.get_by_role("button", name="Lọc", exact=True).click()
    page.wait_for_url(re.compile(r"organization_id="))
    cutoff = TODAY.toordinal() - 500
    import datetime as dt  # noqa: PLC0415

    expected = dashboard.get("lanhdao.huyen", "/reports/overdue", organization_id=ubnd, include_descendants="true",
                             due_to=dt.date.fromordinal(cutoff).isoformat(), page_size=200)
    total = json.loads(expected.headers["X-Pagination"])["total"]
    assert 0 < total < 73
    expect_text(page.locator("#overdue-total"), str(total))
    for cell in page.locator('#overdue-table td[data-label="Số ngày quá hạn"]').all_inner_texts():
        assert int(cell) >= 500

    page.locator("#f-sort").select_option("organization")
    page.get_by_role("button", name="Lọc", exact=True).click()
    page.wait_for_url(re.compile(r"sort=organization"))
    expect_text(page.locator("#overdue-total"), str(total))

    with page.expect_download() as download:
        page.locator('.exports button[data-format="csv"]').click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert download.value.suggested_filename.endswith(".csv")
    assert sum(1 for row in expected.get_json() if row["organization"]["name"] in content) == total
    assert page.locator('.exports button[data-format="xlsx"]').count() == 1

    # An owner shows with their phone, and the owner filter finds their work.
    noivu_id = dashboard.organization_id("PNV-KD")
    owned = dashboard.get("lanhdao.huyen", "/reports/overdue", organization_id=noivu_id, page_size=1).get_json()[0]["id"]
    officer = dashboard.get("canbo.noivu", "/auth/me").get_json()["user"]
    etag = dashboard.get("lanhdao.huyen", f"/assignments/{owned}").headers["ETag"]
    patched = dashboard.call("lanhdao.huyen", "PATCH", f"/assignments/{owned}", json={"owner_id": officer["id"]},
                             headers={"If-Match": etag})
    assert patched.status_code == 200, patched.get_data(as_text=True)
    page.goto(f"/app/#/overdue?organization_id={noivu_id}")
    page.locator("#f-owner").select_option(str(officer["id"]))
    page.get_by_role("button", name="Lọc", exact=True).click()
    page.wait_for_url(re.compile(r"owner_id="))
    expect_text(page.locator("#overdue-total"), "1")
    owner_cell = page.locator(f'#overdue-table tr[data-assignment="{owned}"] td[data-label="Người phụ trách"]')
    assert officer["full_name"] in owner_cell.inner_text() and officer["phone"] in owner_cell.inner_text()
    desktop.assert_clean()


def test_the_leader_drills_into_a_unit(dashboard, desktop, noivu):
    page = desktop.page
    noivu_id, _ = noivu
    ubnd = dashboard.organization_id("UBND-KD")
    sign_in(page, "lanhdao.huyen", "Nguyễn Chi Hội")
    page.goto("/app/#/units")
    heading(page, "Đơn vị")
    toggle = page.locator(f'#unit-tree li[data-org="{ubnd}"] > .tree-row .toggle')
    toggle.focus()
    page.keyboard.press("Enter")  # the tree opens from the keyboard
    unit = page.locator(f'#unit-tree li[data-org="{noivu_id}"]')
    unit.wait_for()
    assert toggle.get_attribute("aria-expanded") == "true"
    level = dashboard.get("lanhdao.huyen", "/reports/summary", by="organization", parent_id=ubnd).get_json()
    row = next(r for r in level["rows"] if r["key"]["organization_id"] == noivu_id)
    assert f"{row['counts']['overdue']} quá hạn" in unit.locator(".tree-counts").inner_text()

    unit.get_by_role("link", name="Phòng Nội vụ huyện Kim Động").click()
    heading(page, "Phòng Nội vụ huyện Kim Động")
    own = dashboard.get("lanhdao.huyen", "/assignments", organization_id=noivu_id, page_size=20)
    expect_count(page.locator("#unit-assignments tbody tr"), len(own.get_json()))
    assert f"({json.loads(own.headers['X-Pagination'])['total']})" in page.locator("#own-title").inner_text()
    expect_text(page.locator('.class-card[data-class="overdue"] .count'), str(row["counts"]["overdue"]))
    assert "Kết quả đánh giá năm" in page.locator("#scorecard").inner_text()

    # The overview as of a chosen day: the counts the API gives for that day.
    day = TODAY.replace(year=TODAY.year - 1, month=12, day=31)
    page.goto("/app/#/overview")
    heading(page, "Tổng quan")
    page.locator("#as-of").fill(day.isoformat())
    page.get_by_role("button", name="Xem", exact=True).click()
    expect_text(page.locator("#as-of-shown"), day.strftime("%d/%m/%Y"))
    then = dashboard.get("lanhdao.huyen", "/reports/summary", by="organization", level="children", as_of=day.isoformat()).get_json()
    expect_text(page.locator('.class-card[data-class="overdue"] .count'), str(then["totals"]["counts"]["overdue"]))
    desktop.assert_clean()


def test_the_leader_approves_a_submission_and_it_leaves_the_attention_list(dashboard, desktop, noivu):
    page = desktop.page
    _, open_ids = noivu
    target = open_ids[0]
    dashboard.submitted_by_officer(target)
    waiting = dashboard.get("lanhdao.huyen", "/reports/attention").get_json()["awaiting_approval"]["count"]
    assert waiting >= 1

    sign_in(page, "lanhdao.huyen", "Nguyễn Chi Hội")
    heading(page, "Tổng quan")
    expect_text(page.locator("#desk-awaiting_approval .badge"), str(waiting))
    item = page.locator(f'#desk-awaiting_approval li[data-assignment="{target}"] a')
    item.focus()
    page.keyboard.press("Enter")
    approve = page.locator('#actions button[data-to="completed"]')
    approve.wait_for()
    # Offered because the API allows it: the page shows exactly the API's allowed_transitions.
    allowed = dashboard.get("lanhdao.huyen", f"/assignments/{target}").get_json()["allowed_transitions"]
    assert sorted(page.locator("#actions .moves button").evaluate_all("bs => bs.map(b => b.dataset.to)")) == sorted(allowed)
    page.locator('#evidence li[data-evidence] a', has_text="Xem tệp").wait_for()
    approve.focus()
    page.keyboard.press("Enter")
    expect_text(page.locator("#status"), "Hoàn thành")
    assert dashboard.get("lanhdao.huyen", f"/assignments/{target}").get_json()["status"] == "completed"
    shot(page, "assignment-desktop")

    page.locator('#nav a[href="#/overview"]').click()
    heading(page, "Tổng quan")
    expect_text(page.locator("#desk-awaiting_approval .badge"), str(waiting - 1))
    expect_count(page.locator(f'#desk-awaiting_approval li[data-assignment="{target}"]'), 0)
    desktop.assert_clean()


def test_a_return_needs_a_reason_and_shows_it(dashboard, desktop, noivu):
    page = desktop.page
    _, open_ids = noivu
    target = open_ids[2]
    dashboard.submitted_by_officer(target)
    sign_in(page, "lanhdao.huyen", "Nguyễn Chi Hội")
    page.goto(f"/app/#/assignments/{target}")
    page.locator('#actions button[data-to="returned"]').click()
    confirm = page.get_by_role("button", name=re.compile("^Xác nhận"))
    confirm.click()
    expect_text(page.locator("#flash"), "Cần nêu lý do.")
    assert dashboard.get("lanhdao.huyen", f"/assignments/{target}").get_json()["status"] == "submitted"
    page.get_by_label(re.compile("^Lý do")).fill("Thiếu biên bản họp.")
    confirm.click()
    expect_text(page.locator("#status"), "Trả lại, yêu cầu bổ sung")
    assert "Thiếu biên bản họp." in page.locator("#history").inner_text()
    desktop.assert_clean()


def test_the_leader_grants_an_extension_and_urges_overdue_work(dashboard, desktop, noivu):
    page = desktop.page
    _, open_ids = noivu
    target = open_ids[5]
    later = TODAY.replace(year=TODAY.year + 1, month=3, day=31)
    asked = dashboard.call("canbo.noivu", "POST", f"/assignments/{target}/extensions",
                           json={"new_due_date": later.isoformat(), "reason": "Chờ ý kiến của Sở."})
    assert asked.status_code == 201, asked.get_data(as_text=True)
    sign_in(page, "lanhdao.huyen", "Nguyễn Chi Hội")
    heading(page, "Tổng quan")
    page.locator(f'#desk-extension_requests li[data-assignment="{target}"] a').click()
    page.get_by_role("button", name="Đồng ý gia hạn").click()
    page.get_by_text("(hạn ban đầu").wait_for()
    answer = dashboard.get("lanhdao.huyen", f"/assignments/{target}").get_json()
    assert (answer["due_date"], answer["extended"], answer["pending_extension"]) == (later.isoformat(), True, None)
    assert later.strftime("%d/%m/%Y") in page.locator("#details-title + dl").inner_text()

    overdue = dashboard.get("lanhdao.huyen", "/reports/overdue", page_size=1).get_json()[0]
    page.goto(f"/app/#/assignments/{overdue['id']}")
    page.locator("#urge-message").fill("Đề nghị khẩn trương hoàn thành, báo cáo trước ngày 15.")
    page.get_by_role("button", name="Gửi đôn đốc").click()
    expect_text(page.locator("#flash"), "Đã gửi đôn đốc.")
    assert dashboard.get("lanhdao.huyen", f"/assignments/{overdue['id']}").get_json()["urge_count"] == overdue["urge_count"] + 1
    desktop.assert_clean()


# --- the officer --------------------------------------------------------------------------------

def test_the_officer_reads_an_urging_and_chooses_the_mails(dashboard, desktop):
    page = desktop.page
    noivu_id = dashboard.organization_id("PNV-KD")
    overdue = dashboard.get("lanhdao.huyen", "/reports/overdue", organization_id=noivu_id, page_size=1).get_json()[0]
    urged = dashboard.call("lanhdao.huyen", "POST", "/assignments/urge",
                           json={"assignment_ids": [overdue["id"]], "message": "Đề nghị Phòng Nội vụ báo cáo ngay."})
    assert urged.status_code == 200 and urged.get_json()["results"][0]["status"] == 200, urged.get_data(as_text=True)
    unread = int(dashboard.get("canbo.noivu", "/me/notifications").headers["X-Unread-Count"])
    assert unread >= 1

    sign_in(page, "canbo.noivu", "Phạm Minh Đức")
    page.locator('#nav a[href="#/notifications"]').click()
    heading(page, "Thông báo")
    expect_text(page.locator("#unread-count"), str(unread))
    newest = page.locator("#notices li").first
    assert newest.get_attribute("data-kind") == "urged" and "unread" in newest.get_attribute("class")
    assert "Đề nghị Phòng Nội vụ báo cáo ngay." in newest.inner_text()
    newest.get_by_role("button", name="Đã đọc").click()
    expect_text(page.locator("#unread-count"), str(unread - 1))
    assert int(dashboard.get("canbo.noivu", "/me/notifications").headers["X-Unread-Count"]) == unread - 1

    overdue_box = page.get_by_label("Nhắc nhiệm vụ quá hạn (ngày đầu, sau đó hằng tuần)")
    assert overdue_box.is_checked()
    overdue_box.uncheck()
    page.get_by_role("button", name="Lưu").click()
    expect_text(page.locator("#flash"), "Đã lưu cài đặt thông báo.")
    chosen = dashboard.get("canbo.noivu", "/me/preferences").get_json()["email_preferences"]
    assert chosen["overdue"] is False and chosen["urged"] is True

    newest.get_by_role("link", name="Xem nhiệm vụ").click()
    page.wait_for_url(re.compile(rf"#/assignments/{overdue['id']}$"))
    desktop.assert_clean()


def test_the_officer_updates_progress_uploads_a_pdf_and_submits(dashboard, desktop, noivu):
    page = desktop.page
    _, open_ids = noivu
    target = open_ids[1]
    sign_in(page, "canbo.noivu", "Phạm Minh Đức")
    heading(page, "Việc của đơn vị")
    page.goto(f"/app/#/assignments/{target}")
    page.locator('#actions button[data-to="in_progress"]').click()
    expect_text(page.locator("#status"), "Đang thực hiện")

    page.locator("#progress-input").fill("80")
    page.get_by_role("button", name="Lưu tiến độ").click()
    expect_text(page.locator("#progress"), "80%")

    page.locator("#evidence-file").set_input_files(files=[{
        "name": "bien-ban-hop.pdf", "mimeType": "application/pdf", "buffer": evidence_files.pdf("Biên bản họp"),
    }])
    page.locator("#evidence-description").fill("Biên bản họp triển khai")
    page.get_by_role("button", name="Tải lên").click()
    item = page.locator("#evidence li[data-evidence]", has_text="bien-ban-hop.pdf")
    link = item.get_by_role("link", name="Xem tệp")
    link.wait_for()
    preview = page.request.get(dashboard.origin + link.get_attribute("href"))  # the signed link works without a token
    assert preview.status == 200 and preview.headers["content-type"] == "application/pdf"
    assert preview.body() == evidence_files.pdf("Biên bản họp")

    page.locator("#evidence-file").set_input_files(files=[{"name": "hien-truong.png", "mimeType": "image/png", "buffer": evidence_files.png()}])
    page.get_by_role("button", name="Tải lên").click()
    image = page.locator("#evidence li[data-evidence]", has_text="hien-truong.png").locator("img")
    image.wait_for(state="attached")
    assert "/signed-content?sig=" in image.get_attribute("src")
    assert image.get_attribute("alt") == "Ảnh minh chứng: hien-truong.png"

    page.locator('#actions button[data-to="submitted"]').click()
    expect_text(page.locator("#status"), "Đã báo cáo, chờ duyệt")
    answer = dashboard.get("canbo.noivu", f"/assignments/{target}").get_json()
    assert (answer["status"], answer["progress"], answer["evidence_count"]) == ("submitted", 80, 2)
    desktop.assert_clean()


def test_an_officer_asks_for_an_extension(dashboard, desktop, noivu):
    page = desktop.page
    _, open_ids = noivu
    target = open_ids[3]
    sign_in(page, "canbo.noivu", "Phạm Minh Đức")
    page.goto(f"/app/#/assignments/{target}")
    later = TODAY.replace(year=TODAY.year + 1, month=6, day=30)
    page.locator("#extension-date").fill(later.isoformat())
    page.locator("#extension-reason").fill("Chờ kinh phí được phê duyệt.")
    page.get_by_role("button", name="Gửi đề nghị gia hạn").click()
    page.locator("#details-title").wait_for()
    page.get_by_text("Chờ kinh phí được phê duyệt.").first.wait_for()
    pending = dashboard.get("canbo.noivu", f"/assignments/{target}").get_json()["pending_extension"]
    assert pending["new_due_date"] == later.isoformat()
    assert page.locator("#extension-decision").count() == 0  # an officer does not decide
    desktop.assert_clean()


def test_an_officer_never_sees_another_units_data(dashboard, desktop, noivu):
    page = desktop.page
    noivu_id, _ = noivu
    ubnd = dashboard.organization_id("UBND-KD")
    elsewhere = dashboard.get("lanhdao.huyen", "/assignments", organization_id=ubnd, page_size=1).get_json()[0]["id"]
    answers = []
    page.on("response", lambda response: "/api/v1/" in response.url and answers.append(response))

    sign_in(page, "canbo.noivu", "Phạm Minh Đức")
    heading(page, "Việc của đơn vị")
    units = set(page.locator('#work-table td[data-label="Đơn vị"]').all_inner_texts())
    assert units == {"Phòng Nội vụ huyện Kim Động"}
    for route, title in (("#/overview", "Tổng quan"), ("#/overdue", "Nhiệm vụ quá hạn"), ("#/units", "Đơn vị")):
        page.goto(f"/app/{route}")
        heading(page, title)
    assert set(page.locator("#unit-tree li[data-org]").evaluate_all("ls => ls.map(l => l.dataset.org)")) == {str(noivu_id)}
    page.goto("/app/#/overdue")
    heading(page, "Nhiệm vụ quá hạn")
    assert set(page.locator('#overdue-table td[data-label="Đơn vị"]').all_inner_texts()) == {"Phòng Nội vụ huyện Kim Động"}
    assert page.locator("#f-unit option").all_inner_texts() == ["Tất cả đơn vị", "Phòng Nội vụ huyện Kim Động"]

    page.goto(f"/app/#/assignments/{elsewhere}")
    heading(page, "Không tìm thấy")
    assert page.locator("#actions").count() == 0

    seen = set()
    for response in answers:
        if response.ok and "json" in (response.headers.get("content-type") or "") and "/openapi.json" not in response.url:
            seen |= _organizations_in(response.json())
    assert seen == {noivu_id}
    # The other unit's assignment answered 404 (its details, history, evidence, extensions): logged, expected.
    assert desktop.console_errors and all("404" in message for message in desktop.console_errors)
    desktop.console_errors.clear()
    desktop.assert_clean()


def _organizations_in(value) -> set[int]:
    """Ids of the organisations an answer shows data of (`organization` objects, summary row keys)."""
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "organization" and isinstance(item, dict) and "id" in item:
                found.add(item["id"])
            elif key == "key" and isinstance(item, dict) and "organization_id" in item:
                found.add(item["organization_id"])
            else:
                found |= _organizations_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _organizations_in(item)
    return found


# --- sessions -----------------------------------------------------------------------------------

def test_the_token_is_refreshed_before_it_expires_and_logout_ends_the_session(dashboard, chromium):
    with visiting(chromium, dashboard.origin, **DESKTOP, **LOCALE) as visit:
        page = visit.page
        page.clock.install()
        sign_in(page, "lanhdao.huyen", "Nguyễn Chi Hội")
        first = json.loads(page.evaluate("sessionStorage.getItem('tracker.session')"))
        with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/refresh")) as refreshed:
            page.clock.run_for("14:30")  # the access token lives 15 minutes; the page refreshes a minute before
        assert refreshed.value.status == 200
        second = json.loads(page.evaluate("sessionStorage.getItem('tracker.session')"))
        assert second["access"] != first["access"] and second["refresh"] != first["refresh"]

        page.reload()  # the session lives on in this tab
        page.locator("#who-text").get_by_text("Nguyễn Chi Hội").wait_for()
        # The overview drawn (its requests answered): a request still in flight at logout would get a 401.
        heading(page, "Tổng quan")
        page.wait_for_load_state("networkidle")

        with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/logout")) as ended:
            page.get_by_role("button", name="Đăng xuất").click()
        assert ended.value.status == 204
        page.locator("#username").wait_for()
        assert page.evaluate("sessionStorage.getItem('tracker.session')") is None
        me = dashboard.app.test_client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {second['access']}"})
        assert me.status_code == 401
        visit.assert_clean()


def test_a_wrong_password_is_said_on_the_form(desktop):
    page = desktop.page
    page.goto("/app/")
    page.locator("#username").fill("lanhdao.huyen")
    page.locator("#password").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    page.locator(".form-error").filter(has_text=re.compile(r"\S")).wait_for()
    assert page.locator("#who").is_hidden()


# --- phones -------------------------------------------------------------------------------------

def test_a_phone_sized_viewport_renders_without_horizontal_scrolling(dashboard, phone, noivu):
    page = phone.page
    _, open_ids = noivu
    sign_in(page, "lanhdao.huyen", "Nguyễn Chi Hội")
    for route, title, name in (("#/overview", "Tổng quan", "overview-phone"), ("#/overdue", "Nhiệm vụ quá hạn", "overdue-phone"),
                               (f"#/assignments/{open_ids[0]}", "", "assignment-phone"), ("#/units", "Đơn vị", None)):
        page.goto(f"/app/{route}")
        heading(page, title)
        page.locator("main .panel, main table").first.wait_for()
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"{route} scrolls sideways: {widths}"
        if name:
            shot(page, name)
    phone.assert_clean()


# --- accessibility basics -----------------------------------------------------------------------

def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    lighter, darker = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_helper_can_fail():
    assert contrast("#ffffff", "#000000") == pytest.approx(21)
    assert contrast("#ffffff", "#777777") < 4.5


def test_the_class_colours_meet_wcag_aa_as_text_on_white_and_under_white_text():
    colours = dict(re.findall(r"--class-([a-z_]+):\s*(#[0-9a-fA-F]{6})", CSS.read_text(encoding="utf-8")))
    assert set(colours) == {"completed_on_time", "completed_late", "in_progress_on_time", "overdue", "no_deadline"}
    for name, colour in colours.items():
        assert contrast(colour, "#ffffff") >= 4.5, (name, colour)


def _rgb_hex(css_colour: str) -> str:
    red, green, blue = (int(x) for x in re.findall(r"\d+", css_colour)[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


_UNLABELLED = """() => [...document.querySelectorAll("main input, main select, main textarea")]
  .filter((el) => el.type !== "hidden")
  .filter((el) => !([...el.labels].some((l) => l.textContent.trim()) || el.getAttribute("aria-label")))
  .map((el) => el.id || el.name || el.outerHTML)"""


def test_inputs_have_labels_the_class_colours_render_and_the_main_actions_work_from_the_keyboard(dashboard, desktop, noivu):
    page = desktop.page
    _, open_ids = noivu
    page.goto("/app/")
    page.locator("#username").wait_for()
    assert page.evaluate(_UNLABELLED) == []
    # Keyboard only: the form has the focus, Tab moves to the password, Enter signs in.
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("canbo.noivu")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    heading(page, "Việc của đơn vị")
    assert page.evaluate(_UNLABELLED) == []

    page.goto(f"/app/#/assignments/{open_ids[4]}")
    page.locator("#progress-input").wait_for()
    assert page.evaluate(_UNLABELLED) == []
    page.goto("/app/#/overdue")
    heading(page, "Nhiệm vụ quá hạn")
    assert page.evaluate(_UNLABELLED) == []

    # The skip link comes first, then the menu: Tab to "Tổng quan" and Enter opens it.
    page.reload()  # a fresh document: the focus starts at its top
    heading(page, "Nhiệm vụ quá hạn")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('href')") == "#/overview":
            break
    page.keyboard.press("Enter")
    heading(page, "Tổng quan")

    for card in page.locator(".class-card").all():
        colours = card.evaluate("el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]")
        assert contrast(*(_rgb_hex(c) for c in colours)) >= 4.5, colours
    desktop.assert_clean()
