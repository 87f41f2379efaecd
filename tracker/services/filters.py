"""The values of a list filter: one value or several (any of them), as the query schemas load them."""

from __future__ import annotations

from sqlalchemy import ColumnElement

FilterValues = int | str | list | tuple | None


def filter_values(value: FilterValues) -> list | None:
    """A filter's values as a list, None for no filter: the lists the query schemas load
    (`MultiValue`), or the single value of callers inside the app (snapshots, periodic reports)."""
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]


def any_of(column, values: list) -> ColumnElement[bool]:
    """`column = v` for one value (the statement as before multi-value filters), else `column IN (...)`."""
    return column == values[0] if len(values) == 1 else column.in_(values)
