"""The migrations build the schema the models describe, on this run's database engine, and
`downgrade base` followed by `upgrade` works."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select

from tests.conftest import MIGRATIONS, fresh_database
from tracker import create_app
from tracker.cli import bundled_plan
from tracker.extensions import _in_models, db
from tracker.models import Assignment, Organization
from tracker.services import plan_import, tallies

TABLES = {
    "organization", "plan", "task_group", "action", "assignment", "assignment_event", "alembic_version",
    "user_account", "membership", "auth_session", "sign_in", "evidence",
}


@pytest.fixture
def scratch_app(database_url, tmp_path):
    url = fresh_database(database_url, tmp_path, "migrations")
    app = create_app({"TRACKER_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.no_transaction
def test_upgrade_downgrade_upgrade_with_data(scratch_app):
    """Each migration runs over a populated database too (SQLite rebuilds tables in batch mode):
    load the plan at the head, go down to the first revision and back up, then down to empty."""
    with scratch_app.app_context():
        upgrade(directory=MIGRATIONS)
        plan_import.import_plan(plan_import.validate_plan_file(plan_import.parse_plan_file(bundled_plan(), "yaml")))
        db.session.commit()
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0001")
        upgrade(directory=MIGRATIONS)
        assert TABLES <= set(inspect(db.engine).get_table_names())
        assert db.session.scalar(select(func.count()).select_from(Assignment)) > 200
        # Search keys are filled for rows that existed before the column did.
        assert db.session.scalar(select(Organization.search_key).where(Organization.code == "HU-KD")) == "hu-kd huyen uy kim dong huyen uy"
        # The tallies are counted for assignments that existed before their table did.
        stored = tallies.stored()
        assert stored and stored == tallies.recount()
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=MIGRATIONS)
        assert TABLES <= set(inspect(db.engine).get_table_names())


@pytest.mark.no_transaction
def test_models_match_migrations(scratch_app):
    with scratch_app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": _in_models})
            diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ; run `flask db migrate`: {diff}"
