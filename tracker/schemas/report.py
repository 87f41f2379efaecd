import marshmallow as ma
from marshmallow import fields, validate

from tracker.schemas.common import Id, single_line

from tracker.domain.classification import TaskClass
from tracker.domain.vocabulary import AssignmentRole, Status
from tracker.services.reports import SUMMARY_KEYS

FORMATS = ["json", "csv", "xlsx"]


class ReportFilterSchema(ma.Schema):
    """The /assignments filters, for reports."""

    organization_id = Id()
    include_descendants = fields.Boolean(load_default=False)
    plan_id = Id()
    group = fields.Integer(validate=validate.Range(1, 99))
    action_id = Id()
    role = fields.String(validate=validate.OneOf([r.value for r in AssignmentRole]))
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
    owner_id = Id()
    due_from = fields.Date()
    due_to = fields.Date()
    q = fields.String(validate=[validate.Length(min=1, max=200), single_line])
    as_of = fields.Date(metadata={"description": "Default: today in Asia/Ho_Chi_Minh"})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class SummaryQuerySchema(ReportFilterSchema):
    by = fields.String(required=True, validate=validate.OneOf(SUMMARY_KEYS))
    classification = fields.String(validate=validate.OneOf([c.value for c in TaskClass]))


class ScorecardQuerySchema(ma.Schema):
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    as_of = fields.Date(metadata={"description": "Default: the year's last day, or today if earlier"})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class PeriodicQuerySchema(ma.Schema):
    organization_id = Id(required=True)
    # Checked by reports.Period.parse, the one rule for periods (422 naming `period`).
    period = fields.String(required=True, metadata={"description": "2026-H1 (six months, report due 10/06) or 2026 (the year, due 01/12)"})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class AttentionQuerySchema(ma.Schema):
    as_of = fields.Date()
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))


class ReportRowSchema(ma.Schema):
    assignment_id = fields.Integer()
    plan_id = fields.Integer()
    plan_code = fields.String()
    group_number = fields.Integer(allow_none=True)
    group_title = fields.String(allow_none=True)
    action_ref = fields.String()
    action_title = fields.String(allow_none=True)
    action_text = fields.String()
    organization_id = fields.Integer()
    organization_code = fields.String()
    organization_name = fields.String()
    parent_organization_id = fields.Integer(allow_none=True)
    parent_organization_name = fields.String(allow_none=True)
    role = fields.String()
    cycle = fields.Integer()
    owner_id = fields.Integer(allow_none=True)
    owner_name = fields.String(allow_none=True)
    owner_phone = fields.String(allow_none=True)
    owner_email = fields.String(allow_none=True)
    original_due_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    extended = fields.Boolean()
    days_overdue = fields.Integer()
    status = fields.String()
    progress = fields.Integer()
    submitted_on = fields.Date(allow_none=True)
    completed_on = fields.Date(allow_none=True)
    last_updated_at = fields.DateTime()


class CountsRowSchema(ma.Schema):
    key = fields.Dict()
    label = fields.String()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "Per class"})
    own = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "by=organization: its own, without the subtree"})
    total = fields.Integer()
    completed = fields.Integer()
    due_soon = fields.Integer()
    completion_rate = fields.Float(allow_none=True)
    on_time_rate = fields.Float(allow_none=True)
    overdue_rate = fields.Float(allow_none=True)


class SummarySchema(ma.Schema):
    as_of = fields.Date()
    by = fields.String()
    rate_bases = fields.Dict(metadata={"description": "What each rate divides by"})
    labels = fields.Dict()
    totals = fields.Nested(CountsRowSchema)
    rows = fields.List(fields.Nested(CountsRowSchema))


class ScoreRowSchema(ma.Schema):
    rank = fields.Integer()
    organization_id = fields.Integer()
    organization_code = fields.String()
    organization_name = fields.String()
    assigned = fields.Integer()
    completed_on_time = fields.Integer()
    completed_late = fields.Integer()
    overdue = fields.Integer()
    in_progress = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    average_days_late = fields.Float(allow_none=True)
    evidence_rate = fields.Float(allow_none=True)


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
    organization_name = fields.String()
    previous_due_date = fields.Date(allow_none=True)
    new_due_date = fields.Date()
    reason = fields.String()
    decided_at = fields.DateTime()
    requested_at = fields.DateTime()


class PeriodicSchema(ma.Schema):
    organization = fields.Dict()
    period = fields.Dict()
    as_of = fields.Date()
    summary = fields.Nested(CountsRowSchema)
    rate_bases = fields.Dict()
    completed = fields.List(fields.Nested(ReportRowSchema))
    overdue = fields.List(fields.Nested(ReportRowSchema))
    completed_total = fields.Integer(metadata={"description": "How many completed items there are in all"})
    overdue_total = fields.Integer(metadata={"description": "How many overdue items there are in all"})
    list_limit = fields.Integer(allow_none=True, metadata={"description": "The lists hold at most this many rows (exports hold all)"})
    extensions_granted = fields.List(fields.Nested(ExtensionRowSchema))
    own_report = fields.Dict(metadata={"description": "Whether the organisation's own report for the period was on time"})


class AttentionSectionSchema(ma.Schema):
    count = fields.Integer()
    items = fields.List(fields.Nested(ReportRowSchema))
    within_days = fields.Integer()


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
