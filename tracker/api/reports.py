"""Leaders' reports: JSON by default, `format=csv` or `format=xlsx` for people."""

from __future__ import annotations

import datetime as dt

from tracker.api.exports import Column, Sheet, export_response
from tracker.api.security import current_principal, login_required
from tracker.domain.classification import LABELS as CLASS_LABELS, TaskClass
from tracker.schemas.report import (
    AttentionQuerySchema, AttentionSchema, PeriodicQuerySchema, PeriodicSchema, ReportFilterSchema, ReportRowSchema,
    ScorecardQuerySchema, ScorecardSchema, SummaryQuerySchema, SummarySchema,
)
from tracker.services import clock, reports
from tracker.services.pagination import RowPage
from tracker.web import Blueprint

URL_PREFIX = "/reports"
blp = Blueprint("reports", __name__, description="Báo cáo: overdue lists, summaries, scorecards, periodic reports")

_FORMATS_DOC = {
    "200": {
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
    Column("role", "Vai trò", "text", 12),
    Column("owner_name", "Người phụ trách", "text", 22),
    Column("owner_phone", "Điện thoại", "text", 14),
    Column("owner_email", "Thư điện tử", "text", 26),
    Column("original_due_date", "Hạn ban đầu", "date", 12),
    Column("due_date", "Hạn hiện tại", "date", 12),
    Column("days_overdue", "Số ngày quá hạn", "int", 10),
    Column("status", "Trạng thái", "text", 14),
    Column("progress", "Tiến độ (%)", "int", 9),
    Column("last_updated_at", "Cập nhật lần cuối", "datetime", 17),
]
COMPLETED_COLUMNS = [*ROW_COLUMNS[:11], Column("due_date", "Hạn", "date", 12), Column("completed_on", "Ngày hoàn thành", "date", 14)]
COUNT_COLUMNS = [
    Column("label", "Đơn vị / nhóm", "text", 40),
    Column("total", "Tổng số", "int", 9),
    *(Column(task_class.value, CLASS_LABELS[task_class]["vi"], "int", 14) for task_class in TaskClass),
    Column("due_soon", "Sắp đến hạn", "int", 10),
    Column("completion_rate", "Tỷ lệ hoàn thành", "rate", 12),
    Column("on_time_rate", "Tỷ lệ đúng hạn", "rate", 12),
    Column("overdue_rate", "Tỷ lệ quá hạn", "rate", 12),
]
SCORE_COLUMNS = [
    Column("rank", "Xếp hạng", "int", 8),
    Column("organization_name", "Đơn vị", "text", 36),
    Column("assigned", "Số nhiệm vụ", "int", 10),
    Column("completed_on_time", "Hoàn thành đúng hạn", "int", 12),
    Column("completed_late", "Hoàn thành quá hạn", "int", 12),
    Column("overdue", "Quá hạn", "int", 9),
    Column("on_time_rate", "Tỷ lệ đúng hạn", "rate", 12),
    Column("average_days_late", "Số ngày trễ bình quân", "text", 12),
    Column("evidence_rate", "Tỷ lệ có minh chứng", "rate", 12),
]
EXTENSION_COLUMNS = [
    Column("action_ref", "Mục", "text", 10),
    Column("organization_code", "Đơn vị", "text", 16),
    Column("previous_due_date", "Hạn trước", "date", 12),
    Column("new_due_date", "Hạn mới", "date", 12),
    Column("reason", "Lý do", "text", 40),
]


def _count_rows(rows: list[dict]) -> list[dict]:
    return [{**row, **row["counts"]} for row in rows]


def _basis_notes(rate_bases: dict) -> list[str]:
    return [f"{name}: {basis}" for name, basis in rate_bases.items()]


@blp.route("/overdue")
@login_required()
@blp.arguments(ReportFilterSchema, location="query")
@blp.response(200, ReportRowSchema(many=True))
@blp.doc(responses=_FORMATS_DOC)
@blp.paginate()
def overdue(args, pagination_parameters):
    """Not completed and due before `as_of`, most overdue first, in the caller's scope"""
    fmt = args.pop("format")
    as_of = args.pop("as_of", None) or clock.today()
    stmt = reports.overdue_query(current_principal(), as_of=as_of, **args)
    if fmt != "json":
        pagination_parameters.item_count = 0  # an export is not paged; the attachment holds every row
        sheet = Sheet("Quá hạn", ROW_COLUMNS, reports.iter_rows(stmt, as_of))
        return export_response(fmt, "nhiem-vu-qua-han", "Danh sách nhiệm vụ chưa hoàn thành, quá hạn", as_of, [sheet])
    page = RowPage(stmt, pagination_parameters)
    return [reports.overdue_row(row, as_of) for row in page.items]


@blp.route("/summary")
@login_required()
@blp.arguments(SummaryQuerySchema, location="query")
@blp.response(200, SummarySchema)
@blp.doc(responses=_FORMATS_DOC)
def summary(args):
    """Per organisation (a parent includes its subtree), group, plan or owner: each class, rates"""
    fmt = args.pop("format")
    as_of = args.pop("as_of", None) or clock.today()
    result = reports.summary(current_principal(), as_of=as_of, **args)
    if fmt != "json":
        rows = _count_rows([*result["rows"], result["totals"]])
        sheet = Sheet("Tổng hợp", COUNT_COLUMNS, rows, notes=_basis_notes(result["rate_bases"]))
        return export_response(fmt, f"tong-hop-theo-{args['by']}", "Tổng hợp kết quả thực hiện nhiệm vụ", as_of, [sheet])
    return result


@blp.route("/scorecard")
@login_required()
@blp.arguments(ScorecardQuerySchema, location="query")
@blp.response(200, ScorecardSchema)
@blp.doc(responses=_FORMATS_DOC)
def scorecard(args):
    """Per organisation, for the yearly evaluation: on time, late, overdue, evidence, rank"""
    year = args["year"]
    as_of = args.get("as_of") or min(clock.today(), dt.date(year, 12, 31))
    result = reports.scorecard(current_principal(), year=year, as_of=as_of)
    if args["format"] != "json":
        sheet = Sheet(f"Đánh giá năm {year}", SCORE_COLUMNS, result["rows"], notes=_basis_notes(result["rate_bases"]))
        return export_response(args["format"], f"danh-gia-nam-{year}", f"Kết quả thực hiện nhiệm vụ năm {year}", as_of, [sheet])
    return result


@blp.route("/periodic")
@login_required()
@blp.arguments(PeriodicQuerySchema, location="query")
@blp.response(200, PeriodicSchema)
@blp.doc(responses=_FORMATS_DOC)
def periodic(args):
    """The six-month (2026-H1, due 10/06) or annual (2026, due 01/12) report of an organisation"""
    period = reports.Period.parse(args["period"])
    export = args["format"] != "json"
    result = reports.periodic(current_principal(), organization_id=args["organization_id"], period=period,
                              today=clock.today(), full_lists=export)
    if export:
        own = result["own_report"]
        notes = [f"Báo cáo của đơn vị cho kỳ này: {own['state']}"]
        sheets = [
            Sheet("Tổng hợp", COUNT_COLUMNS, _count_rows([result["summary"]]), notes=notes),
            Sheet("Đã hoàn thành", COMPLETED_COLUMNS, result["completed"]),
            Sheet("Quá hạn", ROW_COLUMNS, result["overdue"]),
            Sheet("Gia hạn", EXTENSION_COLUMNS, result["extensions_granted"]),
        ]
        kind = "6-thang" if period.half_year else "nam"
        title = f"Báo cáo {'6 tháng' if period.half_year else 'năm'} {period.year} – {result['organization']['name']}"
        return export_response(args["format"], f"bao-cao-{kind}-{period.year}-{result['organization']['code']}", title,
                               result["as_of"], sheets)
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
            Sheet("Quá hạn", ROW_COLUMNS, result["overdue"]["items"]),
            Sheet("Sắp đến hạn", ROW_COLUMNS, result["due_soon"]["items"]),
        ]
        return export_response(args["format"], "viec-can-xu-ly", "Việc cần xử lý", today, sheets)
    return result
