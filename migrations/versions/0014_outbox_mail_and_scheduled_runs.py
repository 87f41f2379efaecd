"""The outbox of mails (the worker sends them), the daily jobs that ran, users' mail preferences.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 07:04:52.983292

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduled_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_run')),
    sa.UniqueConstraint('job', 'day', name='uq_scheduled_run_job_day')
    )
    op.create_table('outbox_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('to_address', sa.String(length=255), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending','sent','failed')", name=op.f('ck_outbox_mail_status')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_outbox_mail_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mail')),
    sa.UniqueConstraint('dedupe_key', name='uq_outbox_mail_dedupe_key')
    )
    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_mail_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_mail_user_id', ['user_id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_preferences', sa.JSON(), nullable=True))



def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('email_preferences')

    with op.batch_alter_table('outbox_mail', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_mail_user_id')
        batch_op.drop_index('ix_outbox_mail_status_next_attempt_at')

    op.drop_table('outbox_mail')
    op.drop_table('scheduled_run')
