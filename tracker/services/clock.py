"""The one place that reads the clock: callers pass `today` on, so reports are reproducible."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app


def today(tz_name: str | None = None) -> dt.date:
    """Today's date in the plan's time zone (Asia/Ho_Chi_Minh unless configured otherwise)."""
    return dt.datetime.now(ZoneInfo(tz_name or current_app.config["TRACKER_TIMEZONE"])).date()
