"""Excel workbooks ready to print and sign: A4 landscape fitted to the page width, the heading row
repeated on every page, "Trang x/y" and the as_of date in the footer, wrapped text in rows tall
enough for it, codes as Vietnamese labels and a totals row where the sheet asks for one.

Written in openpyxl's write-only mode, row by row to a temporary file, so a large export costs
little memory: each row's height is set just before the row is written and dropped after."""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet
from zoneinfo import ZoneInfo

from tracker.documents.sheets import Column, Sheet, labelled, local

LINE_HEIGHT = 15.0  # points, one line of 11-point text
_TITLE_FONT = Font(bold=True, size=13)
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="808080")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADING = Alignment(wrap_text=True, vertical="center", horizontal="center")
_WRAP = Alignment(wrap_text=True, vertical="top")
_NUMBER_FORMATS = {"date": "DD/MM/YYYY", "datetime": "DD/MM/YYYY HH:MM", "rate": "0.0%"}


def lines_needed(text: str, width: int, *, bold: bool = False) -> int:
    """How many lines `text` takes when wrapped in a column `width` characters wide (an estimate:
    Vietnamese diacritics and bold text run a little wider than the width's unit)."""
    per_line = max(1.0, (width - 1) / (1.1 if bold else 1.0))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _footer_text(text: str) -> str:
    return text.replace("&", "&&")


def _set_up_page(ws, title: str, as_of: dt.date, header_row: int) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, header=0.3, footer=0.3)
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.oddFooter.left.text = _footer_text(f"{title[:150]} – tính đến ngày {as_of:%d/%m/%Y}")
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "Trang &P/&N"
    ws.oddFooter.right.size = 8


def _cell(ws, value, column: Column, zone: ZoneInfo, *, bold: bool = False, fill=None) -> tuple[WriteOnlyCell, int]:
    """One data cell and the lines its text takes."""
    value = labelled(value, column)
    if isinstance(value, dt.datetime):
        value = local(value, zone)
    elif isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters are not allowed in XML
    cell = WriteOnlyCell(ws, value=value)
    cell.border, cell.alignment = _GRID, _WRAP
    if column.kind in _NUMBER_FORMATS:
        cell.number_format = _NUMBER_FORMATS[column.kind]
    if bold:
        cell.font = _BOLD
    if fill is not None:
        cell.fill = fill
    lines = lines_needed(value, column.width, bold=bold) if isinstance(value, str) else 1
    return cell, lines


def _append(ws, cells: list, row_index: int, lines: int) -> int:
    if lines > 1:
        ws.row_dimensions[row_index].height = LINE_HEIGHT * lines + 2
    ws.append(cells)
    ws.row_dimensions.pop(row_index, None)  # written: keep memory flat
    return row_index + 1


def _write_sheet(workbook: Workbook, sheet: Sheet, title: str, as_of: dt.date, zone: ZoneInfo) -> None:
    ws = workbook.create_sheet(sheet.title[:31])
    for index, column in enumerate(sheet.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    header_row = 3 + len(sheet.notes)
    ws.freeze_panes = f"A{header_row + 1}"
    _set_up_page(ws, title, as_of, header_row)

    title_cell = WriteOnlyCell(ws, value=title)
    title_cell.font = _TITLE_FONT
    row_index = _append(ws, [title_cell], 1, 1)
    row_index = _append(ws, [f"Tính đến ngày: {as_of:%d/%m/%Y}"], row_index, 1)
    for note in sheet.notes:
        row_index = _append(ws, [note], row_index, 1)  # a note runs on over the empty cells to its right

    headings, lines = [], 1
    for column in sheet.columns:
        cell = WriteOnlyCell(ws, value=column.heading)
        cell.font, cell.fill, cell.alignment, cell.border = _BOLD, _HEADER_FILL, _HEADING, _GRID
        headings.append(cell)
        lines = max(lines, lines_needed(column.heading, column.width, bold=True))
    row_index = _append(ws, headings, row_index, lines)

    sums = {column.key: 0 for column in sheet.columns if column.sums}
    for row in sheet.rows:
        cells, lines = [], 1
        for column in sheet.columns:
            value = row.get(column.key)
            if column.sums and isinstance(value, int | float):
                sums[column.key] += value
            cell, needed = _cell(ws, value, column, zone)
            cells.append(cell)
            lines = max(lines, needed)
        row_index = _append(ws, cells, row_index, lines)

    if sheet.total_label is not None:
        label_key = next((c.key for c in sheet.columns if c.kind == "text"), sheet.columns[0].key)
        values = {**sheet.totals, **sums, label_key: sheet.total_label}
        cells, lines = [], 1
        for column in sheet.columns:
            cell, needed = _cell(ws, values.get(column.key), column, zone, bold=True, fill=_TOTAL_FILL)
            cells.append(cell)
            lines = max(lines, needed)
        _append(ws, cells, row_index, lines)


def write_xlsx(sheets: Iterable[Sheet], title: str, as_of: dt.date, zone: ZoneInfo) -> str:
    """The workbook in a temporary file; the caller removes it. Each sheet's rows are read once."""
    sheets = list(sheets)
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(workbook, sheet, title if len(sheets) == 1 else f"{title} – {sheet.title}", as_of, zone)
    handle, path = tempfile.mkstemp(prefix="report-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
    except Exception:
        os.remove(path)
        raise
    return path
