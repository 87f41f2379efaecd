import marshmallow as ma
from marshmallow import fields, validate

MAX_ID = 2**31 - 1


class PersonSchema(ma.Schema):
    """A user as others see them in histories and records."""

    id = fields.Integer()
    full_name = fields.String()


class Id(fields.Integer):
    """A row id in input: a positive 32-bit integer, so that no value overflows a database column."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)
