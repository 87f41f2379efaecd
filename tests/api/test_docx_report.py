"""The periodic report as a Word document (format=docx): the official header of a Party or a State
body, the title and number, the sections (those people write too), the figures of the JSON report,
the decree's page set-up; published snapshots keep their DOCX byte-identical; LibreOffice reads it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import subprocess
import unicodedata
from collections import Counter, defaultdict
from urllib.parse import quote

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.shared import Pt

from tests.helpers import assert_problem
from tracker.domain.classification import LABELS as CLASS_LABELS, TaskClass
from tracker.domain.vocabulary import LABELS

PERIODIC = "/api/v1/reports/periodic"
SNAPSHOTS = "/api/v1/reports/snapshots"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CLASSES = [c.value for c in TaskClass]
SECTIONS = ["I. KẾT QUẢ THỰC HIỆN", "II. HẠN CHẾ, NGUYÊN NHÂN", "III. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI", "IV. ĐỀ XUẤT, KIẾN NGHỊ"]


def get(client, headers, **query):
    response = client.get(PERIODIC, headers=headers, query_string=query)
    data = response.data
    response.close()
    return response, data


def rate(value) -> str:
    return "–" if value is None else f"{value * 100:.1f}%".replace(".", ",")


def header_texts(document) -> tuple[list, list]:
    """The paragraphs of the header's two cells (left: bodies and number; right: national or Party title, date)."""
    left, right = document.tables[0].rows[0].cells
    return [p for p in left.paragraphs if p.text], [p for p in right.paragraphs if p.text]


def table_with(document, heading: str):
    return next((t for t in document.tables if t.rows[0].cells[0].text == heading), None)


def rows_of(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows[1:]]


def report_pair(client, headers, organization_id: int, period: str = "2026-H1"):
    """The JSON report and the Word document of the same query."""
    query = {"organization_id": organization_id, "period": period}
    response, _ = get(client, headers, **query)
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    response, body = get(client, headers, **query, format="docx")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == DOCX
    return report, response, body, Document(io.BytesIO(body))


@pytest.fixture
def worked(make_assignment):
    """PVHKHTT-KD gets one task completed late and one overdue in the first half of 2026."""
    late = make_assignment("PVHKHTT-KD", due=dt.date(2026, 3, 1), status="completed", progress=100,
                           completed_on=dt.date(2026, 3, 11))
    overdue = make_assignment("PVHKHTT-KD", due=dt.date(2026, 4, 1), status="in_progress", progress=30)
    return {"late": late, "overdue": overdue}


def test_state_body_follows_decree_30(client, auth, org, worked):
    report, response, body, document = report_pair(client, auth("lanhdao.ubnd"), org["PVHKHTT-KD"])
    as_of = report["as_of"]
    name = f"bao-cao-6-thang-2026-PVHKHTT-KD_{as_of}.docx"
    disposition = response.headers["Content-Disposition"]
    assert f'filename="{name}"' in disposition and f"filename*=UTF-8''{quote(name)}" in disposition
    assert response.headers["Cache-Control"] == "private, no-store"

    left, right = header_texts(document)
    assert [p.text for p in left] == ["ỦY BAN NHÂN DÂN HUYỆN KIM ĐỘNG", "PHÒNG VĂN HÓA, KHOA HỌC VÀ THÔNG TIN HUYỆN KIM ĐỘNG",
                                      "Số: ………/BC-PVHKHTT"]
    assert all(run.bold for run in left[1].runs) and not any(run.bold for run in left[0].runs)
    national, motto, date_line = right
    assert national.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and national.runs[0].bold
    assert Pt(12) <= national.runs[0].font.size <= Pt(13)
    assert motto.text == "Độc lập - Tự do - Hạnh phúc" and motto.runs[0].bold and motto.runs[0].underline
    assert Pt(13) <= motto.runs[0].font.size <= Pt(14)
    assert date_line.text == "Kim Động, ngày ……… tháng ……… năm 2026" and date_line.runs[0].italic
    texts = [p.text for p in document.paragraphs]
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" not in body.decode("latin-1") and not any("ĐẢNG CỘNG SẢN" in t for t in texts)

    title = next(p for p in document.paragraphs if p.text == "BÁO CÁO")
    assert title.runs[0].bold and title.alignment == 1  # centred
    assert texts[texts.index("BÁO CÁO") + 1] == "Kết quả thực hiện nhiệm vụ 6 tháng đầu năm 2026"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == SECTIONS
    # The sections people write: a heading with an empty (dotted) paragraph to fill.
    for heading in SECTIONS[1:]:
        following = texts[texts.index(heading) + 1]
        assert set(following) == {"…"}

    # Decree 30/2020/NĐ-CP: A4 portrait, margins top/bottom 20–25 mm, left 30–35 mm, right 15–20 mm, Times New Roman 13–14 pt.
    section = document.sections[0]
    assert section.orientation == WD_ORIENT.PORTRAIT
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)]
    assert 20 <= margins[0] <= 25 and 20 <= margins[1] <= 25 and 30 <= margins[2] <= 35 and 15 <= margins[3] <= 20, margins
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman" and Pt(13) <= normal.font.size <= Pt(14)
    fonts = normal.element.rPr.rFonts
    assert {fonts.get(f"{{{fonts.nsmap['w']}}}{a}") for a in ("ascii", "hAnsi", "eastAsia", "cs")} == {"Times New Roman"}

    closing = document.tables[-1].rows[0].cells
    assert closing[0].paragraphs[0].text == "Nơi nhận:" and closing[0].paragraphs[0].runs[0].bold
    assert closing[0].paragraphs[0].runs[0].italic
    assert closing[0].paragraphs[1].runs[0].font.size == Pt(11)
    assert [p.text for p in closing[1].paragraphs if p.text] == ["TRƯỞNG PHÒNG"]


def test_group_table_matches_the_json_report(client, auth, org, worked):
    report, _, _, document = report_pair(client, auth("lanhdao.ubnd"), org["PVHKHTT-KD"])
    summary = report["summary"]
    assert summary["total"] < report["list_limit"]  # the lists hold every assignment, to count by group from them

    table = table_with(document, "Nhóm nhiệm vụ")
    headings = [cell.text for cell in table.rows[0].cells]
    assert headings == ["Nhóm nhiệm vụ", "Tổng số", *(CLASS_LABELS[c]["vi"] for c in TaskClass), "Tỷ lệ hoàn thành",
                        "Tỷ lệ đúng hạn", "Tỷ lệ hoàn thành / đến hạn", "Tỷ lệ quá hạn / đến hạn"]
    *groups, totals = rows_of(table)
    assert totals == ["Tổng cộng", str(summary["total"]), *(str(summary["counts"][c]) for c in CLASSES),
                      rate(summary["completion_rate"]), rate(summary["on_time_rate"]),
                      rate(summary["completion_rate_of_due"]), rate(summary["overdue_rate_of_due"])]

    by_group: dict[str, Counter] = defaultdict(Counter)
    for name in ("completed", "overdue", "in_progress", "no_deadline"):
        for row in report[name]:
            by_group[str(row["group"]["number"]) if row["group"] is not None else "IV"][row["classification"]] += 1
    table_groups = {}
    for row in groups:
        key = row[0].split(".")[0] if row[0][0].isdigit() else "IV"
        table_groups[key] = row
        counts = by_group[key]
        due = counts["completed_on_time"] + counts["completed_late"] + counts["overdue"]
        completed = counts["completed_on_time"] + counts["completed_late"]
        assert row[1:7] == [str(sum(counts.values())), *(str(counts[c]) for c in CLASSES)], row
        assert row[7:] == [rate(round(completed / sum(counts.values()), 4)),
                           rate(round(counts["completed_on_time"] / due, 4) if due else None),
                           rate(round(completed / due, 4) if due else None),
                           rate(round(counts["overdue"] / due, 4) if due else None)], row
    assert set(table_groups) == set(by_group)
    assert sum(int(row[1]) for row in groups) == summary["total"]
    texts = "\n".join(p.text for p in document.paragraphs)
    assert "Văn phòng Chính phủ" in texts and "Tỷ lệ đúng hạn = số hoàn thành đúng hạn / số nhiệm vụ đã đến hạn" in texts


def test_task_lists_match_the_json_report(client, auth, org, worked):
    report, _, _, document = report_pair(client, auth("lanhdao.ubnd"), org["PVHKHTT-KD"])
    completed = rows_of(table_with(document, "STT") if report["completed"] else None)
    assert [row[1] for row in completed] == [r["action"]["ref"] for r in report["completed"]]
    late = next(row for row, r in zip(completed, report["completed"]) if r["id"] == worked["late"])
    assert late[4:] == ["01/03/2026", "11/03/2026", "Hoàn thành quá hạn (10 ngày)"]

    overdue_table = [t for t in document.tables if t.rows[0].cells[0].text == "STT"][1]
    assert [c.text for c in overdue_table.rows[0].cells][-2:] == ["Số ngày quá hạn", "Trạng thái"]
    overdue = rows_of(overdue_table)
    assert len(overdue) == report["overdue_total"] == len(report["overdue"])
    assert [row[1] for row in overdue] == [r["action"]["ref"] for r in report["overdue"]]
    assert [row[5] for row in overdue] == [str(r["days_overdue"]) for r in report["overdue"]]
    assert {row[6] for row in overdue} <= {label["vi"] for label in LABELS["status"].values()}  # labels, never codes
    mine = next(row for row, r in zip(overdue, report["overdue"]) if r["id"] == worked["overdue"])
    assert mine[4] == "01/04/2026" and mine[6] == "Đang thực hiện"
    texts = [p.text for p in document.paragraphs]
    assert f"Trong kỳ có {report['backdated_facts']['count']} lần cập nhật trạng thái được ghi nhận lùi ngày" in "\n".join(texts)
    assert any(t.startswith(f"Trong kỳ có {report['extension_requests']['count']} đề nghị gia hạn") for t in texts)


@pytest.mark.parametrize("code, superior, issuing, number, signature", [
    ("BTGDV-KD", "HUYỆN ỦY KIM ĐỘNG", "BAN TUYÊN GIÁO VÀ DÂN VẬN", "Số ………-BC/BTGDV", ["TRƯỞNG BAN"]),
    ("HU-KD", "ĐẢNG BỘ TỈNH HƯNG YÊN", "HUYỆN ỦY KIM ĐỘNG", "Số ………-BC/HU", ["T/M BAN THƯỜNG VỤ", "BÍ THƯ"]),
])
def test_party_body_follows_guide_36(client, auth, org, code, superior, issuing, number, signature):
    report, response, _, document = report_pair(client, auth("lanhdao.huyen"), org[code], period="2026")
    assert f"bao-cao-nam-2026-{code}_{report['as_of']}.docx" in response.headers["Content-Disposition"]
    left, right = header_texts(document)
    assert [p.text for p in left] == [superior, issuing, "*", number]
    assert all(run.bold for run in left[1].runs)
    assert right[0].text == "ĐẢNG CỘNG SẢN VIỆT NAM" and right[0].runs[0].bold and right[0].runs[0].underline
    assert right[1].text.startswith("Kim Động, ngày ") and right[1].runs[0].italic
    texts = [p.text for p in document.paragraphs]
    assert not any("CỘNG HÒA XÃ HỘI" in t for t in texts) and "Độc lập - Tự do - Hạnh phúc" not in [p.text for p in right]
    assert texts[texts.index("BÁO CÁO") + 1] == "Kết quả thực hiện nhiệm vụ năm 2026"
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == SECTIONS
    closing = document.tables[-1].rows[0].cells
    assert closing[0].paragraphs[0].text == "Nơi nhận:"
    assert [p.text for p in closing[1].paragraphs if p.text] == signature


def test_indicators_table_when_there_are_indicators(client, auth, org):
    report, _, _, document = report_pair(client, auth("lanhdao.huyen"), org["HU-KD"], period="2026")
    indicators = report["indicators"]["rows"]
    assert indicators, "the Kim Động plan has indicators reported in the district"
    table = table_with(document, "Mã")
    assert [c.text for c in table.rows[0].cells] == ["Mã", "Chỉ tiêu", "Mục tiêu", "Giá trị mới nhất", "Đánh giá"]
    rows = rows_of(table)
    assert [row[0] for row in rows] == [r["code"] for r in indicators]
    assert [row[4] for row in rows] == [r["status_label"] for r in indicators]
    assert all(row[2].split(" ")[0] == f"{r['target_value']:g}".replace(".", ",") for row, r in zip(rows, indicators)
               if r["target_value"] is not None)

    # Without indicators in its subtree, an organisation's report has no such table.
    report, _, _, document = report_pair(client, auth("lanhdao.ubnd"), org["PTP-KD"])
    if not report["indicators"]["rows"]:
        assert table_with(document, "Mã") is None


def test_snapshot_keeps_its_docx(client, auth, org):
    leader = auth("lanhdao.ubnd")
    published = client.post(SNAPSHOTS, headers=leader, json={"kind": "periodic", "organization_id": org["PNV-KD"], "period": "2026"})
    assert published.status_code == 201, published.get_json()
    meta = published.get_json()
    assert len(meta["sha256"]["docx"]) == 64 and meta["size"]["docx"] > 0

    response = client.get(f"{SNAPSHOTS}/{meta['id']}", headers=leader, query_string={"format": "docx"})
    body = response.data
    response.close()
    assert response.status_code == 200 and response.mimetype == DOCX
    digest = hashlib.sha256(body).hexdigest()
    assert digest == meta["sha256"]["docx"] == response.headers["X-Content-SHA256"] and response.headers["ETag"] == f'"{digest}"'
    assert f"bao-cao-nam-2026-PNV-KD_chot-{meta['id']}_{meta['as_of']}.docx" in response.headers["Content-Disposition"]
    again = client.get(f"{SNAPSHOTS}/{meta['id']}", headers=leader, query_string={"format": "docx"})
    assert again.data == body
    again.close()
    document = Document(io.BytesIO(body))
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in [p.text for p in header_texts(document)[1]]
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"] == SECTIONS

    # Another agency's officer does not see it; pdf is not a format.
    assert_problem(client.get(f"{SNAPSHOTS}/{meta['id']}", headers=auth("canbo.congan"), query_string={"format": "docx"}),
                   404, "snapshot.not_found")
    assert_problem(client.get(f"{SNAPSHOTS}/{meta['id']}", headers=leader, query_string={"format": "pdf"}), 422, "request.validation_failed")

    # A summary has no Word document.
    summary = client.post(SNAPSHOTS, headers=leader, json={"kind": "summary", "by": "organization", "organization_id": org["UBND-KD"]})
    assert summary.status_code == 201 and summary.get_json()["sha256"]["docx"] is None
    assert_problem(client.get(f"{SNAPSHOTS}/{summary.get_json()['id']}", headers=leader, query_string={"format": "docx"}),
                   404, "snapshot.format_unavailable")


def test_docx_scope_and_formats(client, auth, org):
    assert_problem(get(client, auth("canbo.congan"), organization_id=org["PVHKHTT-KD"], period="2026-H1", format="docx")[0],
                   404, "organization.not_found")
    assert_problem(get(client, auth("lanhdao.ubnd"), organization_id=org["PVHKHTT-KD"], period="2026-H1", format="pdf")[0],
                   422, "request.validation_failed")
    # The other reports do not offer a Word document.
    response = client.get("/api/v1/reports/overdue", headers=auth("lanhdao.ubnd"), query_string={"format": "docx"})
    assert_problem(response, 422, "request.validation_failed")


def test_libreoffice_renders_the_vietnamese_title(client, auth, org, tmp_path):
    missing = [tool for tool in ("soffice", "pdftotext") if shutil.which(tool) is None]
    if missing:
        reason = f"{', '.join(missing)} not installed: cannot render the DOCX as people see it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        print(f"\nSKIPPED: {reason}")
        pytest.skip(reason)
    _, _, body, _ = report_pair(client, auth("lanhdao.ubnd"), org["PVHKHTT-KD"])
    source = tmp_path / "bao-cao.docx"
    source.write_bytes(body)
    subprocess.run(["soffice", f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                   check=True, capture_output=True, timeout=240)
    pdf = tmp_path / "bao-cao.pdf"
    assert pdf.exists() and pdf.stat().st_size > 0
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, timeout=60).stdout.decode()
    lines = [unicodedata.normalize("NFC", line.strip()) for line in text.splitlines()]
    assert "BÁO CÁO" in lines
    assert "Kết quả thực hiện nhiệm vụ 6 tháng đầu năm 2026" in lines
    assert "Độc lập - Tự do - Hạnh phúc" in lines
