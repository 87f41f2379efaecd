import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.common import DateTime, Id, MultiValue, PersonSchema, printable

from tracker.domain.classification import TaskClass
from tracker.services.reports import SUMMARY_KEYS
from tracker.schemas.assignment import CURSOR_DESCRIPTION, OrganizationRefSchema, OwnerSchema, WorkFilterSchema

FORMATS = ["json", "csv", "xlsx"]
PERIODIC_FORMATS = [*FORMATS, "docx"]  # the periodic report (and its snapshots) also as a Word document
PERIOD_PATTERN = "^20[0-9]{2}(-H1)?$"  # documents what tracker.services.periodic.Period.parse takes


class ReportFilterSchema(WorkFilterSchema):
    """The /assignments filters, for reports: the organisations are those of the tree of `as_of`."""

    organization_id = MultiValue(Id(), metadata={"description": "The organisation holding the work on `as_of`"})
    include_descendants = fields.Boolean(load_default=False, metadata={
        "description": "With organization_id: its whole subtree of `as_of` (several: the union of their subtrees)"})
    as_of = fields.Date(metadata={"description": "Default: today in Asia/Ho_Chi_Minh"})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class OverdueQuerySchema(ReportFilterSchema):
    """The overdue list's: the filters and a cursor (not in ReportFilterSchema: the summary inherits
    those filters and is not paged by cursor)."""

    cursor = fields.String(metadata={"description": CURSOR_DESCRIPTION + " Exports (csv, xlsx) hold every row and ignore it."})


MAX_PAGE_SIZE = 200  # as the paged lists (tracker.web.Blueprint)
DEFAULT_PAGE_SIZE = 50


def _page_field(what: str) -> fields.Integer:
    """`page` of a report that comes whole unless `page` or `page_size` is given."""
    return fields.Integer(validate=validate.Range(min=1), metadata={
        "description": f"Page the {what} (with `page_size`, default {DEFAULT_PAGE_SIZE}): `X-Pagination` and `Link` give the "
                       "exact total and the other pages; a page past the last has no rows (200), as in the paged lists. "
                       "Without `page` and `page_size` every row comes at once. Exports (csv, xlsx) always hold every row"})


def _page_size_field(what: str) -> fields.Integer:
    return fields.Integer(validate=validate.Range(1, MAX_PAGE_SIZE), metadata={
        "description": f"Rows per page (1-{MAX_PAGE_SIZE}, default {DEFAULT_PAGE_SIZE}); pages the {what}"})


class SummaryQuerySchema(ReportFilterSchema):
    by = fields.String(required=True, validate=validate.OneOf(SUMMARY_KEYS))
    since_snapshot = Id(metadata={"description": "A published snapshot of this summary: say what changed since"})
    classification = MultiValue(fields.String(validate=validate.OneOf([c.value for c in TaskClass])), metadata={
        "description": "The class as of `as_of`"})
    level = fields.String(validate=validate.OneOf(["children"]), metadata={
        "description": "by=organization, one level of the tree of `as_of`: the children of `parent_id` the caller may see "
                       "(without `parent_id`, the top of the caller's scope: an admin's roots, a leader's unit, an officer's "
                       "own units), each with its own counts (`own`) and its subtree's (`counts`, rates, `due_soon`), and "
                       "`has_children`; `parent` is the organisation asked about. JSON only"})
    parent_id = Id(metadata={"description": "by=organization: the organisation whose children to show (implies level=children); "
                                            "404 `organization.not_found` outside the caller's scope"})
    page = _page_field("rows (units, groups, plans or owners, or one level's children)")
    page_size = _page_size_field("rows")

    @ma.validates_schema
    def _level_parameters(self, data, **kwargs):
        if data.get("level") is None and data.get("parent_id") is None:
            return
        name = "parent_id" if data.get("parent_id") is not None else "level"
        if data.get("by") != "organization":
            raise ma.ValidationError("Chỉ dùng khi tổng hợp theo đơn vị (by=organization). Only with by=organization.", name)
        if data.get("organization_id") is not None:
            raise ma.ValidationError("Không dùng cùng organization_id: parent_id chọn đơn vị. Not with organization_id: "
                                     "parent_id names the organisation.", "organization_id")
        if data.get("since_snapshot") is not None:
            raise ma.ValidationError("Không so sánh từng cấp với số liệu đã chốt. A level is not compared with a snapshot.",
                                     "since_snapshot")
        if data.get("format", "json") != "json":
            raise ma.ValidationError("Từng cấp chỉ có dạng JSON; xuất tệp theo organization_id. A level is JSON only; export "
                                     "a subtree with organization_id and include_descendants.", "format")


class ScorecardQuerySchema(ma.Schema):
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    as_of = fields.Date(metadata={"description": "Default: the year's last day, or today if earlier"})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))
    page = _page_field("units, in rank order (ranks are those of the whole scorecard)")
    page_size = _page_size_field("units")


class PeriodicQuerySchema(ma.Schema):
    organization_id = Id(required=True)
    # Checked by periodic.Period.parse, the one rule for periods (422 naming `period`).
    period = fields.String(required=True, metadata={"description": "2026-H1 (six months, report due before 10/06) or 2026 (the year, due before 01/12)",
                                                    "pattern": PERIOD_PATTERN})
    as_of = fields.Date(metadata={"description": "A day within the period (default: the period's end, or today if earlier)"})
    at = fields.String(load_default="period_end", validate=validate.OneOf(["period_end", "due_date"]), metadata={
        "description": "due_date: as at the organisation's own report duty's due date for the period"})
    since_snapshot = Id(metadata={"description": "A published snapshot of this report: say what changed since"})
    format = fields.String(load_default="json", validate=validate.OneOf(PERIODIC_FORMATS),
                           metadata={"description": "docx: the report drafted in the official layout (Party or State) for Word"})


class AttentionQuerySchema(ma.Schema):
    as_of = fields.Date()
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


def nested_assignment(row: dict) -> dict:
    """A report's flat row (the columns its exports print) in the shape /assignments gives an
    assignment: `id`, `action`, `organization` and `owner` objects, `updated_at`; the other names
    are already the same. Report extras (`plan`, `group`, `parent_organization`, `days_late`,
    `in_period`, the action's `text`) join them."""
    nested = {key: value for key, value in row.items() if key in _SAME_NAMES}
    nested["id"] = row["assignment_id"]
    nested["action"] = {"ref": row["action_ref"], "title": row["action_title"], "plan_id": row["plan_id"],
                        **{name: row[column] for column, name in _ACTION_EXTRAS.items() if column in row}}
    nested["organization"] = {"id": row["organization_id"], "code": row["organization_code"], "name": row["organization_name"],
                              "parent_id": row["parent_organization_id"]}
    nested["parent_organization"] = (None if row["parent_organization_id"] is None else
                                     {"id": row["parent_organization_id"], "name": row["parent_organization_name"]})
    nested["owner"] = (None if row["owner_id"] is None else
                       {"id": row["owner_id"], "full_name": row["owner_name"], "phone": row["owner_phone"], "email": row["owner_email"]})
    nested["plan"] = {"id": row["plan_id"], "code": row["plan_code"]}
    nested["group"] = None if row["group_number"] is None else {"number": row["group_number"], "title": row["group_title"]}
    nested["updated_at"] = row["last_updated_at"]
    return nested


# Columns a report's statement may select beyond the exports' (the action's full text in JSON).
_ACTION_EXTRAS = {"action_id": "id", "action_requires_evidence": "requires_evidence", "action_text": "text"}
_SAME_NAMES = ("role", "cycle", "original_due_date", "due_date", "extended", "days_overdue", "status", "progress", "submitted_on",
               "completed_on", "classification", "days_late", "in_period", "urge_count", "last_urged_at")


class ReportActionSchema(ma.Schema):
    """The action as /assignments names it (`ActionRefSchema`), with its full text."""

    id = fields.Integer(metadata={"optional": True, "description": "When the report's statement selects it"})
    ref = fields.String()
    title = fields.String(allow_none=True)
    plan_id = fields.Integer()
    requires_evidence = fields.Boolean(metadata={"optional": True, "description": "When the report's statement selects it"})
    text = fields.String(metadata={"description": "The action's full text (in JSON only; exports leave it out)"})


class ReportPlanSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()


class ReportGroupSchema(ma.Schema):
    number = fields.Integer()
    title = fields.String(allow_none=True)


class ParentOrganizationSchema(ma.Schema):
    id = fields.Integer()
    name = fields.String(metadata={"description": "As on the report's as_of"})


class ReportRowSchema(ma.Schema):
    """An assignment in a report: the objects and names of /assignments (`AssignmentSchema`), the
    organisation as it held the work on the report's as_of, and a report's extras. The per-caller
    fields (allowed_transitions...) are on /assignments only. CSV and XLSX exports keep their flat columns."""

    id = fields.Integer()
    action = fields.Nested(ReportActionSchema)
    organization = fields.Nested(OrganizationRefSchema, metadata={"description": "The unit that held the work on as_of, named as then"})
    role = fields.String()
    cycle = fields.Integer()
    owner = fields.Nested(OwnerSchema, allow_none=True)
    original_due_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    extended = fields.Boolean()
    status = fields.String()
    progress = fields.Integer()
    submitted_on = fields.Date(allow_none=True)
    completed_on = fields.Date(allow_none=True)
    classification = fields.String(allow_none=True, metadata={"description": "The class as of the report's as_of"})
    days_overdue = fields.Integer()
    updated_at = DateTime()
    urge_count = fields.Integer(metadata={"optional": True, "description": "How many times leaders urged this work (đôn đốc); "
                                                                      "absent from reports published before urging was kept"})
    last_urged_at = DateTime(allow_none=True, metadata={"optional": True, "description": "When it was last urged, or null"})
    # A report's extras
    plan = fields.Nested(ReportPlanSchema)
    group = fields.Nested(ReportGroupSchema, allow_none=True, metadata={"description": "The task group; null for section IV duties"})
    parent_organization = fields.Nested(ParentOrganizationSchema, allow_none=True)
    days_late = fields.Integer(metadata={"optional": True, "description": "Periodic lists: completion date - due date, for late work"})
    in_period = fields.Boolean(metadata={"optional": True, "description": "Periodic completed list: completed within the period"})

    @ma.pre_dump
    def _nest(self, row, **kwargs):
        return nested_assignment(row)


class UnitSchema(ma.Schema):
    """A unit as a summary's or the scorecard's row names it: the names of /assignments' `organization`."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String(metadata={"description": "As on the report's as_of"})


def _with_organization(row: dict, name_key: str, key: dict) -> dict:
    """The row with its unit as `organization` ({id, code, name}), when it names one (a periodic
    report's summary row does not: the report names its organisation once, at the top)."""
    if key.get("organization_id") is None or key.get("organization_code") is None:
        return row
    return {**row, "organization": {"id": key["organization_id"], "code": key["organization_code"], "name": row[name_key]}}


class CountsRowSchema(ma.Schema):
    key = fields.Dict(metadata={"description": "What the row counts: organization_id (with organization_code and parent_id), "
                                               "plan_id and group, plan_id, or owner_id; {} for totals"})
    label = fields.String()
    organization = fields.Nested(UnitSchema, metadata={
        "optional": True, "description": "by=organization: the unit, named as the scorecard's rows and assignments name it "
                                         "(its parent: `key.parent_id`)"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "Per class"})
    own = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "optional": True, "description": "by=organization (not the totals): its own, without the subtree"})
    total = fields.Integer()
    completed = fields.Integer()
    due_soon = fields.Integer()
    completion_rate = fields.Float(allow_none=True)
    on_time_rate = fields.Float(allow_none=True)
    overdue_rate = fields.Float(allow_none=True)
    due = fields.Integer(metadata={"description": "completed + overdue: the tasks already due"})
    completion_rate_of_due = fields.Float(allow_none=True, metadata={"description": "completed / (completed + overdue)"})
    overdue_rate_of_due = fields.Float(allow_none=True, metadata={"description": "overdue / (completed + overdue)"})
    completed_in_period = fields.Integer(metadata={"optional": True, "description": "Periodic report: completed within the period"})
    has_children = fields.Boolean(metadata={"optional": True, "description": "level=children: the unit has units under it in the tree of "
                                                           "as_of that the caller may see (its parent_id for the next level)"})

    @ma.pre_dump
    def _unit(self, row, **kwargs):
        return _with_organization(row, "label", row.get("key") or {})


class SnapshotChangesSchema(ma.Schema):
    snapshot_id = fields.Integer()
    published_at = DateTime()
    as_of = fields.Date()
    counts = fields.Dict(metadata={"description": "Per row key (summary) or class (periodic): then, now and the difference"})
    lists = fields.Dict(metadata={"description": "Periodic: per list, the assignment ids that entered and left it"})
    unchanged = fields.Boolean()


class SummarySchema(ma.Schema):
    as_of = fields.Date()
    by = fields.String()
    rate_bases = fields.Dict(metadata={"description": "What each rate divides by"})
    labels = fields.Dict()
    totals = fields.Nested(CountsRowSchema)
    rows = fields.List(fields.Nested(CountsRowSchema))
    changes_since_snapshot = fields.Nested(SnapshotChangesSchema, metadata={"optional": True, "description": "With since_snapshot"})
    level = fields.String(metadata={"optional": True, "description": "children: the rows are one level of the tree (see the parameter)"})
    parent = fields.Nested(CountsRowSchema, allow_none=True, metadata={
        "optional": True,
        "description": "level=children: the organisation asked about, its own work plus its children's (null at the top)"})


class ScoreRowSchema(ma.Schema):
    rank = fields.Integer(allow_none=True, metadata={"description": "null for a unit that did not exist during the year (`closed`)"})
    organization = fields.Nested(UnitSchema, metadata={"description": "The unit, named as summaries' rows and assignments name it"})
    assigned = fields.Integer()
    completed_on_time = fields.Integer()
    completed_late = fields.Integer()
    overdue = fields.Integer()
    in_progress = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    completion_rate_of_due = fields.Float(allow_none=True)
    overdue_rate_of_due = fields.Float(allow_none=True)
    average_days_late = fields.Float(allow_none=True)
    evidence_rate = fields.Float(allow_none=True)
    urges = fields.Integer(metadata={"description": "How many times leaders urged (đôn đốc) this unit's work of the year"})
    urged_assignments = fields.Integer(metadata={"description": "How many of the year's assignments were urged at least once"})
    closed = fields.Boolean(metadata={"description": "The unit did not exist during the year (closed before it or created "
                                                     "after it): its row shows the work it holds, unranked"})

    @ma.pre_dump
    def _unit(self, row, **kwargs):
        return _with_organization(row, "organization_name", row)


class ScorecardSchema(ma.Schema):
    year = fields.Integer()
    as_of = fields.Date()
    rate_bases = fields.Dict()
    rows = fields.List(fields.Nested(ScoreRowSchema))


class ExtensionRowSchema(ma.Schema):
    extension_id = fields.Integer()
    assignment_id = fields.Integer()
    action_ref = fields.String()
    organization_code = fields.String()
    organization_name = fields.String(metadata={"optional": True, "description": "Pending requests (attention)"})
    previous_due_date = fields.Date(allow_none=True)
    new_due_date = fields.Date()
    reason = fields.String()
    decided_at = DateTime(metadata={"optional": True, "description": "Granted requests (periodic report)"})
    requested_at = DateTime(metadata={"optional": True, "description": "Pending requests (attention)"})


class ExtensionRequestsSchema(ma.Schema):
    count = fields.Integer(metadata={"description": "Extension requests made within the period"})
    requested_after_due = fields.Integer(metadata={"description": "Of which asked after the due date"})


class BackdatedFactSchema(ma.Schema):
    event_id = fields.Integer()
    assignment_id = fields.Integer()
    action_ref = fields.String()
    organization_code = fields.String()
    status = fields.String(allow_none=True)
    effective_on = fields.Date()
    recorded_on = fields.Date()
    recorded_at = DateTime()
    recorded_by = fields.String(allow_none=True)
    days_back = fields.Integer()
    note = fields.String(allow_none=True)


class BackdatedFactsSchema(ma.Schema):
    count = fields.Integer(metadata={"description": "Status changes recorded in the period with an earlier effective day"})
    items = fields.List(fields.Nested(BackdatedFactSchema))
    list_limit = fields.Integer()


class PeriodicSchema(ma.Schema):
    organization = fields.Dict()
    period = fields.Dict()
    as_of = fields.Date()
    summary = fields.Nested(CountsRowSchema, metadata={"description": "Every live assignment of the subtree, by class; totals equal the lists' lengths"})
    rate_bases = fields.Dict()
    completed = fields.List(fields.Nested(ReportRowSchema), metadata={"description": "Completed by as_of (in_period: within the period)"})
    overdue = fields.List(fields.Nested(ReportRowSchema))
    in_progress = fields.List(fields.Nested(ReportRowSchema), metadata={"description": "In progress, on time"})
    no_deadline = fields.List(fields.Nested(ReportRowSchema), metadata={"description": "No deadline (thường xuyên)"})
    completed_total = fields.Integer(metadata={"description": "How many completed items there are in all"})
    overdue_total = fields.Integer(metadata={"description": "How many overdue items there are in all"})
    in_progress_total = fields.Integer()
    no_deadline_total = fields.Integer()
    list_limit = fields.Integer(allow_none=True, metadata={"description": "The lists hold at most this many rows (exports hold all)"})
    extensions_granted = fields.List(fields.Nested(ExtensionRowSchema))
    extension_requests = fields.Nested(ExtensionRequestsSchema)
    backdated_facts = fields.Nested(BackdatedFactsSchema)
    own_report = fields.Dict(metadata={"description": "Whether the organisation's own report for the period was on time"})
    indicators = fields.Nested(lambda: IndicatorReportSchema(), metadata={"description": "The subtree's indicators as of as_of"})
    changes_since_snapshot = fields.Nested(SnapshotChangesSchema, metadata={"optional": True, "description": "With since_snapshot"})


class AttentionSectionSchema(ma.Schema):
    count = fields.Integer()
    items = fields.List(fields.Nested(ReportRowSchema))
    within_days = fields.Integer(metadata={"optional": True, "description": "due_soon: the days ahead it looks"})


class AttentionExtensionsSchema(ma.Schema):
    count = fields.Integer()
    items = fields.List(fields.Nested(ExtensionRowSchema))


class AttentionSchema(ma.Schema):
    as_of = fields.Date()
    awaiting_approval = fields.Nested(AttentionSectionSchema)
    extension_requests = fields.Nested(AttentionExtensionsSchema)
    returned = fields.Nested(AttentionSectionSchema)
    overdue = fields.Nested(AttentionSectionSchema)
    due_soon = fields.Nested(AttentionSectionSchema)


class SnapshotCreateSchema(ma.Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["periodic", "summary"]))
    organization_id = Id(required=True, metadata={"description": "Whose report: the organisation and its subtree"})
    period = fields.String(metadata={"description": "periodic: 2026-H1 or 2026", "pattern": PERIOD_PATTERN})
    as_of = fields.Date(metadata={"description": "periodic: a day within the period; summary: default today"})
    at = fields.String(validate=validate.OneOf(["period_end", "due_date"]), metadata={"description": "periodic: as at the period's end or the report's due date"})
    by = fields.String(validate=validate.OneOf(SUMMARY_KEYS), metadata={"description": "summary: organization, group, plan or owner"})
    note = fields.String(allow_none=True, validate=[validate.Length(max=2000), printable])

    @ma.validates_schema
    def _kind_parameters(self, data, **kwargs):
        if data.get("kind") == "periodic":
            if not data.get("period"):
                raise ma.ValidationError("Bắt buộc với báo cáo định kỳ. Required for a periodic report.", "period")
            if data.get("by") is not None:
                raise ma.ValidationError("Chỉ dùng cho báo cáo tổng hợp. Only for a summary.", "by")
        elif data.get("kind") == "summary":
            if not data.get("by"):
                raise ma.ValidationError("Bắt buộc với báo cáo tổng hợp. Required for a summary.", "by")
            for name in ("period", "at"):
                if data.get(name) is not None:
                    raise ma.ValidationError("Chỉ dùng cho báo cáo định kỳ. Only for a periodic report.", name)


class SnapshotQuerySchema(ma.Schema):
    kind = fields.String(validate=validate.OneOf(["periodic", "summary"]))
    organization_id = Id()


class SnapshotFormatSchema(ma.Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(PERIODIC_FORMATS),
                           metadata={"description": "docx: periodic reports only (404 snapshot.format_unavailable otherwise)"})


class SnapshotOrganizationSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class SnapshotSchema(ma.Schema):
    id = fields.Integer()
    kind = fields.String()
    parameters = fields.Dict(metadata={"description": "The report's parameters as published"})
    organization = fields.Nested(SnapshotOrganizationSchema)
    as_of = fields.Date()
    title = fields.String()
    published_at = DateTime()
    published_by = fields.Nested(PersonSchema)
    note = fields.String(allow_none=True)
    sha256 = fields.Function(lambda s: {"json": s.json_sha256, "csv": s.csv_sha256, "xlsx": s.xlsx_sha256, "docx": s.docx_sha256},
                             metadata={"description": "SHA-256 (hex) of the stored bytes of each format",
                                       "returns": fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))})
    size = fields.Function(lambda s: {"json": len(s.json_body), "csv": len(s.csv_body), "xlsx": len(s.xlsx_body),
                                      "docx": None if s.docx_body is None else len(s.docx_body)},
                           metadata={"description": "Bytes of each format (docx: null when the snapshot has none)",
                                     "returns": fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True))})


class IndicatorReportQuerySchema(ma.Schema):
    as_of = fields.Date(metadata={"description": "Default: today in Asia/Ho_Chi_Minh"})
    organization_id = Id(metadata={"description": "Indicators reported by this organisation's subtree (values of those units only)"})
    plan_id = Id()
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class IndicatorRowSchema(ma.Schema):
    indicator_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    unit = fields.String()
    kind = fields.String(metadata={"description": "numeric or milestone (yes/no: 1 = done)"})
    direction = fields.String()
    source_ref = fields.String(metadata={"description": "The plan item it comes from (II.1, III.5.1…)"})
    units = fields.String(metadata={"description": "Codes of the reporting organisations"})
    target_date = fields.Date(allow_none=True)
    target_value = fields.Float(allow_none=True)
    latest_on = fields.Date(allow_none=True)
    latest_value = fields.Float(allow_none=True, metadata={"description": "Latest accepted value, rolled up across units"})
    expected_value = fields.Float(allow_none=True, metadata={"description": "On the straight line from baseline to target, as of as_of"})
    progress = fields.Float(allow_none=True, metadata={"description": "Share of the way from baseline to target"})
    status = fields.String(metadata={"description": "achieved, on_track, at_risk, off_track or no_data"})
    status_label = fields.String()
    overdue_measurement = fields.Boolean(metadata={"description": "A reporting due date passed without an accepted value"})
    last_due = fields.Date(allow_none=True)


class IndicatorReportSchema(ma.Schema):
    as_of = fields.Date()
    tolerance = fields.Float()
    rule = fields.String()
    labels = fields.Dict()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    overdue_measurements = fields.Integer()
    rows = fields.List(fields.Nested(IndicatorRowSchema))


class ResponsibilityQuerySchema(ma.Schema):
    plan_id = Id(required=True)
    as_of = fields.Date(metadata={"description": "Default: today in Asia/Ho_Chi_Minh"})
    format = fields.String(load_default="json", validate=validate.OneOf(list(dict.fromkeys([*FORMATS, "docx"]))), metadata={
        "description": "json, csv (one row per action, the header first), xlsx (the plan's appendix and a matrix sheet) "
                       "or docx (the appendix, A4 landscape)"})


class ResponsibleUnitSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class ResponsibilityRowSchema(ma.Schema):
    action_id = fields.Integer()
    ref = fields.String()
    section = fields.String()
    group_number = fields.Integer(allow_none=True)
    group_title = fields.String(allow_none=True)
    parent_id = fields.Integer(allow_none=True, metadata={"description": "The action this one is split from"})
    depth = fields.Integer(metadata={"description": "0 for a bullet or duty, 1 for a split under it, …"})
    title = fields.String(allow_none=True)
    text = fields.String()
    expected_output = fields.String(allow_none=True, metadata={"description": "Sản phẩm"})
    due_date = fields.Date(allow_none=True)
    recurrence = fields.Dict(allow_none=True, metadata={"description": "month, day (as written), bound, from_year, until_year"})
    due_text = fields.String(allow_none=True, metadata={"description": "The deadline as the plan words it"})
    deadline = fields.String(metadata={"description": "Thời gian hoàn thành: dd/mm/yyyy, \"hằng năm, trước ngày 10/6\", "
                                                      "\"hằng năm, hạn 31/12\" or \"thường xuyên\""})
    lead = fields.List(fields.Nested(ResponsibleUnitSchema), metadata={"description": "Cơ quan chủ trì"})
    coordinating = fields.List(fields.Nested(ResponsibleUnitSchema), metadata={"description": "Cơ quan phối hợp"})
    owners = fields.List(fields.String(), metadata={"description": "Owners of the counted assignments in the caller's scope"})
    cycle = fields.Integer(allow_none=True, metadata={"description": "0 for a one-off action, as_of's year for a yearly one "
                                                                     "(null when it has no occurrence that year)"})
    assignment_count = fields.Integer(metadata={"description": "Assignments counted: live, in scope, of that cycle, given by as_of"})
    status = fields.String(allow_none=True, metadata={"description": "The assignment's status when exactly one is counted"})
    classification = fields.String(allow_none=True, metadata={"description": "Its class as of as_of when exactly one is counted"})
    class_counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "Counted assignments per class"})


class ResponsibilityPlanSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    issue_date = fields.Date()
    issuer_name = fields.String()


class ResponsibilitySchema(ma.Schema):
    plan = fields.Nested(ResponsibilityPlanSchema)
    as_of = fields.Date()
    labels = fields.Dict()
    rows = fields.List(fields.Nested(ResponsibilityRowSchema))
