import marshmallow as ma
from marshmallow import fields


class OrganizationSchema(ma.Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String()
    name = fields.String()
    short_name = fields.String(allow_none=True)
    kind = fields.String()
    parent_id = fields.Integer(allow_none=True)
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    successor_id = fields.Integer(allow_none=True)
    is_demo = fields.Boolean(metadata={"description": "Representative demo data, not named by a plan"})


class OrganizationQuerySchema(ma.Schema):
    parent_id = fields.Integer(
        metadata={"description": "Only the direct children of this organisation"},
    )
    roots = fields.Boolean(load_default=False, metadata={"description": "Only organisations without a parent"})
    kind = fields.String(metadata={"description": "Only this kind, e.g. `department`"})
    q = fields.String(validate=ma.validate.Length(min=1, max=100), metadata={"description": "Code or name contains"})
