"""Excel workbooks ready to print and sign: A4 landscape fitted to the page width, the heading row
repeated on every page, "Trang x/y" and the as_of date in the footer, wrapped text in rows tall
enough for it, codes as Vietnamese labels and a totals row where the sheet asks for one.

Written with XlsxWriter in its constant_memory mode: each row goes to a temporary file as soon as
the next one starts, so a national export (435,000 rows) costs a few MiB whatever its length. The
page set-up, the styles, the title, notes, headings and totals rows use XlsxWriter's API. The data
rows, which are nearly all the work, are encoded here as the `<row>` elements XlsxWriter would
write (same cell formats, inline strings, serial dates, row heights) and handed to the worksheet in
batches: XlsxWriter's per-cell API costs some 6 µs a cell, which would put a 435,000-row export
past gunicorn's 30 s worker timeout. `_RowsWorksheet` is the only place that knows XlsxWriter's
constant_memory internals; where they are not as expected, the rows go through the public API.
tests/test_export_speed_shape.py checks that both ways give the same workbook."""

from __future__ import annotations

import datetime as dt
import math
import numbers
import os
import re
import tempfile
from collections.abc import Iterable
from decimal import Decimal

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet
from zoneinfo import ZoneInfo

from tracker.documents.sheets import Column, LocalTime, Sheet, labelled, local

LINE_HEIGHT = 15.0  # points, one line of 11-point text
A4 = 9  # Excel's paper size code
DIGIT_PIXELS = 7  # a digit of Calibri 11, the unit of Excel's column widths
BATCH_ROWS = 512  # data rows encoded before they are handed to the worksheet's file
MAX_TEXT = 32_767  # characters in one cell, Excel's limit
MAX_ROWS = 1_048_576  # rows in a worksheet, Excel's limit (the totals row included)
TEXT_CACHE_ENTRIES = 2048  # encoded texts kept per column: 2 MiB a column at most
TEXT_CACHE_LENGTH = 128  # longer texts are encoded each time: they seldom come back
_NUMBER_FORMATS = {"date": "DD/MM/YYYY", "datetime": "DD/MM/YYYY HH:MM", "rate": "0.0%"}
_GREY = "#808080"
_CELL = {"border": 1, "border_color": _GREY, "text_wrap": True, "valign": "top"}
_HEADING = {"bold": True, "bg_color": "#DDEBF7", "pattern": 1, "text_wrap": True, "valign": "vcenter", "align": "center",
            "border": 1, "border_color": _GREY}
_TOTAL = {"bold": True, "bg_color": "#F2F2F2", "pattern": 1}
_TITLE = {"bold": True, "font_size": 13}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

# Characters XML 1.0 does not allow (openpyxl's ILLEGAL_CHARACTERS_RE): stripped, as before.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LOOKS_ESCAPED = re.compile(r"(_x[0-9A-Fa-f]{4}_)")
_EXCEL_EPOCH = dt.date(1899, 12, 30).toordinal()  # serial 0, counting Excel's 29/02/1900


def lines_needed(text: str, width: int, *, bold: bool = False) -> int:
    """How many lines `text` takes when wrapped in a column `width` characters wide (an estimate:
    Vietnamese diacritics and bold text run a little wider than the width's unit)."""
    per_line = _per_line(width, bold=bold)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in str(text).split("\n"))


def _per_line(width: int, *, bold: bool) -> float:
    return max(1.0, (width - 1) / (1.1 if bold else 1.0))


def _row_pixels(lines: int) -> int:
    """A row of `lines` wrapped lines, in whole pixels as Excel keeps row heights."""
    return int((LINE_HEIGHT * lines + 2) * 4 / 3 + 0.5)


def clean_text(text: str) -> str:
    """The text without the control characters XML does not allow, every line end a line feed (as an XML
    parser reads them), cut to Excel's cell limit."""
    text = _ILLEGAL.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    return text


def _xml_text(text: str) -> str:
    """Clean text as the content of an inline string: Excel's _xHHHH_ escapes (as XlsxWriter does
    them: the two non-characters, and text that would read as an escape), then the XML ones."""
    text = _LOOKS_ESCAPED.sub(r"_x005F\1", text)
    text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def excel_serial(value: dt.date) -> float | int:
    """A date (a whole number) or a naive datetime as Excel's serial day number (1900 system)."""
    serial = value.toordinal() - _EXCEL_EPOCH
    if serial <= 60:
        serial -= 1  # before Excel's 29/02/1900
    if isinstance(value, dt.datetime):
        return serial + (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    return serial


def _number_text(value: int | float) -> str:
    """A number as XlsxWriter writes it in a cell."""
    if value.__class__ is int and -10**15 < value < 10**15:
        return str(value)
    return "%.16G" % value  # noqa: UP031 - the format XlsxWriter uses


def _cell_value(value, column: Column, zone: ZoneInfo):
    """(kind, value) of one cell: ("s", clean text), ("n", number), ("d", serial date),
    ("t", serial date and time), ("b", bool) or (None, None) for an empty cell."""
    value = labelled(value, column)
    if value is None:
        return None, None
    if isinstance(value, str):
        value = clean_text(value)
        return ("s", value) if value else (None, None)
    if isinstance(value, bool):
        return "b", value
    if isinstance(value, numbers.Real | Decimal):
        value = float(value) if not isinstance(value, int | float) else value
        return ("n", value) if math.isfinite(value) else (None, None)
    if isinstance(value, dt.datetime):
        return "t", excel_serial(local(value, zone))
    if isinstance(value, dt.date):
        return "d", excel_serial(value)
    value = clean_text(str(value))
    return ("s", value) if value else (None, None)


class _Styles:
    """The workbook's cell formats, each made once."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self._workbook = workbook
        self._made: dict[tuple, object] = {}
        self.title = workbook.add_format(_TITLE)
        self.heading = workbook.add_format(_HEADING)

    def font(self, *, bold: bool = False, size: int | None = None):
        """A format of font properties alone, for the runs of a rich string."""
        key = ("font", bold, size)
        if key not in self._made:
            self._made[key] = self._workbook.add_format({"bold": bold, **({"font_size": size} if size else {})})
        return self._made[key]

    def cell(self, number_format: str | None, *, total: bool = False):
        key = (number_format, total)
        if key not in self._made:
            properties = {**_CELL, **(_TOTAL if total else {})}
            if number_format:
                properties["num_format"] = number_format
            self._made[key] = self._workbook.add_format(properties)
        return self._made[key]

    def of(self, column: Column, *, total: bool = False) -> tuple:
        """(value, date, datetime) formats of a column: a date in a column of another kind reads
        as a date all the same."""
        own = _NUMBER_FORMATS.get(column.kind)
        return (self.cell(own, total=total), self.cell(own or _NUMBER_FORMATS["date"], total=total),
                self.cell(own or _NUMBER_FORMATS["datetime"], total=total))


class _RowsWorksheet(Worksheet):
    """XlsxWriter's worksheet with one more way in, for constant_memory mode: rows already encoded
    as `<row>` elements, written to the worksheet's row file after the row it holds back."""

    def can_take_encoded_rows(self) -> bool:
        return (bool(getattr(self, "constant_memory", False)) and hasattr(Format, "_get_xf_index")
                and all(hasattr(self, name) for name in ("fh", "previous_row", "_write_single_row", "_check_dimensions")))

    def write_encoded_rows(self, first_row: int, last_row: int, last_col: int, xml: str) -> None:
        """Rows first_row..last_row (zero-based), columns 0..last_col, as XML."""
        self._write_single_row(first_row)  # the row held back (the headings, or the last batch's) is written first
        self.fh.write(xml)
        self._check_dimensions(last_row, last_col)  # the sheet's <dimension> covers these rows
        self.previous_row = last_row


class _Encoder:
    """A sheet's data rows as `<row>` elements. Per column, the parts of each kind of cell are made
    once (reference, style index, type), and the encoded form of a text is kept for the next row
    that has it (units, owners, tasks and labels come back row after row), so most cells cost a
    dictionary look-up and one string join."""

    def __init__(self, columns: list[Column], styles: _Styles, zone: ZoneInfo) -> None:
        self.zone = zone
        self.plan = []
        for index, column in enumerate(columns):
            value_style, date_style, datetime_style = (style._get_xf_index() for style in styles.of(column))
            self.plan.append((
                column.key, {}, f'<c r="{xl_col_to_name(index)}', f'" s="{value_style}"><v>', f'" s="{value_style}"/>',
                f'" s="{date_style}"><v>', f'" s="{datetime_style}"><v>',
                (column, f'" s="{value_style}" t="inlineStr"><is><t', f'" s="{value_style}" t="b"><v>'),
            ))
        self.heights: dict[int, str] = {}
        self.local = LocalTime(zone)

    def _height(self, lines: int) -> str:
        if lines not in self.heights:
            self.heights[lines] = f'" ht="{_row_pixels(lines) * 0.75:.16g}" customHeight="1">'
        return self.heights[lines]

    @staticmethod
    def _text(value: str, column: Column, text_start: str, blank: str) -> tuple[str, int]:
        """A text cell after its reference, and the lines it takes."""
        if column.labels is not None:
            value = column.labels.get(value, value)
        value = clean_text(value)
        if not value:
            return blank, 1
        keep = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() else ""
        return f"{text_start}{keep}>{_xml_text(value)}</t></is></c>", lines_needed(value, column.width)

    def row(self, index: int, row: dict) -> str:
        """Row `index` (zero-based) as XML. Kept in one function: it runs for every cell. The common
        cases (text, whole numbers, dates, moments, empty cells) are written here; the others go
        through `_cell_value`, as for the public API."""
        zone, text, to_local = self.zone, self._text, self.local
        date_type, datetime_type, epoch = dt.date, dt.datetime, _EXCEL_EPOCH
        get = row.get
        ref = str(index + 1)
        lines = 1
        cells = []
        append = cells.append
        for key, texts, start, number_mid, blank, date_mid, datetime_mid, spec in self.plan:
            value = get(key)
            kind = value.__class__
            if kind is str:
                encoded = texts.get(value)
                if encoded is None:
                    encoded = text(value, spec[0], spec[1], blank)
                    if len(value) <= TEXT_CACHE_LENGTH:
                        if len(texts) >= TEXT_CACHE_ENTRIES:
                            texts.clear()
                        texts[value] = encoded
                tail, needed = encoded
                if needed > lines:
                    lines = needed
                append(f"{start}{ref}{tail}")
            elif kind is int and -10**15 < value < 10**15:
                append(f"{start}{ref}{number_mid}{value}</v></c>")
            elif value is None:
                append(f"{start}{ref}{blank}")
            elif kind is date_type and value.year >= 1901:
                append(f"{start}{ref}{date_mid}{value.toordinal() - epoch}</v></c>")
            elif kind is datetime_type and value.year >= 1901:
                moment = to_local(value)
                serial = (moment.toordinal() - epoch
                          + (moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6) / 86400)
                append(f"{start}{ref}{datetime_mid}{serial:.16G}</v></c>")
            else:  # floats, booleans, decimals and the rest: as the public API writes them
                cell_kind, value = _cell_value(value, spec[0], zone)
                if cell_kind is None:
                    append(f"{start}{ref}{blank}")
                elif cell_kind == "b":
                    append(f"{start}{ref}{spec[2]}{int(value)}</v></c>")
                elif cell_kind == "s":
                    tail, needed = text(value, spec[0], spec[1], blank)
                    lines = max(lines, needed)
                    append(f"{start}{ref}{tail}")
                else:
                    mid = {"n": number_mid, "d": date_mid, "t": datetime_mid}[cell_kind]
                    append(f"{start}{ref}{mid}{_number_text(value)}</v></c>")
        head = self._height(lines) if lines > 1 else '">'
        return f'<row r="{ref}{head}{"".join(cells)}</row>'


def _write_text(ws: Worksheet, row: int, col: int, text: str, cell_format, font) -> None:
    """A cleaned text through XlsxWriter's API. XlsxWriter writes a text that starts with "<r>" and
    ends with "</r>" as rich-string XML, as it is (a unit named so would break the file): such a
    text goes as a rich string of two runs in the cell's font instead, which reads the same."""
    if text.startswith("<r>") and text.endswith("</r>"):
        ws.write_rich_string(row, col, font, text[:1], font, text[1:], cell_format)
    elif cell_format is None:
        ws.write_string(row, col, text)
    else:
        ws.write_string(row, col, text, cell_format)


def _write_cells(ws: Worksheet, row_index: int, values: dict, columns: list[Column], styles: _Styles, zone: ZoneInfo,
                 *, total: bool = False) -> None:
    """One row through XlsxWriter's API, with its height: the totals row, or every data row where
    the worksheet cannot take encoded rows."""
    lines = 1
    for col, column in enumerate(columns):
        value_style, date_style, datetime_style = styles.of(column, total=total)
        kind, value = _cell_value(values.get(column.key), column, zone)
        if kind is None:
            ws.write_blank(row_index, col, None, value_style)
        elif kind == "s":
            _write_text(ws, row_index, col, value, value_style, styles.font(bold=total))
            lines = max(lines, lines_needed(value, column.width, bold=total))
        elif kind == "b":
            ws.write_boolean(row_index, col, value, value_style)
        else:
            ws.write_number(row_index, col, value, {"n": value_style, "d": date_style, "t": datetime_style}[kind])
    if lines > 1:
        ws.set_row_pixels(row_index, _row_pixels(lines))


def _footer(title: str, as_of: dt.date) -> str:
    """The title (cut to fit Excel's 255 characters) and as_of at the left, "Trang x/y" at the right, in 8 points."""
    for cut in range(150, -1, -10):
        left = f"{title[:cut]} – tính đến ngày {as_of:%d/%m/%Y}".replace("&", "&&")
        footer = f"&L&8{left}&R&8Trang &P/&N"
        if len(footer.encode("utf-16-le")) // 2 <= 255:
            return footer
    return "&R&8Trang &P/&N"


def _set_up_page(ws: Worksheet, title: str, as_of: dt.date, header_row: int) -> None:
    """A4 landscape, fitted to one page wide, the heading row (1-based `header_row`) on every page."""
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)  # as many pages down as the rows need
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_header("", {"margin": 0.3})
    ws.set_footer(_footer(title, as_of), {"margin": 0.3})
    ws.center_horizontally()
    ws.repeat_rows(header_row - 1)


def _sheet_name(title: str, taken: set[str]) -> str:
    """The sheet's title as Excel allows a sheet name: 31 UTF-16 units, none of []:*?/\\, no
    apostrophe at either end, unique whatever the case."""
    name = _SHEET_NAME_FORBIDDEN.sub("-", title)

    def cut(text: str, units: int) -> str:
        while len(text.encode("utf-16-le")) // 2 > units:
            text = text[:-1]
        return text.strip("'") or "Sheet"

    candidate, number = cut(name, 31), 1
    while candidate.lower() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = cut(name, 31 - len(suffix)) + suffix
    taken.add(candidate.lower())
    return candidate


def _write_sheet(workbook: xlsxwriter.Workbook, styles: _Styles, sheet: Sheet, name: str, title: str, as_of: dt.date,
                 zone: ZoneInfo) -> None:
    ws = workbook.add_worksheet(name, worksheet_class=_RowsWorksheet)
    columns = sheet.columns
    for index, column in enumerate(columns):
        ws.set_column_pixels(index, index, column.width * DIGIT_PIXELS)  # reads back as the width itself
    header_row = 3 + len(sheet.notes)  # 1-based, as people count rows
    ws.freeze_panes(header_row, 0)
    _set_up_page(ws, title, as_of, header_row)

    _write_text(ws, 0, 0, clean_text(title), styles.title, styles.font(bold=True, size=_TITLE["font_size"]))
    ws.write_string(1, 0, f"Tính đến ngày: {as_of:%d/%m/%Y}")
    for offset, note in enumerate(sheet.notes):
        _write_text(ws, 2 + offset, 0, clean_text(note), None, styles.font())  # runs on over the empty cells to its right
    row_index = header_row - 1
    lines = 1
    for col, column in enumerate(columns):
        _write_text(ws, row_index, col, clean_text(column.heading), styles.heading, styles.font(bold=True))
        lines = max(lines, lines_needed(column.heading, column.width, bold=True))
    if lines > 1:
        ws.set_row_pixels(row_index, _row_pixels(lines))
    row_index += 1

    sums = {column.key: 0 for column in columns if column.sums}
    summed = list(sums)
    encoder = _Encoder(columns, styles, zone) if _ENCODED_ROWS and ws.can_take_encoded_rows() else None
    batch, first = [], row_index
    limit = MAX_ROWS - (sheet.total_label is not None)  # zero-based index past the last data row
    for row in sheet.rows:
        if row_index >= limit:
            raise ValueError(f"the sheet {sheet.title!r} has more rows than an Excel worksheet holds ({MAX_ROWS:,})")
        for key in summed:
            value = row.get(key)
            if isinstance(value, int | float):
                sums[key] += value
        if encoder is None:
            _write_cells(ws, row_index, row, columns, styles, zone)
        else:
            batch.append(encoder.row(row_index, row))
            if len(batch) == BATCH_ROWS:
                ws.write_encoded_rows(first, row_index, len(columns) - 1, "".join(batch))
                batch, first = [], row_index + 1
        row_index += 1
    if batch:
        ws.write_encoded_rows(first, row_index - 1, len(columns) - 1, "".join(batch))

    if sheet.total_label is not None:
        label_key = next((c.key for c in columns if c.kind == "text"), columns[0].key)
        _write_cells(ws, row_index, {**sheet.totals, **sums, label_key: sheet.total_label}, columns, styles, zone, total=True)


_ENCODED_ROWS = True  # False: every data row through XlsxWriter's API (the tests compare both)


def write_xlsx(sheets: Iterable[Sheet], title: str, as_of: dt.date, zone: ZoneInfo) -> str:
    """The workbook in a temporary file; the caller removes it. Each sheet's rows are read once."""
    sheets = list(sheets)
    handle, path = tempfile.mkstemp(prefix="report-", suffix=".xlsx")
    os.close(handle)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True})
    try:
        styles, taken = _Styles(workbook), set()
        for sheet in sheets:
            sheet_title = title if len(sheets) == 1 else f"{title} – {sheet.title}"
            _write_sheet(workbook, styles, sheet, _sheet_name(sheet.title, taken), sheet_title, as_of, zone)
        workbook.close()
    except BaseException:
        _abandon(workbook)
        os.remove(path)
        raise
    return path


def _abandon(workbook: xlsxwriter.Workbook) -> None:
    """After a failure (a database error while the rows stream, say): close the workbook anyway so
    that XlsxWriter removes its temporary row files; the half-written file is removed after."""
    if getattr(workbook, "fileclosed", True):
        return
    try:
        workbook.close()
    except Exception:  # noqa: BLE001, S110 - the first error is the one to report
        pass
