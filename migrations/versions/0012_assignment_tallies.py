"""maintained tallies of assignments per scope, state and due date (exact list totals at national
scale and search), an index on completed_on, and the due-date index covering on PostgreSQL (whether the tallies answer for a day)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The same count as tracker.services.tallies.rebuild, written out so that the migration does not
# depend on the models of a later version.
STATE = """CASE WHEN a.status = 'cancelled' THEN 'cancelled'
     WHEN a.status = 'completed' AND a.completed_on IS NOT NULL THEN
          CASE WHEN a.due_date IS NULL OR a.completed_on <= a.due_date THEN 'on_time' ELSE 'late' END
     ELSE 'open' END"""
DUE = "COALESCE(a.due_date, DATE '9999-12-31')"
FILL = f"""
WITH RECURSIVE edges(lower_id, upper_id) AS (
    SELECT id, parent_id FROM organization WHERE parent_id IS NOT NULL
    UNION ALL SELECT predecessor_id, successor_id FROM organization_link
), below(node, member) AS (
    SELECT id, id FROM organization
    UNION SELECT below.node, edges.lower_id FROM below JOIN edges ON edges.upper_id = below.member
)
INSERT INTO assignment_tally (node_id, state, due_on, n)
SELECT below.node, {STATE}, {DUE}, count(*) FROM below JOIN assignment a ON a.organization_id = below.member
GROUP BY below.node, {STATE}, {DUE}
"""
FILL_EVERYTHING = f"""
INSERT INTO assignment_tally (node_id, state, due_on, n)
SELECT 0, {STATE}, {DUE}, count(*) FROM assignment a GROUP BY {STATE}, {DUE}
"""
FILL_ACTIONS = f"""
INSERT INTO assignment_tally (node_id, state, due_on, n)
SELECT -a.action_id, {STATE}, {DUE}, count(*) FROM assignment a GROUP BY -a.action_id, {STATE}, {DUE}
"""


def upgrade():
    op.create_table('assignment_tally',
    sa.Column('node_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('node_id', 'state', 'due_on', name=op.f('pk_assignment_tally'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_completed_on', ['completed_on'], unique=False)
        batch_op.create_index('ix_assignment_updated_at_id', ['updated_at', 'id'], unique=False)
        batch_op.create_index('ix_assignment_organization_due_date', ['organization_id', 'due_date'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Covering: yearly scorecards count a year's work per unit from the index alone.
        op.drop_index('ix_assignment_due_date', table_name='assignment')
        op.create_index('ix_assignment_due_date', 'assignment', ['due_date'], unique=False,
                        postgresql_include=['organization_id', 'status', 'completed_on', 'id'])
    for statement in (FILL_EVERYTHING, FILL_ACTIONS, FILL):
        if op.get_bind().dialect.name == "sqlite":
            statement = statement.replace("DATE '9999-12-31'", "'9999-12-31'")
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_assignment_due_date', table_name='assignment')
        op.create_index('ix_assignment_due_date', 'assignment', ['due_date'], unique=False)
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_organization_due_date')
        batch_op.drop_index('ix_assignment_updated_at_id')
        batch_op.drop_index('ix_assignment_completed_on')
    op.drop_table('assignment_tally')
