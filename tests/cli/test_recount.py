"""`flask tracker recount [--check]`: the maintained tallies compared with a full count, and
counted again after the database was written past the app."""

from __future__ import annotations

from sqlalchemy import select

from tracker.models import Assignment
from tracker.services import tallies


def test_check_passes_on_tallies_kept_by_the_app(runner, session):
    result = runner.invoke(args=["tracker", "recount", "--check"])
    assert result.exit_code == 0, result.output
    assert "tallies exact" in result.output


def test_a_write_past_the_app_is_found_and_counted_again(runner, session):
    first = session.scalar(select(Assignment.id).where(Assignment.status != "cancelled").order_by(Assignment.id).limit(1))
    session.execute(Assignment.__table__.update().where(Assignment.__table__.c.id == first).values(status="cancelled"))
    session.commit()
    checked = runner.invoke(args=["tracker", "recount", "--check"])
    assert checked.exit_code == 1
    assert "tallies differ from a full count" in checked.output and "stored" in checked.output
    recounted = runner.invoke(args=["tracker", "recount"])
    assert recounted.exit_code == 0, recounted.output
    assert tallies.stored() == tallies.recount()
    assert runner.invoke(args=["tracker", "recount", "--check"]).exit_code == 0
