"""The periodic (six-month or annual) report as a Word document, drafted in the official layout
for the kind of the issuing body:

- Party bodies (party_committee, party_board, party_office, party_cell) after Hướng dẫn 36-HD/VPTW:
  superior and issuing body top left with a star line and "Số …-BC/HU"; "ĐẢNG CỘNG SẢN VIỆT NAM"
  (bold, underlined) top right over the place and date line.
- Every other body after Decree 30/2020/NĐ-CP: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" over
  "Độc lập - Tự do - Hạnh phúc" (underlined as long as the text) top right, the bodies and
  "Số: …/BC-PVHKHTT" top left; Times New Roman 14pt, A4 portrait, margins 20/20/30/15 mm.

The number, the day and month, and the signer are left as dots for the drafter. The signature
title follows the kind (SIGNATURES); sections II–IV are headed but left for people to write.

`render(data)` takes the dict of `tracker.services.periodic.periodic` (not streamed: lists are
lists) with its `indicators` section, and returns the .docx bytes. Real paragraphs and tables
only, so that the file stays editable in Word and LibreOffice.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from tracker.domain.classification import LABELS as CLASS_LABELS, TaskClass
from tracker.domain.vocabulary import LABELS

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "Times New Roman"
PARTY_KINDS = frozenset({"party_committee", "party_board", "party_office", "party_cell"})

# (who signs for whom, the signer's title) by kind; the name is left for the drafter.
SIGNATURES = {
    "party_committee": ("T/M BAN THƯỜNG VỤ", "BÍ THƯ"),
    "party_board": ("", "TRƯỞNG BAN"),
    "party_office": ("", "CHÁNH VĂN PHÒNG"),
    "party_cell": ("T/M CHI ỦY", "BÍ THƯ"),
    "peoples_committee": ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"),
    "peoples_council": ("TM. THƯỜNG TRỰC HĐND", "CHỦ TỊCH"),
    "department": ("", "TRƯỞNG PHÒNG"),
}
DEFAULT_SIGNATURE = ("", "THỦ TRƯỞNG CƠ QUAN")

SECTION_RESULTS = "I. KẾT QUẢ THỰC HIỆN"
SECTION_LIMITS = "II. HẠN CHẾ, NGUYÊN NHÂN"
SECTION_NEXT = "III. NHIỆM VỤ TRỌNG TÂM THỜI GIAN TỚI"
SECTION_PROPOSALS = "IV. ĐỀ XUẤT, KIẾN NGHỊ"
DOTS = "…" * 3

RATE_NOTES = [
    "Tỷ lệ hoàn thành = số nhiệm vụ đã hoàn thành / tổng số nhiệm vụ.",
    "Tỷ lệ đúng hạn = số hoàn thành đúng hạn / số nhiệm vụ đã đến hạn (đã hoàn thành và quá hạn).",
    "Tỷ lệ hoàn thành / đến hạn = số đã hoàn thành / số nhiệm vụ đã đến hạn "
    "(cách tính của Văn phòng Chính phủ, Báo cáo số 1270/BC-TCTTTg).",
    "Tỷ lệ quá hạn / đến hạn = số chưa hoàn thành, quá hạn / số nhiệm vụ đã đến hạn.",
    "Tổng số: mọi nhiệm vụ còn hiệu lực của đơn vị và các đơn vị trực thuộc (kể cả nhiệm vụ thường xuyên, "
    "không tính nhiệm vụ đã hủy).",
]

_PLACE = re.compile(r".*\b(?:huyện ủy|huyện uỷ|tỉnh ủy|tỉnh uỷ|thành ủy|thành uỷ|thị ủy|thị uỷ|huyện|tỉnh|thành phố|thị xã|quận|"
                    r"thị trấn|xã|phường)\s+(?P<place>[^,;()]+?)\s*$", re.IGNORECASE)


# --- words -----------------------------------------------------------------------------------


def is_party(kind: str | None) -> bool:
    return kind in PARTY_KINDS


def place_of(name: str | None) -> str:
    """The place in an organisation's name ("… huyện Kim Động" → "Kim Động"), else dots."""
    match = _PLACE.match(name or "")
    return match["place"] if match else DOTS


def symbol_of(code: str) -> str:
    """The body's symbol in a document number: its code without the district suffix (PVHKHTT-KD → PVHKHTT)."""
    return code.split("-")[0].upper() if code else DOTS


def _upper(text: str) -> str:
    return text.upper()


def issuing_name(org: dict) -> str:
    """The body's name; a party board drops its committee's name, which the line above it says."""
    name, parent = org["name"], (org.get("parent") or {}).get("name")
    if parent and is_party(org.get("kind")) and name.lower().endswith(" " + parent.lower()):
        return name[: -len(parent) - 1]
    return name


def superior_name(org: dict) -> str | None:
    """The line above the body: its superior's name; for a party committee, the Party organisation
    it belongs to (Tỉnh ủy Hưng Yên → Đảng bộ tỉnh Hưng Yên)."""
    parent = org.get("parent")
    if not parent:
        return None
    name = parent["name"]
    if org.get("kind") == "party_committee":
        name = re.sub(r"^(Tỉnh|Huyện|Thành|Thị) ủy ", lambda m: f"Đảng bộ {m[1].lower()} ", name)
    return name


def number_line(org: dict) -> str:
    symbol = symbol_of(org["code"])
    return f"Số {DOTS}-BC/{symbol}" if is_party(org.get("kind")) else f"Số: {DOTS}/BC-{symbol}"


def _date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%".replace(".", ",")


def _number(value) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")


def period_words(period: dict) -> str:
    year = period["start"].year if isinstance(period["start"], dt.date) else int(str(period["start"])[:4])
    return f"6 tháng đầu năm {year}" if period["kind"] == "six_month" else f"năm {year}"


def subtitle(data: dict) -> str:
    return f"Kết quả thực hiện nhiệm vụ {period_words(data['period'])}"


def _task(row: dict) -> str:
    return row.get("action_title") or row.get("action_text") or ""


def group_label(row: dict, several_plans: bool) -> str:
    return f"{row['plan_code']} – {row['label']}" if several_plans else row["label"]


# --- layout helpers ----------------------------------------------------------------------------


def _set_fonts(element_rpr_parent, size: float | None = None) -> None:
    """Times New Roman for every script (theme fonts would win over the name in Word)."""
    rpr = element_rpr_parent.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), FONT)


def _styles(document) -> None:
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(14)
    _set_fonts(normal.element)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.15
    for name, size in (("Heading 1", 14), ("Heading 2", 14)):
        style = document.styles[name]
        _set_fonts(style.element)
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(6)
        style.paragraph_format.space_after = Pt(6)


def _paragraph(container, text: str = "", *, size: float | None = None, bold: bool = False, italic: bool = False,
               underline: bool = False, align=None, space_after: float | None = None, indent: bool = False):
    paragraph = container.add_paragraph()
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic, run.underline = bold or None, italic or None, underline or None
        if size:
            run.font.size = Pt(size)
    if align is not None:
        paragraph.alignment = align
    if space_after is not None:
        paragraph.paragraph_format.space_after = Pt(space_after)
    if indent:
        paragraph.paragraph_format.first_line_indent = Mm(10)
    return paragraph


def _cell_text(cell, text: str, *, size: float, bold: bool = False, align=None) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.paragraph_format.space_after = Pt(0)
    paragraph.paragraph_format.line_spacing = 1.0
    run = paragraph.add_run(text)
    run.font.size = Pt(size)
    run.bold = bold or None
    if align is not None:
        paragraph.alignment = align


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _table(document, headings: list[str], rows: list[list[str]], widths_mm: list[float], *, size: float = 10,
           numeric_from: int | None = None, bold_last: bool = False):
    """A bordered table, its heading row repeated on each page; columns from `numeric_from` centred."""
    table = document.add_table(rows=1, cols=len(headings))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for index, heading in enumerate(headings):
        _cell_text(table.rows[0].cells[index], heading, size=size, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _repeat_header(table.rows[0])
    for number, values in enumerate(rows, start=1):
        cells = table.add_row().cells
        last = bold_last and number == len(rows)
        for index, value in enumerate(values):
            centred = numeric_from is not None and index >= numeric_from
            _cell_text(cells[index], value, size=size, bold=last, align=WD_ALIGN_PARAGRAPH.CENTER if centred else None)
    _widths(table, widths_mm)
    _paragraph(document, space_after=0)
    return table


def _widths(table, widths_mm: list[float]) -> None:
    """Column widths in the grid (LibreOffice reads these) and in every cell (Word reads those)."""
    for index, width in enumerate(widths_mm):
        table.columns[index].width = Mm(width)
        for cell in table.columns[index].cells:
            cell.width = Mm(width)


def _borderless(document, widths_mm: list[float]):
    table = document.add_table(rows=1, cols=len(widths_mm))
    table.autofit = False
    _widths(table, widths_mm)
    return table.rows[0].cells


def _first(cell, text: str, **options):
    """Write into a new cell's first (empty) paragraph, then add the rest with _paragraph."""
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(text)
    run.bold = options.get("bold") or None
    run.font.size = Pt(options.get("size", 13))
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    paragraph.paragraph_format.space_after = Pt(0)
    return paragraph


# --- the document ----------------------------------------------------------------------------


def _header(document, data: dict) -> None:
    org = data["organization"]
    party = is_party(org.get("kind"))
    year = data["as_of"].year if isinstance(data["as_of"], dt.date) else int(str(data["as_of"])[:4])
    left, right = _borderless(document, [72, 93])
    centre = WD_ALIGN_PARAGRAPH.CENTER
    superior = superior_name(org)
    if superior:
        _first(left, _upper(superior), size=13)
        _paragraph(left, _upper(issuing_name(org)), size=13, bold=True, align=centre, space_after=0)
    else:
        _first(left, _upper(issuing_name(org)), size=13, bold=True)
    _paragraph(left, "*" if party else "", size=13, align=centre, space_after=0)
    _paragraph(left, number_line(org), size=13, align=centre, space_after=0)
    if party:
        _first(right, "ĐẢNG CỘNG SẢN VIỆT NAM", size=14, bold=True).runs[0].underline = True
        _paragraph(right, "", size=13, align=centre, space_after=0)
    else:
        _first(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
        _paragraph(right, "Độc lập - Tự do - Hạnh phúc", size=14, bold=True, underline=True, align=centre, space_after=0)
        _paragraph(right, "", size=13, align=centre, space_after=0)
    _paragraph(right, f"{place_of(org['name'])}, ngày {DOTS} tháng {DOTS} năm {year}", size=14, italic=True, align=centre,
               space_after=0)
    _paragraph(document, space_after=0)
    _paragraph(document, "BÁO CÁO", size=14, bold=True, align=centre, space_after=0)
    _paragraph(document, subtitle(data), size=14, bold=True, align=centre, space_after=0)
    _paragraph(document, "-----", size=14, align=centre)


def _results(document, data: dict) -> None:
    summary, counts = data["summary"], data["summary"]["counts"]
    org, as_of = data["organization"], _date(data["as_of"])
    document.add_heading(SECTION_RESULTS, level=1)
    _paragraph(document, (
        f"Tính đến ngày {as_of}, {org['name']} (kể cả các đơn vị trực thuộc) có tổng số {summary['total']} nhiệm vụ, trong đó: "
        f"hoàn thành {summary['completed']} nhiệm vụ ({counts[TaskClass.COMPLETED_ON_TIME]} đúng hạn, "
        f"{counts[TaskClass.COMPLETED_LATE]} quá hạn); đang thực hiện trong hạn {counts[TaskClass.IN_PROGRESS_ON_TIME]}; "
        f"chưa hoàn thành, quá hạn {counts[TaskClass.OVERDUE]}; thường xuyên, không thời hạn {counts[TaskClass.NO_DEADLINE]}. "
        f"Trong kỳ đã hoàn thành {summary.get('completed_in_period', 0)} nhiệm vụ."
    ), align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True)

    document.add_heading("1. Kết quả theo nhóm nhiệm vụ", level=2)
    groups = data.get("groups", [])
    several = len({g["plan_code"] for g in groups}) > 1
    headings = ["Nhóm nhiệm vụ", "Tổng số", *(CLASS_LABELS[c]["vi"] for c in TaskClass), "Tỷ lệ hoàn thành",
                "Tỷ lệ đúng hạn", "Tỷ lệ hoàn thành / đến hạn", "Tỷ lệ quá hạn / đến hạn"]

    def figures(row: dict, label: str) -> list[str]:
        return [label, str(row["total"]), *(str(row["counts"][c.value]) for c in TaskClass), rate(row["completion_rate"]),
                rate(row["on_time_rate"]), rate(row["completion_rate_of_due"]), rate(row["overdue_rate_of_due"])]

    rows = [figures(g, group_label(g, several)) for g in groups] + [figures(summary, "Tổng cộng")]
    _table(document, headings, rows, [44, 10, *[11] * 5, 14, 14, 14, 14], size=9, numeric_from=1, bold_last=True)
    _paragraph(document, "Cách tính các tỷ lệ:", size=12, italic=True, space_after=0)
    for note in RATE_NOTES:
        _paragraph(document, f"- {note}", size=12, italic=True, space_after=0)
    _paragraph(document, space_after=0)

    document.add_heading("2. Nhiệm vụ đã hoàn thành", level=2)
    completed = data["completed"]
    if completed:
        _table(document, ["STT", "Mục", "Nhiệm vụ", "Đơn vị", "Hạn", "Ngày hoàn thành", "Kết quả"],
               [[str(n), r["action_ref"], _task(r), r["organization_name"], _date(r["due_date"]), _date(r["completed_on"]),
                 CLASS_LABELS[TaskClass(r["classification"])]["vi"] + (f" ({r['days_late']} ngày)" if r.get("days_late") else "")]
                for n, r in enumerate(completed, start=1)],
               [11, 16, 44, 29, 20, 20, 25], numeric_from=4)
    else:
        _paragraph(document, "Chưa có nhiệm vụ hoàn thành.", indent=True)
    _cut_note(document, len(completed), data.get("completed_total", len(completed)))

    document.add_heading("3. Nhiệm vụ chưa hoàn thành, quá hạn", level=2)
    overdue = data["overdue"]
    if overdue:
        _table(document, ["STT", "Mục", "Nhiệm vụ", "Đơn vị", "Hạn", "Số ngày quá hạn", "Trạng thái"],
               [[str(n), r["action_ref"], _task(r), r["organization_name"], _date(r["due_date"]), str(r["days_overdue"]),
                 LABELS["status"].get(r["status"], {}).get("vi", r["status"])]
                for n, r in enumerate(overdue, start=1)],
               [11, 16, 44, 29, 20, 16, 29], numeric_from=4)
    else:
        _paragraph(document, "Không có nhiệm vụ quá hạn.", indent=True)
    _cut_note(document, len(overdue), data.get("overdue_total", len(overdue)))

    document.add_heading("4. Gia hạn thực hiện nhiệm vụ", level=2)
    extensions, requests = data["extensions_granted"], data["extension_requests"]
    _paragraph(document, f"Trong kỳ có {requests['count']} đề nghị gia hạn (trong đó {requests['requested_after_due']} đề nghị "
                         f"sau khi đã quá hạn); đã chấp thuận gia hạn {len(extensions)} nhiệm vụ.", indent=True)
    if extensions:
        _table(document, ["STT", "Mục", "Đơn vị", "Hạn trước", "Hạn mới", "Lý do"],
               [[str(n), r["action_ref"], r["organization_code"], _date(r["previous_due_date"]), _date(r["new_due_date"]),
                 r.get("reason") or ""] for n, r in enumerate(extensions, start=1)],
               [10, 18, 28, 20, 20, 69], numeric_from=3)

    indicators = (data.get("indicators") or {}).get("rows") or []
    section = 5
    if indicators:
        document.add_heading(f"{section}. Tình hình thực hiện các chỉ tiêu", level=2)
        _table(document, ["Mã", "Chỉ tiêu", "Mục tiêu", "Giá trị mới nhất", "Đánh giá"],
               [[r["code"], r["name"], " ".join(filter(None, [_number(r["target_value"]), r.get("unit")])),
                 _number(r["latest_value"]) or "Chưa có số liệu", r["status_label"]] for r in indicators],
               [14, 76, 26, 22, 26], numeric_from=2)
        section += 1
    document.add_heading(f"{section}. Sự việc được ghi nhận lùi ngày", level=2)
    _paragraph(document, f"Trong kỳ có {data['backdated_facts']['count']} lần cập nhật trạng thái được ghi nhận lùi ngày "
                         f"(ngày có hiệu lực trước ngày ghi nhận).", indent=True)


def _cut_note(document, shown: int, total: int) -> None:
    if total > shown:
        _paragraph(document, f"(Danh sách nêu {shown}/{total} nhiệm vụ; danh sách đầy đủ xem tệp Excel của báo cáo.)",
                   size=12, italic=True, indent=True)


def _to_write(document) -> None:
    """The parts people write themselves: a heading and a dotted line each."""
    for heading in (SECTION_LIMITS, SECTION_NEXT, SECTION_PROPOSALS):
        document.add_heading(heading, level=1)
        _paragraph(document, DOTS * 20, indent=True)


def _closing(document, data: dict) -> None:
    org = data["organization"]
    party = is_party(org.get("kind"))
    _paragraph(document, space_after=0)
    left, right = _borderless(document, [72, 93])
    heading = left.paragraphs[0].add_run("Nơi nhận:")
    heading.bold, heading.italic = True, True
    heading.font.size = Pt(12)
    left.paragraphs[0].paragraph_format.space_after = Pt(0)
    recipients = []
    if org.get("parent"):
        recipients.append(f"- {org['parent']['name']} (để báo cáo);")
    recipients.append("- Lưu Văn phòng." if party else "- Lưu: VT.")
    for line in recipients:
        _paragraph(left, line, size=11, space_after=0)
    on_behalf, title = SIGNATURES.get(org.get("kind"), DEFAULT_SIGNATURE)
    first = True
    for line in (on_behalf, title):
        if line:
            if first:
                _first(right, line, size=14, bold=True)
                first = False
            else:
                _paragraph(right, line, size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    for _ in range(4):
        _paragraph(right, "", space_after=0)  # room for the signature and the name, left to the drafter


def render(data: dict) -> bytes:
    """The .docx bytes of a periodic report (see the module's docstring)."""
    document = Document()
    _styles(document)
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    properties = document.core_properties
    properties.title = f"Báo cáo {period_words(data['period'])} – {data['organization']['name']}"
    properties.author = data["organization"]["name"]
    properties.language = "vi-VN"
    _header(document, data)
    _results(document, data)
    _to_write(document)
    _closing(document, data)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
