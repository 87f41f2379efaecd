import marshmallow as ma
from marshmallow import fields, validate

from tracker.domain.vocabulary import Status


class ActionRefSchema(ma.Schema):
    id = fields.Integer()
    ref = fields.String()
    title = fields.String(allow_none=True)
    plan_id = fields.Integer()


class OrganizationRefSchema(ma.Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class AssignmentSchema(ma.Schema):
    id = fields.Integer()
    action = fields.Nested(ActionRefSchema)
    organization = fields.Nested(OrganizationRefSchema)
    role = fields.String(metadata={"description": "lead (chủ trì) or coordinating (phối hợp)"})
    cycle = fields.Integer(metadata={"description": "0 for a one-off action, else the year of a yearly duty"})
    owner_id = fields.Integer(allow_none=True)
    original_due_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    status = fields.String()
    progress = fields.Integer()
    completed_on = fields.Date(allow_none=True)
    version = fields.Integer()


class AssignmentQuerySchema(ma.Schema):
    organization_id = fields.Integer()
    plan_id = fields.Integer()
    status = fields.String(validate=validate.OneOf([s.value for s in Status]))
