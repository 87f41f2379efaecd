"""The fast export writers give the same documents as the plain ones.

XLSX: the data rows are encoded by tracker.documents.xlsx itself and handed to XlsxWriter's
constant_memory worksheet; the same sheet written through XlsxWriter's public API, cell by cell,
must read back identical (values, formats, fonts, fills, borders, alignment, row heights), text
with control characters, markup, Excel escapes, spaces at its ends, line breaks and more than
Excel's 32,767 characters included. The fast way must be the one in use with the installed
XlsxWriter (a version whose internals moved would quietly fall back to the slow way).

CSV: the record makers give, byte for byte, what `csv_value` (one value at a time, the reference)
gives, for one sheet and for several sheets in one table. No database: pure documents."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tracker.documents import csv_file, xlsx
from tracker.documents.sheets import Column, Sheet

pytestmark = pytest.mark.no_transaction

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
AS_OF = dt.date(2026, 11, 24)
ROLE = {"lead": "Chủ trì", "coordinating": "Phối hợp"}
COLUMNS = [
    Column("id", "Mã phân công", "int", 10),
    Column("title", "Nhiệm vụ", "text", 40),
    Column("role", "Vai trò", "text", 10, labels=ROLE),
    Column("due", "Hạn hiện tại", "date", 12),
    Column("updated", "Cập nhật lần cuối", "datetime", 17),
    Column("rate", "Tỷ lệ đúng hạn", "rate", 12),
    Column("count", "Số nhiệm vụ", "int", 9, sums=True),
    Column("misc", "Ghi chú", "text", 14),
]
TRICKY_TEXTS = [
    "Ứng dụng, phát triển công nghệ số; nền tảng số dùng chung; hệ sinh thái kinh tế số",
    "bad\x00\x01\x08\x0b\x0c\x0e\x1f control characters",
    "<r><t>markup</t></r>",
    "Tom & Jerry <b>bold</b> > less",
    "_x0041_ reads as an escape",
    "  spaces at both ends  ",
    "\ttab first",
    "line one\r\nline two\rline three\nline four",
    "x" * 40_000,
    "",
    "\x01",
    "lead",
    "unknown_code",
]


def tricky_rows() -> list[dict]:
    moments = [dt.datetime(2026, 3, 1, 1, 2, 3), dt.datetime(2026, 3, 1, 20, 30, tzinfo=dt.UTC),
               dt.datetime(2025, 12, 31, 23, 59, 59, 999_000, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
               # Either side of the changes of summer time in Europe (a day whose offset changes).
               dt.datetime(2026, 3, 29, 0, 59), dt.datetime(2026, 3, 29, 1, 0, tzinfo=ZoneInfo("UTC")),
               dt.datetime(2026, 10, 25, 0, 30), dt.datetime(2026, 10, 25, 1, 30), dt.datetime(1950, 7, 1, 12)]
    odd_values = [None, True, False, 1.5, float("nan"), float("inf"), Decimal("2.25"), 10**17, -3, dt.date(2026, 1, 2),
                  dt.datetime(2026, 1, 2, 3, 4), 0.1 + 0.2, "  "]
    rows = []
    for i in range(40):
        rows.append({
            "id": i if i % 11 else None,
            "title": TRICKY_TEXTS[i % len(TRICKY_TEXTS)],
            "role": ["lead", "coordinating", "unknown_code", None][i % 4],
            "due": dt.date(2026, 1, 1) + dt.timedelta(days=i * 37) if i % 6 else None,
            "updated": moments[i % len(moments)] if i % 5 else None,
            "rate": [0.4545, 1, 0, None, 1 / 3][i % 5],
            "count": i * 3 if i % 7 else 2.5,
            "misc": odd_values[i % len(odd_values)],
        })
    return rows


def sheets() -> list[Sheet]:
    return [
        Sheet("Quá hạn", COLUMNS, tricky_rows(), notes=["Ghi chú: tỷ lệ = a / b", "\x02note with a control character"],
              total_label="Tổng cộng", totals={"rate": 0.5}),
        Sheet("Không có dòng", COLUMNS[:3], []),
        Sheet("Quá hạn", COLUMNS[:2], tricky_rows()[:3]),  # the same name again: made unique
    ]


def cell_facts(path: str) -> dict:
    """Everything a reader sees of each cell and row, by sheet."""
    book = load_workbook(path)
    facts = {}
    for sheet in book.worksheets:
        cells = {}
        for row in sheet.iter_rows():
            for cell in row:
                cells[cell.coordinate] = (
                    cell.value, cell.number_format, cell.font.b, cell.font.sz, cell.fill.fgColor.rgb, cell.fill.fill_type,
                    cell.border.left.style, cell.border.bottom.color.rgb if cell.border.bottom.color else None,
                    cell.alignment.wrap_text, cell.alignment.vertical, cell.alignment.horizontal,
                )
        heights = {index: dim.height for index, dim in sheet.row_dimensions.items() if dim.height}
        widths = {key: dim.width for key, dim in sheet.column_dimensions.items()}
        facts[sheet.title] = {"cells": cells, "heights": heights, "widths": widths, "max": (sheet.max_row, sheet.max_column),
                              "titles": sheet.print_title_rows, "freeze": sheet.freeze_panes,
                              "footer": (sheet.oddFooter.left.text, sheet.oddFooter.right.text)}
    return facts


def write(monkeypatch, *, encoded: bool, zone: ZoneInfo = ZONE) -> str:
    monkeypatch.setattr(xlsx, "_ENCODED_ROWS", encoded)
    return xlsx.write_xlsx(sheets(), "Danh sách & thử", AS_OF, zone)


def test_encoded_rows_are_in_use_with_the_installed_xlsxwriter(tmp_path):
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(tmp_path / "probe.xlsx"), {"constant_memory": True})
    sheet = workbook.add_worksheet("probe", worksheet_class=xlsx._RowsWorksheet)
    assert sheet.can_take_encoded_rows(), f"XlsxWriter {xlsxwriter.__version__}: the fast row path is off"
    workbook.close()


@pytest.mark.parametrize("zone", [ZONE, ZoneInfo("Europe/Berlin")], ids=str)
def test_encoded_rows_read_back_as_the_public_api_writes_them(monkeypatch, zone):
    fast, slow = write(monkeypatch, encoded=True, zone=zone), write(monkeypatch, encoded=False, zone=zone)
    try:
        fast_facts, slow_facts = cell_facts(fast), cell_facts(slow)
    finally:
        os.remove(fast)
        os.remove(slow)
    assert list(fast_facts) == ["Quá hạn", "Không có dòng", "Quá hạn (2)"]
    for name, facts in slow_facts.items():
        assert fast_facts[name]["cells"].keys() == facts["cells"].keys(), name
        for coordinate, expected in facts["cells"].items():
            assert fast_facts[name]["cells"][coordinate] == expected, (name, coordinate)
        assert fast_facts[name] == facts, name


def test_text_is_cleaned_and_cells_keep_their_types(monkeypatch, tmp_path):
    path = write(monkeypatch, encoded=True)
    try:
        book = load_workbook(path)
    finally:
        os.remove(path)
    sheet = book["Quá hạn"]
    header = [cell.value for cell in sheet[5]]  # title, as_of, two notes, then the headings
    assert header[:3] == ["Mã phân công", "Nhiệm vụ", "Vai trò"] and sheet.print_title_rows == "$5:$5"
    assert sheet["A4"].value == "note with a control character"
    body = list(sheet.iter_rows(min_row=6, values_only=True))
    *rows, total = body
    titles = [row[1] for row in rows]
    assert "bad control characters" in titles  # XML's illegal characters stripped
    assert "<r><t>markup</t></r>" in titles and "Tom & Jerry <b>bold</b> > less" in titles  # text, not markup
    assert "  spaces at both ends  " in titles and "\ttab first" in titles
    assert "line one\nline two\nline three\nline four" in titles  # line ends as an XML parser reads them
    assert "x" * 32_767 in titles  # cut to Excel's limit
    assert {row[2] for row in rows} == {"Chủ trì", "Phối hợp", "unknown_code", None}
    assert any(isinstance(row[3], dt.datetime) for row in rows) and sheet["D6"].number_format == "DD/MM/YYYY"
    moments = {row[4] for row in rows}
    assert {dt.datetime(2026, 3, 1, 8, 2, 3), dt.datetime(2026, 3, 2, 3, 30)} <= moments  # UTC read in Hà Nội time
    assert total[1] == "Tổng cộng" and total[5] == 0.5
    assert total[6] == sum(row["count"] for row in tricky_rows())
    misc = [row[7] for row in rows]
    assert True in misc and 1.5 in misc and 2.25 in misc and 10**17 in misc and dt.datetime(2026, 1, 2) in misc
    tall = [index for index, dim in sheet.row_dimensions.items() if dim.height and dim.height > 30 and index > 5]
    assert tall, "wrapped texts make taller rows"


def test_a_failed_export_leaves_no_files(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def rows():
        yield from tricky_rows()
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        xlsx.write_xlsx([Sheet("Quá hạn", COLUMNS, rows())], "Thử", AS_OF, ZONE)
    assert list(tmp_path.iterdir()) == []


def test_more_rows_than_a_worksheet_holds_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(xlsx, "MAX_ROWS", 30)  # Excel's 1,048,576, made small
    with pytest.raises(ValueError, match="more rows than an Excel worksheet holds"):
        xlsx.write_xlsx([Sheet("Quá hạn", COLUMNS, tricky_rows())], "Thử", AS_OF, ZONE)
    assert list(tmp_path.iterdir()) == []
    rows = tricky_rows()[:30 - 4]  # title, as_of, headings and 26 rows: the last row is the 29th
    os.remove(xlsx.write_xlsx([Sheet("Quá hạn", COLUMNS, rows, total_label="Tổng cộng")], "Thử", AS_OF, ZONE))


def test_many_rows_keep_the_worksheet_small(monkeypatch):
    """The worksheet keeps nothing per written row (XlsxWriter's row heights would, row by row)."""
    seen = {}
    original = xlsx._RowsWorksheet.write_encoded_rows

    def spy(self, first_row, last_row, last_col, xml):
        original(self, first_row, last_row, last_col, xml)
        seen["state"] = (len(self.row_info), len(self.row_sizes), len(self.table))

    monkeypatch.setattr(xlsx._RowsWorksheet, "write_encoded_rows", spy)
    many = ({**row, "id": i} for i, row in enumerate(tricky_rows() * 200))
    path = xlsx.write_xlsx([Sheet("Quá hạn", COLUMNS, many)], "Thử", AS_OF, ZONE)
    try:
        book = load_workbook(path, read_only=True)
        ids = [row[0] for row in book.worksheets[0].iter_rows(min_row=4, max_col=1, values_only=True)]
        book.close()
    finally:
        os.remove(path)
    assert ids == list(range(8000))
    assert seen["state"][0] <= 2 and seen["state"][1] <= 2 and seen["state"][2] == 0


# --- CSV -----------------------------------------------------------------------------------------


def reference_csv(sheets: list[Sheet], zone: ZoneInfo) -> bytes:
    """The CSV one value at a time, through `csv_value`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    several = len(sheets) > 1
    union = csv_file._union(sheets)
    writer.writerow([csv_file.SECTION_HEADING] * several + [heading for _, heading in union])
    for sheet in sheets:
        by_key = {column.key: column for column in sheet.columns}
        for row in sheet.rows:
            values = [csv_file.csv_value(row.get(key), by_key[key], zone) if key in by_key else "" for key, _ in union]
            writer.writerow([sheet.title] * several + values)
    return csv_file.BOM + buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize("zone", [ZONE, ZoneInfo("Europe/Berlin")], ids=str)
@pytest.mark.parametrize("several", [False, True])
def test_csv_is_the_reference_byte_for_byte(several, zone):
    def make() -> list[Sheet]:
        rows = tricky_rows()
        rows[3] = {key: value for key, value in rows[3].items() if key != "title"}  # a row without a key
        made = [Sheet("Quá hạn", COLUMNS, rows)]
        if several:
            made += [Sheet("Khác", [COLUMNS[0], Column("other", "Khác", "date", 12), Column("title", "Nhiệm vụ", "text", 20)],
                           [{"id": 1, "other": dt.date(2026, 5, 6), "title": "x"}, {"id": 2}]),
                     Sheet("Rỗng", COLUMNS[:1], [])]
        return made

    assert b"".join(csv_file.csv_lines(make(), zone)) == reference_csv(make(), zone)


def test_csv_comes_in_chunks_of_about_64_kib():
    rows = ({**row, "id": i} for i, row in enumerate(tricky_rows() * 400))
    chunks = list(csv_file.csv_lines([Sheet("Quá hạn", COLUMNS, rows)], ZONE))
    assert chunks[0] == csv_file.BOM
    body = chunks[2:-1]
    assert body and all(64 * 1024 <= len(chunk) < 2 * 1024 * 1024 for chunk in body)
    records = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(records) == 1 + 40 * 400
