"""The responsibility table as people read it: the appendix that accompanies a Vietnamese
implementation plan ("Phụ lục: Danh mục nhiệm vụ"), grouped by the plan's task groups, with STT
numbering within the appendix; as XLSX sheets (with a "Ma trận" sheet of actions against units),
a flat sheet for CSV (one row per action) and a DOCX (A4 landscape).

Every function takes the data of `tracker.services.responsibility.responsibility`.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Mm, Pt

from tracker.documents import labels
from tracker.documents.sheets import Column, Sheet

SECTION_IV_HEADING = "Tổ chức thực hiện"
ROLE_LABELS = {"lead": "Chủ trì", "coordinating": "Phối hợp"}

APPENDIX_COLUMNS = [
    Column("stt", "STT", "text", 6),
    Column("task", "Nhiệm vụ", "text", 50),
    Column("lead", "Cơ quan chủ trì", "text", 28),
    Column("coordinating", "Cơ quan phối hợp", "text", 28),
    Column("deadline", "Thời gian hoàn thành", "text", 18),
    Column("expected_output", "Sản phẩm", "text", 36),
]
# After the appendix's own columns: traceability and where each action stands.
EXTRA_COLUMNS = [
    Column("ref", "Mục", "text", 10),
    Column("owners", "Người phụ trách", "text", 22),
    Column("standing", "Tình hình thực hiện", "text", 28),
]
CSV_COLUMNS = [APPENDIX_COLUMNS[0], EXTRA_COLUMNS[0], Column("group", "Nhóm nhiệm vụ"), *APPENDIX_COLUMNS[1:],
               *EXTRA_COLUMNS[1:], Column("status", "Trạng thái", labels=labels.STATUS)]


def title(data: dict) -> str:
    return f"DANH MỤC NHIỆM VỤ THỰC HIỆN KẾ HOẠCH SỐ {data['plan']['code']}"


def subtitle(data: dict) -> str:
    plan = data["plan"]
    return f"(Kèm theo Kế hoạch số {plan['code']} ngày {plan['issue_date']:%d/%m/%Y} của {plan['issuer_name']}: {plan['title']})"


def _names(units: list[dict]) -> str:
    return "; ".join(unit["name"] for unit in units)


def _group_heading(row: dict) -> str:
    if row["group_number"] is None:
        return SECTION_IV_HEADING
    return f"{row['group_number']}. {row['group_title']}"


def _standing(row: dict) -> str:
    """The class when one assignment is counted, else the count of each class."""
    if row["classification"]:
        return labels.TASK_CLASS[row["classification"]]
    return "; ".join(f"{labels.TASK_CLASS[klass]}: {count}" for klass, count in row["class_counts"].items() if count)


def _numbered(data: dict) -> list[tuple[str, dict]]:
    """(STT, row): bullets and duties 1, 2, 3 … through the appendix; a split under its parent n is
    n.1, n.2 …"""
    numbers: dict[int, str] = {}
    children: dict[int | None, int] = {}
    top = 0
    numbered = []
    for row in data["rows"]:
        parent = row["parent_id"] if row["parent_id"] in numbers else None
        if parent is None:
            top += 1
            stt = str(top)
        else:
            children[parent] = children.get(parent, 0) + 1
            stt = f"{numbers[parent]}.{children[parent]}"
        numbers[row["action_id"]] = stt
        numbered.append((stt, row))
    return numbered


def _cells(stt: str, row: dict) -> dict:
    return {
        "stt": stt, "ref": row["ref"], "group": _group_heading(row), "task": row["title"] or row["text"],
        "lead": _names(row["lead"]), "coordinating": _names(row["coordinating"]), "deadline": row["deadline"],
        "expected_output": row["expected_output"] or "", "owners": "; ".join(row["owners"]),
        "standing": _standing(row), "status": row["status"],
    }


def appendix_rows(data: dict) -> list[dict]:
    """The appendix's rows: a heading row before each group ("1. <title>", then "Tổ chức thực
    hiện" for section IV), marked `heading`, then its actions."""
    rows: list[dict] = []
    current = object()
    for stt, row in _numbered(data):
        if row["group_number"] != current:
            current = row["group_number"]
            rows.append({"stt": "", "task": _group_heading(row), "heading": True})
        rows.append(_cells(stt, row))
    return rows


def matrix_sheet(data: dict) -> Sheet:
    """Actions against units: "Chủ trì" or "Phối hợp" where a unit has the action."""
    units: dict[int, dict] = {}
    for row in data["rows"]:
        for unit in (*row["lead"], *row["coordinating"]):
            units.setdefault(unit["id"], unit)
    ordered = sorted(units.values(), key=lambda unit: unit["code"])
    columns = [Column("stt", "STT", "text", 6), Column("ref", "Mục", "text", 10), Column("task", "Nhiệm vụ", "text", 40),
               *(Column(f"unit_{unit['id']}", unit["name"], "text", 14) for unit in ordered)]
    rows = []
    for stt, row in _numbered(data):
        item = {"stt": stt, "ref": row["ref"], "task": row["title"] or row["text"]}
        for role in ("coordinating", "lead"):  # a unit both leading and coordinating reads "Chủ trì"
            for unit in row[role]:
                item[f"unit_{unit['id']}"] = ROLE_LABELS[role]
        rows.append(item)
    return Sheet("Ma trận", columns, rows)


def appendix_sheets(data: dict, *, matrix: bool = True) -> list[Sheet]:
    notes = [subtitle(data)]
    sheets = [Sheet("Phụ lục", [*APPENDIX_COLUMNS, *EXTRA_COLUMNS], appendix_rows(data), notes=notes)]
    return [*sheets, matrix_sheet(data)] if matrix else sheets


def csv_sheet(data: dict) -> Sheet:
    """For CSV: one row per action, its group in a column (no heading rows), so that every row is data."""
    return Sheet("Phụ lục", CSV_COLUMNS, [_cells(stt, row) for stt, row in _numbered(data)])


_FONT = "Times New Roman"
_DOCX_WIDTHS = [Cm(1.2), Cm(8.5), Cm(4.2), Cm(4.2), Cm(3.2), Cm(4.4)]  # 25.7 cm: A4 landscape within 2 cm margins


def _paragraph(document, text: str, *, bold: bool = False, italic: bool = False, size: int = 13, center: bool = True):
    paragraph = document.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold, run.italic, run.font.size = bold, italic, Pt(size)
    return paragraph


def _cell_text(cell, text: str, *, bold: bool = False, center: bool = False) -> None:
    paragraph = cell.paragraphs[0]
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold, run.font.size = bold, Pt(11)


def appendix_docx(data: dict) -> bytes:
    """The appendix as a Word document: "PHỤ LỤC", its title with the plan's code and title, and
    the table, on A4 landscape pages."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.left_margin = section.right_margin = Cm(2)
    section.top_margin = section.bottom_margin = Cm(2)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = _FONT, Pt(13)

    _paragraph(document, "PHỤ LỤC", bold=True, size=14)
    _paragraph(document, title(data), bold=True, size=14)
    _paragraph(document, subtitle(data), italic=True)

    table = document.add_table(rows=1, cols=len(APPENDIX_COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, _DOCX_WIDTHS, strict=True):
        column.width = width
    for cell, column, width in zip(table.rows[0].cells, APPENDIX_COLUMNS, _DOCX_WIDTHS, strict=True):
        cell.width = width
        _cell_text(cell, column.heading, bold=True, center=True)
    for row in appendix_rows(data):
        cells = table.add_row().cells
        if row.get("heading"):  # "1. <group title>" across the whole row
            _cell_text(cells[0].merge(cells[-1]), row["task"], bold=True)
            continue
        for cell, column, width in zip(cells, APPENDIX_COLUMNS, _DOCX_WIDTHS, strict=True):
            cell.width = width
            _cell_text(cell, row[column.key], center=column.key in ("stt", "deadline"))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
