import datetime as dt
import re

import marshmallow as ma
from marshmallow import fields, validate

from tracker.i18n import labelled
from tracker.models.base import as_utc

MAX_ID = 2**31 - 1
MAX_VALUES = 100  # values of one multi-value filter: enough for any screen, bounded for the database


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
    """A row id in input: a positive 32-bit integer, so that no value overflows a database column.
    In a query string also written with a zero fraction (`7.0`): JSON Schema, which the OpenAPI
    document speaks, counts 7.0 as the integer 7, and so do the clients it generates."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _ZERO_FRACTION.fullmatch(value):
            value = value.split(".", 1)[0]
        return super()._deserialize(value, attr, data, **kwargs)


_ZERO_FRACTION = re.compile(r"[0-9]+\.0+")


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


# The same rules as JSON Schema patterns (ECMA-262: `$` is the end of the text), so that the
# OpenAPI document says which characters a field takes (tracker.web documents a validator's
# `json_schema`).
printable.json_schema = {"pattern": "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$"}
single_line.json_schema = {"pattern": "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"}


def required_when(member: str, values: list[str], needed: str) -> dict:
    """A rule between two members of a body, as JSON Schema (`Meta.json_schema`, documented by
    tracker.web): `needed` is required, as text that is not blank (not all `str.isspace`), when
    `member` is one of `values`."""
    return {"if": {"properties": {member: {"enum": list(values)}}, "required": [member]},
            "then": {"properties": {needed: {"type": "string", "pattern": NOT_BLANK}}, "required": [needed]}}


# A character that is not white space, to Python (str.strip) and to ECMA-262 (`\s` lacks U+001C-U+001F, U+0085).
NOT_BLANK = "[^\\s\\u001C-\\u001F\\u0085]"


class MultiValue(fields.List):
    """A query filter that takes one value or several: the parameter repeated (`status=a&status=b`),
    its values separated by commas (`status=a,b`), or both; a row matches any of them. Loads as a
    list without duplicates, in the order given. Empty items (`a,,b`, a trailing comma) are
    dropped; no value at all, more than `max_values` values, or an invalid one is a 422 naming the
    field, with the inner field's message (prefixed by the value when several were given).

    Documented as an OpenAPI array parameter (`style: form`, `explode: true`: the parameter
    repeated), the comma form in its description."""

    is_multiple = True  # webargs: every occurrence of the parameter, not the first

    def __init__(self, inner: fields.Field, *, max_values: int = MAX_VALUES, **kwargs):
        # Length documents minItems/maxItems; _deserialize checks the count before loading any value.
        kwargs.setdefault("validate", validate.Length(min=1, max=max_values))
        super().__init__(inner, **kwargs)
        self.max_values = max_values
        self._description = self.metadata.get("description")

    def _examples(self) -> tuple[str, str]:
        """Two values to show the forms with: the first two choices of an enumeration, else 1 and 2."""
        choices = next((list(v.choices) for v in self.inner.validators if isinstance(v, validate.OneOf)), [])
        return (str(choices[0]), str(choices[1])) if len(choices) > 1 else ("1", "2")

    def _bind_to_schema(self, field_name, parent):
        super()._bind_to_schema(field_name, parent)
        name = self.data_key or field_name
        a, b = self._examples()
        how = (f"One value or several: repeat the parameter (`{name}={a}&{name}={b}`) or separate the values with commas "
               f"(`{name}={a},{b}`), or both; matches any of them. At most {self.max_values} values.")
        self.metadata = {**self.metadata, "description": f"{self._description.rstrip('.')}. {how}" if self._description else how}

    def _deserialize(self, value, attr, data, **kwargs) -> list:
        parts = value if isinstance(value, (list, tuple)) else [value]
        items = []
        for part in parts:
            # Query strings are text; a value loaded from Python (a single id, say) is one item.
            items.extend((item.strip() for item in part.split(",")) if isinstance(part, str) else [part])
        items = [item for item in items if item not in ("", None)]
        if not items:
            raise ma.ValidationError("Cần ít nhất một giá trị; bỏ tham số này nếu không lọc. "
                                     "At least one value is needed; leave the parameter out not to filter.")
        if len(items) > self.max_values:
            raise ma.ValidationError(f"Tối đa {self.max_values} giá trị. At most {self.max_values} values.")
        distinct = list(dict.fromkeys(items))
        loaded, messages = [], []
        for item in distinct:
            try:
                loaded.append(self.inner.deserialize(item, **kwargs))
            except ma.ValidationError as error:
                found = error.messages if isinstance(error.messages, list) else [str(error.messages)]
                shown = str(item) if len(str(item)) <= 40 else f"{str(item)[:40]}…"
                messages.extend(found if len(distinct) == 1 else [labelled(shown, message) for message in found])
        if messages:
            raise ma.ValidationError(messages)
        return list(dict.fromkeys(loaded))

