import marshmallow as ma
from marshmallow import fields, validate

from tracker.domain.plans import REPORT_PERIODS


class PlanRefSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    issue_date = fields.Date()


class PlanSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(metadata={"description": "Số, ký hiệu, e.g. 386-KH/TU"})
    title = fields.String()
    issue_date = fields.Date()
    issuer_id = fields.Integer()
    issuer_code = fields.String(attribute="issuer.code")
    issuer_name = fields.String(attribute="issuer.name")
    legal_basis = fields.String(allow_none=True)
    parent_plan = fields.Nested(PlanRefSchema, allow_none=True)
    timezone = fields.String()


class RecurrenceSchema(ma.Schema):
    month = fields.Integer(attribute="recurrence_month")
    day = fields.Integer(attribute="recurrence_day")
    from_year = fields.Integer(attribute="recurrence_from_year")
    until_year = fields.Integer(attribute="recurrence_until_year")
    bound = fields.Function(lambda action: action.recurrence_bound or "by", metadata={
        "description": "by: the written day is the last permitted day; before: the day before it is (\"trước ngày 10/6\")",
        "returns": fields.String(validate=validate.OneOf(["by", "before"]))})


class ActionSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    ref = fields.String(metadata={"description": "Traceability to the plan's item, e.g. III.3.2"})
    section = fields.String()
    parent_id = fields.Integer(allow_none=True)
    title = fields.String(allow_none=True)
    text = fields.String()
    expected_output = fields.String(allow_none=True)
    requires_evidence = fields.Boolean()
    due_date = fields.Date(allow_none=True, metadata={"description": "The last permitted day (\"trước ngày 10/6\" is 09/06)"})
    due_text = fields.String(allow_none=True, metadata={"description": "The deadline as the plan words it, e.g. \"trước ngày 10/6\", \"hằng năm\""})
    recurrence = fields.Method("_recurrence", metadata={"description": "Yearly due date (month, day as written, and bound), or null",
                                                        "returns": fields.Nested(RecurrenceSchema, allow_none=True)})
    report_period = fields.String(allow_none=True, validate=validate.OneOf(REPORT_PERIODS),
                                  metadata={"description": "six_month or annual: the organisation's own periodic report duty, else null"})

    def _recurrence(self, action):
        return RecurrenceSchema().dump(action) if action.is_recurring else None


class UnitRefSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class PlanActionSchema(ActionSchema):
    """An action in its plan, with who leads it and who coordinates (from its live assignments)."""

    lead = fields.List(fields.Nested(UnitRefSchema), attribute="lead_units", metadata={"description": "Chủ trì"})
    coordinating = fields.List(fields.Nested(UnitRefSchema), attribute="coordinating_units", metadata={"description": "Phối hợp"})


class TaskGroupSchema(ma.Schema):
    id = fields.Integer()
    number = fields.Integer()
    title = fields.String()
    actions = fields.List(fields.Nested(PlanActionSchema))


class PlanDetailSchema(PlanSchema):
    groups = fields.List(fields.Nested(TaskGroupSchema), metadata={"description": "Section III task groups, 1..n"})
    duties = fields.List(fields.Nested(PlanActionSchema), metadata={"description": "Section IV duties (tổ chức thực hiện)"})


class TallySchema(ma.Schema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()


class ImportResultSchema(ma.Schema):
    plan = fields.Nested(PlanSchema)
    plan_outcome = fields.String(metadata={"description": "created, updated or unchanged"})
    organizations = fields.Nested(TallySchema)
    groups = fields.Nested(TallySchema)
    actions = fields.Nested(TallySchema)
    assignments = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "created, kept"})
    actions_not_in_file = fields.List(fields.String(), metadata={"description": "Refs kept from an earlier import but absent from this file"})
    indicators = fields.Nested(TallySchema)
    indicators_not_in_file = fields.List(fields.String(), metadata={"description": "Indicator codes kept from an earlier import but absent from this file"})
