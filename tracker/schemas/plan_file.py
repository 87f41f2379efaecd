"""The plan file format `tracker-plan/1` (YAML or JSON), as marshmallow schemas.

The format is documented in README.md ("Importing a plan"). Unknown keys are errors,
except top-level keys starting with `x-`, which are free for YAML anchors and notes.
"""

import unicodedata

import marshmallow as ma
from marshmallow import fields, validate

from tracker.domain.indicators import Direction, Kind, Rollup
from tracker.domain.plans import BOUNDS, ORG_CODE_PATTERN, REF_PATTERN, REPORT_PERIODS, valid_month_day
from tracker.domain.vocabulary import OrganizationKind

FORMAT_VERSION = "tracker-plan/1"

class NfcString(fields.String):
    """Vietnamese text is stored composed (NFC), whatever the editor produced."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return unicodedata.normalize("NFC", text).strip()


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class ParentPlanSchema(StrictSchema):
    code = NfcString(required=True, validate=validate.Length(min=1, max=64))
    issuer = fields.String(required=True, validate=validate.Regexp(ORG_CODE_PATTERN))
    issue_date = fields.Date(required=True)
    title = NfcString(required=True, validate=validate.Length(min=1, max=2000))


class PlanMetaSchema(StrictSchema):
    code = NfcString(required=True, validate=validate.Length(min=1, max=64))
    title = NfcString(required=True, validate=validate.Length(min=1, max=2000))
    issuer = fields.String(required=True, validate=validate.Regexp(ORG_CODE_PATTERN))
    issue_date = fields.Date(required=True)
    legal_basis = NfcString(load_default=None, validate=validate.Length(max=2000))
    timezone = fields.String(load_default="Asia/Ho_Chi_Minh", validate=validate.OneOf(["Asia/Ho_Chi_Minh", "Asia/Bangkok", "UTC"]))
    parent = fields.Nested(ParentPlanSchema, load_default=None)


class OrganizationEntrySchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(ORG_CODE_PATTERN, error="Mã đơn vị chỉ gồm A-Z, 0-9 và '-'. Organisation codes use A-Z, 0-9 and '-'."))
    name = NfcString(required=True, validate=validate.Length(min=1, max=255))
    short_name = NfcString(load_default=None, validate=validate.Length(max=120))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in OrganizationKind]))
    parent = fields.String(load_default=None, allow_none=True)
    demo = fields.Boolean(load_default=False)


class RecurrenceSchema(StrictSchema):
    month = fields.Integer(required=True, validate=validate.Range(1, 12))
    day = fields.Integer(required=True, validate=validate.Range(1, 31))
    from_year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    until_year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    bound = fields.String(load_default="by", validate=validate.OneOf(BOUNDS), metadata={
        "description": "by: the written day is the last permitted day (default); before: it is the first day too late "
                       "(\"trước ngày 10/6\": due 09/06)"})

    @ma.validates_schema
    def _check(self, data, **kwargs):
        if not valid_month_day(data["month"], data["day"]):
            raise ma.ValidationError("Ngày không tồn tại trong tháng. No such day in that month.", "day")
        if data["from_year"] > data["until_year"]:
            raise ma.ValidationError("from_year phải ≤ until_year. from_year must not be after until_year.", "until_year")


class ActionEntrySchema(StrictSchema):
    ref = fields.String(required=True, validate=validate.Regexp(REF_PATTERN, error="Mã mục không hợp lệ (ví dụ III.3.2). Invalid ref (e.g. III.3.2)."))
    text = NfcString(required=True, validate=validate.Length(min=1, max=10000))
    title = NfcString(load_default=None, validate=validate.Length(max=255))
    expected_output = NfcString(load_default=None, validate=validate.Length(max=255))
    requires_evidence = fields.Boolean(load_default=True)
    due_date = fields.Date(load_default=None)  # the last permitted day ("by 30/6/2025")
    due_before = fields.Date(load_default=None)  # the first day too late ("trước ngày 10/6/2025")
    due_text = NfcString(load_default=None, validate=validate.Length(max=255))  # the source's wording
    recurrence = fields.Nested(RecurrenceSchema, load_default=None)
    report = fields.String(load_default=None, validate=validate.OneOf(REPORT_PERIODS))  # own periodic report duty
    lead = fields.List(fields.String(), load_default=list, validate=validate.Length(max=2000))
    coordinating = fields.List(fields.String(), load_default=list, validate=validate.Length(max=2000))

    @ma.validates_schema
    def _check(self, data, **kwargs):
        if data.get("due_date") and data.get("due_before"):
            raise ma.ValidationError("Chỉ dùng một trong due_date (hạn cuối) và due_before (trước ngày). "
                                     "Use due_date (the last day) or due_before (the first day too late), not both.", "due_before")
        if (data.get("due_date") or data.get("due_before")) and data.get("recurrence"):
            raise ma.ValidationError("Chỉ dùng một trong due_date/due_before và recurrence. Use a date or recurrence, not both.", "recurrence")
        if data.get("report") and not data.get("recurrence"):
            raise ma.ValidationError("Nhiệm vụ báo cáo định kỳ cần recurrence. A periodic report duty needs a recurrence.", "report")


class GroupEntrySchema(StrictSchema):
    number = fields.Integer(required=True, validate=validate.Range(1, 99))
    title = NfcString(required=True, validate=validate.Length(min=1, max=2000))
    actions = fields.List(fields.Nested(ActionEntrySchema), load_default=list)


INDICATOR_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9.-]{0,31}\Z"


class BaselineSchema(StrictSchema):
    value = fields.Float(required=True, allow_nan=False)
    date = fields.Date(required=True)
    source = NfcString(load_default=None, validate=validate.Length(max=2000))


class IndicatorTargetEntrySchema(StrictSchema):
    date = fields.Date(required=True)
    value = fields.Float(required=True, allow_nan=False)


class ReportingSchema(StrictSchema):
    """When each unit reports its value: yearly, on a written day with its bound."""

    month = fields.Integer(load_default=12, validate=validate.Range(1, 12))
    day = fields.Integer(load_default=1, validate=validate.Range(1, 31))
    bound = fields.String(load_default="before", validate=validate.OneOf(BOUNDS))

    @ma.validates_schema
    def _check(self, data, **kwargs):
        if not valid_month_day(data["month"], data["day"]):
            raise ma.ValidationError("Ngày không tồn tại trong tháng. No such day in that month.", "day")


class IndicatorEntrySchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(
        INDICATOR_CODE_PATTERN, error="Mã chỉ tiêu chỉ gồm A-Z, 0-9, '.' và '-' (ví dụ CT-01). Indicator codes use A-Z, 0-9, '.' and '-'."))
    name = NfcString(required=True, validate=validate.Length(min=1, max=2000))
    unit = NfcString(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(load_default=Kind.NUMERIC.value, validate=validate.OneOf([k.value for k in Kind]))
    direction = fields.String(required=True, validate=validate.OneOf([d.value for d in Direction]))
    source = fields.String(required=True, validate=validate.Regexp(REF_PATTERN, error="Mã mục không hợp lệ (ví dụ II.1, III.5.1). Invalid ref (e.g. II.1)."),
                           metadata={"description": "The plan item the indicator comes from; linked to the action of that ref when there is one"})
    action = fields.String(load_default=None, validate=validate.Regexp(REF_PATTERN, error="Mã mục không hợp lệ (ví dụ III.5.1.1). Invalid ref."),
                           metadata={"description": "The action to link when it is not `source` itself (e.g. a split: III.5.1.1)"})
    baseline = fields.Nested(BaselineSchema, load_default=None)
    targets = fields.List(fields.Nested(IndicatorTargetEntrySchema), required=True, validate=validate.Length(
        min=1, max=200, error="Cần ít nhất một chỉ tiêu có hạn (targets). At least one dated target is needed."))
    units = fields.List(fields.String(), required=True, validate=validate.Length(
        min=1, max=5000, error="Cần ít nhất một đơn vị báo cáo. At least one reporting unit is needed."))
    rollup = fields.String(load_default=Rollup.NONE.value, validate=validate.OneOf([r.value for r in Rollup]))
    reporting = fields.Nested(ReportingSchema, load_default=lambda: {"month": 12, "day": 1, "bound": "before"})
    note = NfcString(load_default=None, validate=validate.Length(max=4000))


class PlanFileSchema(StrictSchema):
    format = fields.String(required=True, validate=validate.Equal(FORMAT_VERSION, error=f"Định dạng phải là {FORMAT_VERSION}. Must be {FORMAT_VERSION}."))
    plan = fields.Nested(PlanMetaSchema, required=True)
    organizations = fields.List(fields.Nested(OrganizationEntrySchema), load_default=list)
    groups = fields.List(fields.Nested(GroupEntrySchema), load_default=list)
    duties = fields.List(fields.Nested(ActionEntrySchema), load_default=list)
    indicators = fields.List(fields.Nested(IndicatorEntrySchema), load_default=list)

    @ma.pre_load
    def _drop_extensions(self, data, **kwargs):
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if not (isinstance(key, str) and key.startswith("x-"))}
        return data
