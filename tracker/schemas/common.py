import marshmallow as ma
from marshmallow import fields


class PersonSchema(ma.Schema):
    """A user as others see them in histories and records."""

    id = fields.Integer()
    full_name = fields.String()
