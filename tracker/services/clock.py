"""The one place that reads the clock: callers pass `today` on, so reports are reproducible."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> dt.datetime:
    """The current moment, in UTC. Tests replace it by setting `CLOCK` in the app's config to a
    function returning the moment they want, so that nothing depends on how fast the machine is."""
    clock = current_app.config.get("CLOCK")
    return clock() if clock is not None else dt.datetime.now(dt.UTC)


def today(tz_name: str | None = None) -> dt.date:
    """Today's date in the plan's time zone (Asia/Ho_Chi_Minh unless configured otherwise), read from
    `now()`, so that a test which fixes the clock fixes the day as well."""
    return now().astimezone(ZoneInfo(tz_name or current_app.config["TRACKER_TIMEZONE"])).date()
