import datetime as dt

from sqlalchemy import Date, Integer, String
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
