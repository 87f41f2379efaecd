"""Reports for people: CSV (UTF-8 with a BOM, dd/mm/yyyy, moments as dd/mm/yyyy HH:MM in the plan's
time zone) and Excel (openpyxl write-only), both streamed so that a large export costs little memory."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask import Response, current_app, request, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from werkzeug.wsgi import wrap_file

from tracker.models.base import as_utc
from tracker.web import content_disposition

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    key: str
    heading: str  # Vietnamese, as people read it
    kind: str = "text"  # text, int, date, datetime, rate
    width: int = 14


@dataclass
class Sheet:
    title: str  # also the sheet's name (cut to 31 characters)
    columns: list[Column]
    rows: Iterable[dict]
    notes: list[str] = field(default_factory=list)


def _zone() -> ZoneInfo:
    """The plan's time zone, in which people read the moments of a report."""
    return ZoneInfo(current_app.config["TRACKER_TIMEZONE"])


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A stored moment (UTC; naive means UTC) as the wall-clock time in `zone`, without a zone:
    Excel keeps no time zones."""
    return as_utc(moment).astimezone(zone).replace(tzinfo=None)


def _csv_value(value, kind: str, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if kind == "date" and isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if kind == "datetime" and isinstance(value, dt.datetime):
        return _local(value, zone).strftime("%d/%m/%Y %H:%M")
    if kind == "rate":
        return f"{value * 100:.1f}%".replace(".", ",")
    return str(value)


def _csv_lines(sheets: list[Sheet], title: str, as_of: dt.date, zone: ZoneInfo) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    yield "\ufeff".encode()  # the BOM that makes Excel read UTF-8 Vietnamese text correctly
    writer.writerow([title])
    writer.writerow([f"Tính đến ngày: {as_of:%d/%m/%Y}"])
    for sheet in sheets:
        if len(sheets) > 1:
            writer.writerow([])
            writer.writerow([sheet.title])
        for note in sheet.notes:
            writer.writerow([note])
        writer.writerow([c.heading for c in sheet.columns])
        yield flush()
        for count, row in enumerate(sheet.rows, start=1):
            writer.writerow([_csv_value(row.get(c.key), c.kind, zone) for c in sheet.columns])
            if count % 500 == 0:
                yield flush()
        yield flush()


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _xlsx_file(sheets: list[Sheet], title: str, as_of: dt.date, zone: ZoneInfo) -> str:
    """Write the workbook row by row to a temporary file (write-only mode keeps memory flat)."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        ws = workbook.create_sheet(sheet.title[:31])
        for index, column in enumerate(sheet.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        header_row = 3 + len(sheet.notes)
        ws.freeze_panes = f"A{header_row + 1}"
        title_cell = WriteOnlyCell(ws, value=title if len(sheets) == 1 else f"{title} – {sheet.title}")
        title_cell.font = Font(bold=True, size=13)
        ws.append([title_cell])
        ws.append([f"Tính đến ngày: {as_of:%d/%m/%Y}"])
        for note in sheet.notes:
            ws.append([note])
        headings = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=column.heading)
            cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _WRAP
            headings.append(cell)
        ws.append(headings)
        for row in sheet.rows:
            cells = []
            for column in sheet.columns:
                value = row.get(column.key)
                if isinstance(value, dt.datetime):
                    value = _local(value, zone)
                elif isinstance(value, str):
                    value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters are not allowed in XML
                cell = WriteOnlyCell(ws, value=value)
                if column.kind == "date":
                    cell.number_format = "DD/MM/YYYY"
                elif column.kind == "datetime":
                    cell.number_format = "DD/MM/YYYY HH:MM"
                elif column.kind == "rate":
                    cell.number_format = "0.0%"
                cells.append(cell)
            ws.append(cells)
    handle, path = tempfile.mkstemp(prefix="report-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
    except Exception:
        os.remove(path)
        raise
    return path


def export_response(fmt: str, name: str, title: str, as_of: dt.date, sheets: list[Sheet]) -> Response:
    """The report as a CSV or XLSX attachment; `as_of` is in the file name and on the sheet."""
    filename = export_filename(name, as_of, fmt)
    if fmt == "csv":
        response = Response(stream_with_context(_csv_lines(sheets, title, as_of, _zone())), mimetype=CSV_MEDIA_TYPE)
    else:
        path = _xlsx_file(sheets, title, as_of, _zone())
        stream = open(path, "rb")  # noqa: SIM115 - closed with the response
        response = Response(wrap_file(request.environ, stream), mimetype=XLSX_MEDIA_TYPE, direct_passthrough=True)
        response.content_length = os.path.getsize(path)
        response.call_on_close(stream.close)
        response.call_on_close(lambda: os.path.exists(path) and os.remove(path))
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def render_bytes(fmt: str, title: str, as_of: dt.date, sheets: list[Sheet]) -> bytes:
    """The whole CSV or XLSX file in memory, for a published report that is stored as it was served."""
    if fmt == "csv":
        return b"".join(_csv_lines(sheets, title, as_of, _zone()))
    path = _xlsx_file(sheets, title, as_of, _zone())
    try:
        with open(path, "rb") as stream:
            return stream.read()
    finally:
        os.remove(path)


def export_filename(name: str, as_of: dt.date, fmt: str) -> str:
    return f"{name}_{as_of.isoformat()}.{fmt}"


def stored_response(body: bytes, fmt: str, filename: str | None) -> Response:
    """Bytes stored earlier, served as they are (JSON inline, CSV and XLSX as attachments)."""
    media_type = {"json": "application/json", "csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}[fmt]
    response = Response(body, mimetype=media_type)
    if fmt != "json" and filename:
        response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
