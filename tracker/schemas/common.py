import datetime as dt

import marshmallow as ma
from marshmallow import fields, validate

from tracker.models.base import as_utc

MAX_ID = 2**31 - 1


def rfc3339_utc(moment: dt.datetime) -> str:
    """`2026-11-26T03:44:00.171317Z`: the instant in UTC, with its zone, as browsers parse it right.
    A naive value is UTC already (as the database keeps it)."""
    return as_utc(moment).replace(tzinfo=None).isoformat() + "Z"


class DateTime(fields.DateTime):
    """A moment in JSON: RFC 3339 in UTC with `Z` (OpenAPI `format: date-time`)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else rfc3339_utc(value)


class PersonSchema(ma.Schema):
    """A user as others see them in histories and records."""

    id = fields.Integer()
    full_name = fields.String()


class Id(fields.Integer):
    """A row id in input: a positive 32-bit integer, so that no value overflows a database column."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


def printable(value: str) -> bool:
    """Text shown to people: no control characters (tab and line breaks allowed)."""
    if any(ord(ch) < 32 and ch not in "\t\n\r" or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise validate.ValidationError("Không được chứa ký tự điều khiển. Control characters are not allowed.")
    return True


def single_line(value: str) -> bool:
    """Names: printable and on one line."""
    if "\n" in value or "\r" in value or "\t" in value:
        raise validate.ValidationError("Phải trên một dòng. Must be on one line.")
    return printable(value)
