"""verdicts: deadlines as written (due_text, recurrence_bound, report_period), the day work was
assigned, effective days of events, lapsed and late extension requests, published report snapshots
(append-only, enforced by the database)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 05:40:00

"""
import datetime as dt
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SNAPSHOT_APPEND_ONLY = "report_snapshot is append-only: a published report is never changed or deleted"


def upgrade():
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recurrence_bound', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('due_text', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('report_period', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint('recurrence_bound', "recurrence_bound IS NULL OR recurrence_bound IN ('by','before')")
        batch_op.create_check_constraint('report_period', "report_period IS NULL OR report_period IN ('six_month','annual')")

    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_on', sa.Date(), nullable=True))

    with op.batch_alter_table('assignment_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('recorded_on', sa.Date(), nullable=True))

    with op.batch_alter_table('extension', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requested_after_due', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.drop_constraint(op.f('ck_extension_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('pending','granted','refused','lapsed')")

    op.create_table('report_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('json_body', sa.LargeBinary(), nullable=False),
    sa.Column('csv_body', sa.LargeBinary(), nullable=False),
    sa.Column('xlsx_body', sa.LargeBinary(), nullable=False),
    sa.Column('json_sha256', sa.String(length=64), nullable=False),
    sa.Column('csv_sha256', sa.String(length=64), nullable=False),
    sa.Column('xlsx_sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint("kind IN ('periodic','summary')", name=op.f('ck_report_snapshot_kind')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_report_snapshot_organization_id_organization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'], name=op.f('fk_report_snapshot_published_by_id_user_account'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_snapshot'))
    )
    with op.batch_alter_table('report_snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_report_snapshot_organization_id', ['organization_id'], unique=False)

    _fill_existing()
    _append_only('report_snapshot', SNAPSHOT_APPEND_ONLY)


def _append_only(table: str, message: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()")
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")


def _local_day(value, zone: ZoneInfo) -> dt.date:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone).date()


def _fill_existing():
    """Rows from before: events took effect the day they were recorded (in the plan's zone); work
    imported with a plan was assigned on the plan's issue date, other work on the day it was created."""
    bind = op.get_bind()
    zone = ZoneInfo("Asia/Ho_Chi_Minh")
    postgres = bind.dialect.name == "postgresql"
    events = bind.execute(sa.text("SELECT id, occurred_at FROM assignment_event")).all()
    if events:
        if postgres:
            op.execute("ALTER TABLE assignment_event DISABLE TRIGGER assignment_event_append_only")
        else:
            op.execute("DROP TRIGGER IF EXISTS assignment_event_no_update")
        for event_id, occurred_at in events:
            bind.execute(sa.text("UPDATE assignment_event SET effective_on = :day, recorded_on = :day WHERE id = :id"),
                         {"day": _local_day(occurred_at, zone), "id": event_id})
        if postgres:
            op.execute("ALTER TABLE assignment_event ENABLE TRIGGER assignment_event_append_only")
        else:
            op.execute("CREATE TRIGGER assignment_event_no_update BEFORE UPDATE ON assignment_event "
                       "BEGIN SELECT RAISE(ABORT, 'assignment_event is append-only: events are never updated or deleted'); END")
    rows = bind.execute(sa.text(
        "SELECT a.id, a.created_at, p.issue_date, "
        "(SELECT e.actor_id IS NULL FROM assignment_event e WHERE e.assignment_id = a.id AND e.kind = 'assigned' "
        " ORDER BY e.id LIMIT 1) AS imported "
        "FROM assignment a JOIN action ac ON ac.id = a.action_id JOIN plan p ON p.id = ac.plan_id")).all()
    for assignment_id, created_at, issue_date, imported in rows:
        day = issue_date if imported else _local_day(created_at, zone)
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        bind.execute(sa.text("UPDATE assignment SET assigned_on = :day WHERE id = :id"), {"day": day, "id": assignment_id})


def downgrade():
    _drop_append_only('report_snapshot')
    with op.batch_alter_table('report_snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_report_snapshot_organization_id')
    op.drop_table('report_snapshot')

    op.execute("UPDATE extension SET status = 'refused' WHERE status = 'lapsed'")
    with op.batch_alter_table('extension', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_extension_status'), type_='check')
        batch_op.create_check_constraint('status', "status IN ('pending','granted','refused')")
        batch_op.drop_column('requested_after_due')

    # assignment_event keeps its triggers: SQLite drops the column without rebuilding the table.
    with op.batch_alter_table('assignment_event', schema=None) as batch_op:
        batch_op.drop_column('recorded_on')
        batch_op.drop_column('effective_on')

    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('assigned_on')

    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_action_report_period'), type_='check')
        batch_op.drop_constraint(op.f('ck_action_recurrence_bound'), type_='check')
        batch_op.drop_column('report_period')
        batch_op.drop_column('due_text')
        batch_op.drop_column('recurrence_bound')
