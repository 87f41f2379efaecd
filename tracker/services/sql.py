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


def _date_function(name: str, type_, postgresql: str, sqlite: str, doc: str):
    """A SQL function of one DATE column written per dialect: `postgresql` (the default) and `sqlite`
    are templates with `{0}` for the column."""
    function = type(name, (FunctionElement,), {"type": type_, "inherit_cache": True, "name": name, "__doc__": doc})

    def compiled(template: str):
        def compile_(element, compiler, **kw):
            (day,) = list(element.clauses)
            return template.format(compiler.process(day, **kw))
        return compile_

    compiles(function)(compiled(postgresql))
    compiles(function, "sqlite")(compiled(sqlite))
    return function


month_start = _date_function("month_start", Date(), "CAST(date_trunc('month', {0}) AS DATE)", "date({0}, 'start of month')",
                             "The first day of the month of a DATE column.")
year_of = _date_function("year_of", Integer(), "CAST(EXTRACT(YEAR FROM {0}) AS INTEGER)", "CAST(strftime('%Y', {0}) AS INTEGER)",
                         "The year of a DATE column, as an integer.")
month_of = _date_function("month_of", Integer(), "CAST(EXTRACT(MONTH FROM {0}) AS INTEGER)", "CAST(strftime('%m', {0}) AS INTEGER)",
                          "The month (1-12) of a DATE column, as an integer.")
