"""Column helpers shared by the models."""

import datetime as dt

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """The same instant in UTC; a naive value is taken to be UTC already."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class UtcDateTime(TypeDecorator):
    """A moment, stored as UTC and always read back as an aware UTC datetime: SQLite keeps no zone
    and returns naive values, PostgreSQL returns them in the session's zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return as_utc(value) if isinstance(value, dt.datetime) else value

    def process_result_value(self, value, dialect):
        return as_utc(value) if isinstance(value, dt.datetime) else value


class Timestamped:
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
