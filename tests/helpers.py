"""Small helpers shared by tests."""

import datetime as dt
import re
from contextlib import contextmanager
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

import orjson
from flask import request
from sqlalchemy import event, func, select

from tracker.extensions import db
from tracker.models import Action, Assignment, AssignmentEvent, Indicator, IndicatorTarget, IndicatorUnit, Organization, Plan, TaskGroup

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = dt.datetime.now(HANOI).date()  # the day the run started, in the plan's time zone


def clock_held_to(day: dt.date) -> Callable[[], dt.datetime]:
    """An app clock (config `CLOCK`) that runs with the real one but never leaves `day` (Hanoi): a run
    that crosses midnight keeps the day its tests computed their dates from when they were collected."""
    last = dt.datetime.combine(day, dt.time.max, HANOI).astimezone(dt.UTC)
    return lambda: min(dt.datetime.now(dt.UTC), last)


MODELS = (Organization, Plan, TaskGroup, Action, Assignment, AssignmentEvent, Indicator, IndicatorTarget, IndicatorUnit)


def row_counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in MODELS}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"] and body["detail"]
    return body


def descendants(parents: dict[int, int | None], root: int) -> set[int]:
    """An organisation and all below it, from parent links, computed apart from the app's SQL."""
    found, grew = {root}, True
    while grew:
        grew = False
        for org_id, parent_id in parents.items():
            if parent_id in found and org_id not in found:
                found.add(org_id)
                grew = True
    return found


def memory_kib(pid: int) -> dict[str, int]:
    """A process's resident set size and its peak (VmRSS, VmHWM), in KiB, from /proc."""
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields


def reset_peak(pid: int) -> None:
    """Start a process's peak (VmHWM) afresh from its current RSS, so earlier peaks do not count."""
    with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as control:
        control.write("5")
    status = memory_kib(pid)
    assert status["VmHWM"] - status["VmRSS"] < 1024, status


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}")
_ZONE = re.compile(r"(?:[Zz]|[+-]\d{2}:\d{2})$")
_JSON_MEDIA_TYPES = {"application/json", "application/problem+json"}


def naive_date_times(value, path: str = "$") -> Iterator[tuple[str, str]]:
    """(path, value) of every string in a JSON document that is a date-time without `Z` or an offset."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from naive_date_times(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from naive_date_times(item, f"{path}[{index}]")
    elif isinstance(value, str) and _DATE_TIME.match(value) and not _ZONE.search(value):
        yield path, value


def date_times_without_zone(response) -> list[str]:
    """What a finished response would tell a browser wrongly: date-times in its JSON body with no
    zone, as "GET /path: $.a.b = value". Streamed bodies are not read (that would consume them)."""
    if response.mimetype not in _JSON_MEDIA_TYPES or response.is_streamed or response.direct_passthrough:
        return []
    try:
        document = orjson.loads(response.get_data())
    except orjson.JSONDecodeError:
        return []
    return [f"{request.method} {request.full_path.rstrip('?')}: {path} = {value!r}" for path, value in naive_date_times(document)]


@contextmanager
def counting(app, ignore: tuple[str, ...] = ("BEGIN",)):
    """Every statement the app's engine sends while the block runs, except those starting with one
    of `ignore` (SQLite's BEGIN by default; tests inside the rolled-back transaction add SAVEPOINT…)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(ignore):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
