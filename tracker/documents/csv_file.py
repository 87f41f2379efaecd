"""CSV for machines: the header is the first row and every other row is data, so that spreadsheet
imports and csv.DictReader read it as it is. The title and as_of go in the file name only; notes
and totals rows stay in the workbook. Values read as in the workbook (Vietnamese labels rather than
codes, dd/mm/yyyy dates, rates as "45,5%"); clients that want codes read the JSON.

A report of several sheets (the periodic report, the attention list) becomes one table: a first
column "Phần" names the sheet, and the columns are the union of the sheets' columns.

Made for national lists (435,000 rows): each sheet's columns are looked up once, values that are
written as they are (text, numbers, empty cells) go to csv.writer untouched, only dates, moments,
rates and labelled codes pass through a formatter, and the rows go out in chunks of about 64 KiB."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from operator import itemgetter

from zoneinfo import ZoneInfo

from tracker.documents.sheets import Column, LocalTime, Sheet, labelled, local

SECTION_HEADING = "Phần"
BOM = "\ufeff".encode()  # makes Excel read UTF-8 Vietnamese text correctly
CHUNK_CHARS = 64 * 1024  # a chunk is yielded once the buffer holds this much text
BATCH_ROWS = 256  # rows handed to csv.writer at once
_DATE_CACHE_ENTRIES = 8192


def csv_value(value, column: Column, zone: ZoneInfo) -> str:
    """One value as the CSV writes it (the reference for the formatters below)."""
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


def _formatter(column: Column, zone: ZoneInfo) -> Callable | None:
    """What turns a column's raw value into its CSV text, or None where csv.writer's own
    conversion gives the same text (str() of the value, "" for None)."""
    if column.kind == "datetime" and column.labels is None:
        to_local = LocalTime(zone)

        def moment_text(value):
            if not isinstance(value, dt.datetime):
                return csv_value(value, column, zone)
            moment = to_local(value)
            if moment.year < 1000:  # strftime's year, not padded
                return moment.strftime("%d/%m/%Y %H:%M")
            return f"{moment.day:02}/{moment.month:02}/{moment.year} {moment.hour:02}:{moment.minute:02}"

        return moment_text
    if column.kind in ("datetime", "rate") or (column.labels is not None and column.kind == "date"):
        return lambda value: "" if value is None else csv_value(value, column, zone)
    if column.labels is not None:
        return lambda value, get=column.labels.get: get(value, value) if isinstance(value, str) else value
    if column.kind == "date":
        dates: dict[dt.date, str] = {}

        def date_text(value):
            if not isinstance(value, dt.date):
                return value
            text = dates.get(value)
            if text is None:
                if len(dates) >= _DATE_CACHE_ENTRIES:
                    dates.clear()
                text = dates[value] = value.strftime("%d/%m/%Y")
            return text

        return date_text
    return None


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


def _row_maker(sheet: Sheet, union: list[tuple[str, str]], section: str | None, zone: ZoneInfo) -> Callable[[dict], list]:
    """A function from one of the sheet's rows to its CSV record (the union's columns, in order)."""
    by_key = {column.key: column for column in sheet.columns}
    keys = [key for key, _ in union]
    prefix = [section] if section is not None else []
    offset = len(prefix)
    formatters = [(offset + index, formatter) for index, key in enumerate(keys)
                  if key in by_key and (formatter := _formatter(by_key[key], zone)) is not None]
    if keys and all(key in by_key for key in keys):
        pick = itemgetter(*keys) if len(keys) > 1 else (lambda row, key=keys[0]: (row[key],))

        def values(row: dict) -> list:
            try:
                return [*prefix, *pick(row)]
            except KeyError:  # a row without some of the keys: those cells are empty
                return [*prefix, *(row.get(key) for key in keys)]
    else:  # a sheet of a several-sheet report: the other sheets' columns stay empty
        own = [key if key in by_key else None for key in keys]

        def values(row: dict) -> list:
            return [*prefix, *(row.get(key) if key is not None else None for key in own)]

    if not formatters:
        return values

    def record(row: dict) -> list:
        cells = values(row)
        for index, formatter in formatters:
            cells[index] = formatter(cells[index])
        return cells

    return record


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
        record = _row_maker(sheet, union, sheet.title if several else None, zone)
        batch = []
        for row in sheet.rows:
            batch.append(record(row))
            if len(batch) == BATCH_ROWS:
                writer.writerows(batch)
                batch.clear()
                if buffer.tell() >= CHUNK_CHARS:
                    yield flush()
        writer.writerows(batch)
        if buffer.tell():
            yield flush()
