"""Reports as files over HTTP: attachments with a file name that says what and as of when.

The documents themselves (XLSX ready to print, CSV with the header first) are made by
`tracker.documents`; this module only serves them."""

from __future__ import annotations

import datetime as dt
import os
import re

from flask import Response, current_app, request, stream_with_context
from werkzeug.wsgi import wrap_file
from zoneinfo import ZoneInfo

from tracker.documents.csv_file import csv_lines
from tracker.documents.sheets import Column, Sheet
from tracker.documents.xlsx import write_xlsx
from tracker.web import content_disposition, transliterate

__all__ = ["CSV_MEDIA_TYPE", "XLSX_MEDIA_TYPE", "Column", "Sheet", "export_filename", "export_response", "render_bytes",
           "stored_response"]

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _zone() -> ZoneInfo:
    """The plan's time zone, in which people read the moments of a report."""
    return ZoneInfo(current_app.config["TRACKER_TIMEZONE"])


def export_response(fmt: str, name: str, title: str, as_of: dt.date, sheets: list[Sheet]) -> Response:
    """The report as a CSV or XLSX attachment; `as_of` is in the file name (and on the sheet)."""
    if fmt == "csv":
        response = Response(stream_with_context(csv_lines(sheets, _zone())), content_type=CSV_MEDIA_TYPE)
    else:
        path = write_xlsx(sheets, title, as_of, _zone())
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed with the response
        finally:
            os.remove(path)  # the open file stays readable: nothing is left on disk, whether or not the response is closed
        response = Response(wrap_file(request.environ, stream), content_type=XLSX_MEDIA_TYPE, direct_passthrough=True)
        response.content_length = os.fstat(stream.fileno()).st_size
        response.call_on_close(stream.close)
    response.headers["Content-Disposition"] = content_disposition(export_filename(name, as_of, fmt))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def render_bytes(fmt: str, title: str, as_of: dt.date, sheets: list[Sheet]) -> bytes:
    """The whole CSV or XLSX file in memory, for a published report that is stored as it was served.
    A CSV carries no title: the title and as_of are in the file name."""
    if fmt == "csv":
        return b"".join(csv_lines(sheets, _zone()))
    path = write_xlsx(sheets, title, as_of, _zone())
    try:
        with open(path, "rb") as stream:
            return stream.read()
    finally:
        os.remove(path)


def export_filename(name: str, as_of: dt.date, fmt: str) -> str:
    """`name_yyyy-mm-dd.fmt` in ASCII: Vietnamese transliterated (Đ as D), anything else as "-"."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "-", transliterate(name)).strip("-") or "bao-cao"
    return f"{ascii_name}_{as_of.isoformat()}.{fmt}"


def stored_response(body: bytes, fmt: str, filename: str | None) -> Response:
    """Bytes stored earlier, served as they are (JSON inline, CSV and XLSX as attachments)."""
    media_type = {"json": "application/json", "csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}[fmt]
    response = Response(body, content_type=media_type)
    if fmt != "json" and filename:
        response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response
