"""the change feed's log (GET /changes): a row per assignment, evidence and notification changed, written
in the change's transaction; every existing one is logged once, so that a feed read from the start holds everything

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 07:16:44.261607

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('txid', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('assignment','evidence','notification')", name=op.f('ck_change_kind')),
    sa.CheckConstraint("op IN ('upsert','delete')", name=op.f('ck_change_op')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change'))
    )
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.create_index('ix_change_organization_id_txid_id', ['organization_id', 'txid', 'id'], unique=False)
        batch_op.create_index('ix_change_txid_id', ['txid', 'id'], unique=False)
        batch_op.create_index('ix_change_user_id_txid_id', ['user_id', 'txid', 'id'], unique=False)

    # What exists already, once each, as of this transaction.
    txid = "pg_current_xact_id()::text::bigint" if op.get_bind().dialect.name == "postgresql" else "0"
    for kind, column in (("assignment", "organization_id"), ("evidence", "organization_id"), ("notification", "user_id")):
        op.execute(f"INSERT INTO change (txid, kind, entity_id, {column}, op, changed_at) "
                   f"SELECT {txid}, '{kind}', id, {column}, 'upsert', CURRENT_TIMESTAMP FROM {kind} ORDER BY id")


def downgrade():
    with op.batch_alter_table('change', schema=None) as batch_op:
        batch_op.drop_index('ix_change_user_id_txid_id')
        batch_op.drop_index('ix_change_txid_id')
        batch_op.drop_index('ix_change_organization_id_txid_id')

    op.drop_table('change')
