"""Leaders' reports: JSON by default, `format=csv` or `format=xlsx` for people."""

from __future__ import annotations

import base64
import datetime as dt

import orjson
from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest.pagination import PaginationParameters

from tracker.api.exports import Column, Sheet, export_filename, export_response, render_bytes, stored_response
from tracker.api.security import current_principal, login_required
from tracker.documents import docx_report, labels
from tracker.documents import responsibility as responsibility_document
from tracker.domain.classification import LABELS as CLASS_LABELS, TaskClass
from tracker.extensions import db
from tracker.schemas.report import (
    DEFAULT_PAGE_SIZE, AttentionQuerySchema, AttentionSchema, IndicatorReportQuerySchema, IndicatorReportSchema, OverdueQuerySchema,
    PeriodicQuerySchema, PeriodicSchema, ReportRowSchema, ResponsibilityQuerySchema, ResponsibilitySchema, ScorecardQuerySchema,
    ScorecardSchema, SnapshotCreateSchema, SnapshotFormatSchema, SnapshotQuerySchema, SnapshotSchema, SummaryQuerySchema, SummarySchema,
)
from tracker.services import clock, indicator_status, reports, responsibility, snapshots, tallies
from tracker.services import periodic as periodic_report
from tracker.services.pagination import CURSOR_HEADERS, RowPage, SQLPage, cursor_paging
from tracker.web import Blueprint, content_disposition

URL_PREFIX = "/reports"
blp = Blueprint("reports", __name__, description="Báo cáo: overdue lists, summaries, scorecards, periodic reports")

_FORMATS_DOC = {
    200: {
        "description": "JSON by default; with format=csv a UTF-8 CSV (with BOM), with format=xlsx an Excel workbook",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

ROW_COLUMNS = [
    Column("assignment_id", "Mã phân công", "int", 10),
    Column("plan_code", "Kế hoạch", "text", 14),
    Column("group_number", "Nhóm", "int", 7),
    Column("action_ref", "Mục", "text", 10),
    Column("action_title", "Nhiệm vụ", "text", 40),
    Column("organization_name", "Đơn vị", "text", 32),
    Column("parent_organization_name", "Đơn vị cấp trên", "text", 26),
    Column("role", "Vai trò", "text", 10, labels=labels.ROLE),
    Column("owner_name", "Người phụ trách", "text", 22),
    Column("owner_phone", "Điện thoại", "text", 14),
    Column("owner_email", "Thư điện tử", "text", 26),
    Column("original_due_date", "Hạn ban đầu", "date", 12),
    Column("due_date", "Hạn hiện tại", "date", 12),
    Column("days_overdue", "Số ngày quá hạn", "int", 10),
    Column("status", "Trạng thái", "text", 14, labels=labels.STATUS),
    Column("progress", "Tiến độ (%)", "int", 9),
    Column("last_updated_at", "Cập nhật lần cuối", "datetime", 17),
]
COMPLETED_COLUMNS = [*ROW_COLUMNS[:11], Column("due_date", "Hạn", "date", 12), Column("completed_on", "Ngày hoàn thành", "date", 14),
                     Column("days_late", "Số ngày trễ", "int", 9)]
OPEN_COLUMNS = [*ROW_COLUMNS[:13], *ROW_COLUMNS[14:]]  # in progress or without deadline: no days overdue
# Overdue work also says how often it was urged (đôn đốc).
OVERDUE_COLUMNS = [*ROW_COLUMNS, Column("urge_count", "Số lần đôn đốc", "int", 10),
                   Column("last_urged_at", "Đôn đốc lần cuối", "datetime", 17)]
INDICATOR_COLUMNS = [
    Column("code", "Mã", "text", 8),
    Column("name", "Chỉ tiêu", "text", 48),
    Column("source_ref", "Mục", "text", 8),
    Column("unit", "Đơn vị tính", "text", 14),
    Column("units", "Đơn vị báo cáo", "text", 20),
    Column("target_value", "Mục tiêu", "text", 9),
    Column("target_date", "Thời hạn", "date", 12),
    Column("latest_value", "Giá trị mới nhất", "text", 10),
    Column("latest_on", "Ngày số liệu", "date", 12),
    Column("expected_value", "Giá trị theo lộ trình", "text", 10),
    Column("status_label", "Đánh giá", "text", 16),
    Column("overdue_measurement", "Quá hạn báo cáo số liệu", "text", 10),
]
BACKDATED_COLUMNS = [
    Column("action_ref", "Mục", "text", 10),
    Column("organization_code", "Mã đơn vị", "text", 16),
    Column("status", "Trạng thái", "text", 14, labels=labels.STATUS),
    Column("effective_on", "Ngày hiệu lực", "date", 12),
    Column("recorded_at", "Thời điểm ghi nhận", "datetime", 17),
    Column("days_back", "Số ngày ghi lùi", "int", 9),
    Column("recorded_by", "Người ghi nhận", "text", 22),
    Column("note", "Ghi chú", "text", 40),
]
COUNT_COLUMNS = [
    Column("label", "Đơn vị / nhóm", "text", 40),
    Column("total", "Tổng số", "int", 9, sums=True),
    *(Column(task_class.value, CLASS_LABELS[task_class]["vi"], "int", 14, sums=True) for task_class in TaskClass),
    Column("due_soon", "Sắp đến hạn", "int", 10, sums=True),
    Column("completion_rate", "Tỷ lệ hoàn thành", "rate", 12),
    Column("on_time_rate", "Tỷ lệ đúng hạn", "rate", 12),
    Column("overdue_rate", "Tỷ lệ quá hạn", "rate", 12),
    Column("completion_rate_of_due", "Tỷ lệ hoàn thành / đến hạn", "rate", 13),
    Column("overdue_rate_of_due", "Tỷ lệ quá hạn / đến hạn", "rate", 13),
]
SCORE_COLUMNS = [
    Column("rank", "Xếp hạng", "int", 8),
    Column("organization_name", "Đơn vị", "text", 36),
    Column("assigned", "Số nhiệm vụ", "int", 10, sums=True),
    Column("completed_on_time", "Hoàn thành đúng hạn", "int", 12, sums=True),
    Column("completed_late", "Hoàn thành quá hạn", "int", 12, sums=True),
    Column("overdue", "Quá hạn", "int", 9, sums=True),
    Column("on_time_rate", "Tỷ lệ đúng hạn", "rate", 12),
    Column("completion_rate_of_due", "Tỷ lệ hoàn thành / đến hạn", "rate", 13),
    Column("overdue_rate_of_due", "Tỷ lệ quá hạn / đến hạn", "rate", 13),
    Column("average_days_late", "Số ngày trễ bình quân", "text", 12),
    Column("evidence_rate", "Tỷ lệ có minh chứng", "rate", 12),
    Column("urges", "Số lần bị đôn đốc", "int", 10, sums=True),
]
EXTENSION_COLUMNS = [
    Column("action_ref", "Mục", "text", 10),
    Column("organization_code", "Mã đơn vị", "text", 16),
    Column("previous_due_date", "Hạn trước", "date", 12),
    Column("new_due_date", "Hạn mới", "date", 12),
    Column("reason", "Lý do", "text", 40),
]


def _count_rows(rows: list[dict]) -> list[dict]:
    return [{**row, **row["counts"]} for row in rows]


# By organisation, a parent's row in JSON counts its whole subtree; in a sheet the columns that add up
# are each unit's own assignments, and the subtree's figures stand apart, labelled as such.
SUBTREE = "cả đơn vị trực thuộc"
ORGANIZATION_COUNT_COLUMNS = [
    Column("label", "Đơn vị", "text", 36),
    Column("own_total", "Nhiệm vụ của đơn vị: tổng số", "int", 11, sums=True),
    *(Column(f"own_{task_class.value}", CLASS_LABELS[task_class]["vi"], "int", 13, sums=True) for task_class in TaskClass),
    Column("total", f"Tổng {SUBTREE}", "int", 12),
    Column("overdue", f"Quá hạn – {SUBTREE}", "int", 12),
    Column("due_soon", f"Sắp đến hạn – {SUBTREE}", "int", 12),
    *(Column(c.key, f"{c.heading} – {SUBTREE}", "rate", 14) for c in COUNT_COLUMNS if c.kind == "rate"),
]
SUMMARY_NAMES = {"organization": "don-vi", "group": "nhom-nhiem-vu", "plan": "ke-hoach", "owner": "nguoi-phu-trach"}


def _organization_count_rows(rows: list[dict]) -> list[dict]:
    return [{**row, "overdue": row["counts"][TaskClass.OVERDUE.value], "own_total": sum(row["own"].values()),
             **{f"own_{key}": count for key, count in row["own"].items()}} for row in rows]


def _basis_notes(rate_bases: dict) -> list[str]:
    """How the rates are computed, in Vietnamese (JSON keeps its `rate_bases`)."""
    return labels.rate_notes(rate_bases)


@blp.route("/overdue")
@login_required()
@blp.arguments(OverdueQuerySchema, location="query")
@cursor_paging
@blp.response(200, ReportRowSchema(many=True), headers=CURSOR_HEADERS)
@blp.alt_response(400, description="`cursor` with `page` (`pagination.cursor_with_page`), or a malformed or altered "
                                   "cursor, or one made for another list (`pagination.invalid_cursor`)")
@blp.doc(responses=_FORMATS_DOC)
@blp.paginate()
def overdue(args, pagination_parameters):
    """Not completed and due before `as_of`, most overdue first, in the caller's scope

    JSON pages two ways: `page` and `page_size` (any page directly; deep pages of a long list are
    slow), or `cursor` and `page_size` (keyset paging: the rows after the previous page's last, as
    fast deep in the list as at its start). Every page that has a next one gives its cursor:
    `next_cursor` in `X-Pagination` and the `X-Next-Cursor` header; a page read by cursor also links
    to the next by `Link: <...?cursor=...>; rel="next"`, and its `X-Pagination` has the exact `total`
    and `last_page` but no page number. Keep the filters and `as_of` while walking. Exports
    (format=csv, xlsx) hold every row: no paging."""
    fmt = args.pop("format")
    as_of = args.pop("as_of", None) or clock.today()
    cursor = args.pop("cursor", None)
    stmt = reports.overdue_query(current_principal(), as_of=as_of, **args)
    if fmt != "json":
        pagination_parameters.item_count = 0  # an export is not paged; the attachment holds every row
        # Only what the sheet shows (and what its computed columns are made from) is fetched.
        needed = {column.key for column in OVERDUE_COLUMNS} | {"due_date", "original_due_date"}
        sheet = Sheet("Quá hạn", OVERDUE_COLUMNS, reports.iter_rows(reports.only_columns(stmt, needed), as_of))
        return export_response(fmt, "nhiem-vu-qua-han", "Danh sách nhiệm vụ chưa hoàn thành, quá hạn", as_of, [sheet])
    principal = current_principal()
    # Tallies hold the current holders: they answer for today and later (the tree of an earlier day may differ).
    count = (lambda: tallies.total(principal, as_of=as_of, classification="overdue", **args)) if as_of >= clock.today() else None
    page = RowPage(stmt, pagination_parameters, count=count, ordering="overdue", cursor=cursor)
    return reports.classified([reports.overdue_row(row, as_of) for row in page.items], as_of), page.headers


def _summary_document(args: dict) -> tuple[dict, str, str, dt.date]:
    """The summary as JSON data, with its export's file name, title and as_of."""
    args = dict(args)
    as_of = args.pop("as_of", None) or clock.today()
    result = reports.summary(current_principal(), as_of=as_of, **args)
    return result, f"tong-hop-theo-{SUMMARY_NAMES[args['by']]}", "Tổng hợp kết quả thực hiện nhiệm vụ", as_of


def _summary_sheets(result: dict) -> list[Sheet]:
    """Rows that add up, and a totals row equal to their sum."""
    notes = _basis_notes(result["rate_bases"])
    totals = {**result["totals"], "overdue": result["totals"]["counts"][TaskClass.OVERDUE.value]}
    if result["by"] == "organization":
        notes = [f"Các cột \"Nhiệm vụ của đơn vị\" đếm nhiệm vụ giao trực tiếp cho từng đơn vị, cộng lại bằng dòng Tổng cộng; "
                 f"các cột \"{SUBTREE}\" gồm cả các đơn vị trực thuộc, không cộng dọc.", *notes]
        return [Sheet("Tổng hợp", ORGANIZATION_COUNT_COLUMNS, _organization_count_rows(result["rows"]), notes=notes,
                      total_label="Tổng cộng", totals=totals)]
    return [Sheet("Tổng hợp", COUNT_COLUMNS, _count_rows(result["rows"]), notes=notes, total_label="Tổng cộng",
                  totals=_count_rows([totals])[0])]


def _paging(args: dict) -> PaginationParameters | None:
    """The page asked for (`page`, `page_size`, taken out of `args`), or None for the whole report."""
    page, page_size = args.pop("page", None), args.pop("page_size", None)
    if page is None and page_size is None:
        return None
    return PaginationParameters(page or 1, page_size or DEFAULT_PAGE_SIZE)


def _paged(result: dict, paging: PaginationParameters, total: int, rows: list | None = None):
    """The report with the page's rows (`rows`, or a slice of its own), and the paging headers
    (`X-Pagination`, `Link`) as for the paged lists; a page past the last has no rows, as in those lists."""
    paging.item_count = total
    if rows is None:
        rows = result["rows"][paging.first_item:paging.first_item + paging.page_size]
    result, headers = blp._set_pagination_metadata(paging, {**result, "rows": rows}, {})
    return result, 200, headers


_SUMMARY_DOC = {200: {**_FORMATS_DOC[200], "description": _FORMATS_DOC[200]["description"] + (
    ". With `page` or `page_size` the rows are paged (`X-Pagination`, `Link`; `totals` still count everything). With "
    "`parent_id` or `level=children` (by=organization, JSON only) one level of the tree: the children, each with its own "
    "and its subtree's counts; from maintained tallies when the report is as of today or later without filters and the "
    "tree has no reorganisation links, else counted. A page by organisation under the same conditions reads only its "
    "units from the tallies: the same rows, totals and row count as the whole report")}}


@blp.route("/summary")
@login_required()
@blp.arguments(SummaryQuerySchema, location="query")
@blp.response(200, SummarySchema)
@blp.doc(responses=_SUMMARY_DOC)
@blp.alt_response(404, description="`parent_id` outside the caller's scope or not in the tree of `as_of` "
                                   "(`organization.not_found`)")
def summary(args):
    """Per organisation (a parent includes its subtree), group, plan or owner: each class, rates; or one level of the tree"""
    fmt = args.pop("format")
    since = args.pop("since_snapshot", None)
    paging = _paging(args)

    def filters() -> dict:  # what summary_level and summary_units_page take besides as_of
        return {key: value for key, value in args.items() if key not in ("by", "as_of", "include_descendants")}

    if args.pop("level", None) is not None or args.get("parent_id") is not None:
        result = reports.summary_level(current_principal(), as_of=args.get("as_of") or clock.today(), today=clock.today(), **filters())
        return result if paging is None else _paged(result, paging, len(result["rows"]))
    args.pop("parent_id", None)
    if paging is not None and fmt == "json" and since is None and args["by"] == "organization":
        found = reports.summary_units_page(current_principal(), as_of=args.get("as_of") or clock.today(), today=clock.today(),
                                           offset=paging.first_item, limit=paging.page_size, **filters())
        if found is not None:  # from the tallies: the page's units only, never the whole tree
            return _paged(found[0], paging, found[1], found[0]["rows"])
    result, name, title, as_of = _summary_document(args)
    if fmt != "json":
        return export_response(fmt, name, title, as_of, _summary_sheets(result))
    if since is not None:
        ids = args.get("organization_id") or []  # a snapshot is of one organisation: compared with that one alone
        result["changes_since_snapshot"] = snapshots.summary_changes(
            current_principal(), since, result, {**args, "organization_id": ids[0] if len(ids) == 1 else ids or None})
    return result if paging is None else _paged(result, paging, len(result["rows"]))


@blp.route("/scorecard")
@login_required()
@blp.arguments(ScorecardQuerySchema, location="query")
@blp.response(200, ScorecardSchema)
@blp.doc(responses=_FORMATS_DOC)
def scorecard(args):
    """Per organisation, for the yearly evaluation: on time, late, overdue, evidence, rank; paged with page or page_size"""
    year = args["year"]
    as_of = args.get("as_of") or min(clock.today(), dt.date(year, 12, 31))
    paging = _paging(args)
    if paging is not None and args["format"] == "json":  # ranks over every unit; the page's rows only in full
        result, total = reports.scorecard_page(current_principal(), year=year, as_of=as_of, offset=paging.first_item,
                                               limit=paging.page_size)
        return _paged(result, paging, total, result["rows"])
    result = reports.scorecard(current_principal(), year=year, as_of=as_of)
    if args["format"] != "json":
        sheet = Sheet(f"Đánh giá năm {year}", SCORE_COLUMNS, result["rows"], notes=_basis_notes(result["rate_bases"]),
                      total_label="Tổng cộng")
        return export_response(args["format"], f"danh-gia-nam-{year}", f"Kết quả thực hiện nhiệm vụ năm {year}", as_of, [sheet])
    return result


def _periodic_document(args: dict, *, full_lists: bool) -> tuple[dict, str, str, dt.date]:
    """The periodic report as JSON data (or, with full_lists, with every row for exports), with its
    export's file name, title and as_of."""
    period = periodic_report.Period.parse(args["period"])
    principal = current_principal()
    result = periodic_report.periodic(principal, organization_id=args["organization_id"], period=period,
                              today=clock.today(), full_lists=full_lists, as_of=args.get("as_of"),
                              at=args.get("at") or "period_end", zone=current_app.config["TRACKER_TIMEZONE"])
    result["indicators"] = indicator_status.indicators_report(principal, as_of=result["as_of"],
                                                              tolerance=current_app.config["INDICATOR_TOLERANCE"],
                                                              organization_id=args["organization_id"])
    kind = "6-thang" if period.half_year else "nam"
    title = f"Báo cáo {'6 tháng' if period.half_year else 'năm'} {period.year} – {result['organization']['name']}"
    return result, f"bao-cao-{kind}-{period.year}-{result['organization']['code']}", title, result["as_of"]


OWN_REPORT_LABELS = labels.OWN_REPORT


def _periodic_sheets(result: dict) -> list[Sheet]:
    own = result["own_report"]
    backdated = result["backdated_facts"]
    requests = result["extension_requests"]
    notes = [
        f"Báo cáo của đơn vị cho kỳ này: {OWN_REPORT_LABELS.get(own['state'], own['state'])}",
        f"Hoàn thành trong kỳ: {result['summary'].get('completed_in_period', 0)}",
        f"Đề nghị gia hạn trong kỳ: {requests['count']} (sau khi đã quá hạn: {requests['requested_after_due']})",
        f"Sự việc được ghi lùi ngày trong kỳ: {backdated['count']}",
        *labels.rate_notes(result["rate_bases"], {"total": labels.PERIODIC_TOTAL_NOTE}),
    ]
    return [
        Sheet("Tổng hợp", COUNT_COLUMNS, _count_rows([result["summary"]]), notes=notes),
        Sheet("Đã hoàn thành", COMPLETED_COLUMNS, result["completed"]),
        Sheet("Quá hạn", OVERDUE_COLUMNS, result["overdue"]),
        Sheet("Đang thực hiện", OPEN_COLUMNS, result["in_progress"]),
        Sheet("Thường xuyên", OPEN_COLUMNS, result["no_deadline"]),
        Sheet("Gia hạn", EXTENSION_COLUMNS, result["extensions_granted"]),
        Sheet("Ghi lùi ngày", BACKDATED_COLUMNS, backdated["items"]),
        Sheet("Chỉ tiêu", INDICATOR_COLUMNS, _indicator_rows(result["indicators"]["rows"])),
    ]


_PERIODIC_FORMATS_DOC = {200: {
    "description": _FORMATS_DOC[200]["description"] + "; with format=docx a Word document drafted in the official layout "
                   "(Party bodies: Hướng dẫn 36-HD/VPTW; State bodies: Decree 30/2020/NĐ-CP): header, title, results by "
                   "task group with the rates and their bases, completed and overdue tasks, extensions, indicators, and "
                   "empty sections for the drafter (limitations, next tasks, proposals), recipients and signature",
    "content": {**_FORMATS_DOC[200]["content"], docx_report.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
}}


def _docx_response(body: bytes, filename: str):
    response = current_app.response_class(body, content_type=docx_report.MEDIA_TYPE)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/periodic")
@login_required()
@blp.arguments(PeriodicQuerySchema, location="query")
@blp.response(200, PeriodicSchema)
@blp.doc(responses=_PERIODIC_FORMATS_DOC)
def periodic(args):
    """The six-month (2026-H1, due before 10/06) or annual (2026, due before 01/12) report of an organisation.

    The summary counts every live assignment of the subtree (those without a deadline included) and
    each class has its list, so totals equal the lists' lengths. `at=due_date` takes it as at the
    organisation's own report due date; `since_snapshot` says what changed since a published one."""
    fmt = args.pop("format")
    since = args.pop("since_snapshot", None)
    if fmt == "docx":  # from the listed rows, not streams; the counts by group cover every assignment
        result, name, _, as_of = _periodic_document(args, full_lists=False)
        return _docx_response(docx_report.render(result), export_filename(name, as_of, "docx"))
    result, name, title, as_of = _periodic_document(args, full_lists=fmt != "json")
    if fmt != "json":
        return export_response(fmt, name, title, as_of, _periodic_sheets(result))
    if since is not None:
        result["changes_since_snapshot"] = snapshots.periodic_changes(current_principal(), since, result)
    return result


def _indicator_rows(rows: list[dict]) -> list[dict]:
    """Rows for people: yes/no and numbers as written in Vietnamese (decimal comma)."""
    def number(value):
        return None if value is None else f"{value:g}".replace(".", ",")

    return [{**row, "target_value": number(row["target_value"]), "latest_value": number(row["latest_value"]),
             "expected_value": number(row["expected_value"]), "overdue_measurement": "Có" if row["overdue_measurement"] else "Không"}
            for row in rows]


@blp.route("/indicators")
@login_required()
@blp.arguments(IndicatorReportQuerySchema, location="query")
@blp.response(200, IndicatorReportSchema)
@blp.doc(responses=_FORMATS_DOC)
def indicators(args):
    """Where each indicator in scope stands as of `as_of`: target, latest accepted value, the straight-line
    expectation, status (achieved, on_track, at_risk, off_track, no_data) and overdue measurements"""
    fmt = args.pop("format")
    as_of = args.pop("as_of", None) or clock.today()
    result = indicator_status.indicators_report(current_principal(), as_of=as_of, tolerance=current_app.config["INDICATOR_TOLERANCE"],
                                                **args)
    if fmt != "json":
        notes = [f"Cách đánh giá: theo đường thẳng từ giá trị cơ sở đến mục tiêu; dung sai {result['tolerance']:.0%} khoảng cách."]
        sheet = Sheet("Chỉ tiêu", INDICATOR_COLUMNS, _indicator_rows(result["rows"]), notes=notes)
        return export_response(fmt, "chi-tieu", "Tình hình thực hiện các chỉ tiêu", as_of, [sheet])
    return result


@blp.route("/attention")
@login_required()
@blp.arguments(AttentionQuerySchema, location="query")
@blp.response(200, AttentionSchema)
@blp.doc(responses=_FORMATS_DOC)
def attention(args):
    """What needs the caller now: submissions to approve, extension requests, returned, overdue, due soon"""
    today = args.get("as_of") or clock.today()
    result = reports.attention(current_principal(), today=today)
    if args["format"] != "json":
        sheets = [
            Sheet("Chờ duyệt", ROW_COLUMNS, result["awaiting_approval"]["items"]),
            Sheet("Xin gia hạn", EXTENSION_COLUMNS, result["extension_requests"]["items"]),
            Sheet("Bị trả lại", ROW_COLUMNS, result["returned"]["items"]),
            Sheet("Quá hạn", OVERDUE_COLUMNS, result["overdue"]["items"]),
            Sheet("Sắp đến hạn", ROW_COLUMNS, result["due_soon"]["items"]),
        ]
        return export_response(args["format"], "viec-can-xu-ly", "Việc cần xử lý", today, sheets)
    for section in ("awaiting_approval", "returned", "overdue", "due_soon"):
        reports.classified(result[section]["items"], today)
    return result


_RESPONSIBILITY_DOC = {
    200: {
        "description": "JSON by default; format=csv (one row per action, the header first), xlsx (the appendix and a "
                       "\"Ma trận\" sheet) or docx (the appendix, A4 landscape)",
        "content": {
            **_FORMATS_DOC[200]["content"],
            docx_report.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@blp.route("/responsibility")
@login_required()
@blp.arguments(ResponsibilityQuerySchema, location="query")
@blp.response(200, ResponsibilitySchema)
@blp.doc(responses=_RESPONSIBILITY_DOC)
@blp.alt_response(404, description="No such plan")
def responsibility_table(args):
    """Who is responsible for what: each action of a plan with its lead and coordinating units, owners,
    deadline, expected output, and status and class as of `as_of`; rows that involve the caller's scope"""
    as_of = args.get("as_of") or clock.today()
    result = responsibility.responsibility(current_principal(), plan_id=args["plan_id"], as_of=as_of)
    fmt = args["format"]
    name = f"phu-luc-nhiem-vu-{result['plan']['code'].replace('/', '-')}"
    title = responsibility_document.title(result)
    if fmt == "xlsx":
        return export_response(fmt, name, title, as_of, responsibility_document.appendix_sheets(result))
    if fmt == "csv":
        return export_response(fmt, name, title, as_of, [responsibility_document.csv_sheet(result)])
    if fmt == "docx":
        return _docx_response(responsibility_document.appendix_docx(result), export_filename(name, as_of, fmt))
    return result


# --- published reports ("chốt số liệu") ----------------------------------------------------------

_SNAPSHOT_DOC = {
    200: {
        "description": "The bytes stored when the report was published, unchanged: JSON (`{snapshot, report}`) by default, "
                       "CSV, XLSX or (periodic reports) DOCX with format=. `ETag` and `X-Content-SHA256` carry the SHA-256 "
                       "of these bytes. A summary, or a periodic report published before Word documents were kept, has no "
                       "DOCX: 404 `snapshot.format_unavailable`.",
        "content": {
            "application/json": {"schema": {
                "type": "object", "required": ["snapshot", "report"],
                "properties": {"snapshot": {"type": "object", "description": "What was published: kind, parameters, when, by whom"},
                               "report": {"type": "object", "description": "The report as its JSON format gave it then "
                                                                           "(a Summary or a Periodic report)"}}}},
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}},
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


def _render_snapshot(data: dict, published_at: dt.datetime) -> tuple[dict, snapshots.Rendered]:
    """Build the report once per format, exactly as the live endpoints serve it, and the published JSON."""
    principal = current_principal()
    if data["kind"] == "periodic":
        parameters = {"organization_id": data["organization_id"], "period": data["period"],
                      "as_of": data["as_of"].isoformat() if data.get("as_of") else None, "at": data.get("at") or "period_end"}
        query = {**parameters, "as_of": data.get("as_of")}
        result, name, title, as_of = _periodic_document(query, full_lists=False)
        document = PeriodicSchema().dump(result)
        sheets = lambda: _periodic_sheets(_periodic_document(query, full_lists=True)[0])  # noqa: E731 - rows stream once per file
    else:
        as_of = data.get("as_of") or clock.today()
        parameters = {"by": data["by"], "organization_id": data["organization_id"], "include_descendants": True,
                      "as_of": as_of.isoformat()}
        result, name, title, as_of = _summary_document({"by": data["by"], "organization_id": data["organization_id"],
                                                         "include_descendants": True, "as_of": as_of})
        document = SummarySchema().dump(result)
        sheets = lambda: _summary_sheets(result)  # noqa: E731
    publisher = snapshots.publisher(principal)
    meta = {
        "kind": data["kind"], "parameters": parameters, "organization_id": data["organization_id"], "as_of": as_of.isoformat(),
        "title": title, "published_at": SnapshotSchema(only=("published_at",)).dump({"published_at": published_at})["published_at"],
        "published_by": publisher, "note": data.get("note"),
        "file_name": name,
    }
    stamped = f"{title} (số liệu đã chốt)"
    rendered = snapshots.Rendered(
        title=title, as_of=as_of,
        json_body=current_app.json.dumps({"snapshot": meta, "report": document}).encode(),
        csv_body=render_bytes("csv", stamped, as_of, sheets()),
        xlsx_body=render_bytes("xlsx", stamped, as_of, sheets()),
        docx_body=docx_report.render(result) if data["kind"] == "periodic" else None,
    )
    return parameters, rendered


@blp.route("/snapshots")
class Snapshots(MethodView):
    @login_required()
    @blp.arguments(SnapshotQuerySchema, location="query")
    @blp.response(200, SnapshotSchema(many=True))
    @blp.paginate(SQLPage)
    def get(self, args):
        """Published reports whose organisation is in the caller's scope, newest first"""
        return snapshots.snapshots_query(current_principal(), **args)

    @login_required()
    @blp.arguments(SnapshotCreateSchema)
    @blp.response(201, SnapshotSchema)
    @blp.alt_response(403, description="Only leaders over the organisation publish (`snapshot.forbidden`)")
    @blp.alt_response(404, description="No such organisation in the caller's scope")
    def post(self, data):
        """Publish ("chốt số liệu") a periodic report or a summary: stored and served byte-identical forever"""
        principal = current_principal()
        snapshots.check_publisher(principal, data["organization_id"])
        published_at = snapshots.publication_time()
        parameters, rendered = _render_snapshot(data, published_at)
        snapshot = snapshots.store(principal, kind=data["kind"], parameters=parameters, organization_id=data["organization_id"],
                                   rendered=rendered, published_at=published_at, note=data.get("note"))
        db.session.commit()
        return snapshot, 201, {"Location": url_for("reports.SnapshotDetail", snapshot_id=snapshot.id)}


@blp.route("/snapshots/<int:snapshot_id>")
class SnapshotDetail(MethodView):
    @login_required()
    @blp.arguments(SnapshotFormatSchema, location="query")
    @blp.response(200)
    @blp.doc(responses=_SNAPSHOT_DOC)
    @blp.alt_response(404, description="No such published report in the caller's scope")
    def get(self, args, snapshot_id):
        """A published report, byte-identical to what was published, with its SHA-256"""
        snapshot = snapshots.get_snapshot(current_principal(), snapshot_id)
        fmt = args["format"]
        body, digest = snapshots.body_of(snapshot, fmt)
        name = orjson.loads(snapshot.json_body)["snapshot"].get("file_name", f"bao-cao-{snapshot.id}")
        filename = export_filename(f"{name}_chot-{snapshot.id}", snapshot.as_of, fmt)
        response = _docx_response(body, filename) if fmt == "docx" else stored_response(body, fmt, filename)
        response.headers["ETag"] = f'"{digest}"'
        response.headers["X-Content-SHA256"] = digest
        response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
        return response
