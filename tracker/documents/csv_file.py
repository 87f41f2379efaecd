"""CSV for machines: the header is the first row and every other row is data, so that spreadsheet
imports and csv.DictReader read it as it is. The title and as_of go in the file name only; notes
and totals rows stay in the workbook. Values read as in the workbook (Vietnamese labels rather than
codes, dd/mm/yyyy dates, rates as "45,5%"); clients that want codes read the JSON.

A report of several sheets (the periodic report, the attention list) becomes one table: a first
column "Phần" names the sheet, and the columns are the union of the sheets' columns."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator

from zoneinfo import ZoneInfo

from tracker.documents.sheets import Column, Sheet, labelled, local

SECTION_HEADING = "Phần"
BOM = "\ufeff".encode()  # makes Excel read UTF-8 Vietnamese text correctly


def csv_value(value, column: Column, zone: ZoneInfo) -> str:
    value = labelled(value, column)
    if value is None:
        return ""
    if column.kind == "date" and isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if column.kind == "datetime" and isinstance(value, dt.datetime):
        return local(value, zone).strftime("%d/%m/%Y %H:%M")
    if column.kind == "rate":
        return f"{value * 100:.1f}%".replace(".", ",")
    return str(value)


def _union(sheets: list[Sheet]) -> list[tuple[str, str]]:
    """(key, heading) of every column of every sheet, once each, headings unique (DictReader needs it)."""
    seen, headings, union = set(), set(), []
    for sheet in sheets:
        for column in sheet.columns:
            if column.key in seen:
                continue
            heading = column.heading if column.heading not in headings else f"{column.heading} – {sheet.title}"
            seen.add(column.key)
            headings.add(heading)
            union.append((column.key, heading))
    return union


def csv_lines(sheets: list[Sheet], zone: ZoneInfo) -> Iterator[bytes]:
    """The file in chunks, starting with the BOM and the header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    yield BOM
    several = len(sheets) > 1
    union = _union(sheets)
    writer.writerow([SECTION_HEADING] * several + [heading for _, heading in union])
    yield flush()
    for sheet in sheets:
        by_key = {column.key: column for column in sheet.columns}
        for count, row in enumerate(sheet.rows, start=1):
            values = [csv_value(row.get(key), by_key[key], zone) if key in by_key else "" for key, _ in union]
            writer.writerow([sheet.title] * several + values)
            if count % 500 == 0:
                yield flush()
        yield flush()
