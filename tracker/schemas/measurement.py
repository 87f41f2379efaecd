import math

import marshmallow as ma
from marshmallow import ValidationError, fields, validate

from tracker.domain.measurements import Decision, MeasurementStatus
from tracker.schemas.common import DateTime, Id, MultiValue, PersonSchema, printable, required_when


class Number(fields.Float):
    """A JSON number, finite: a string such as "12", a boolean, NaN or infinity is refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Phải là một số. Must be a number.")
        try:
            number = float(value)
        except OverflowError:
            raise ValidationError("Số quá lớn. The number is too large.") from None
        if not math.isfinite(number):
            raise ValidationError("Phải là số hữu hạn. Must be a finite number.")
        return number


def _not_blank(value: str) -> bool:
    if not value.strip():
        raise ValidationError("Không được để trống. Must not be blank.")
    return printable(value)


class MeasurementCreateSchema(ma.Schema):
    organization_id = Id(allow_none=True, metadata={
        "description": "A reporting unit of the indicator; default: the caller's, when they report for exactly one"})
    measured_on = fields.Date(required=True, metadata={"description": "The day the value describes; not in the future"})
    value = Number(allow_none=True, metadata={
        "description": "The value (0–100 when the unit is %); a milestone's is 0 or 1"})
    numerator = Number(allow_none=True, metadata={"description": "A rate by its parts, so that it rolls up (with `denominator`)"})
    denominator = Number(allow_none=True, metadata={"description": "Above 0"})
    done = fields.Boolean(allow_none=True, truthy={True}, falsy={False},
                          metadata={"description": "A milestone: done (true) or not (false), instead of `value`"})
    source = fields.String(required=True, validate=[validate.Length(min=1, max=2000), _not_blank], metadata={
        "description": "Where the figure comes from: a statistics report, a system's figures…"})
    note = fields.String(allow_none=True, validate=[validate.Length(max=4000), printable])
    corrects = Id(allow_none=True, metadata={
        "description": "An earlier measurement of the same indicator and unit that this one corrects (it stays in the history)"})


class MeasurementQuerySchema(ma.Schema):
    organization_id = MultiValue(Id(), metadata={"description": "The reporting organisation"})
    status = MultiValue(fields.String(validate=validate.OneOf([s.value for s in MeasurementStatus])))


class MeasurementDecisionSchema(ma.Schema):
    class Meta:
        json_schema = required_when("decision", [Decision.RETURN.value], "note")

    decision = fields.String(required=True, validate=validate.OneOf([d.value for d in Decision]))
    note = fields.String(allow_none=True, validate=[validate.Length(max=4000), printable],
                         metadata={"description": "Required to return"})


class MeasurementEvidenceSchema(ma.Schema):
    id = fields.Integer()
    measurement_id = fields.Integer()
    original_name = fields.String(metadata={"description": "The uploaded file's name, for display only"})
    media_type = fields.String(metadata={"description": "Detected from the content, not from the client"})
    size = fields.Integer()
    sha256 = fields.String()
    uploaded_by = fields.Nested(PersonSchema)
    uploaded_at = DateTime()


class MeasurementOrganizationSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class MeasurementSchema(ma.Schema):
    id = fields.Integer()
    indicator_id = fields.Integer()
    organization = fields.Nested(MeasurementOrganizationSchema)
    measured_on = fields.Date()
    value = fields.Float(allow_none=True)
    numerator = fields.Float(allow_none=True)
    denominator = fields.Float(allow_none=True)
    effective_value = fields.Float(allow_none=True, metadata={"description": "`value`, or numerator / denominator × 100"})
    source = fields.String()
    note = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf([s.value for s in MeasurementStatus]),
                           metadata={"description": "submitted, accepted or returned; only accepted ones count"})
    corrects_id = fields.Integer(allow_none=True, metadata={"description": "The measurement this one corrects"})
    recorded_by = fields.Nested(PersonSchema)
    recorded_at = DateTime()
    decided_by = fields.Nested(PersonSchema, allow_none=True)
    decided_at = DateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)
    evidence = fields.List(fields.Nested(MeasurementEvidenceSchema))
