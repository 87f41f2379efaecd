"""Small SQL constructs that differ between SQLite and PostgreSQL."""

from sqlalchemy import Date, Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


class days_between(FunctionElement):  # noqa: N801 - reads like the SQL function it stands for
    """Whole days from `start` to `end` (end - start) for two DATE columns."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    end, start = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    end, start = list(element.clauses)
    return f"CAST(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}) AS INTEGER)"


class month_start(FunctionElement):  # noqa: N801
    """The first day of the month of a DATE column."""

    type = Date()
    inherit_cache = True
    name = "month_start"


@compiles(month_start)
def _month_start_default(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"CAST(date_trunc('month', {compiler.process(day, **kw)}) AS DATE)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, 'start of month')"


class year_of(FunctionElement):  # noqa: N801
    """The year of a DATE column, as an integer."""

    type = Integer()
    inherit_cache = True
    name = "year_of"


@compiles(year_of)
def _year_of_default(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"CAST(EXTRACT(YEAR FROM {compiler.process(day, **kw)}) AS INTEGER)"


@compiles(year_of, "sqlite")
def _year_of_sqlite(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"CAST(strftime('%Y', {compiler.process(day, **kw)}) AS INTEGER)"


class month_of(FunctionElement):  # noqa: N801
    """The month (1-12) of a DATE column, as an integer."""

    type = Integer()
    inherit_cache = True
    name = "month_of"


@compiles(month_of)
def _month_of_default(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"CAST(EXTRACT(MONTH FROM {compiler.process(day, **kw)}) AS INTEGER)"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"CAST(strftime('%m', {compiler.process(day, **kw)}) AS INTEGER)"
