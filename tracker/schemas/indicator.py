import marshmallow as ma
from marshmallow import fields, validate

from tracker.domain.indicators import Direction, Kind, Rollup, Status
from tracker.schemas.common import Id, MultiValue

# A section (II) or an item of it (II.1, III.5.1): the filter finds the item and those below it.
SOURCE_PATTERN = r"^[IVX]+(?:\.[1-9][0-9]{0,2}){0,4}\Z"


class IndicatorQuerySchema(ma.Schema):
    plan_id = MultiValue(Id())
    organization_id = MultiValue(Id(), metadata={"description": "Indicators this organisation reports"})
    include_descendants = fields.Boolean(load_default=False, metadata={"description": "With organization_id: reported by it or any unit below it"})
    status = MultiValue(fields.String(validate=validate.OneOf([s.value for s in Status])), metadata={"description": "The status as of `as_of`"})
    source = fields.String(validate=validate.Regexp(SOURCE_PATTERN, error="Mã mục không hợp lệ (ví dụ II, II.1, III.5.1). Invalid ref (e.g. II, II.1)."),
                           metadata={"description": "The plan item, with the items below it: II finds II.1 and II.2"})
    as_of = fields.Date(metadata={"description": "Judge the status as of this date (default: today in Asia/Ho_Chi_Minh)"})


class IndicatorAsOfSchema(ma.Schema):
    as_of = fields.Date(metadata={"description": "Judge the status as of this date (default: today in Asia/Ho_Chi_Minh)"})


class BaselineSchema(ma.Schema):
    value = fields.Float(attribute="baseline_value")
    date = fields.Date(attribute="baseline_date")
    source = fields.String(attribute="baseline_source", allow_none=True)


class IndicatorTargetSchema(ma.Schema):
    date = fields.Date(attribute="target_date", metadata={"description": "The last day to reach the value"})
    value = fields.Float(metadata={"description": "A milestone's target is 1 (done)"})


class IndicatorReportingSchema(ma.Schema):
    month = fields.Integer(attribute="report_month")
    day = fields.Integer(attribute="report_day")
    bound = fields.String(attribute="report_bound", metadata={
        "description": "before: the written day is the first day too late (default: yearly, before 01/12); by: the last permitted day"})


class IndicatorUnitSchema(ma.Schema):
    id = fields.Integer(attribute="organization.id")
    code = fields.String(attribute="organization.code")
    name = fields.String(attribute="organization.name")


class IndicatorPointSchema(ma.Schema):
    measured_on = fields.Date(metadata={"description": "The day the value describes"})
    value = fields.Float()


class IndicatorApplicableTargetSchema(ma.Schema):
    date = fields.Date()
    value = fields.Float()


class StatusLabelSchema(ma.Schema):
    vi = fields.String()
    en = fields.String()


class IndicatorSchema(ma.Schema):
    id = fields.Integer(attribute="indicator.id")
    plan_id = fields.Integer(attribute="indicator.plan_id")
    code = fields.String(attribute="indicator.code", metadata={"description": "Unique in its plan, e.g. CT-01"})
    name = fields.String(attribute="indicator.name")
    unit = fields.String(attribute="indicator.unit", metadata={"description": "What the values count, e.g. %"})
    kind = fields.String(attribute="indicator.kind", validate=validate.OneOf([k.value for k in Kind]),
                         metadata={"description": "numeric, or milestone (1 = done)"})
    direction = fields.String(attribute="indicator.direction", validate=validate.OneOf([d.value for d in Direction]), metadata={
        "description": "at_least (≥), more_than (>), at_most (≤), less_than (<), exactly, keep_above, keep_below"})
    source_ref = fields.String(attribute="indicator.source_ref", metadata={"description": "The plan item, e.g. II.1, III.5.1"})
    action_id = fields.Integer(attribute="indicator.action_id", allow_none=True, metadata={"description": "The action it belongs to, if any"})
    action_ref = fields.Function(lambda view: view.indicator.action.ref if view.indicator.action else None, allow_none=True,
                                 metadata={"returns": fields.String(allow_none=True)})
    baseline = fields.Function(
        lambda view: BaselineSchema().dump(view.indicator) if view.indicator.baseline_value is not None else None, allow_none=True,
        metadata={"returns": fields.Nested(BaselineSchema, allow_none=True)})
    targets = fields.List(fields.Nested(IndicatorTargetSchema), attribute="indicator.targets", metadata={
        "description": "Every dated target, earliest first"})
    units = fields.List(fields.Nested(IndicatorUnitSchema), attribute="indicator.units", metadata={"description": "The reporting organisations"})
    rollup = fields.String(attribute="indicator.rollup", validate=validate.OneOf([r.value for r in Rollup]), metadata={
        "description": "How the units' values make one: sum, mean, weighted_mean (Σ numerators / Σ denominators), none (one unit)"})
    reporting = fields.Nested(IndicatorReportingSchema, attribute="indicator", metadata={"description": "The yearly reporting day"})
    note = fields.String(attribute="indicator.note", allow_none=True)
    as_of = fields.Date()
    status = fields.Function(lambda view: view.standing.status.value, metadata={
        "description": "As of `as_of`: achieved, on_track, at_risk, off_track, no_data",
        "returns": fields.String(validate=validate.OneOf([s.value for s in Status]))})
    status_label = fields.Nested(StatusLabelSchema)
    latest = fields.Nested(IndicatorPointSchema, attribute="standing.latest", allow_none=True,
                           metadata={"description": "The latest accepted value on or before `as_of`, rolled up across the units"})
    target = fields.Nested(IndicatorApplicableTargetSchema, attribute="standing.target", allow_none=True, metadata={"description": "The target that applies on `as_of`"})
    expected = fields.Float(attribute="standing.expected", allow_none=True, metadata={
        "description": "The value expected on `as_of` on the straight line from the baseline to the target"})
    progress = fields.Float(attribute="standing.progress", allow_none=True, metadata={
        "description": "Share of the way from the baseline to the target (0–1, may exceed 1)"})
    overdue_measurement = fields.Boolean(attribute="standing.overdue_measurement", metadata={
        "description": "A yearly reporting day has passed without an accepted value for its year"})
    last_report_due = fields.Date(attribute="standing.last_due", allow_none=True, metadata={
        "description": "The latest reporting due date (last permitted day) on or before `as_of`"})


class IndicatorDetailSchema(IndicatorSchema):
    series = fields.List(fields.Nested(IndicatorPointSchema), metadata={
        "description": "Accepted values by date up to `as_of`, rolled up across the units with the indicator's roll-up rule"})
