import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.extensions import db


class AssignmentTally(db.Model):
    """How many assignments each organisation's scope holds, by state and due date: maintained in
    the same transaction as every change (tracker.services.tallies), so that list totals and
    summaries are exact without counting a million rows. Never edited by hand; `flask tracker
    recount` rebuilds it from the assignments."""

    __tablename__ = "assignment_tally"

    # The organisation whose scope is counted (itself, its subtree and the units it took over from);
    # 0 counts every assignment.
    node_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # open / on_time / late / cancelled (tracker.services.tallies.state_of)
    state: Mapped[str] = mapped_column(String(12), primary_key=True)
    # The due date; 9999-12-31 for work without one.
    due_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class AssignmentTallyMonth(db.Model):
    """The tallies of `AssignmentTally` by due month: open work by the first day of its due month,
    other states in one row each (their class does not depend on the day), so that a level of the
    tree or a search sums a few dozen rows per node instead of one per due day. Derived from the
    day tallies and kept with them (tracker.services.tallies); the day rows still answer for the
    month of the day asked about."""

    __tablename__ = "assignment_tally_month"

    node_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(12), primary_key=True)
    # The first day of the due month for open work; 9999-12-31 for work with no due date and for every other state.
    due_month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


# open_by_MM: open work due from January to the end of month MM (cumulative: a scorecard reads one column).
OPEN_BY_MONTH = tuple(f"open_by_{month:02d}" for month in range(1, 13))


class UnitYearTally(db.Model):
    """Each organisation's own work due in a year (not its subtree's): completed on time, late, and
    still open by due month. One row per unit and year, so that a scorecard ranks ten thousand
    units from ten thousand rows; open work is counted cumulatively by due month (`OPEN_BY_MONTH`),
    so that the work overdue by a month's start is one column. Kept in the same transaction as every
    change (tracker.services.tallies); cancelled work and work with no due date are not counted."""

    __tablename__ = "unit_year_tally"

    organization_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)
    open_by_01: Mapped[int] = mapped_column(Integer, default=0)
    open_by_02: Mapped[int] = mapped_column(Integer, default=0)
    open_by_03: Mapped[int] = mapped_column(Integer, default=0)
    open_by_04: Mapped[int] = mapped_column(Integer, default=0)
    open_by_05: Mapped[int] = mapped_column(Integer, default=0)
    open_by_06: Mapped[int] = mapped_column(Integer, default=0)
    open_by_07: Mapped[int] = mapped_column(Integer, default=0)
    open_by_08: Mapped[int] = mapped_column(Integer, default=0)
    open_by_09: Mapped[int] = mapped_column(Integer, default=0)
    open_by_10: Mapped[int] = mapped_column(Integer, default=0)
    open_by_11: Mapped[int] = mapped_column(Integer, default=0)
    open_by_12: Mapped[int] = mapped_column(Integer, default=0)


class NoteSearch(db.Model):
    """The assignments with a note, narrow: what a search's total needs to count the work matching
    by its note alone (its folded note, action, unit and tally state) in a few pages instead of one
    page of the assignments per row. Kept in the same transaction as every change
    (tracker.services.tallies); PostgreSQL finds the rows through a trigram index on `search_key`."""

    __tablename__ = "note_search"

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    action_id: Mapped[int] = mapped_column(Integer)
    organization_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))
    due_on: Mapped[dt.date] = mapped_column(Date)
    search_key: Mapped[str] = mapped_column(Text)
